/** `npm run bench [-- intake|propagation] [count] [concurrency]`: runs scenarios, prints and saves results. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intakeBench } from './intake';
import { propagationBench } from './propagation';
import { relayRestartBench } from './relay-restart';

const scenarios: Record<string, (count: number, concurrency: number) => Promise<unknown>> = {
  intake: intakeBench,
  propagation: propagationBench,
  'relay-restart': (count) => relayRestartBench(count),
};

const [which = 'all', countArg, concurrencyArg] = process.argv.slice(2);
const DEFAULTS: Record<string, [number, number]> = { intake: [500, 16], propagation: [50, 8], 'relay-restart': [200, 1] };
const names = which === 'all' ? Object.keys(scenarios) : [which];
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
for (const name of names) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  const [count, concurrency] = DEFAULTS[name]!;
  const result = await scenario(Number(countArg ?? count), Number(concurrencyArg ?? concurrency));
  const out = { ...(result as object), machine: { node: process.version, cores: (await import('node:os')).cpus().length }, at: new Date().toISOString() };
  writeFileSync(join(import.meta.dirname, 'results', `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
}
process.exit(0);
