import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFLICT_REASONS, ERROR_CODES, FORBIDDEN_REASONS } from '../src';

/**
 * The error codes and reasons a client may receive are union types (`errors.ts`): a throw with a
 * code or reason outside them fails the type check. docs/api.md promises the same lists; this holds
 * the two together, both ways, so neither a new code nor a documented one that no longer exists
 * goes unnoticed.
 */
const api = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');

/** The rows of the error table: its first cell and the rest of the row. */
function errorTable(): Array<{ codes: string[]; when: string }> {
  const lines = api.split('\n');
  const start = lines.indexOf('| code | when |');
  expect(start, 'docs/api.md has its error table').toBeGreaterThan(0);
  const rows: Array<{ codes: string[]; when: string }> = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, first = '', ...rest] = line.split(' | ').join('|').split('|');
    rows.push({ codes: tokens(first), when: rest.join('|') });
  }
  return rows;
}

/** The backticked UPPER_CASE words of a text (codes and reasons; not field or operation names). */
function tokens(text: string): string[] {
  return [...text.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!);
}

describe('docs/api.md and the error types say the same', () => {
  it('the error table lists exactly the codes of ERROR_CODES', () => {
    const documented = errorTable().flatMap((row) => row.codes);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('the CONFLICT row lists exactly the reasons of CONFLICT_REASONS', () => {
    const row = errorTable().find((r) => r.codes.includes('CONFLICT'))!;
    expect([...new Set(tokens(row.when))].sort()).toEqual([...CONFLICT_REASONS].sort());
  });

  it('the FORBIDDEN row lists exactly the reasons of FORBIDDEN_REASONS', () => {
    const row = errorTable().find((r) => r.codes.includes('FORBIDDEN'))!;
    expect([...new Set(tokens(row.when))].sort()).toEqual([...FORBIDDEN_REASONS].sort());
  });
});
