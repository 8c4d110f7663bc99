/**
 * Whole-database snapshots for "this request changed nothing": every table's rows, read straight
 * from the store's own database (the SQLite file read-only, or the test's PostgreSQL schema), so
 * the check does not trust the code under test to report its own writes. The request journal is
 * left out: it records every call, refused ones too, by design (and a moment after the answer).
 */
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';

const Database = sqliteDriver();
import pg from 'pg';
import { PG_BASE_URL } from './pg.js';
import type { TestServer } from './server.js';

/** Table name → its rows as JSON text, sorted, so two snapshots compare with deep equality. */
export type Snapshot = Record<string, string[]>;

export interface DbReader {
  snapshot(): Promise<Snapshot>;
  /**
   * Changes whenever anything was written since the last call (SQLite's data_version counts other
   * connections' commits; on PostgreSQL, each table's row count and newest row version), so an
   * unchanged value shows an unchanged database without reading every row.
   */
  version(): Promise<string>;
  close(): Promise<void>;
}

const sortRows = (rows: unknown[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/**
 * Long values are compared by length and ends (computed in SQL): hostile runs store many 100 KB
 * bodies, and copying them all out for every request would dominate the run. Rows holding them are
 * only ever inserted, so a change still shows.
 */
const BIG = 512;

function sqliteReader(file: string): DbReader {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const tables = () =>
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' AND name <> 'journal'").all() as { name: string }[]).map((t) => t.name);
  const select = (t: string) => {
    const cols = (db.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map(
      ({ name }) => `CASE WHEN typeof("${name}") = 'text' AND length("${name}") > ${BIG} THEN 'len:' || length("${name}") || ':' || substr("${name}", 1, 100) || substr("${name}", -100) ELSE "${name}" END AS "${name}"`,
    );
    return `SELECT ${cols.join(', ')} FROM "${t}"`;
  };
  return {
    snapshot: async () => Object.fromEntries(tables().map((t) => [t, sortRows(db.prepare(select(t)).all())])),
    version: async () => String(db.pragma('data_version', { simple: true })),
    close: async () => {
      db.close();
    },
  };
}

async function pgReader(schema: string): Promise<DbReader> {
  const c = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 5_000 });
  await c.connect();
  await c.query(`SET search_path TO "${schema}"`);
  // The schema is migrated before the reader opens; its tables and columns do not change after.
  const { rows } = await c.query<{ table_name: string; cols: string[] }>(
    `SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS cols FROM information_schema.columns
     WHERE table_schema = $1 AND table_name NOT LIKE 'kysely_%' AND table_name <> 'journal' GROUP BY table_name`,
    [schema],
  );
  const selects = rows.map(({ table_name: t, cols }) => ({
    t,
    sql: `SELECT ${cols.map((n) => `CASE WHEN length("${n}"::text) > ${BIG} THEN 'len:' || length("${n}"::text) || ':' || md5("${n}"::text) ELSE "${n}"::text END AS "${n}"`).join(', ')} FROM "${t}"`,
  }));
  // Row count and newest row version per table: any insert, update or delete moves one of them.
  const versionSql = `SELECT ${rows.map(({ table_name: t }) => `(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM "${t}")`).join(` || '|' || `)} AS v`;
  return {
    async snapshot() {
      const out: Snapshot = {};
      for (const { t, sql } of selects) out[t] = sortRows((await c.query(sql)).rows);
      return out;
    },
    version: async () => (await c.query<{ v: string }>(versionSql)).rows[0].v,
    close: () => c.end(),
  };
}

export async function openReader(s: TestServer): Promise<DbReader> {
  return s.dbPath.startsWith('pg:') ? pgReader(s.dbPath.slice(3)) : sqliteReader(s.dbPath);
}

/** Tables whose rows differ between two snapshots, with rows added and removed, for messages. */
export function changedTables(before: Snapshot, after: Snapshot): Record<string, { added: number; removed: number }> {
  const out: Record<string, { added: number; removed: number }> = {};
  for (const t of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = new Set(before[t] ?? []);
    const b = new Set(after[t] ?? []);
    const added = [...b].filter((r) => !a.has(r)).length;
    const removed = [...a].filter((r) => !b.has(r)).length;
    if (added || removed) out[t] = { added, removed };
  }
  return out;
}
