/** `npm run bench [-- intake|propagation|relay-restart|audit|worklist|read] [count] [concurrency]`: runs scenarios, prints and saves results. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditBench } from './audit';
import { intakeBench } from './intake';
import { propagationBench } from './propagation';
import { readBench } from './read';
import { relayRestartBench } from './relay-restart';
import { worklistBench } from './worklist';

const scenarios: Record<string, (count: number, concurrency: number) => Promise<unknown>> = {
  intake: intakeBench,
  propagation: propagationBench,
  'relay-restart': (count) => relayRestartBench(count),
  audit: (count) => auditBench(count),
  worklist: worklistBench,
  read: readBench,
};

const [which = 'all', countArg, concurrencyArg] = process.argv.slice(2);
const DEFAULTS: Record<string, [number, number]> = { intake: [500, 16], propagation: [50, 8], 'relay-restart': [200, 1], audit: [10_000_000, 1], worklist: [200, 16], read: [2000, 16] };
// The audit at 10 million entries takes a quarter of an hour or more, the worklist (a million appeals
// seeded, then measured) ten minutes or so: run them by name. read takes about two minutes.
const names = which === 'all' ? Object.keys(scenarios).filter((n) => n !== 'audit' && n !== 'worklist') : [which];
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
