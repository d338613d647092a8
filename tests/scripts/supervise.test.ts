/** The supervisor of `npm start` and the fault suite (npm start itself: tests/faults/faults.test.ts). */
import { describe, expect, it } from 'vitest';
import { backoffDelay, Supervisor } from '../../scripts/supervisor';
import { eventually } from '@pdp/shared/testing';

describe('supervision', () => {
  it('restarts a process that exits, with a pause that doubles while it keeps failing, and stops for good when asked', async () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
    const log: string[] = [];
    const supervisor = new Supervisor({ log: (line) => log.push(line), minBackoffMs: 50, maxBackoffMs: 400 });
    const failing = supervisor.run({ name: 'failing', command: process.execPath, args: ['-e', 'process.exit(3)'], stdio: 'ignore' });
    await eventually(async () => failing.restarts >= 3, 10_000, 'three restarts');
    await supervisor.stopAll(1000);
    const restarts = failing.restarts;
    await new Promise((r) => setTimeout(r, 600));
    expect(failing.restarts).toBe(restarts);
    expect(log).toContain('failing exited (code 3); restarting in 50 ms (restart 1)');
    expect(log).toContain('failing exited (code 3); restarting in 100 ms (restart 2)');
  });
});
