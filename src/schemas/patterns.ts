/**
 * Regular expressions (ECMA-262, as JSON Schema's `pattern` takes them) for the OpenAPI document:
 * the strings the server's readers take, so that a validator built from the document admits what
 * the server admits and refuses what it refuses. Each builder names the reader it mirrors;
 * test/openapi/patterns.test.ts holds each pattern to its reader on generated strings.
 *
 * A pattern counts characters as Unicode code points (JSON Schema's rule); the server's length
 * checks count UTF-16 units, so a text of astral characters (emoji) the server finds too long may
 * still match. Every other difference is a bug.
 */
import type { Range } from '../domain/numbers.js';

/** How a property's reader takes a blank string: refused, `""` alone taken as absent, or `""` and spaces alike. */
export type Blank = 'refused' | 'empty' | 'spaces';

/**
 * `body` anchored with spaces allowed around it, and the blank strings `blank` lets through.
 * `body` has no anchors and starts with no space, so that no two `\\s*` meet: adjacent ones
 * would backtrack in polynomial time over a long run of spaces.
 */
export function anchored(body: string, blank: Blank): string {
  if (blank === 'refused') return `^\\s*${body}\\s*$`;
  if (blank === 'empty') return `^(?:\\s*${body}\\s*)?$`;
  return `^\\s*(?:${body}\\s*)?$`;
}

/** `[a-b]` for two digits (`\d` for 0-9, the digit itself when a = b). */
function digitClass(a: number, b: number): string {
  if (a === b) return String(a);
  if (a === 0 && b === 9) return '\\d';
  return `[${a}-${b}]`;
}

const count = (n: number) => (n === 1 ? '' : `{${n}}`);

/** Alternatives, each a fixed-length sequence, matching the numerals from `lo` to `hi` (strings of one length, lo ≤ hi). */
function sameLength(lo: string, hi: string): string[] {
  if (lo === hi) return [lo];
  if (lo.length === 1) return [digitClass(Number(lo), Number(hi))];
  const [a, b] = [Number(lo[0]), Number(hi[0])];
  const [loRest, hiRest] = [lo.slice(1), hi.slice(1)];
  if (a === b) return sameLength(loRest, hiRest).map((p) => `${a}${p}`);
  const n = loRest.length;
  const out: string[] = [];
  let from = a;
  if (!/^0+$/.test(loRest)) {
    out.push(...sameLength(loRest, '9'.repeat(n)).map((p) => `${a}${p}`));
    from = a + 1;
  }
  const whole = /^9+$/.test(hiRest);
  const to = whole ? b : b - 1;
  if (from <= to) out.push(`${digitClass(from, to)}\\d${count(n)}`);
  if (!whole) out.push(...sameLength('0'.repeat(n), hiRest).map((p) => `${b}${p}`));
  return out;
}

/**
 * A pattern (no anchors, one group) matching the decimal numerals without leading zeros (`0` is
 * `0`) of the whole numbers from `lo` to `hi`, 0 ≤ lo ≤ hi ≤ 2^53−1: `digitRange(1, 35)` is
 * `(?:[1-9]|[12]\d|3[0-5])`.
 */
export function digitRange(lo: number, hi: number): string {
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 0 || lo > hi) throw new Error(`digitRange(${lo}, ${hi})`);
  const parts: string[] = [];
  // Lengths whose every numeral (from 1…, 10…, 100…) is in the range, as one `[1-9]\d{a,b}`.
  let full: [number, number] | null = null;
  const flush = () => {
    if (full) {
      const [a, b] = full;
      parts.push(`[1-9]${a === b ? (a === 0 ? '' : `\\d${count(a)}`) : `\\d{${a},${b}}`}`);
    }
    full = null;
  };
  for (let len = String(lo).length; len <= String(hi).length; len++) {
    const from = Math.max(lo, len === 1 ? 1 : 10 ** (len - 1));
    const to = Math.min(hi, 10 ** len - 1);
    if (len === 1 && lo === 0) parts.push('0');
    if (from > to) continue;
    if (from === (len === 1 ? 1 : 10 ** (len - 1)) && to === 10 ** len - 1) {
      full = full ? [full[0], len - 1] : [len - 1, len - 1];
      continue;
    }
    flush();
    parts.push(...sameLength(String(from), String(to)));
  }
  flush();
  return `(?:${parts.join('|')})`;
}

/**
 * The strings domain/numbers.ts `wholeNumber` reads as one of `values` (a range, or a list of whole
 * numbers of 1 or more, as event codes are), without anchors: up to 20 digits, leading zeros and a
 * sign allowed; `-0` is 0. To be used inside `anchored`, which adds the spaces around.
 */
export function wholeNumberBody(values: Range | readonly number[]): string {
  const alts: string[] = [];
  if (Array.isArray(values)) {
    const codes = values as readonly number[];
    if (codes.some((c) => !Number.isSafeInteger(c) || c < 1)) throw new Error(`wholeNumberBody: codes must be whole numbers of 1 or more`);
    alts.push(`\\+?0*(?:${[...codes].sort((x, y) => y - x).join('|')})`);
  } else {
    const range = values as Range;
    if (range.max >= 1) alts.push(`\\+?0*${digitRange(Math.max(1, range.min), range.max)}`);
    if (range.min <= 0 && range.max >= 0) alts.push('[+-]?0+');
    if (range.min <= -1) alts.push(`-0*${digitRange(Math.max(1, -range.max), -range.min)}`);
  }
  return `(?=[+-]?\\d{1,20}\\s*$)(?:${alts.join('|')})`;
}

/**
 * The strings domain/numbers.ts `wholeNumber` reads as one of `values` (see wholeNumberBody), spaces
 * around; with `blank`, the blank strings the property's reader takes as absent. Every number the
 * API takes is read so: activity event codes, paging, Int32s, webhook codes, delays and statuses.
 */
export function wholeNumberPattern(values: Range | readonly number[], blank: Blank): string {
  return anchored(wholeNumberBody(values), blank);
}

/**
 * `word` matched in any case, as a pattern (JSON Schema has no case-insensitive flag): `In` is
 * `[Ii][Nn]`, and `k` is `[Kk\u212A]`: the readers lower-case what they are sent, and the Kelvin sign
 * (U+212A) lower-cases to `k`, the one character beyond ASCII that lower-cases to an ASCII letter
 * alone (U+0130 gives `i` and a combining dot, which no word matches).
 */
export function anyCase(word: string): string {
  return Array.from(word)
    .map((c) => {
      if (c.toLowerCase() === c.toUpperCase()) return c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
      return `[${c.toUpperCase()}${c.toLowerCase()}${c.toLowerCase() === 'k' ? '\\u212A' : ''}]`;
    })
    .join('');
}

/** One of `words`, in any case, with spaces around (the readers trim and lower-case). */
export function wordsPattern(words: readonly string[], blank: Blank): string {
  return anchored(`(?:${words.map(anyCase).join('|')})`, blank);
}

/**
 * A text of 1 to `max` characters once trimmed (spaces around do not count; only spaces is
 * refused), as the readers that trim before they count take it. With `blank`, the blank texts
 * the reader takes as absent.
 */
export function trimmedLengthPattern(max: number, blank: Blank): string {
  return anchored(`\\S[\\s\\S]{0,${max - 1}}`, blank);
}
