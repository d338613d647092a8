/** `npm run bench [-- intake|propagation] [count] [concurrency]`: runs scenarios, prints and saves results. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intakeBench } from './intake';

const scenarios: Record<string, (count: number, concurrency: number) => Promise<unknown>> = {
  intake: intakeBench,
};

const [which = 'all', count = '500', concurrency = '16'] = process.argv.slice(2);
const names = which === 'all' ? Object.keys(scenarios) : [which];
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
for (const name of names) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  const result = await scenario(Number(count), Number(concurrency));
  const out = { ...(result as object), machine: { node: process.version, cores: (await import('node:os')).cpus().length }, at: new Date().toISOString() };
  writeFileSync(join(import.meta.dirname, 'results', `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
}
process.exit(0);
