/**
 * Queries built and compiled by Kysely once, then run with new parameters: on the hot paths (a sync
 * Create authenticates, reads its activity type and inserts an activity) building and compiling the
 * same query again on every call was about a tenth of the CPU. The SQL text is the same for every
 * call of one engine, so each connection's prepared-statement cache (SQLite) or the server's plan
 * cache sees one statement.
 *
 * `build` gets one placeholder per argument and must use each as a plain value (in a comparison, an
 * inserted column or a `sql` template), so that every use becomes a parameter of the compiled query;
 * an argument may be used more than once.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { DB, Db, Engine } from './schema.js';

const SLOT = (i: number) => `\u0000lt-slot-${i}\u0000`;

interface Template {
  sql: string;
  /** Per compiled parameter: the index of the argument it takes, or a constant. */
  params: ({ arg: number } | { value: unknown })[];
}

export function precompiled<A extends unknown[], R>(build: (db: Kysely<DB>, ...args: A) => Compilable<R>): (db: Db, engine: Engine, ...args: A) => Promise<QueryResult<R>> {
  const templates = new Map<Engine, Template>();
  return (db, engine, ...args) => {
    let t = templates.get(engine);
    if (!t) {
      const slots = args.map((_, i) => SLOT(i)) as unknown as A;
      const c = build(db as Kysely<DB>, ...slots).compile();
      const params = c.parameters.map((p) => {
        const i = typeof p === 'string' ? slots.indexOf(p as never) : -1;
        return i >= 0 ? { arg: i } : { value: p };
      });
      const used = new Set(params.flatMap((p) => ('arg' in p ? [p.arg] : [])));
      if (used.size !== args.length) throw new Error(`precompiled query must use each of its ${args.length} arguments as a parameter: ${c.sql}`);
      t = { sql: c.sql, params };
      templates.set(engine, t);
    }
    const values = t.params.map((p) => ('arg' in p ? args[p.arg] : p.value));
    return db.executeQuery<R>(CompiledQuery.raw(t.sql, values) as CompiledQuery<R>);
  };
}

/**
 * Most rows per INSERT statement of `insertRows`. A batch goes in as statements of INSERT_CHUNK rows
 * and one of the rest, each text built once per row count and table: at most INSERT_CHUNK texts per
 * table, each prepared once per connection (SQLite keeps 1,000 per connection; PostgreSQL names
 * the short ones). Building a multi-row INSERT with Kysely for every batch cost about as much as
 * running it; one statement per row would be a round trip per row on PostgreSQL.
 */
export const INSERT_CHUNK = 32;

const insertTexts = new Map<string, string>();

/**
 * `insert into "table" (columns…) values (…), …` for `rows` rows, in the engine's placeholder style;
 * on SQLite the `bytesAsText` columns' placeholders are `cast(? as text)`.
 */
function insertText(engine: Engine, table: keyof DB, columns: readonly string[], rows: number, bytesAsText: readonly string[]): string {
  const key = `${engine}:${table}:${rows}:${bytesAsText.join(',')}`;
  let text = insertTexts.get(key);
  if (!text) {
    let n = 0;
    const slot = (c: string) => (engine === 'postgres' ? `$${++n}` : bytesAsText.includes(c) ? 'cast(? as text)' : '?');
    const tuples = Array.from({ length: rows }, () => `(${columns.map(slot).join(', ')})`);
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    insertTexts.set(key, text);
  }
  return text;
}

/**
 * Inserts `rows` into `table`, each row the values of `columns` in their order (one fixed column
 * list per table: the statement texts are cached by table and row count). Runs in the caller's
 * transaction when `db` is one.
 *
 * `bytesAsText` (SQLite only) names TEXT columns whose values may be given as UTF-8 bytes (a Buffer)
 * and are stored as text: SQLite reads the bytes as text in place (`cast(? as text)`), where a
 * string would first be made into UTF-8 by the driver. PostgreSQL callers pass strings.
 */
export async function insertRows(db: Db, engine: Engine, table: keyof DB, columns: readonly string[], rows: unknown[][], bytesAsText: readonly string[] = []): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const end = Math.min(rows.length, i + INSERT_CHUNK);
    await db.executeQuery(CompiledQuery.raw(insertText(engine, table, columns, end - i, bytesAsText), rowsParameters(rows, i, end, columns.length)));
  }
}

/**
 * The parameters of rows `from` to `end` (exclusive), row after row, each row's `width` values.
 * Throws RangeError for a row of another length: its values would land in the wrong columns of
 * the rows after it (a short row and a long one in the same statement would even give the
 * statement the number of parameters it expects).
 *
 * A loop rather than `rows.slice(…).flat()`: V8's `flat` reads every element through its generic
 * property lookup, about 1 µs for a journal row of 15 values against 35 ns here, on every row
 * SQLite's writer inserts (docs/performance.md, twenty-eighth session).
 */
export function rowsParameters(rows: readonly (readonly unknown[])[], from: number, end: number, width: number): unknown[] {
  const out = new Array<unknown>((end - from) * width);
  let k = 0;
  for (let i = from; i < end; i++) {
    const row = rows[i];
    if (row.length !== width) throw new RangeError(`a row of ${row.length} values for ${width} columns`);
    for (let j = 0; j < width; j++) out[k++] = row[j];
  }
  return out;
}
