import { describe, expect, it } from 'vitest';
import { addWorkingDays, isWorkingDay, kazakhstanCalendar } from '../src';

const cal = kazakhstanCalendar([2026, 2027], ['2026-05-27'], ['2026-01-03']);

describe('working days on the Kazakhstan calendar', () => {
  it('skips weekends', () => {
    // Friday 2026-11-20 + 1 working day = Monday 2026-11-23
    expect(addWorkingDays(new Date('2026-11-20T10:00:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-11-23');
  });

  it('skips fixed public holidays and configured moveable ones', () => {
    expect(isWorkingDay(new Date('2026-12-16T00:00:00Z'), cal)).toBe(false); // Independence Day
    expect(isWorkingDay(new Date('2026-03-23T00:00:00Z'), cal)).toBe(false); // Nauryz
    expect(isWorkingDay(new Date('2026-05-27T00:00:00Z'), cal)).toBe(false); // configured (Kurban ait)
    // Tuesday 2026-12-15 + 1 working day skips the 16th.
    expect(addWorkingDays(new Date('2026-12-15T06:00:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-12-17');
  });

  it('counts a weekend declared working', () => {
    expect(isWorkingDay(new Date('2026-01-03T00:00:00Z'), cal)).toBe(true);
  });

  it('counts from the Kazakhstan date, not UTC', () => {
    // 2026-11-20 21:00 UTC is already Saturday 02:00 in Kazakhstan.
    expect(addWorkingDays(new Date('2026-11-20T21:00:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-11-23');
    // Thursday 19:00 UTC is Friday in Kazakhstan: +1 is Monday.
    expect(addWorkingDays(new Date('2026-11-19T19:30:00Z'), 1, cal).toISOString().slice(0, 10)).toBe('2026-11-23');
  });
});
