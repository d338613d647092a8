/**
 * The short soak (issue 29; `npm run soak` is the long one, tests/support/soak.ts both): mixed load
 * for a minute and a half while PostgreSQL crashes, NATS is killed and the appeals service is killed,
 * then every invariant. It asserts invariants only; the figures are the benchmark's.
 */
import { describe, expect, test } from 'vitest';
import { testEnv } from '../support/env';
import { soak } from '../support/soak';

describe('soak: mixed load through a PostgreSQL crash, a NATS crash and a SIGKILL of appeals', () => {
  test('every accepted submission stored once, linked, with its consent and evidence; reads audited; blocks spread; nothing parked; recovered', async () => {
    const result = await soak({
      provider: testEnv().provider,
      durationMs: 90_000,
      clients: 4,
      faults: [
        { atMs: 20_000, kind: 'postgres' },
        { atMs: 45_000, kind: 'nats' },
        { atMs: 70_000, kind: 'appeals' },
      ],
    });
    expect(result.accepted).toBeGreaterThan(0);
    expect(result.faults.map((f) => f.kind)).toEqual(['postgres', 'nats', 'appeals']);
    expect(result.problems).toEqual([]);
  }, 600_000);
});
