/**
 * One reader of LeadSquared date-times (src/domain/fields.ts): property tests that it accepts exactly
 * the real UTC date-times, and ISO 8601 ones with Z or an offset as the UTC instant they name, that a
 * refusal says why, and that the DateTime field check and body properties agree with it.
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
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,4})?)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$/)), (v) => {
        // No value at all (empty, or only spaces) is not a date to either: a field has no value, a
        // property such as ActivityDateTime takes its default.
        if (v.trim() === '') return;
        expect(fieldAccepts(v), JSON.stringify(v)).toBe(propertyAccepts(v));
      }),
      { seed: 7, numRuns: 3000 },
    );
  });

  it('a Z or a numeric offset names the UTC instant: the local time written, less the offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9998, 11, 30) }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        fc.constantFrom(':', ''),
        (t, offset, sep) => {
          // toISOString() itself: what a JavaScript client sends.
          expect(readLsqDateTime(new Date(t).toISOString())).toBe(t);
          const local = formatLsqDateTime(t + offset * 60_000, true).replace(' ', 'T');
          const a = Math.abs(offset);
          const text = `${local}${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}${sep}${pad(a % 60, 2)}`;
          expect(readLsqDateTime(text), text).toBe(t);
          expect(fieldAccepts(text), text).toBe(true);
        },
      ),
      { seed: 20250102, numRuns: 3000 },
    );
    expect(readLsqDateTime('2025-01-02T10:00:00z')).toBe(Date.UTC(2025, 0, 2, 10));
    expect(readLsqDateTime('2025-01-02 11:00+01')).toBe(Date.UTC(2025, 0, 2, 10));
    // Past ±14:00, a date alone with a zone, an instant before 0001 or after 9999 in UTC: refused.
    for (const v of ['2025-01-02T10:00:00+14:01', '2025-01-02T10:00:00-15', '2025-01-02Z', '0001-01-01T00:00:00+00:01', '9999-12-31T23:59:59-00:01', '2025-01-02T10:00:00+5:30', '2025-01-02T10:00:00 Z']) {
      expect(readLsqDateTime(v), v).toBeNull();
    }
    expect(readLsqDateTime('0001-01-01T00:00:00-00:01')).toBe(-62135596800000 + 60_000);
  });

  it('a refusal says why and which forms are taken', () => {
    const why = (v: string) => {
      try {
        parseLsqDateTime(v, 'ActivityDateTime');
        return 'taken';
      } catch (e) {
        return (e as Error).message.replace(/^'ActivityDateTime' value '.*?' /, '').replace(/: use yyyy-MM-dd HH:mm:ss in UTC, or ISO 8601 with Z or an offset \(.*\)\.$/, '');
      }
    };
    expect(why('2025-01-02')).toBe('is a date without a time');
    expect(why('02/01/2025 10:00')).toBe('is not a date-time');
    expect(why('2025-01-02T24:00:00Z')).toBe('names a date or time that does not exist');
    expect(why('2025-01-02T10:00:00.12345678Z')).toBe('has more than seven decimals of seconds');
    // Python's isoformat() (six decimals, no zone: UTC here) and RFC 3339's lower-case t, kept to the millisecond.
    expect(readLsqDateTime('2025-01-02T10:00:00.123456')).toBe(Date.UTC(2025, 0, 2, 10, 0, 0, 123));
    expect(readLsqDateTime('2025-01-02t10:00:00.1239999+00:00')).toBe(Date.UTC(2025, 0, 2, 10, 0, 0, 123));
    expect(why('2025-01-02T10:00:00+14:30')).toBe('has an offset beyond ±14:00');
    expect(why('9999-12-31T23:00:00-01:00')).toBe('falls outside the years 0001 to 9999 in UTC');
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
