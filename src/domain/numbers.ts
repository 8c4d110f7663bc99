/**
 * Whole numbers as clients send them (a JSON number or a string of digits), checked against a range
 * at the edge, so that no value reaches a database column it does not fit: PostgreSQL's INTEGER is
 * 32 bits and refuses 2^31 with a system error where SQLite would store it. Every number the API
 * accepts goes through here, so both engines give the same MX answer.
 */

/** The range of a PostgreSQL INTEGER (and of LeadSquared's .NET Int32). */
export const INT32 = { min: -2_147_483_648, max: 2_147_483_647 } as const;
/** Whole numbers JavaScript holds exactly. */
export const SAFE = { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER } as const;

export interface Range {
  min: number;
  max: number;
}

/**
 * `v` as a whole number within `range`, or null when it is not one: a fraction, text such as
 * "12abc", an infinite number (JSON's 1e309), a value out of range. Strings may carry spaces and a
 * sign. Absent values (undefined, null, '') are the caller's business.
 */
export function wholeNumber(v: unknown, range: Range): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*[+-]?\d{1,20}\s*$/.test(v)) n = Number(v);
  else return null;
  return Number.isSafeInteger(n) && n >= range.min && n <= range.max ? n : null;
}

/** Decimal text: digits with an optional sign, point and exponent (`1.5e3`, `.5`, `5.`). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `text` read as a decimal number (spaces around allowed: `" 22.0 "`, `"2.2e1"`, `"-.5"`), or null
 * when it is not one: blank text, hex, octal or binary (`0x16`, which JavaScript's Number() reads as
 * 22), `Infinity`, or a value too large to be finite (`1e309`). What a Decimal field's value may be
 * (domain/fields.ts), and how a number lead field's search value is read (domain/lead-search.ts).
 */
export function decimalNumber(text: string): number | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** True for undefined, null and the empty (or blank) string: a number that was not given. */
export const absent = (v: unknown): v is undefined | null | '' => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/**
 * A number written in exponent notation (`1e-7`, `1.5E3`, `-2.5e+21`: what JavaScript's String()
 * gives for very small and very large numbers, and what some clients send) in plain decimal
 * notation (`0.0000001`, `1500`, `-2500000000000000000000`), digit for digit; any other text is
 * returned unchanged. Decimal lead and activity fields store plain decimals, as LeadSquared reads
 * them back.
 */
export function plainDecimal(text: string): string {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return text;
  const [, sign, whole, fraction = '', exp] = m;
  const shift = Number(exp);
  // Only exponents a finite double can have: anything larger is not a number we store.
  if (!Number.isSafeInteger(shift) || Math.abs(shift) > 400) return text;
  const digits = whole + fraction;
  const point = whole.length + shift;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  // Leading zeros of the whole part and trailing zeros of a fraction carry nothing.
  out = out.replace(/^0+(?=\d)/, '');
  if (out.includes('.')) out = out.replace(/0+$/, '').replace(/\.$/, '');
  return (sign === '-' && /[1-9]/.test(out) ? '-' : '') + out;
}
