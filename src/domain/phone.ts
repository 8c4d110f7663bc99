/**
 * The one phone-matching rule, used wherever phone numbers are compared: RetrieveLeadByPhoneNumber,
 * quick search's candidates, SearchBy Phone/Mobile, the default lookup of the upserts, uniqueness,
 * and async ordering keys. LeadSquared says a number is looked up by its digits "with or without
 * the country code" (fact sheet §6, §9); it writes numbers as `+<country code>-<number>`.
 *
 * Reading a number:
 * 1. Only digits count; a leading `+` or `00` says the number is international.
 * 2. It has a country code when it is international (`+65-81234567`, `+6581234567`, `0065…`), or
 *    when it has more than 10 digits and starts with an assigned country calling code
 *    (`919876500001`). The code is split off with the ITU table (libphonenumber-js's metadata);
 *    a code the table does not know counts when written apart (`+999-12345678`). Numbers of 10 digits or fewer without
 *    `+`/`00` are national: `6581234567` is read as it stands.
 * 3. Without a country code, leading zeros (a trunk prefix, `020 7946 0958`) are dropped.
 *
 * Matching: a number with a country code matches a stored number with the same full digits, or a
 * stored number without a country code equal to its national part. A number without a country
 * code matches a stored number with the same digits, or a stored number whose national part it is
 * (in any country). So `+65-81234567` is found as `6581234567`, `+6581234567`, `0065 8123 4567` and
 * `81234567`, and `+91-9876500001` as `919876500001` and `9876500001`.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

export interface PhoneNumber {
  /** Every digit, the country code included when known (leading trunk zeros dropped otherwise). */
  digits: string;
  /** The country calling code, when the number has one. */
  countryCode: string | null;
  /** The number without its country code (equal to `digits` when it has none). */
  national: string;
}

/** Prefix of the stored key that holds a national number split from a country code. */
const NATIONAL = 'n:';
/** No national number is longer than this without a country code (a longer one must have one). */
const NATIONAL_MAX = 10;
/** A split whose national part is shorter than this is not believed. */
const NATIONAL_MIN = 4;

function splitCountryCode(digits: string): { countryCode: string; national: string } | null {
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed?.countryCallingCode) return null;
  const national = digits.slice(parsed.countryCallingCode.length).replace(/^0+/, '');
  return national.length >= NATIONAL_MIN ? { countryCode: parsed.countryCallingCode, national } : null;
}

/** Reads a phone number by the rule above; `digits` is '' when the value has no digits. */
export function readPhone(raw: string): PhoneNumber {
  const v = raw.trim();
  const plus = v.startsWith('+');
  const explicit = /^\+(\d{1,3})[-\s.]+(.*)$/.exec(v);
  let digits = v.replace(/\D/g, '');
  const international = plus || /^00[1-9]/.test(digits);
  if (!plus && international) digits = digits.slice(2);
  if (international || digits.length > NATIONAL_MAX) {
    const split = splitCountryCode(digits);
    if (split) return { digits: split.countryCode + split.national, ...split };
  }
  // A code the table does not know, written apart as LeadSquared writes them (`+999-12345678`).
  if (explicit) {
    const national = explicit[2].replace(/\D/g, '').replace(/^0+/, '');
    if (national.length >= NATIONAL_MIN) return { digits: explicit[1] + national, countryCode: explicit[1], national };
  }
  if (!international) digits = digits.replace(/^0+/, '');
  return { digits, countryCode: null, national: digits };
}

/** The keys stored for a lead's phone value: its digits (unique when the field is) and, when it has a country code, its national part. */
export function phoneStoredKeys(raw: string): { value: string; uniqueable: boolean }[] {
  const p = readPhone(raw);
  if (p.digits === '') return [];
  const keys = [{ value: p.digits, uniqueable: true }];
  if (p.countryCode) keys.push({ value: NATIONAL + p.national, uniqueable: false });
  return keys;
}

/** The stored keys a phone value is looked up by (see the matching rule above); empty when it has no digits. */
export function phoneLookupKeys(raw: string): string[] {
  const p = readPhone(raw);
  if (p.digits === '') return [];
  return p.countryCode ? [p.digits, p.national] : [p.digits, NATIONAL + p.digits];
}

/** One key per phone number whatever way it is written (for async ordering: its national part). */
export function phoneOrderKey(raw: string): string {
  return readPhone(raw).national;
}
