/**
 * Request bodies as JSON, as LeadSquared's .NET (Newtonsoft) reader takes them:
 * - `parseJsonBody`: numbers that a double cannot hold exactly (more than 15 significant digits,
 *   such as a 64-bit id `12345678901234567890` sent by a Python, Java or .NET client) are kept as
 *   their text, which is what Newtonsoft hands a string property; `JSON.parse` rounded them
 *   (`12345678901234567000`) and the rounded text was stored.
 * - `jsonSyntaxMessage`: the message for a body that is not JSON, in the reader's style:
 *   `Unexpected character encountered while parsing value: x. Path 'a[0].b', line 1, position 7.`
 *   (docs/compatibility.md; the fact sheet gives only the first words, from a practitioner's report).
 *   Node's own `JSON.parse` messages were passed on before. They differ between Node versions (Node 24
 *   adds "(line 1 column 9)"), so the same body got two answers, and some quote the body's first ten
 *   characters, which put part of whatever the caller sent (a key pasted as the body) into the answer
 *   and the request journal. This message names one character at most, and where it is. The place
 *   is found by jsonc-parser's strict scan (no comments, no trailing commas), run only after
 *   `JSON.parse` has failed.
 */
import { getLocation, parse, ParseErrorCode, type ParseError } from 'jsonc-parser';
import { parse as parseLossless } from 'lossless-json';
import { wellFormed } from '../schemas/lsq.js';

/** Sixteen digits in a row, a decimal point allowed among them: where a number may hold more than a double can. */
const LONG_NUMBER = /\d(?:\.?\d){15}/;

/** Significant digits of a JSON number's text (its mantissa without sign, point, leading and trailing zeros). */
function significantDigits(text: string): number {
  const mantissa = text.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

/** A JSON number as a number, or as its text when a double would not hold it exactly (over 15 significant digits). */
function exactNumber(text: string): number | string {
  return significantDigits(text) > 15 ? text : Number(text);
}

/**
 * `text` read as JSON. Throws `SyntaxError` when it is not JSON (`jsonSyntaxMessage` words it).
 * Numbers with more than 15 significant digits come back as their text (a string); all others as
 * numbers, as `JSON.parse` gives them. A duplicated key keeps its last value, as in `JSON.parse`.
 */
export function parseJsonBody(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // The exact reading only when the text holds a long run of digits (in a string or a number).
  let read = value;
  if (LONG_NUMBER.test(text)) {
    try {
      read = parseLossless(text, null, exactNumber);
    } catch {
      // lossless-json refuses a key given twice with two values; JSON.parse keeps the last one.
    }
  }
  return MAY_HOLD_LONE_SURROGATE.test(text) ? wellFormed(read) : read;
}

/**
 * A surrogate, or a JSON escape of one (`\ud83d`): only a text holding one can give a lone one (a
 * text decoded from UTF-8 holds pairs only; one decoded from UTF-16 may not). One scan of the body.
 */
const MAY_HOLD_LONE_SURROGATE = /\\u[dD][89a-fA-F]|[\ud800-\udfff]/;

/** Longest path quoted back: property names come from the caller's body and may be any length. */
const PATH_MAX = 200;

/** A path as Newtonsoft writes it: `a.b`, `[0].Attribute`, `['odd name']`. */
function pathText(path: (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `['${p.replace(/'/g, "\\'")}']`;
  }
  return out.length > PATH_MAX ? `${out.slice(0, PATH_MAX)}…` : out;
}

/** One character as quoted in the message: itself, or `\uXXXX` for a control or separator character. */
function shown(ch: string): string {
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? ch : `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
}

/** Line and column (both from 1, columns in characters) of `offset` in `text`. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    start = i + 1;
  }
  return { line, column: Array.from(text.slice(start, offset)).length + 1 };
}

const STRING_ERRORS = new Set<ParseErrorCode>([
  ParseErrorCode.InvalidCharacter,
  ParseErrorCode.InvalidEscapeCharacter,
  ParseErrorCode.InvalidUnicode,
  ParseErrorCode.UnexpectedEndOfString,
]);

/**
 * Inside the string token that starts at `start` (its opening quote): the offset of the first
 * character JSON does not allow there (a control character, or what follows a backslash that is
 * not an escape), or `text.length` when the string never ends.
 */
function badInString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i; // the string ends: the scan's error was elsewhere in it; point at its end
    if (c < 0x20) return i;
    if (c === 0x5c) {
      const e = text[i + 1];
      if (e === undefined) return text.length;
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return i + 1;
        i += 5;
      } else if ('"\\/bfnrt'.includes(e)) i += 1;
      else return i + 1;
    }
  }
  return text.length;
}

/**
 * The message for `text`, which `JSON.parse` refused. Names the first offending character (or the
 * end of the body), the JSON path where it stands, and its line and column (from 1).
 */
export function jsonSyntaxMessage(text: string): string {
  try {
    return locatedMessage(text) ?? UNPLACED;
  } catch {
    // jsonc-parser recurses per nesting level: a body nested tens of thousands deep exhausts the stack.
    return UNPLACED;
  }
}

/** When the place of the error is not known. */
const UNPLACED = 'Unexpected character encountered while parsing value. The request body is not valid JSON.';

function locatedMessage(text: string): string | null {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  // jsonc-parser takes a few things JSON.parse does not: then the place is unknown.
  if (errors.length === 0) return null;
  let offset = Math.min(errors[0].offset, text.length);
  // A string's errors are reported at its opening quote: point at the character itself.
  if (STRING_ERRORS.has(errors[0].error) && text[offset] === '"') offset = badInString(text, offset);
  const { line, column } = lineAndColumn(text, offset);
  const location = getLocation(text, offset);
  // Where a property name was expected, jsonc-parser's path ends in an empty name of its own.
  const path = pathText(location.isAtPropertyKey ? location.path.slice(0, -1) : location.path);
  const rest = text.slice(offset);
  if (rest.trim() === '') return `Unexpected end when parsing JSON. Path '${path}', line ${line}, position ${column}.`;
  const ch = String.fromCodePoint(rest.codePointAt(0) ?? 0);
  return `Unexpected character encountered while parsing value: ${shown(ch)}. Path '${path}', line ${line}, position ${column}.`;
}
