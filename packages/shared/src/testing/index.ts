import { iinCheckDigit } from '../iin';

/** A valid IIN for a birth date and sex, with a serial of the caller's choice (tests and benches). */
export function makeIin(birth: string, sex: 'M' | 'F' = 'M', serial = 1): string {
  const [y, m, d] = birth.split('-');
  const year = Number(y);
  const century = year < 1900 ? 1 : year < 2000 ? 3 : 5;
  const digit = century + (sex === 'F' ? 1 : 0);
  for (let s = serial; s < serial + 10_000; s += 1) {
    const first11 = `${y!.slice(2)}${m}${d}${digit}${String(s % 10_000).padStart(4, '0')}`;
    const check = iinCheckDigit(first11);
    if (check !== null) return `${first11}${check}`;
  }
  throw new Error('no valid IIN found');
}

/** Polls until `probe` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}
