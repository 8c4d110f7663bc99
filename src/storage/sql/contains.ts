/**
 * "Contains this text, ignoring case" searches (lead quick search, the console's lead list, webhook
 * `SearchText`, the journal's path filter), with the same answer on SQLite and PostgreSQL.
 *
 * The engines cannot decide it alone: SQLite's `lower()` folds only ASCII letters, PostgreSQL's
 * folds every letter its locale knows (É → é, and the Kelvin sign K → k, İ → i), so
 * `lower(col) LIKE '%élodie%'` found "Élodie" on PostgreSQL only (found by an engine-parity run).
 * So the engine only narrows: `containsPattern` is a LIKE pattern every engine matches for at least
 * the rows that really contain the text; then `containsText` (JavaScript's case folding) decides.
 * In the pattern, characters whose case the engines fold differently match any one character: every
 * non-ASCII character, and `i` and `k`, which non-ASCII letters fold to on PostgreSQL and in
 * JavaScript (İ → i̇, K → k) but not on SQLite.
 */

import { sql, type RawBuilder } from 'kysely';
import type { Engine } from './schema.js';

/** Longest pattern handed to the engine: SQLite refuses LIKE patterns over 50,000 bytes ("too complex"). */
export const MAX_PATTERN = 2_000;

/**
 * The LIKE pattern (escape character `!`) for rows whose `lower(column)` may contain `text`, or null
 * when the text is too long to hand to the engine (then every row is a candidate). `json`: the
 * column holds JSON text, where the value's quotes, backslashes and control characters are escaped.
 */
export function containsPattern(text: string, json = false): string | null {
  const encoded = json ? JSON.stringify(text).slice(1, -1) : text;
  let body = '';
  for (const c of encoded) {
    if (c.charCodeAt(0) > 0x7f || c === 'i' || c === 'I' || c === 'k' || c === 'K') body += '_';
    else if (c === '!' || c === '%' || c === '_') body += `!${c}`;
    else body += c.toLowerCase();
  }
  return body.length + 2 > MAX_PATTERN ? null : `%${body}%`;
}

/** A test of whether a text contains `needle`, ignoring case (JavaScript's full Unicode case folding). */
export function containsText(needle: string): (haystack: string) => boolean {
  const lower = needle.toLowerCase();
  return (haystack) => haystack.toLowerCase().includes(lower);
}

/**
 * The condition "`column` may contain the text `pattern` was made for" (`containsPattern`), on
 * `engine`. SQLite's LIKE already ignores the case of ASCII letters, all that its `lower()` folds, so
 * there the column is not lowered first: the same rows, a third less time on a scan of a million
 * leads. PostgreSQL's LIKE is case-sensitive: there the column is lowered.
 */
export function mayContain(engine: Engine, column: string, pattern: string): RawBuilder<boolean> {
  const col = engine === 'sqlite' ? sql.ref(column) : sql`lower(${sql.ref(column)})`;
  return sql<boolean>`${col} LIKE ${pattern} ESCAPE '!'`;
}
