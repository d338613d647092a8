/**
 * IIN (ЖСН/ИИН), the 12-digit individual identification number: YYMMDD, a century-and-sex digit
 * (1–6), a 4-digit serial and a check digit (weights 1..11 mod 11; on 10, weights 3..11,1,2 mod 11;
 * on 10 again the number is invalid).
 */
export type IinProblem = 'length' | 'century' | 'birthDate' | 'checksum';
export type IinCheck = { ok: true; birthDate: string; sex: 'M' | 'F' } | { ok: false; problem: IinProblem };

const FIRST_WEIGHTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND_WEIGHTS = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

export function iinCheckDigit(first11: string): number | null {
  const digits = [...first11].map(Number);
  const sum = (weights: number[]) => digits.reduce((acc, d, i) => acc + d * (weights[i] ?? 0), 0) % 11;
  const first = sum(FIRST_WEIGHTS);
  if (first !== 10) return first;
  const second = sum(SECOND_WEIGHTS);
  return second === 10 ? null : second;
}

const CENTURY: Record<string, number> = { '1': 1800, '2': 1800, '3': 1900, '4': 1900, '5': 2000, '6': 2000 };

export function checkIin(value: string, today: Date = new Date()): IinCheck {
  if (!/^\d{12}$/.test(value)) return { ok: false, problem: 'length' };
  const centuryBase = CENTURY[value[6]!];
  if (centuryBase === undefined) return { ok: false, problem: 'century' };
  const year = centuryBase + Number(value.slice(0, 2));
  const month = Number(value.slice(2, 4));
  const day = Number(value.slice(4, 6));
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  if (!real || date.getTime() > today.getTime()) return { ok: false, problem: 'birthDate' };
  if (iinCheckDigit(value.slice(0, 11)) !== Number(value[11])) return { ok: false, problem: 'checksum' };
  return {
    ok: true,
    birthDate: date.toISOString().slice(0, 10),
    sex: Number(value[6]) % 2 === 1 ? 'M' : 'F',
  };
}
