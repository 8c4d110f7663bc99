/**
 * Body properties are matched in any case (src/schemas/lsq.ts, as LeadSquared's .NET reader does):
 * a property sent with the exact name wins, else the first key equal to it ignoring case. `object`
 * finds them by walking the body's keys once and `prop` skips keys of another length; both must
 * find what a plain search, name by name and key by key, finds.
 */
import { describe, expect, it } from 'vitest';
import { object, parseInput, prop, text, type JsonObject } from '../../src/schemas/lsq.js';

/** The rule, written as plainly as it reads. */
function reference(o: JsonObject, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(o, name)) return o[name];
  for (const k of Object.keys(o)) if (k.toLowerCase() === name.toLowerCase()) return o[k];
  return undefined;
}

const NAMES = ['ActivityNote', 'Phone', 'EmailAddress', 'Kelvin'];
const shape = Object.fromEntries(NAMES.map((n) => [n, text(n)]));
const schema = object(shape, 'request body');

/** Spellings of `name`: as is, lower, upper, one letter flipped, and look-alikes that are not it. */
function spellings(name: string): string[] {
  const flip = name[0] === name[0].toUpperCase() ? name[0].toLowerCase() + name.slice(1) : name[0].toUpperCase() + name.slice(1);
  // U+212A KELVIN SIGN lower-cases to "k"; U+0130 lower-cases to two characters; neither is the name in .NET's eyes either,
  // but toLowerCase() says "\u212Aelvin" equals "kelvin", and the rule is written with toLowerCase().
  return [name, name.toLowerCase(), name.toUpperCase(), flip, `${name}x`, name.replace(/k/i, '\u212A'), name.replace(/i/i, '\u0130')];
}

describe('property names in any case', () => {
  it('object() finds what the plain rule finds, for bodies mixing spellings in every order', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      const body: JsonObject = {};
      const keys = 1 + rnd(6);
      for (let i = 0; i < keys; i++) {
        const all = spellings(NAMES[rnd(NAMES.length)]);
        // Now and then undefined, as a body not read from JSON (an async request's) could hold.
        body[all[rnd(all.length)]] = rnd(8) === 0 ? undefined : `v${i}`;
      }
      const got = parseInput(schema, body) as JsonObject;
      for (const n of NAMES) {
        expect(got[n], JSON.stringify({ body, n })).toBe(reference(body, n) ?? null);
        expect(prop(body, n)).toBe(reference(body, n));
      }
    }
  });

  it('an exact name wins over an earlier key in another case; among the others, the first', () => {
    expect(parseInput(schema, { activitynote: 'first', ActivityNote: 'exact' })).toMatchObject({ ActivityNote: 'exact' });
    expect(parseInput(schema, { ActivityNote: 'exact', ACTIVITYNOTE: 'later' })).toMatchObject({ ActivityNote: 'exact' });
    expect(parseInput(schema, { ACTIVITYNOTE: 'first', activitynote: 'second' })).toMatchObject({ ActivityNote: 'first' });
  });

  it('a key in another case that holds undefined is still the first such key', () => {
    expect(parseInput(schema, { phone: undefined, PHONE: '1' })).not.toHaveProperty('Phone', '1');
    expect(parseInput(schema, { phone: undefined, PHONE: '1', Phone: '2' })).toMatchObject({ Phone: '2' });
  });

  it('matches a name whose lower case is longer than a key (U+0130)', () => {
    // "\u0130X" lower-cases to "i\u0307x", one character longer: no length test may skip it.
    expect(prop({ '\u0130X': 1 }, 'i\u0307x')).toBe(1);
    expect(prop({ '\u0130X': 1 }, 'I\u0307X')).toBe(1);
  });

  it('refuses a shape with two names equal ignoring case', () => {
    expect(() => object({ Phone: text('Phone'), phone: text('phone') }, 'request body')).toThrow(/equal ignoring case/);
  });

  it('a key named __proto__ or after Object.prototype is not a property of the shape', () => {
    const body = JSON.parse('{"__proto__": {"Phone": "x"}, "constructor": "c", "toString": "t", "phone": "1"}') as JsonObject;
    const got = parseInput(schema, body) as JsonObject;
    expect(got.Phone).toBe('1');
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(prop(body, 'constructor')).toBe('c');
  });
});
