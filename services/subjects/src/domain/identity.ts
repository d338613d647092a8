import { PermanentError, blindIndex, checkIin } from '@pdp/shared';

/** The one purpose string of the IIN blind index; changing it would orphan every stored index. */
const IIN_INDEX = 'subject.iin';

export function iinBlindIndex(key: string, iin: string): string {
  return blindIndex(key, IIN_INDEX, iin);
}

/** Defence in depth: a sealed identity from another service is checked again before it is stored. */
export function assertValidIin(iin: string): void {
  const check = checkIin(iin);
  if (!check.ok) throw new PermanentError(`sealed identity holds an invalid IIN (${check.problem})`);
}
