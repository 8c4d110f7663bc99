/**
 * What the request journal must never store: keys and secrets. A call's own keys (whatever they are
 * and wherever they appear: query, path, bodies) and any value named like a key, secret, token or
 * password (a query parameter, or a JSON property of a body) are replaced by `***`.
 */

/** Query parameter and JSON property names whose values are never stored. */
const SECRET_NAME = /key|secret|token|password|passwd|signature|authorization/i;

/**
 * `"name": "value"` pairs of JSON text named like a credential. Stricter than for query names: a
 * body's property names include lead fields (`mx_Keyword`), which must stay readable.
 */
const SECRET_PROPERTY =
  /("(?:x-?)?(?:lsq-?)?(?:access[-_]?key|secret[-_]?key|api[-_]?key|client[-_]?secret|secret|(?:access[-_]?|refresh[-_]?)?token|password|passwd|authorization)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
/** `pattern` matching ASCII letters in either case, as a class per letter (`key` → `[kK][eE][yY]`). */
const caseless = (pattern: string) => pattern.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);

/**
 * Text in which SECRET_PROPERTY can match contains one of these: a cheap test that spares most bodies
 * the full search. Not a bare `key`: activity pages are full of `"Key":` (their Data lists), and
 * running SECRET_PROPERTY over a 16 KB `Retrieve` answer was about 5% of the call's CPU. The same
 * test as `/access[-_]?key|api[-_]?key|secret|token|passw|authorization/i` (without the `u` flag, `i`
 * folds no other character onto an ASCII letter), written with a class per letter because V8 runs
 * that about twice as fast: 7 µs against 14 over a 10 KB `Retrieve` page that holds none of them.
 */
const SECRET_PROPERTY_HINT = new RegExp(['access[-_]?key', 'api[-_]?key', 'secret', 'token', 'passw', 'authorization'].map(caseless).join('|'));

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
 * A raw query string (without `?`) with the value of every parameter named like a key, secret or
 * token replaced by `***`, and the call's own key values masked wherever else they appear. The
 * other parameters stay as sent.
 */
export function redactQuery(raw: string, secrets: string[]): string {
  if (raw === '') return '';
  const parts = raw.split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // a broken escape: test the name as sent
    }
    if (SECRET_NAME.test(decoded)) return `${name}=${MASK}`;
    // A value holding a key in any percent-encoding (`sk%2Dtest` is `sk-test`) is masked whole.
    if (eq >= 0 && secrets.length > 0) {
      let value = part.slice(eq + 1);
      try {
        value = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch {
        // a broken escape: test the value as sent
      }
      if (secrets.some((sv) => value.includes(sv))) return `${name}=${MASK}`;
    }
    return part;
  });
  return maskLiterals(parts.join('&'), secrets);
}

/** Body text with secret-named JSON properties and the call's key values masked. */
export function redactBody(text: string, secrets: string[]): string {
  const masked = SECRET_PROPERTY_HINT.test(text) ? text.replace(SECRET_PROPERTY, `$1"${MASK}"`) : text;
  return maskLiterals(masked, secrets);
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
