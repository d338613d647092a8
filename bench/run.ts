/**
 * `npm run bench [-- intake|propagation|relay-restart|read|worklist|scale|revocation|limits|audit|cipher|console] [count] [concurrency]`:
 * runs scenarios, saves each one's results in bench/results/<name>.json and prints one table of ratios.
 * Without a name: every scenario but `audit` (its 10M-entry chain verification takes a quarter of an
 * hour on its own; the search at 10M entries is in `scale`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditBench } from './audit';
import { cipherBench } from './cipher';
import { consoleBench } from './console';
import { intakeBench } from './intake';
import { propagationBench } from './propagation';
import { readBench } from './read';
import { relayRestartBench } from './relay-restart';
import { limitsBench } from './limits';
import { revocationBench } from './revocation';
import { scaleBench } from './scale';
import { summarize, table, type Row } from './summary';
import { worklistBench } from './worklist';

const scenarios: Record<string, (count: number, concurrency: number) => Promise<unknown>> = {
  intake: intakeBench,
  propagation: propagationBench,
  'relay-restart': (count) => relayRestartBench(count),
  audit: (count) => auditBench(count),
  worklist: worklistBench,
  read: readBench,
  scale: scaleBench,
  revocation: revocationBench,
  limits: limitsBench,
  cipher: (count) => cipherBench(count),
  console: (count) => consoleBench(count),
};

const [which = 'all', countArg, concurrencyArg] = process.argv.slice(2);
const DEFAULTS: Record<string, [number, number]> = {
  intake: [2000, 16],
  propagation: [50, 8],
  'relay-restart': [200, 1],
  audit: [10_000_000, 1],
  worklist: [200, 16],
  read: [2000, 16],
  scale: [200, 16],
  revocation: [20, 8],
  limits: [4000, 16],
  cipher: [50_000, 1],
  console: [40, 1],
};
const names = which === 'all' ? Object.keys(scenarios).filter((n) => n !== 'audit') : [which];
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
const rows: Row[] = [];
const started = performance.now();
for (const name of names) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  const [count, concurrency] = DEFAULTS[name]!;
  const t0 = performance.now();
  console.error(`bench: ${name}…`);
  const result = await scenario(Number(countArg ?? count), Number(concurrencyArg ?? concurrency));
  const out = { ...(result as object), machine: { node: process.version, cores: (await import('node:os')).cpus().length }, at: new Date().toISOString() };
  writeFileSync(join(import.meta.dirname, 'results', `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.error(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s → bench/results/${name}.json`);
  rows.push(...summarize(name, out));
}
console.log(table(rows));
console.log(`\n${names.length} scenario(s) in ${((performance.now() - started) / 60_000).toFixed(1)} min; full results in bench/results/.`);
process.exit(0);
