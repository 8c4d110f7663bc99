/**
 * The PostgreSQL adapter: a pg pool under Kysely, the shared queries of ../sql/, and the numbered
 * migrations of ./migrations.ts. Many processes may open the same database at once: migrations
 * take Kysely's advisory lock, workers claim with SKIP LOCKED.
 */
import os from 'node:os';
import { DEFAULT_MIGRATION_TABLE, Kysely, PostgresDialect, PostgresIntrospector, sql, type DatabaseIntrospector, type TableMetadata } from 'kysely';
import pg from 'pg';
import type { DB } from '../sql/schema.js';
import { DEFAULT_FN_TIMEOUT_MS, migrated, sqlStore } from '../sql/sql-store.js';
import { prepareStatements } from './prepared.js';
import { NoDatabaseError, UnusableDatabaseError, type Store } from '../store.js';
import { queuedListener } from './listener.js';
import { postgresMigrations } from './migrations.js';
import { ConfigError } from '../../config.js';

export interface PostgresOptions {
  poolSize: number;
  /** Write batches side by side (writeSlots; default DEFAULT_WRITE_BATCHES). */
  writeBatches?: number;
  statementTimeoutMs: number;
  /** Name hot statements so each connection prepares them once (prepared.ts; default true). */
  prepared?: boolean;
  /** How long one transaction function may run before it is rolled back (src/storage/pipeline.ts). */
  fnTimeoutMs?: number;
  /**
   * Open only a leadtrail database that is there (the schema exists and holds the migrations'
   * bookkeeping table), creating nothing: NoDatabaseError otherwise, and for a database PostgreSQL
   * does not have. Without it the `?schema=` is created if missing, and migrated.
   */
  mustExist?: boolean;
}

/**
 * Write batches that run side by side, each on a pool connection of its own: `batches` (the
 * `LEADTRAIL_PG_WRITE_BATCHES` setting), at most half the pool, so that reads outside transactions
 * (authentication, status, the worker's claims) and lead numbering always find a connection.
 * Inside a batch the callers run one after another on one connection, so more batches let
 * PostgreSQL work for several callers at once, while fewer, larger ones share their BEGIN, COMMIT
 * and reference-data token read among more callers: on 2 cores, 2 batches gave about a third more
 * sync `Create`s per second than 5 (docs/performance.md, twelfth session), and 3 a little more than
 * 2, most of all for `Create` by e-mail, whose callers make more round trips (twenty-second session).
 */
export function writeSlots(poolSize: number, batches: number = DEFAULT_WRITE_BATCHES): number {
  return Math.max(1, Math.min(batches, Math.floor(poolSize / 2)));
}

/** Default of `LEADTRAIL_PG_WRITE_BATCHES` (src/config.ts). */
export const DEFAULT_WRITE_BATCHES = 3;

/**
 * A write batch whose callers have all run takes those queued meanwhile, up to this many callers in
 * all, before its COMMIT (pipeline.ts, `extendTo`): every statement is a round trip, each answered
 * on a later turn of a busy event loop, so a batch's BEGIN and COMMIT cost about as much time as two
 * of its callers. On the bench's `create-by-id`, 16 gave about 15% more requests per second than
 * not extending, and a lower p99; 32 and 64 were no better (docs/performance.md, twelfth session).
 */
export const EXTEND_BATCH_TO = 16;

export interface PostgresTarget {
  /** The URL pg connects with (leadtrail's own parameters removed). */
  connectionString: string;
  /** Schema from `?schema=`, or null for the server's default search_path. */
  schema: string | null;
  /** `host:port`, or `<directory> (Unix socket)`: for error messages (never the user or password). */
  where: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Thrown when the database cannot be reached or refuses us; its message is meant for the operator. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/**
 * Splits leadtrail's `?schema=name` off a `postgres://` URL. The schema isolates one deployment
 * (or one test run) inside a shared database: every table, and the migration bookkeeping, lives there.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL (--database-url) is not a valid URL (expected postgres://user:password@host:5432/database)');
  }
  const schema = u.searchParams.get('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`DATABASE_URL (--database-url): its schema "${schema.slice(0, 80)}" must be letters, digits and _ (not starting with a digit), at most 63 characters`);
  }
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema, where: whereOf(u) };
}

/**
 * Where a URL points, for messages: `host:port`, or `<directory> (Unix socket)` for the two ways
 * libpq's URLs name a socket directory (a host that starts with `/`, percent-encoded as
 * `postgres://%2Fvar%2Frun%2Fpostgresql/db`, or `?host=/var/run/postgresql`; the query wins, as
 * in pg-connection-string). Never the user or password.
 */
function whereOf(u: URL): string {
  let host = u.searchParams.get('host') ?? '';
  if (host === '') {
    try {
      host = decodeURIComponent(u.hostname);
    } catch {
      host = u.hostname;
    }
  }
  if (host.startsWith('/')) return `${host} (Unix socket)`;
  return `${host || 'localhost'}:${u.port || '5432'}`;
}

// BIGINT (count(*), BIGSERIAL, epoch ms) and NUMERIC come back from pg as strings by default; every
// value we store fits a JS number (epoch ms and sequence numbers stay far below 2^53).
const NUMERIC_OIDS = new Set([20, 1700]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMERIC_OIDS.has(oid) && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// ENOENT: no socket file in a Unix-socket URL's directory (the server is down, or another directory).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOENT']);

function explain(e: unknown, target: PostgresTarget): Error {
  const err = e as { code?: string; message?: string };
  const code = err?.code ?? '';
  const detail = err?.message ?? String(e);
  if (NETWORK_CODES.has(code) || /timeout|terminated/i.test(detail)) {
    return new DatabaseUnreachableError(
      `Cannot reach PostgreSQL at ${target.where} (${code || detail}). Check that the server is running and that DATABASE_URL (--database-url) has the right host and port.`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new DatabaseUnreachableError(`PostgreSQL at ${target.where} refused the login (${detail}). Check the user and password in DATABASE_URL (--database-url) and pg_hba.conf.`);
  }
  if (code === '3D000') {
    return new DatabaseUnreachableError(`PostgreSQL at ${target.where}: ${detail}. Create the database or fix its name in DATABASE_URL (--database-url).`);
  }
  return new DatabaseUnreachableError(`PostgreSQL at ${target.where} failed at start: ${detail}`);
}

/**
 * `connectionString` with the user to log in as when it names none: libpq's rule, PGUSER, else the
 * operating system's user. pg reads `$USER` instead, which containers often leave unset: the login
 * was then refused with "no PostgreSQL user name specified" where psql with the same URL logged in
 * (found by a fresh-eyes run). As given when the URL, PGUSER or USER already says.
 */
function withDefaultUser(connectionString: string): string {
  const u = new URL(connectionString);
  if (u.username !== '' || u.searchParams.has('user') || process.env.PGUSER || process.env.USER) return connectionString;
  try {
    u.username = encodeURIComponent(os.userInfo().username);
  } catch {
    return connectionString;
  }
  return u.toString();
}

function clientConfig(target: PostgresTarget, opts: PostgresOptions): pg.ClientConfig {
  return {
    connectionString: withDefaultUser(target.connectionString),
    connectionTimeoutMillis: 10_000,
    statement_timeout: opts.statementTimeoutMs,
    // Set in the startup packet, so it holds on every pooled connection from its first query.
    // A name with capitals is quoted, as CREATE SCHEMA names it: unquoted, PostgreSQL folds
    // `?schema=Mixed_Case` to lower case. (SCHEMA_NAME allows nothing else that needs quotes.)
    options: target.schema ? `-c search_path=${/[A-Z]/.test(target.schema) ? `"${target.schema}"` : target.schema}` : undefined,
    types,
  };
}

export function createPool(target: PostgresTarget, opts: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(target, opts), max: opts.poolSize, idleTimeoutMillis: 30_000 });
  // A connection dropped by the server (restart, failover, network) must not crash the process.
  // pg emits 'error' on the client: the pool listens only while a client is idle, so a client that is
  // checked out when the connection dies needs its own listener. The query in flight still fails
  // (and its transaction with it); the pool replaces the connection for the next one.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  pool.on('connect', lastResultOfMany);
  if (opts.prepared ?? true) prepareStatements(pool);
  return pool;
}

/**
 * A simple-protocol query of several statements (`BEGIN; select …`) answers with its last
 * statement's result, as psql shows it: pg resolves such a query with an array of results, which
 * Kysely would read as no rows. Only texts with a `;` are looked at.
 */
function lastResultOfMany(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...a: unknown[]) => unknown;
  const last = (r: unknown) => (Array.isArray(r) ? r[r.length - 1] : r);
  client.query = ((...a: unknown[]) => {
    if (!(typeof a[0] === 'string' && a[0].includes(';'))) return query(...a);
    // The callback form (pg.Pool's own query) as well as the promise form (Kysely's).
    const cb = a[a.length - 1];
    if (typeof cb === 'function') return query(...a.slice(0, -1), (e: unknown, r: unknown) => (cb as (e: unknown, r: unknown) => void)(e, e ? r : last(r)));
    const out = query(...a);
    return out instanceof Promise ? out.then(last) : out;
  }) as typeof client.query;
}

/**
 * Kysely's PostgreSQL introspector lists the tables of every schema of the database, passing each
 * name through pg_get_serial_sequence; a schema that another session drops meanwhile (another
 * deployment, another test run on the same database) then fails the listing with "schema … does not
 * exist", and with it our migrations (its migrator checks for its tables that way). Ours looks at our
 * schema only, which is all the migrator needs.
 */
class OwnSchemaIntrospector extends PostgresIntrospector {
  constructor(
    private readonly kdb: Kysely<any>,
    private readonly schema: string,
  ) {
    super(kdb);
  }

  override async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ table: string; kind: string }>`
      select c.relname as "table", c.relkind as kind from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      where ns.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')`.execute(this.kdb);
    return rows.map((r) => ({ name: r.table, schema: this.schema, isView: r.kind === 'v', columns: [] }));
  }
}

class OwnSchemaDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly schema: string,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db, this.schema);
  }
}

/**
 * Opens the pool, checks the server answers, creates the `?schema=` if needed, and migrates; with
 * `opts.mustExist`, refuses (NoDatabaseError) a database, schema or leadtrail database that is not
 * there instead of making it. Without `?schema=` the schema is the connection's default
 * (`current_schema()`, normally `public`), which exists in any database: there a leadtrail database
 * is there once its migrations' table is.
 */
export async function openPostgresStore(url: string, opts: PostgresOptions): Promise<Store> {
  const target = parsePostgresUrl(url);
  const pool = createPool(target, opts);
  let schema: string;
  let where: string;
  try {
    const client = await pool.connect();
    try {
      if (target.schema && !opts.mustExist) await client.query(`CREATE SCHEMA IF NOT EXISTS "${target.schema}"`);
      // The `?schema=` as written (its search_path quotes capitals), else the default; null when
      // no schema of the search_path exists.
      const found = (
        await client.query<{ d: string; s: string | null; there: boolean; ours: boolean; others: string[] }>(
          `select current_database() as d, n.s,
             exists (select 1 from pg_namespace where nspname = n.s) as there,
             exists (select 1 from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
                      where ns.nspname = n.s and c.relname = $2 and c.relkind in ('r', 'p')) as ours,
             array(select c.relname::text from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
                    where ns.nspname = n.s and c.relkind in ('r', 'p')
                      -- An extension's own tables (PostGIS's spatial_ref_sys in public) are no program's data.
                      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
                    order by c.relname limit 3) as others
           from (select coalesce($1::text, current_schema()::text) as s) n`,
          [target.schema, DEFAULT_MIGRATION_TABLE],
        )
      ).rows[0];
      where = `${target.where}, database ${found.d}${found.s === null ? '' : `, schema ${found.s}`}`;
      if (opts.mustExist && found.s === null) throw new NoDatabaseError(where, "no schema of the connection's search_path exists");
      if (opts.mustExist && !found.there) throw new NoDatabaseError(where, 'the schema does not exist');
      // Another program's tables and none of leadtrail's: refused by every command, as SQLite refuses
      // another program's file (own-file.ts); `serve` and `migrate` had added leadtrail's tables
      // (leads, accounts, …) beside them, or failed on a name they share.
      if (!found.ours && found.others.length > 0) {
        throw new UnusableDatabaseError(
          where,
          `the schema holds another program's tables (such as ${found.others.join(', ')}), none of leadtrail's, and leadtrail does not add its tables to it; name a schema of its own with ?schema=`,
        );
      }
      if (opts.mustExist && !found.ours) throw new NoDatabaseError(where, 'the schema holds no leadtrail tables');
      schema = found.s!;
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    if (e instanceof NoDatabaseError || e instanceof UnusableDatabaseError) throw e;
    const code = (e as { code?: string }).code;
    // Two processes creating the same schema at once race in the catalog and the loser gets a
    // unique violation although IF NOT EXISTS; the schema exists now, so it simply opens again.
    if (code === '23505' || code === '42P06') return openPostgresStore(url, opts);
    if (code === '3D000' && opts.mustExist) {
      const name = /database "(.*)" does not exist/.exec((e as Error).message)?.[1];
      throw new NoDatabaseError(name === undefined ? target.where : `${target.where}, database ${name}`, 'the database does not exist', false);
    }
    throw explain(e, target);
  }
  const db = new Kysely<DB>({ dialect: new OwnSchemaDialect({ pool }, schema) });
  const base = sqlStore({
    engine: 'postgres',
    where,
    writer: db,
    reader: db,
    topLevelWrites: 'direct',
    slots: writeSlots(opts.poolSize, opts.writeBatches),
    gatherTurn: false,
    extendTo: EXTEND_BATCH_TO,
    fnTimeoutMs: opts.fnTimeoutMs ?? DEFAULT_FN_TIMEOUT_MS,
    migrations: postgresMigrations,
    schema,
  });
  const listener = queuedListener(() => new pg.Client(clientConfig(target, opts)), schema);
  const store: Store = {
    ...base,
    onQueued: (queue, fn) => listener.subscribe(queue, fn),
    connections: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: async () => {
      await listener.close();
      await base.close();
    },
  };
  return migrated(store);
}
