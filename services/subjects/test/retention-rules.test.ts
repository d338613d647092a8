import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_RULES, checkRetentionRules, storagePeriodOf, termInWords } from '../src/domain/retention';

/** The retention rules are configuration (4.6): a bad file stops the service with every problem named. */
describe('retention rules as configuration (4.6, Art. 12(2))', () => {
  it('4.6: the defaults cover every category with the purpose it is processed for, each with a basis in kk and ru', () => {
    const rules = checkRetentionRules(DEFAULT_RETENTION_RULES);
    expect(rules.map((r) => `${r.category}/${r.purpose}`).sort()).toEqual([
      'APPLICANT/APPEAL_HANDLING',
      'COUNTERPARTY/CONTRACT_PERFORMANCE',
      'DEBTOR/APPEAL_HANDLING',
      'EMPLOYEE/LABOUR_RELATIONS',
      'EMPLOYER/APPEAL_HANDLING',
      'RELATIVE/APPEAL_HANDLING',
    ]);
    // A term the Chamber chose says so in its basis.
    for (const r of rules.filter((x) => x.chamberChoice)) {
      expect(r.basis.RU).toMatch(/выбор Палаты/);
      expect(r.basis.KK).toMatch(/Палатаның таңдауы/);
    }
  });

  it('4.6 (bad input): a rule for an unknown category, a term that is no duration, a missing basis: one problem per field, nothing started', () => {
    const bad = [
      { ...DEFAULT_RETENTION_RULES[0], category: 'CUSTOMER' },
      { ...DEFAULT_RETENTION_RULES[1], keepFor: 'one year' },
      { ...DEFAULT_RETENTION_RULES[2], basis: { KK: '', RU: 'x' } },
      ...DEFAULT_RETENTION_RULES.slice(3),
    ];
    const problem = (() => {
      try {
        checkRetentionRules(bad);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(problem).toContain('rule 0: category: category.unknown');
    expect(problem).toContain('rule 1: keepFor: duration.invalid');
    expect(problem).toContain('rule 2: basis.KK');
    expect(problem).toContain('rule 2: basis.RU');
    // Rules 0–2 were refused, so their pairs have no rule.
    expect(problem).toContain('no rule for APPLICANT/APPEAL_HANDLING');
  });

  it('4.6 (bad input): a category paired with a purpose it is not processed for, or a pair given twice, is refused', () => {
    expect(() => checkRetentionRules([...DEFAULT_RETENTION_RULES, { ...DEFAULT_RETENTION_RULES[0], purpose: 'LABOUR_RELATIONS' }])).toThrow(
      /APPLICANT is not processed for LABOUR_RELATIONS/,
    );
    expect(() => checkRetentionRules([...DEFAULT_RETENTION_RULES, DEFAULT_RETENTION_RULES[0]])).toThrow(/APPLICANT\/APPEAL_HANDLING is given twice/);
    expect(() => checkRetentionRules({})).toThrow(/JSON array/);
  });

  it('6.1.1: the access report states the storage period in words, in Kazakh and Russian', () => {
    expect(termInWords('P1Y6M', 'RU')).toBe('1 год 6 месяцев');
    expect(termInWords('P3Y', 'RU')).toBe('3 года');
    expect(termInWords('P50Y', 'RU')).toBe('50 лет');
    expect(termInWords('P21D', 'RU')).toBe('21 день');
    expect(termInWords('P3Y', 'KK')).toBe('3 жыл');
    expect(termInWords('P0D', 'KK')).toBe('бірден');
    expect(storagePeriodOf(DEFAULT_RETENTION_RULES, ['COUNTERPARTY'], 'RU')).toContain('исполнение договора — 3 года');
  });
});
