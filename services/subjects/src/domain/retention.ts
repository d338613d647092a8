import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PURPOSE_CATEGORIES, PURPOSES, SUBJECT_CATEGORIES as CATEGORIES } from '@pdp/shared';
import type { Category } from './subject';

/**
 * Retention by rule (clause 4.6, Art. 12(2) of the Law): how long a subject's data are kept after a
 * purpose is achieved, per subject category and purpose, each term with its basis. A subject is
 * proposed for an erasure act once every purpose is achieved and, for each, the longest term among
 * the rules of its categories has passed. The rules are configuration (`RETENTION_RULES`, a JSON
 * file; docs/operations.md): these defaults are the Chamber's, and a rule whose term no law sets says
 * so (`chamberChoice`). The figures are to be confirmed by the DPO against the acts in force.
 */
export interface RetentionRule {
  category: Category;
  purpose: string;
  /** An ISO 8601 duration of years, months and days: P1Y, P3Y, P6M, P30D (P0D: at once). */
  keepFor: string;
  /** Why this term, in Kazakh and Russian. */
  basis: { KK: string; RU: string };
  /** No law sets this term: the Chamber chose it (an inspector asks why; the basis says). */
  chamberChoice: boolean;
}

const APPEAL_BASIS = {
  KK: 'Заң мерзім белгілемейді: Палатаның таңдауы. Өтініш жабылғаннан кейін бір жыл — сол мәселе бойынша қайталанған өтініштер мен оны қарау туралы шағымдар үшін (Ереженің 4.6-тармағы, Заңның 12-бабының 2-тармағы).',
  RU: 'Срок законом не установлен: выбор Палаты. Один год после закрытия обращения — для повторных обращений по тому же вопросу и жалоб на его рассмотрение (пункт 4.6 Положения, пункт 2 статьи 12 Закона).',
};

/** The platform's defaults; a deployment replaces them with its own file (RETENTION_RULES). */
export const DEFAULT_RETENTION_RULES: readonly RetentionRule[] = [
  ...(['APPLICANT', 'DEBTOR', 'RELATIVE', 'EMPLOYER'] as const).map((category) => ({
    category,
    purpose: PURPOSES.APPEAL_HANDLING,
    keepFor: 'P1Y',
    basis: APPEAL_BASIS,
    chamberChoice: true,
  })),
  {
    category: 'EMPLOYEE',
    purpose: PURPOSES.LABOUR_RELATIONS,
    keepFor: 'P50Y',
    basis: {
      KK: 'Персонал бойынша құжаттар: «Ұлттық архив қоры және архивтер туралы» Заң бойынша бекітілген сақтау мерзімдері көрсетілген үлгілік құжаттар тізбесі (мерзімді ДҚҚ күшіндегі тізбе бойынша тексереді).',
      RU: 'Документы по личному составу: типовой перечень документов с указанием сроков хранения, утверждённый по Закону «О Национальном архивном фонде и архивах» (срок сверяется DPO с действующим перечнем).',
    },
    chamberChoice: false,
  },
  {
    category: 'COUNTERPARTY',
    purpose: PURPOSES.CONTRACT_PERFORMANCE,
    keepFor: 'P3Y',
    basis: {
      KK: 'Шарт бойынша талап қою мүмкін болатын жалпы талап қою мерзімі — үш жыл (ҚР Азаматтық кодексінің 178-бабы), шарт аяқталған күннен бастап.',
      RU: 'Общий срок исковой давности, в течение которого по договору могут быть предъявлены требования, — три года (статья 178 Гражданского кодекса РК), со дня окончания договора.',
    },
    chamberChoice: false,
  },
];

const DURATION = /^P(?=\d)(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,5})D)?$/;

const basisText = z.string().trim().min(10).max(2000);
const ruleSchema = z.object({
  category: z.enum(CATEGORIES, { message: 'category.unknown' }),
  purpose: z.enum(Object.values(PURPOSES) as [string, ...string[]], { message: 'purpose.unknown' }),
  keepFor: z.string().regex(DURATION, { message: 'duration.invalid' }),
  basis: z.object({ KK: basisText, RU: basisText }),
  chamberChoice: z.boolean(),
});

/** Every category paired with the purpose it is processed for (3.2): each needs a rule. */
export function requiredPairs(): Array<{ category: Category; purpose: string }> {
  return Object.entries(PURPOSE_CATEGORIES).flatMap(([purpose, categories]) => categories.map((category) => ({ category, purpose })));
}

/**
 * Checks a set of rules: each field of each rule (one message per bad field, naming the rule's place
 * in the list), a category that processes nothing for that purpose, a pair given twice, and a pair
 * with no rule. Throws one Error listing every problem; the service does not start with bad rules.
 */
export function checkRetentionRules(raw: unknown): RetentionRule[] {
  const problems: string[] = [];
  const parsed = z.array(z.unknown()).min(1).safeParse(raw);
  if (!parsed.success) throw new Error('RETENTION_RULES: a JSON array of rules is expected');
  const rules: RetentionRule[] = [];
  parsed.data.forEach((item, index) => {
    const rule = ruleSchema.safeParse(item);
    if (!rule.success) {
      const fields = new Set(rule.error.issues.map((i) => `${i.path.map(String).join('.') || 'rule'}: ${i.message}`));
      for (const f of fields) problems.push(`rule ${index}: ${f}`);
      return;
    }
    const { category, purpose } = rule.data;
    if (!(PURPOSE_CATEGORIES as Record<string, readonly string[] | undefined>)[purpose]?.includes(category))
      problems.push(`rule ${index}: category: ${category} is not processed for ${purpose}`);
    else if (rules.some((r) => r.category === category && r.purpose === purpose)) problems.push(`rule ${index}: ${category}/${purpose} is given twice`);
    rules.push(rule.data as RetentionRule);
  });
  for (const { category, purpose } of requiredPairs()) {
    if (!rules.some((r) => r.category === category && r.purpose === purpose)) problems.push(`no rule for ${category}/${purpose}`);
  }
  if (problems.length > 0) throw new Error(`RETENTION_RULES: ${problems.join('; ')}`);
  return rules;
}

/** The rules a deployment configured (a JSON file), or the defaults. */
export function retentionRulesFrom(path: string | undefined): RetentionRule[] {
  if (!path) return checkRetentionRules(DEFAULT_RETENTION_RULES);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`RETENTION_RULES: ${path} could not be read as JSON (${err instanceof Error ? err.message : 'unknown'})`);
  }
  return checkRetentionRules(raw);
}

/** The same rules, every term replaced (drills and tests: `P0D` proposes at once). */
export function withTerm(rules: readonly RetentionRule[], keepFor: string): RetentionRule[] {
  return rules.map((r) => ({ ...r, keepFor }));
}

type Locale = 'KK' | 'RU';

function ruPlural(n: number, one: string, few: string, many: string): string {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
}

/** A term in words: `P1Y6M` → «1 год 6 месяцев» / «1 жыл 6 ай»; P0D → «сразу» / «бірден». */
export function termInWords(keepFor: string, locale: Locale): string {
  const [, y, m, d] = DURATION.exec(keepFor) ?? [];
  const parts: string[] = [];
  const add = (value: string | undefined, kk: string, ru: [string, string, string]) => {
    const n = Number(value ?? 0);
    if (n > 0) parts.push(locale === 'KK' ? `${n} ${kk}` : `${n} ${ruPlural(n, ...ru)}`);
  };
  add(y, 'жыл', ['год', 'года', 'лет']);
  add(m, 'ай', ['месяц', 'месяца', 'месяцев']);
  add(d, 'күн', ['день', 'дня', 'дней']);
  if (parts.length === 0) return locale === 'KK' ? 'бірден' : 'сразу';
  return parts.join(' ');
}

const PURPOSE_NAMES: Record<string, { KK: string; RU: string }> = {
  [PURPOSES.APPEAL_HANDLING]: { KK: 'өтініштерді қарау', RU: 'рассмотрение обращений' },
  [PURPOSES.LABOUR_RELATIONS]: { KK: 'еңбек қатынастары', RU: 'трудовые отношения' },
  [PURPOSES.CONTRACT_PERFORMANCE]: { KK: 'шартты орындау', RU: 'исполнение договора' },
};

/** The longest term among the rules of these categories, per purpose (what the sweep applies). */
export function termsFor(rules: readonly RetentionRule[], categories: readonly string[]): Array<{ purpose: string; rule: RetentionRule }> {
  const byPurpose = new Map<string, RetentionRule[]>();
  for (const r of rules) if (categories.includes(r.category)) byPurpose.set(r.purpose, [...(byPurpose.get(r.purpose) ?? []), r]);
  return [...byPurpose].map(([purpose, list]) => ({ purpose, rule: list.sort((a, b) => approxDays(b.keepFor) - approxDays(a.keepFor))[0]! }));
}

function approxDays(keepFor: string): number {
  const [, y, m, d] = DURATION.exec(keepFor) ?? [];
  return Number(y ?? 0) * 366 + Number(m ?? 0) * 31 + Number(d ?? 0);
}

/** The access report's storage period (6.1.1): the terms of the subject's categories, in words. */
export function storagePeriodOf(rules: readonly RetentionRule[], categories: readonly string[], locale: Locale): string {
  const terms = termsFor(rules, categories.length > 0 ? categories : CATEGORIES).map(
    ({ purpose, rule }) => `${PURPOSE_NAMES[purpose]?.[locale] ?? purpose} — ${termInWords(rule.keepFor, locale)}`,
  );
  return locale === 'KK'
    ? `Өңдеудің барлық мақсаттарына қол жеткізілгенге дейін, содан кейін сақтау ережесі бойынша (${terms.join('; ')}); одан кейін Төрағаның шешімімен жойылады немесе иесіздендіріледі (4.6-тармақ).`
    : `До достижения всех целей обработки, затем по правилу хранения (${terms.join('; ')}); после этого уничтожаются или обезличиваются по решению Председателя (пункт 4.6).`;
}
