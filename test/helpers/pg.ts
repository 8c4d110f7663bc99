/**
 * PostgreSQL for tests: the server on this machine (override with LEADTRAIL_TEST_PG_URL), one fresh
 * schema per test file or started server so runs never collide. Unreachable PostgreSQL fails the run
 * under CI=true; locally the caller may skip, loudly.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_BASE_URL = process.env.LEADTRAIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_TEST_URL = process.env.LEADTRAIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const IN_CI = /^(1|true)$/i.test(process.env.CI ?? '');

export interface PgSchema {
  name: string;
  /** DATABASE_URL pointing at this schema. */
  url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export function schemaUrl(name: string): string {
  return `${PG_BASE_URL}${PG_BASE_URL.includes('?') ? '&' : '?'}schema=${name}`;
}

/** A new, empty schema name (the adapter creates the schema itself on open). */
export function freshSchema(): PgSchema {
  const name = `lt_test_${randomBytes(6).toString('hex')}`;
  return {
    name,
    url: schemaUrl(name),
    drop: () => admin((c) => dropSchema(c, name)),
  };
}

/** Runs SQL against the test database (for tests that inspect or tamper with rows directly). */
export function pgQuery<T extends pg.QueryResultRow = any>(schema: string, text: string, values: unknown[] = []): Promise<T[]> {
  return admin(async (c) => {
    await c.query(`SET search_path TO "${schema}"`);
    return (await c.query<T>(text, values)).rows;
  });
}

/**
 * Sessions waiting on a lock that hold some lock on a table of `schema`, or that wait for the
 * schema's write lock (a reset, which takes it before any other: src/storage/sql/accounts.ts
 * WRITES_LOCK_KEY): this schema's server, blocked on a test's open transaction. Other test files
 * share the database, so a wait of theirs does not count (counting every session waiting on a lock
 * let another file's wait end a test's wait early).
 */
export async function lockWaitersIn(schema: string): Promise<number> {
  return (await lockWaitingTransactions(schema)).length;
}

/**
 * The transactions of the sessions `lockWaitersIn` counts, each as `pid/xact_start`, sorted. The same
 * list later shows that the same transactions still wait: one aborted as a deadlock's loser and run
 * again by the write pipeline waits in a new transaction (or no longer waits).
 */
export async function lockWaitingTransactions(schema: string): Promise<string[]> {
  const rows = await pgQuery<{ t: string }>(
    schema,
    `select a.pid || '/' || a.xact_start::text as t from pg_stat_activity a where a.wait_event_type = 'Lock' and (exists (select 1 from pg_locks l
       join pg_class c on c.oid = l.relation join pg_namespace ns on ns.oid = c.relnamespace where l.pid = a.pid and ns.nspname = $1)
       or exists (select 1 from pg_locks l where l.pid = a.pid and not l.granted and l.locktype = 'advisory'
         and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('leadtrail.writes.' || $1, 0)))`,
    [schema],
  );
  return rows.map((r) => r.t).sort();
}

/** Whether PostgreSQL answers; throws under CI (a missing server must fail the run, never skip it). */
export async function pgAvailable(): Promise<boolean> {
  try {
    await admin((c) => c.query('select 1'));
    return true;
  } catch (e) {
    const msg = `PostgreSQL at ${PG_BASE_URL.replace(/\/\/[^@]*@/, '//')} is unreachable: ${(e as Error).message}`;
    if (IN_CI) throw new Error(`${msg} (CI=true: PostgreSQL tests must run)`);
    process.stderr.write(`\n!!!!! SKIPPING PostgreSQL tests: ${msg} !!!!!\n\n`);
    return false;
  }
}

/** Schemas made for test servers in this file; test/helpers/pg-cleanup.ts drops them after the file. */
export const testSchemas = new Set<string>();

export async function dropSchemas(names: Iterable<string>): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  await admin(async (c) => {
    for (const n of list) await dropSchema(c, n);
  });
}

/**
 * DROP SCHEMA … CASCADE, again after a deadlock: PostgreSQL aborts a drop that deadlocks with a
 * connection of a server still closing in that schema (seen once in a full run on Node 24), and
 * the drop then succeeds on a second try.
 */
async function dropSchema(c: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '40P01' || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
