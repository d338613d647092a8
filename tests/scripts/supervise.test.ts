/**
 * `npm start` supervises: a service that exits is started again with backoff and the log says so;
 * Ctrl+C (SIGINT) still stops everything. Run against a throwaway PostgreSQL (DATABASE_URL) and a data
 * directory of its own (DATA_DIR), so it shares nothing with a developer's `npm start`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffDelay, Supervisor } from '../../scripts/supervisor';
import { freePort, ThrowawayPostgres, track, waitUntil } from '../support/throwaway';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervision', () => {
  it('restarts a process that exits, with a pause that doubles while it keeps failing, and stops for good when asked', async () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
    const log: string[] = [];
    const supervisor = new Supervisor({ log: (line) => log.push(line), minBackoffMs: 50, maxBackoffMs: 400 });
    const failing = supervisor.run({ name: 'failing', command: process.execPath, args: ['-e', 'process.exit(3)'], stdio: 'ignore' });
    await waitUntil(async () => {
      if (failing.restarts < 3) throw new Error('not yet');
    }, 'three restarts', 10_000);
    await supervisor.stopAll(1000);
    const restarts = failing.restarts;
    await new Promise((r) => setTimeout(r, 600));
    expect(failing.restarts).toBe(restarts);
    expect(log).toContain('failing exited (code 3); restarting in 50 ms (restart 1)');
    expect(log).toContain('failing exited (code 3); restarting in 100 ms (restart 2)');
  });

  it('npm start restarts a killed service, says so, and stops everything on SIGINT', async () => {
    const pg = await ThrowawayPostgres.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'pdp-start-'));
    const output: string[] = [];
    const child = track(
      spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: {
          ...process.env,
          DATABASE_URL: pg.url(),
          DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          PORT: String(await freePort()),
          EMBEDDED_NATS_PORT: String(await freePort()),
          ...Object.fromEntries(['SUBJECTS', 'APPEALS', 'CONSENTS', 'AUDIT'].map((s) => [`${s}_PORT`, '0'])),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const text = () => output.join('');
    const pidOf = (name: string) => Number([...text().matchAll(new RegExp(`\\[supervisor\\] ${name} (?:started|started again) \\(pid (\\d+)\\)`, 'g'))].at(-1)?.[1]);
    try {
      await waitUntil(async () => {
        if (!text().includes('The platform is ready')) throw new Error(text().slice(-300));
      }, 'npm start', 120_000);
      const first = pidOf('consents');
      expect(alive(first)).toBe(true);
      process.kill(first, 'SIGKILL');
      await waitUntil(async () => {
        if (!/\[supervisor\] consents exited \(SIGKILL\); restarting in \d+ ms \(restart 1\)/.test(text())) throw new Error('no restart logged');
        if (!(pidOf('consents') !== first && alive(pidOf('consents')))) throw new Error('not started again');
      }, 'consents restarted', 30_000);
      const pids = ['subjects', 'appeals', 'consents', 'audit', 'gateway'].map(pidOf);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await pg.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
