import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The habit the history keeps from here on: a commit subject of at most 72 characters, the why in
 * the body. Checked for every commit after the one that set it up (older subjects stay as they are);
 * a clone without that commit (shallow, or not a git checkout) has nothing to check.
 */
const SINCE = '4a1d9f599e9ea528f869c49443bb04190c159816';
const root = new URL('../..', import.meta.url).pathname;
const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
const known = git('cat-file', '-e', `${SINCE}^{commit}`).status === 0;

describe('commit subjects', () => {
  it.skipIf(!known)('are at most 72 characters for every commit since the habit was set', () => {
    const subjects = git('log', '--format=%s', `${SINCE}..HEAD`).stdout.split('\n').filter(Boolean);
    expect(subjects.filter((s) => [...s].length > 72)).toEqual([]);
  });
});
