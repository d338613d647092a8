import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/**
 * `npm run build`: what production runs with plain node. Built once here (a few seconds), then each
 * process's bundle is started without any TypeScript loader and must get as far as checking its
 * environment — which proves it loads, with every import resolved from where it sits.
 */
describe('npm run build', () => {
  it('composes the supergraph and bundles every process, which then runs on plain node with no TypeScript loader', { timeout: 120_000 }, () => {
    const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(readFileSync(join(root, 'gateway/dist/supergraph.graphql'), 'utf8')).toContain('join__Graph');
    for (const file of ['gateway/dist/form.js', 'gateway/dist/form.css', 'gateway/dist/appeals.graphql']) expect(existsSync(join(root, file)), file).toBe(true);
    for (const entry of [
      'services/subjects/dist/index.js',
      'services/appeals/dist/index.js',
      'services/consents/dist/index.js',
      'services/audit/dist/index.js',
      'gateway/dist/index.js',
    ]) {
      // No environment: each process lists what it lacks and exits 1 — having loaded all its code.
      const started = spawnSync(process.execPath, [entry], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
      expect({ entry, status: started.status }).toEqual({ entry, status: 1 });
      expect(started.stderr, entry).toMatch(/invalid configuration/);
      expect(started.stderr, entry).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find/);
    }
  });
});
