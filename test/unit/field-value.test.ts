/**
 * `fieldValue` (src/domain/leads.ts), the case-insensitive read of a lead field by name that every
 * lookup uses: it passes over names of another length without lower-casing them, and must still
 * answer exactly as a plain case-insensitive search of the keys in order does, whatever the letters
 * (U+0130 lower-cases to two characters; the Kelvin sign U+212A to an ASCII "k").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldValue } from '../../src/domain/leads.js';
import type { FieldMap } from '../../src/domain/types.js';

/** The rule: the first key, in order, equal to `name` in lower case; its value when it is text. */
function reference(fields: FieldMap, name: string): string | null {
  const key = Object.keys(fields).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? null : fields[key];
  return typeof v === 'string' ? v : null;
}

const letters = ['a', 'A', 'i', 'I', '\u0130', '\u0131', '\u0307', 'k', 'K', '\u212A', '\u00DF', 's', 'S', '_', 'x'];
const name = fc.array(fc.constantFrom(...letters), { minLength: 0, maxLength: 4 }).map((a) => a.join(''));

describe('fieldValue', () => {
  it('finds a field in any case, the first of two that match, and null for a set or an absent field', () => {
    const fields: FieldMap = { emailaddress: 'first@example.com', EmailAddress: 'second@example.com', mx_Set: { a: '1' }, Phone: null };
    expect(fieldValue(fields, 'EMAILADDRESS')).toBe('first@example.com');
    expect(fieldValue(fields, 'mx_set')).toBeNull();
    expect(fieldValue(fields, 'phone')).toBeNull();
    expect(fieldValue(fields, 'Mobile')).toBeNull();
    expect(fieldValue({ '\u212Aey': 'kelvin' }, 'KEY')).toBe('kelvin');
    expect(fieldValue({ 'i\u0307d': 'dotted' }, '\u0130d')).toBe('dotted');
  });

  it('answers as a case-insensitive search of the keys in order, for any names', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.option(fc.string({ maxLength: 3 }), { nil: null })), { maxLength: 8 }), name, (entries, wanted) => {
        const fields: FieldMap = Object.fromEntries(entries);
        expect(fieldValue(fields, wanted)).toBe(reference(fields, wanted));
      }),
      { numRuns: 2000 },
    );
  });
});
