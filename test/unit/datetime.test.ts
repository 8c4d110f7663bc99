/**
 * One reader of LeadSquared date-times (src/domain/fields.ts): property tests that it accepts exactly
 * the real UTC date-times, and that the DateTime field check and body properties agree with it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkValue, formatLsqDateTime, parseLsqDateTime, readLsqDate, readLsqDateTime } from '../../src/domain/fields.js';

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const daysIn = (y: number, m: number) => new Date(Date.UTC(2000, m, 0)).getUTCDate() - (m === 2 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 1 : 0);
const field = { schemaName: 'mx_Custom_1', displayName: 'When', dataType: 'DateTime', isMandatory: false, maxLength: null, options: null, fields: null };
const opts = { skipDropdown: false, owner: 'test' };
const fieldAccepts = (v: string) => {
  try {
    checkValue(field, v, opts);
    return true;
  } catch {
    return false;
  }
};
const propertyAccepts = (v: string) => {
  try {
    parseLsqDateTime(v, 'ActivityDateTime');
    return true;
  } catch {
    return false;
  }
};

describe('LeadSquared date-times', () => {
  it('accepts exactly the real date-times, as the UTC instant they name', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
        fc.boolean(),
        (y, mo, d, h, mi, s, t) => {
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${t ? 'T' : ' '}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
          const real = mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && h <= 23 && mi <= 59 && s <= 59;
          const got = readLsqDateTime(text);
          expect(got === null ? 'refused' : 'taken', text).toBe(real ? 'taken' : 'refused');
          if (real) expect(got).toBe(Date.UTC(y, mo - 1, d, h, mi, s));
          // The field check and the body-property parser say the same.
          expect(fieldAccepts(text), text).toBe(real);
          expect(propertyAccepts(text), text).toBe(real);
        },
      ),
      { seed: 20261129, numRuns: 3000 },
    );
  });

  it('field check and property parser agree on any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,4})?)?$/)), (v) => {
        // No value at all (empty, or only spaces) is not a date to either: a field has no value, a
        // property such as ActivityDateTime takes its default.
        if (v.trim() === '') return;
        expect(fieldAccepts(v), JSON.stringify(v)).toBe(propertyAccepts(v));
      }),
      { seed: 7, numRuns: 3000 },
    );
  });

  it('the issue example and its neighbours', () => {
    expect(readLsqDateTime('2024-01-02 25:99:00')).toBeNull();
    expect(readLsqDateTime('2024-01-02 10:00')).toBe(Date.UTC(2024, 0, 2, 10, 0));
    expect(readLsqDateTime('2024-01-02 10:00:00.5')).toBe(Date.UTC(2024, 0, 2, 10, 0, 0, 500));
    expect(readLsqDateTime('0001-01-01 00:00:00')).toBe(-62135596800000);
    expect(readLsqDateTime('2024-01-02')).toBeNull();
    expect(readLsqDate('2023-02-29')).toBeNull();
    expect(readLsqDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  it('writes every instant as the ISO text it names, and reads back what it wrote', () => {
    // Years 0001–9999: the range readLsqDateTime takes; toISOString writes them as yyyy.
    const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
    fc.assert(
      fc.property(fc.integer({ min: -62135596800000, max: 253402300799999 }), (t) => {
        expect(formatLsqDateTime(t, true)).toBe(iso(t));
        expect(formatLsqDateTime(t)).toBe(iso(t).slice(0, 19));
        expect(readLsqDateTime(formatLsqDateTime(t, true))).toBe(t);
      }),
      { seed: 11, numRuns: 5000 },
    );
    expect(formatLsqDateTime(Date.UTC(2024, 0, 2, 3, 4, 5, 6), true)).toBe('2024-01-02 03:04:05.006');
    expect(formatLsqDateTime(Date.UTC(999, 11, 31, 23, 59, 59, 999), true)).toBe('0999-12-31 23:59:59.999');
    expect(formatLsqDateTime(Date.UTC(10000, 0, 1))).toBe('+010000-01-01 00:00:00');
    expect(() => formatLsqDateTime(Number.NaN)).toThrow(RangeError);
  });
});
