/**
 * `npm run soak [-- seconds] [clients]` (issue 29): the platform under mixed load for three minutes
 * (six clients by default) while PostgreSQL crashes, NATS is killed and the appeals service is
 * killed, then every invariant checked (tests/support/soak.ts). Saves its figures in
 * bench/results/soak.json (docs/performance.md, "Soak") and exits 1 when an invariant fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { soak, type FaultKind } from '../tests/support/soak';
import { benchProvider } from './support';

const [secondsArg = '180', clientsArg = '6'] = process.argv.slice(2);
const durationMs = Number(secondsArg) * 1000;
const clients = Number(clientsArg);
if (!(durationMs >= 60_000) || !(clients >= 2)) throw new Error('usage: npm run soak -- [seconds >= 60] [clients >= 2]');

const result = await soak({
  provider: await benchProvider(),
  durationMs,
  clients,
  // A quarter in, half-way and three quarters in: each fault recovers before the next.
  // SOAK_FAULTS=postgres,postgres,nats: another schedule, spread evenly (e.g. to repeat one crash).
  faults: (process.env.SOAK_FAULTS ?? 'postgres,nats,appeals')
    .split(',')
    .map((kind, i, all) => ({ atMs: (durationMs * (i + 1)) / (all.length + 1), kind: kind as FaultKind })),
  progress: (line) => console.error(`soak ${new Date().toISOString().slice(11, 19)} ${line}`),
});
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
const out = { scenario: 'soak', ...result, machine: { node: process.version, cores: cpus().length }, at: new Date().toISOString() };
writeFileSync(join(import.meta.dirname, 'results', 'soak.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
if (result.problems.length > 0) {
  console.error(`soak: ${result.problems.length} invariants failed:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.error('soak: every invariant holds');
process.exit(0);
