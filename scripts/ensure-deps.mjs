// Installs the workspace's dependencies when they are missing or older than the lockfile, so that
// `npm start` and `npm test` work on a fresh machine that has only Node.js and npm. pnpm itself is
// fetched by npx at the version pinned in package.json (corepack cannot download it here).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
const marker = join(root, 'node_modules', '.modules.yaml');
const lockfile = join(root, 'pnpm-lock.yaml');

const upToDate = existsSync(marker) && (!existsSync(lockfile) || statSync(lockfile).mtimeMs <= statSync(marker).mtimeMs);

if (!upToDate) {
  const frozen = existsSync(lockfile) ? ['--frozen-lockfile'] : [];
  console.log(`installing dependencies with ${pnpm} ...`);
  execFileSync('npx', ['--yes', pnpm, 'install', ...frozen], { cwd: root, stdio: 'inherit' });
}
