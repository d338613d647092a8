import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * docs/regulation-map.md is what an inspector reads first, so it must stay exact: a row for every
 * clause of the Regulation (read from its Kazakh text, kept in docs/regulation/), every annex and every
 * Law article the summary cites; every file of the code it names exists; every test it names exists,
 * by file and by a part of its title.
 */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

const regulation = read('docs/regulation/regulation.kk.txt');
const summary = read('docs/regulation/summary.md');
const map = read('docs/regulation-map.md');

type Row = { clause: string; asks: string; code: string; tests: string };
const rows: Row[] = map
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| clause ') && !line.startsWith('|---'))
  .map((line) => {
    const cells = line
      .slice(2, -2)
      .split(' | ')
      .map((cell) => cell.trim());
    expect(cells, line).toHaveLength(4);
    const [clause, asks, code, tests] = cells as [string, string, string, string];
    return { clause, asks, code, tests };
  });

/** Clause numbers as the Regulation writes them at the start of a line: "1.2.", "2.1.1", "7.2.4.". */
function clausesOfRegulation(): string[] {
  return [...regulation.matchAll(/^(\d+\.\d+(?:\.\d+)?)\.?\s/gm)].map(([, n]) => n!);
}

/** The Law's articles the summary cites ("**Art. 8(2)**"), the breach-notification law and the annexes. */
function lawAndAnnexes(): string[] {
  const articles = [...summary.matchAll(/^- \*\*(Art\. \d+\(\d+\))\*\*/gm)].map(([, a]) => a!);
  const annexes = [...regulation.matchAll(/№\s?(\d)\s?Қосымша/g)].map(([, n]) => `Annex ${n}`);
  const breachLaw = summary.match(/\(Law (\d+-VIII)/)?.[1];
  return [...new Set([...articles, ...annexes, ...(breachLaw ? [`Law ${breachLaw}`] : [])])];
}

/** Every test title of a file: the first string argument of it(…) / test(…), template parts included. */
function titlesOf(file: string): string[] {
  const source = read(file);
  const titles: string[] = [];
  for (const [, , body] of source.matchAll(/\b(?:it|test)(?:\.\w+)*\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
    titles.push(body!.replace(/\\(.)/g, '$1'));
  }
  return titles;
}

describe('docs/regulation-map.md', () => {
  it('the Regulation in docs/regulation/ is the seed and its summary, unchanged', () => {
    // Where the shared folder sits next to the clone (the developers' machine), the copies must match it.
    const seed = new URL('../shared/seed/000_583fa3bd98e3ee33.txt', root);
    if (existsSync(seed)) expect(regulation).toBe(readFileSync(seed, 'utf8'));
    const shared = new URL('../shared/docs/regulation.md', root);
    if (existsSync(shared)) expect(summary).toBe(readFileSync(shared, 'utf8'));
    expect(clausesOfRegulation().length).toBeGreaterThan(40);
  });

  it('has one row for every clause 1.1–8.3, every annex and every Law article, and no other', () => {
    const expected = [...clausesOfRegulation(), ...lawAndAnnexes()];
    expect(lawAndAnnexes()).toEqual(expect.arrayContaining(['Art. 8(2)', 'Art. 8(4)', 'Art. 12(2)', 'Art. 25(3)', 'Annex 1', 'Annex 5', 'Law 44-VIII']));
    const mapped = rows.map((r) => r.clause);
    const duplicates = mapped.filter((c, i) => mapped.indexOf(c) !== i);
    expect(duplicates, 'clauses with two rows').toEqual([]);
    expect(
      expected.filter((c) => !mapped.includes(c)),
      'clauses with no row',
    ).toEqual([]);
    const extra = mapped.filter((c) => !expected.includes(c) && !c.startsWith('Law: '));
    expect(extra, 'rows for clauses the Regulation does not have').toEqual([]);
  });

  it('every row says what the clause asks, where it lives, and proves it or says why it is organisational', () => {
    for (const row of rows) {
      expect(row.asks.length, row.clause).toBeGreaterThan(10);
      expect(row.code, row.clause).not.toBe('');
      const organisational = row.code.includes('**organisational**') || row.asks.includes('**organisational**');
      const grouped = row.tests.startsWith('see ');
      if (!organisational && !grouped) expect(row.tests, `${row.clause} names no test`).toMatch(/`[^`]+\.test\.ts`: "/);
    }
  });

  it('every file of the code it names exists', () => {
    const missing: string[] = [];
    for (const row of rows) {
      for (const [, path] of row.code.matchAll(/`([\w@./-]+\/[\w@.-]+)`/g)) {
        if (!existsSync(new URL(path!, root))) missing.push(`${row.clause}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every test it names exists, by file and by a part of its title', () => {
    const missing: string[] = [];
    let named = 0;
    for (const row of rows) {
      for (const [, file, title] of row.tests.matchAll(/`([^`]+\.test\.ts)`: "([^"]+)"/g)) {
        named += 1;
        if (!existsSync(new URL(file!, root))) {
          missing.push(`${row.clause}: ${file} does not exist`);
          continue;
        }
        if (!titlesOf(file!).some((t) => t.includes(title!))) missing.push(`${row.clause}: no test "${title}" in ${file}`);
      }
    }
    expect(missing).toEqual([]);
    expect(named).toBeGreaterThan(60);
  });
});
