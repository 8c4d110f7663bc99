/**
 * What the request journal must never store: keys and secrets. A call's own keys (whatever they are
 * and wherever they appear: query, path, bodies) and any value named like a credential (a query
 * parameter, a form field, or a JSON property of a body, whatever its value) are replaced by `***`.
 * Keys of the account that the call did not send cannot be recognised: only their hashes are stored.
 */

/**
 * Whether a query parameter or body property of this name holds a credential, whose value is never
 * stored: names with `password`, `passwd`, `passphrase`, `secret` (not `secretary`), `token`,
 * `signature`, `credential`, `apikey`, `accesskey`, `privatekey`, `authorization` or `authkey` in
 * them, names ending in `auth` or `subscriptionkey`, and `pwd`, `pass`, `pin`, `otp`, `auth`,
 * `authentication`, `cookie`, `setcookie`, in any case, `-`, `_`, `.` and spaces ignored. Not a
 * bare `key`: it is LeadSquared's own quick-search parameter (`Leads.GetByQuickSearch?key=`), and
 * lead fields such as `mx_Keyword` must stay readable; nor `session` (LeadSquared's activities
 * carry a web `SessionId`); nor these words inside a longer name where ordinary lead fields have
 * them (`mx_PinCode` is a postal code in India; `mx_Cookie_Consent`, `mx_Is_Authenticated`,
 * `mx_Unauthorized_Attempts`, `mx_Secretary_Name` hold no secret).
 */
export function isCredentialName(name: string): boolean {
  // Every journaled call asks this of its query's names, which are nearly always the same few
  // (`id`, `emailaddress`, `leadId`…): answered from memory, the rule below runs once per name.
  let known = credentialNames.get(name);
  if (known === undefined) {
    const n = name.toLowerCase().replace(/[-_.\s]/g, '');
    known = CREDENTIAL_IN.test(n) || CREDENTIAL_END.test(n) || CREDENTIAL_IS.has(n);
    if (credentialNames.size >= CREDENTIAL_NAMES_KEPT) credentialNames.clear();
    // Kept as a copy: a name cut from a body by a regular expression or slice can be a view of
    // the whole body in V8, which the map would then keep alive.
    if (name.length <= 64) credentialNames.set((' ' + name).slice(1), known);
  }
  return known;
}
/** Names already judged by isCredentialName; at most CREDENTIAL_NAMES_KEPT, emptied when full (names are the callers' choice). */
const credentialNames = new Map<string, boolean>();
const CREDENTIAL_NAMES_KEPT = 512;
/** Words that make a name a credential's wherever they are in it (lower case, separators removed). */
const WORDS_IN = ['passw', 'passphrase', 'secret', 'token', 'signature', 'credential', 'apikey', 'accesskey', 'privatekey', 'authorization', 'authkey'];
/** Words that make a name a credential's at its end. */
const WORDS_END = ['auth', 'subscriptionkey'];
/** Names that are a credential's as a whole. */
const WORDS_IS = ['pwd', 'pass', 'pin', 'otp', 'auth', 'authentication', 'cookie', 'setcookie'];
// `secret` but not `secretary` (a lead field).
const CREDENTIAL_IN = new RegExp(WORDS_IN.map((w) => (w === 'secret' ? 'secret(?!ary)' : w)).join('|'));
const CREDENTIAL_END = new RegExp(`(?:${WORDS_END.join('|')})$`);
const CREDENTIAL_IS = new Set(WORDS_IS);

/**
 * A regular expression source matching any of `words` as isCredentialName reads a name: each ASCII
 * letter in either case (`k` also as U+212A KELVIN SIGN, which lower-cases to `k`: no other
 * character lower-cases to an ASCII letter but U+0130, to `i` and a combining dot), with any run of
 * `separator` between letters. The words are merged by their common beginnings (a trie), so that
 * each place in the text is tried once per first letter rather than once per word. `whole`: each
 * word is matched to its end, a shorter one's match going on where a longer one does, for a caller
 * that looks at what follows (hintOf); else a match stops at the shortest word.
 */
function hintSource(words: readonly string[], separator: string, whole = false): string {
  const letter = (c: string) => (c === 'k' ? '[kK\\u212A]' : `[${c}${c.toUpperCase()}]`);
  type Node = Map<string, Node>;
  const root: Node = new Map();
  for (const w of words) {
    let n = root;
    for (const c of w) n = n.get(c) ?? n.set(c, new Map()).get(c)!;
    n.set('', new Map());
  }
  const emit = (n: Node): string => {
    const children = [...n].filter(([c]) => c !== '');
    // A word ends here. Found anywhere, whatever a longer word would add is not needed to match;
    // found `whole` (what follows is then looked at), the longer word may go on (`auth`, `authentication`).
    if (n.has('') && (!whole || children.length === 0)) return '';
    const alternatives = children.map(([c, next]) => letter(c) + (next.size === 1 && next.has('') ? '' : `${separator}*${emit(next)}`));
    const one = alternatives.length === 1 ? alternatives[0] : `(?:${alternatives.join('|')})`;
    return n.has('') ? `(?:${one})?` : one;
  };
  return emit(root);
}

/**
 * What every credential name (isCredentialName) holds once lower-cased and stripped of `-`, `_`,
 * `.` and white space, with `separator` between its letters: one of the words found anywhere, or
 * one of the names it ends with or is, with no letter or digit after it (so that `shopping`,
 * `opinion`, `passed` or `author` in a note do not send a page to the search). Built from the
 * rule's own words, so that the two cannot drift apart.
 */
function hintOf(separator: string): RegExp {
  const any = `${separator}*`;
  // Only what follows is looked at: a look behind, before the first letter, kept V8 from skipping
  // ahead to the places where a first letter is (16 ns a character of a 1 MB text against 7).
  const ending = `${hintSource([...WORDS_END, ...WORDS_IS], separator, true)}(?!${any}[A-Za-z0-9\\u212A])`;
  return new RegExp(`${hintSource(WORDS_IN, separator)}|${ending}`);
}

/** The hint with `-`, `_`, `.` or white space anywhere in the words. */
const HINT = hintOf('[-_.\\s]');
/** The same with white space also as JSON escapes it in a string (`\t`, `\n`, `\r`, `\f`): slower, for texts with a backslash. */
const HINT_ESCAPED = hintOf('(?:[-_.\\s]|\\\\[tnrf])');

/**
 * Whether `text` may hold a credential-named property: a cheap test that spares most bodies the
 * search for property names (maskProperties), so it must say yes wherever isCredentialName would
 * find a name. Its words with `-`, `_`, `.` or white space anywhere in them (`"Pass_Word"`,
 * `"Access Key"`, `{"Attribute":"mx_Pass_Word",…}` were stored in clear while the test asked for the
 * words unbroken), and any text with a JSON `\u` escape (a name may be written with them). Not a
 * bare `key`: activity pages are full of `"Key":` (their Data lists). Written with a class per letter
 * because V8 runs that about twice as fast as the `i` flag. The separators cost: 0.6 µs over a status
 * answer, 20 over a 10 KB `Retrieve` page and 10.6 ms over a megabyte of prose, against 0.3, 10 and
 * 2.2 when the words had to be unbroken (Node 20; docs/performance.md).
 */
function credentialHint(text: string): boolean {
  if (!text.includes('\\')) return HINT.test(text);
  return text.includes('\\u') || HINT_ESCAPED.test(text);
}

export const MASK = '***';

/** Shortest literal value replaced wherever it appears (shorter ones would mask ordinary text). */
const MIN_LITERAL = 4;

/**
 * The secrets of one call, gathered once: the literal values to remove, in their raw and
 * URL-encoded forms.
 */
export function secretValues(values: (string | null | undefined)[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (!v || v.length < MIN_LITERAL) continue;
    out.add(v);
    const enc = encodeURIComponent(v);
    if (enc !== v) out.add(enc);
  }
  // Longest first, so that a value containing another is masked whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each literal in `secrets` replaced by `***`. */
export function maskLiterals(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/**
 * `text` with the value of each `;name=value` in it replaced by `***` when its name (decoded as a
 * query's names are) unmistakably names a credential: `password`, `secret`, `token`, `apiKey`,
 * `accessKey`… anywhere in it, or ending in `auth` (isCredentialName's words, less the names that
 * are a credential's only whole, `pin`, `pass`, `otp`, `auth`: inside free text `;pin=560001` is an
 * Indian postal code). Matrix parameters (RFC 3986 section 3.3) and `;`-separated query pairs are
 * no parameters to leadtrail (Fastify splits a query at `&` only), so a `;secretKey=…` stays in the
 * path or inside another parameter's value as sent; it is logged and journaled masked all the same
 * (a 404 path `/x;secretKey=…` had reached the debug log: a fresh-eyes run). `part`: `path` (a
 * value runs to the next `;`, `/`, `?` or `#`) or `query` (one query parameter, or a whole query:
 * to the next `;`, `&` or `#`, since `/` and `?` are a value's own characters there). Written
 * separators only: a `%3B` is not read as one.
 */
export function maskSemicolonParameters(text: string, part: 'path' | 'query'): string {
  if (!text.includes(';')) return text;
  return text.replace(part === 'path' ? SEMICOLON_IN_PATH : SEMICOLON_IN_QUERY, (whole, name: string) => (namesCredentialInText(formDecoded(name)) ? `;${name}=${MASK}` : whole));
}
/** `;name=value` in a path, and in a query: group 1 the name as written. */
const SEMICOLON_IN_PATH = /;([^;=&/?#]*)=[^;/?#]*/g;
const SEMICOLON_IN_QUERY = /;([^;=&#]*)=[^;&#]*/g;
/** isCredentialName without its whole-name words (maskSemicolonParameters). */
function namesCredentialInText(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_.\s]/g, '');
  return CREDENTIAL_IN.test(n) || (CREDENTIAL_END.test(n) && n !== 'auth');
}

/** Decoded form of a query or form name or value (`+` is a space); as sent when its escapes are broken. */
function formDecoded(s: string): string {
  // Nothing to decode (most names and values): spares a regular expression and a decode per part.
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * A raw query string (without `?`) with the value of every parameter named like a credential
 * (isCredentialName) replaced by `***`, a value or name holding one of the call's keys in any
 * percent-encoding masked whole, and the keys masked wherever else they appear. The other
 * parameters stay as sent. Also used for form-encoded bodies. `masked`, when given, receives the
 * values masked by name (as sent and decoded), for the rest of the entry (maskedValues).
 */
export function redactQuery(raw: string, secrets: string[], masked?: string[]): string {
  if (raw === '') return '';
  const holdsKey = (s: string) => secrets.length > 0 && secrets.some((sv) => s.includes(sv));
  const parts = raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const decoded = formDecoded(name);
    // A key sent as a parameter's name, or alone (`&<key>`), in any percent-encoding.
    if (holdsKey(decoded)) return MASK;
    if (isCredentialName(decoded)) {
      if (masked && eq >= 0) masked.push(part.slice(eq + 1), formDecoded(part.slice(eq + 1)));
      return `${name}=${MASK}`;
    }
    // A value holding a key in any percent-encoding (`sk%2Dtest` is `sk-test`) is masked whole.
    if (eq >= 0 && holdsKey(formDecoded(part.slice(eq + 1)))) return `${name}=${MASK}`;
    return maskSemicolonParameters(part, 'query');
  });
  return maskLiterals(parts.join('&'), secrets);
}

/**
 * A property name and its colon: in JSON text (double or single quotes: a refused body is journaled
 * as sent), or in JSON text held in a JSON string (`\"name\":`, as a status answer holds the body it
 * accepted; its `\\u0077` escapes too). Group 1: an escaped name; groups 2–3: a quote and a name.
 */
const PROPERTY = /\\"((?:[^"\\]|\\\\u[0-9a-fA-F]{4}){1,200})\\"\s*:\s*|(["'])((?:(?!\2)[^\\\n]|\\.){1,200}?)\2\s*:\s*/g;

/** Where the string starting at `i` (quote `q`) ends: past its closing quote, or the text's end. */
function stringEnd(t: string, i: number, q: string): number {
  for (let j = i + 1; j < t.length; j++) {
    if (t[j] === '\\') j += 1;
    else if (t[j] === q) return j + 1;
  }
  return t.length;
}

/** Where the JSON value starting at `i` ends (a string, an object or array, or a scalar); the text's end when it is cut off. */
function valueEnd(t: string, i: number): number {
  const c = t[i];
  if (c === '"' || c === "'") return stringEnd(t, i, c);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t[j];
      if (d === '"' || d === "'") j = stringEnd(t, j, d) - 1;
      else if (d === '{' || d === '[') depth += 1;
      else if ((d === '}' || d === ']') && --depth === 0) return j + 1;
    }
    return t.length;
  }
  let j = i;
  while (j < t.length && !',}] \t\r\n"\''.includes(t[j])) j += 1;
  return j;
}

/**
 * In JSON text held in a JSON string: where the string starting at `i` (at `\"`) ends, past its
 * closing `\"`, or where the holding string ends (at its `"`) when it is cut off. An escape inside it
 * is `\\` and one more character, itself escaped if it is `"` or `\`.
 */
function escapedStringEnd(t: string, i: number): number {
  let j = i + 2;
  while (j < t.length) {
    if (t.startsWith('\\\\', j)) j += t[j + 2] === '\\' ? 4 : 3;
    else if (t.startsWith('\\"', j)) return j + 2;
    else if (t[j] === '"') return j;
    else j += t[j] === '\\' ? 2 : 1;
  }
  return t.length;
}

/** valueEnd for JSON text held in a JSON string (quotes are `\"`; the holding string ends at a bare `"`). */
function escapedValueEnd(t: string, i: number): number {
  if (t.startsWith('\\"', i)) return escapedStringEnd(t, i);
  if (t[i] === '{' || t[i] === '[') {
    let depth = 0;
    let j = i;
    while (j < t.length) {
      if (t.startsWith('\\"', j)) {
        j = escapedStringEnd(t, j);
        continue;
      }
      const d = t[j];
      if (d === '"') return j;
      if (d === '\\') j += 1;
      else if (d === '{' || d === '[') depth += 1;
      else if ((d === '}' || d === ']') && --depth === 0) return j + 1;
      j += 1;
    }
    return t.length;
  }
  let j = i;
  while (j < t.length && !',}] \t\r\n\\"'.includes(t[j])) j += 1;
  return j;
}

/** A name of JSON text held in a JSON string as the held text writes it: `\\u0077` is `\u0077` there. */
const unescapeOnce = (name: string): string => (name.includes('\\') ? name.replace(/\\\\/g, '\\') : name);

/** A property name as its text means it (JSON escapes such as `\u0077` read); as written when they are broken. */
function propertyName(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * Name/value pairs, by the name of the property that names the pair (lower case) and that of the
 * property holding its value: LeadSquared's lead fields (`{"Attribute":"mx_Portal_Password","Value":…}`),
 * activity fields (`SchemaName`), webhooks' `CustomHeaders` and activities' `Data` (`Key`), and a
 * lead search's `{"LookupName":"mx_Portal_Password","LookupValue":…}` (`Leads.Get`). Compared in lower case.
 */
const PAIRS: ReadonlyMap<string, string> = new Map([
  ['attribute', 'value'],
  ['schemaname', 'value'],
  ['key', 'value'],
  ['name', 'value'],
  ['lookupname', 'lookupvalue'],
]);
/** The value properties of PAIRS. */
const PAIR_VALUES = new Set(PAIRS.values());

/** The next property of the same object after a value ending at `lastIndex`: group 1/2 a quote and a name. */
const NEXT_PROPERTY = /\s*,\s*(["'])((?:(?!\1)[^\\\n]|\\.){1,200}?)\1\s*:\s*/y;
/** The same in JSON text held in a JSON string (whitespace may be written as `\n`): group 1 the name. */
const NEXT_ESCAPED_PROPERTY = /(?:\s|\\[nrt])*,(?:\s|\\[nrt])*\\"((?:[^"\\]|\\\\u[0-9a-fA-F]{4}){1,200})\\"(?:\s|\\[nrt])*:(?:\s|\\[nrt])*/y;

interface Span {
  name: string;
  start: number;
  end: number;
}

/** The properties of the same object that follow a value ending at `at` (at most 50). */
function* following(text: string, at: number, escaped: boolean): Generator<Span> {
  const re = escaped ? NEXT_ESCAPED_PROPERTY : NEXT_PROPERTY;
  let j = at;
  for (let k = 0; k < 50; k++) {
    re.lastIndex = j;
    const m = re.exec(text);
    if (m === null) return;
    const start = re.lastIndex;
    const end = escaped ? escapedValueEnd(text, start) : valueEnd(text, start);
    yield { name: propertyName(escaped ? unescapeOnce(m[1]) : m[2]), start, end };
    j = end;
  }
}

/** The text of a string value spanning start–end (quotes included; `\"` quotes when escaped); null for another value. */
function stringValue(text: string, start: number, end: number, escaped: boolean): string | null {
  if (escaped) return text.startsWith('\\"', start) ? propertyName(text.slice(start + 2, end - 2).replace(/\\\\/g, '\\')) : null;
  const q = text[start];
  return q === '"' || q === "'" ? propertyName(text.slice(start + 1, end - 1)) : null;
}

/** Whether a property `name` with this value names a credential pair (`"Attribute":"mx_Password"`). */
const namesCredential = (name: string, text: string, span: { start: number; end: number }, escaped: boolean): boolean => {
  if (!PAIRS.has(name.toLowerCase())) return false;
  const v = stringValue(text, span.start, span.end, escaped);
  return v !== null && isCredentialName(v);
};

/**
 * `text` with the value of every credential-named property (isCredentialName) replaced by `"***"`
 * (in the quotes of its name), whatever the value (a string, a number, an object or array, cut off
 * at the text's end; null is left as it is), also in JSON text held in a JSON string; and the `Value` of every name/value
 * pair whose name is one (`{"Attribute":"mx_Portal_Password","Value":…}`,
 * `{"Key":"Authorization","Value":…}`, in either order). Everything else is left as it is.
 */
function maskProperties(text: string, masked?: string[]): string {
  const masks: { start: number; end: number; with: string }[] = [];
  const maskValue = (start: number, end: number, escaped: boolean, quote: string) => {
    // null is no secret: masked, a field that held nothing read as one that held something (a
    // fresh-eyes run saw "mx_Portal_Password": null journaled as "***").
    if (text.slice(start, end).trim() === 'null') return;
    masks.push({ start, end, with: escaped ? `\\"${MASK}\\"` : `${quote}${MASK}${quote}` });
    if (masked) collectValue(text, start, end, escaped, masked);
  };
  PROPERTY.lastIndex = 0;
  for (let m = PROPERTY.exec(text); m !== null; m = PROPERTY.exec(text)) {
    const escaped = m[1] !== undefined;
    const name = propertyName(escaped ? unescapeOnce(m[1]) : m[3]);
    const start = m.index + m[0].length;
    // The name's own quote: a name in single quotes may sit inside a double-quoted string.
    const quote = escaped ? '' : m[2];
    if (isCredentialName(name)) {
      const end = escaped ? escapedValueEnd(text, start) : valueEnd(text, start);
      maskValue(start, end, escaped, quote);
      PROPERTY.lastIndex = Math.max(end, start + 1);
      continue;
    }
    const lower = name.toLowerCase();
    if (!PAIR_VALUES.has(lower) && !PAIRS.has(lower)) continue;
    // A pair: its name and its Value may come in either order, so each looks at what follows it.
    const end = escaped ? escapedValueEnd(text, start) : valueEnd(text, start);
    if (PAIR_VALUES.has(lower)) {
      for (const next of following(text, end, escaped)) {
        if (PAIRS.get(next.name.toLowerCase()) === lower && namesCredential(next.name, text, next, escaped)) {
          maskValue(start, end, escaped, quote);
          break;
        }
      }
    } else if (namesCredential(name, text, { start, end }, escaped)) {
      const valueName = PAIRS.get(lower);
      for (const next of following(text, end, escaped)) {
        if (next.name.toLowerCase() === valueName) {
          maskValue(next.start, next.end, escaped, quote);
          break;
        }
      }
    }
  }
  if (masks.length === 0) return text;
  masks.sort((a, b) => a.start - b.start);
  let out = '';
  let from = 0;
  for (const k of masks) {
    if (k.start < from) continue; // inside a value already masked
    out += text.slice(from, k.start) + k.with;
    from = k.end;
  }
  return out + text.slice(from);
}

/**
 * The text of a masked value spanning start–end of `text`, as written and as its string means it
 * (a JSON string's escapes read; `escaped`: JSON text held in a JSON string), into `out`: a string,
 * or a scalar written bare (`123456`); not an object or array, whose parts are no one value.
 */
function collectValue(text: string, start: number, end: number, escaped: boolean, out: string[]): void {
  const s = stringValue(text, start, end, escaped);
  if (s !== null) {
    const raw = escaped ? text.slice(start + 2, end - 2) : text.slice(start + 1, end - 1);
    out.push(raw, s);
  } else if (text[start] !== '{' && text[start] !== '[') out.push(text.slice(start, end));
}

/** Shortest masked value that is masked again where the entry repeats it (maskRepeats). */
const MIN_REPEAT = 8;

/**
 * What masking took out of a text (the `masked` list of redactBody or redactQuery) as values to
 * mask again where the entry repeats them (maskRepeats), longest first. Values under MIN_REPEAT
 * characters are left out: a 4-character password masked wherever it stood took parts of ids,
 * dates and phone numbers with it (a fresh-eyes run: `2026` in every `CreatedOn`).
 */
export function maskedValues(masked: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of masked) if (v.length >= MIN_REPEAT && !v.includes(MASK)) out.add(v);
  return [...out].sort((a, b) => b.length - a.length);
}

const WORD_CHAR = /[A-Za-z0-9\u212A]/;
/** What follows a property name: its closing quote (also `\"` in JSON held in a JSON string) and the colon. */
const NAME_END = /^\\?["']\s*:/;

/**
 * `text` with each of `values` (maskedValues) replaced by `***` where it stands as a whole: not
 * inside a longer word or number (no letter or digit beside it) and not as a property name. So an
 * answer that quotes a masked value ("Value 'PIN-secret-1' of field …", an async status reason)
 * does not give it back, while a value that is also a word of the text (`Email`, a field's value
 * that names another field) leaves the text's structure alone (a fresh-eyes run found
 * `"EmailAddress"` journaled as `"***Address"` when a masked field held `Email`).
 */
export function maskRepeats(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) {
    let at = out.indexOf(v);
    if (at < 0) continue;
    let built = '';
    let from = 0;
    while (at >= 0) {
      const end = at + v.length;
      const whole = (at === 0 || !WORD_CHAR.test(out[at - 1])) && (end === out.length || !WORD_CHAR.test(out[end])) && !NAME_END.test(out.slice(end, end + 64));
      if (whole) {
        built += out.slice(from, at) + MASK;
        from = end;
      }
      at = out.indexOf(v, whole ? end : at + 1);
    }
    out = built + out.slice(from);
  }
  return out;
}

/**
 * A body that reads as `name=value` fields (form-encoded, or near it) rather than JSON or plain
 * text: it does not begin as JSON does (white space aside), and its first line holds a `=`.
 */
const FORM = /^\s*[^\s{["'][^\n]*=/;

/**
 * A form body with each field named like a credential masked, as a query's are (redactQuery), its
 * fields separated by `&`, `;` or line breaks: bodies are journaled as sent, and one refused for
 * not being JSON may be a form written by hand (a fresh-eyes run's leading newline, fields on
 * lines of their own, `;` between them, a space in a name, each stored in clear when only `&` and a
 * first name without spaces made a form).
 */
function redactForm(text: string, secrets: string[], masked: string[]): string {
  const parts = text.split(/([&;\r\n]+)/);
  for (let i = 0; i < parts.length; i += 2) parts[i] = redactQuery(parts[i], secrets, masked);
  return maskLiterals(parts.join(''), secrets);
}

/**
 * Body text with credential-named properties and the call's key values masked, and each value so
 * masked wherever else the text holds it. A form-encoded body is masked as a query is
 * (redactForm); any other is searched for JSON properties, also when it is not valid JSON (a
 * refused body is journaled as sent). `masked`, when given, receives the values masked by name (as
 * written and as meant), for the rest of the entry; `repeats` (maskedValues) are values masked
 * elsewhere in the entry, masked here too where they stand whole (maskRepeats).
 */
export function redactBody(text: string, secrets: string[], masked: string[] = [], repeats: readonly string[] = []): string {
  const start = masked.length;
  const once = FORM.test(text) ? redactForm(text, secrets, masked) : maskLiterals(credentialHint(text) ? maskProperties(text, masked) : text, secrets);
  // A value masked by its name is masked where else the text repeats it whole (an async status
  // answer holds the accepted body and the reason it failed, which can quote the value), as are
  // `repeats`, the values masked elsewhere in the entry (its request body).
  const again = masked.length > start ? maskedValues([...repeats, ...masked.slice(start)]) : repeats;
  return again.length > 0 ? maskRepeats(once, again) : once;
}

/**
 * At most `maxBytes` bytes of `text` (UTF-8), cut at a character boundary. Returns the text and the
 * whole text's size in bytes.
 */
export function cap(text: string, maxBytes: number): { text: string; size: number } {
  // A string of n UTF-16 units is at most 3n bytes: most bodies are under the cap without encoding.
  if (text.length * 3 <= maxBytes) return { text, size: Buffer.byteLength(text) };
  // Measured without encoding (0.2 µs for 10 KB, against 7 for a copy): encoded only when it is cut.
  const size = Buffer.byteLength(text);
  if (size <= maxBytes) return { text, size };
  const buf = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Step back off UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end -= 1;
  return { text: buf.subarray(0, end).toString('utf8'), size: buf.length };
}

/**
 * Text both databases store: PostgreSQL refuses the NUL character in TEXT, so it is kept as the
 * replacement character (U+FFFD) on both engines.
 */
export const storable = (text: string): string => (text.includes('\u0000') ? text.replace(/\u0000/g, '\uFFFD') : text);
