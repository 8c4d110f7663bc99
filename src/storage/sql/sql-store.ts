import { CompiledQuery, Migrator, sql, type Kysely, type Migration } from 'kysely';
import { WritePipeline } from '../pipeline.js';
import { READ_METHODS, writesHeldError, type Repos, type Store } from '../store.js';
import { accountRepo, WRITES_SHARED_LOCK_SQL } from './accounts.js';
import { activityRepo, activityTypeRepo } from './activities.js';
import { leadFieldRepo, leadRepo } from './leads.js';
import { journalRepo } from './journal.js';
import { cachedRepos, coalescedReads, kyselyToken, RefCache, REF_TOKEN_SQL, type TokenReader } from './ref-cache.js';
import { requestRepo } from './requests.js';
import { faultRuleRepo } from './fault-rules.js';
import { webhookRepo } from './webhooks.js';
import { WEBHOOK_EVENT_RECORD, type NewWebhookEvent } from '../../domain/webhooks.js';
import type { DB, Db, Engine } from './schema.js';

/**
 * `autonomous`: where a PostgreSQL transaction's repos take ProspectAutoId numbers, outside the
 * transaction (see leadRepo). Absent on SQLite, whose one writer numbers inside the transaction.
 */
export function reposFor(db: Db, engine: Engine, autonomous?: Kysely<DB>): Repos {
  return {
    accounts: accountRepo(db, engine),
    leads: leadRepo(db, engine, autonomous),
    leadFields: leadFieldRepo(db),
    activityTypes: activityTypeRepo(db, engine),
    activities: activityRepo(db, engine),
    requests: requestRepo(db, engine),
    journal: journalRepo(db, engine),
    faultRules: faultRuleRepo(db),
    webhooks: webhookRepo(db, engine),
  };
}

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/** How long a PostgreSQL start waits for another process's migrations (Kysely's own lock wait is an hour too). */
const MIGRATION_LOCK_WAIT_MS = 60 * 60_000;

/** Thrown by migrateOn when the statement timeout cut off the wait for the migration lock, before any migration ran. */
class MigrationLockWaitCut extends Error {}

/**
 * Applies the numbered migrations. Kysely's migrator takes a lock (an advisory lock on PostgreSQL)
 * so that processes starting together apply each migration once. A database that has migrations
 * this code does not know was written by a newer leadtrail: refuse it rather than guess.
 *
 * PostgreSQL: the pool's statement timeout (LEADTRAIL_STATEMENT_TIMEOUT_MS, 15 s by default) is for
 * API calls. A migration that builds an index or rewrites every row of a large table can take
 * longer, and so can another process's wait for the migration lock while the first one runs them:
 * cut off, either had failed the start. Each migration runs with `SET LOCAL statement_timeout = 0`
 * (its transaction's own, so nothing is left on a pooled connection, nor on another client's behind
 * a transaction pooler) and with a `lock_timeout` of the statement timeout: DDL that waits that long
 * for a table's lock (a `pg_dump` holding it) gives up and fails the start, rather than queueing
 * every older process's queries of the table behind it without end. A wait for the migration lock
 * that the timeout cuts off is begun again, for up to an hour.
 */
export async function migrateDb(db: Kysely<DB>, migrations: Record<string, Migration>, schema?: string): Promise<void> {
  if (!db.getExecutor().adapter.supportsTransactionalDdl) return migrateOn(db, migrations, schema);
  const setting = await sql<{ setting: string }>`SELECT setting FROM pg_settings WHERE name = 'statement_timeout'`.execute(db);
  const timeoutMs = Math.max(0, Math.round(Number(setting.rows[0]?.setting ?? 0)) || 0);
  const unbounded = Object.fromEntries(
    Object.entries(migrations).map(([name, m]): [string, Migration] => [
      name,
      {
        ...m,
        up: async (tx) => {
          await sql.raw(`SET LOCAL statement_timeout = 0`).execute(tx);
          if (timeoutMs > 0) await sql.raw(`SET LOCAL lock_timeout = ${timeoutMs}`).execute(tx);
          await m.up(tx);
        },
      },
    ]),
  );
  const deadline = Date.now() + MIGRATION_LOCK_WAIT_MS;
  for (;;) {
    try {
      return await migrateOn(db, unbounded, schema);
    } catch (e) {
      if (!(e instanceof MigrationLockWaitCut)) throw e;
      if (Date.now() > deadline) {
        throw new Error(`The migrations could not be read or run: another process held the migration lock for over ${MIGRATION_LOCK_WAIT_MS / 60_000} minutes (${e.message})`);
      }
    }
  }
}

async function migrateOn(db: Kysely<DB>, migrations: Record<string, Migration>, schema?: string): Promise<void> {
  // On PostgreSQL the bookkeeping tables' schema must be named: Kysely looks for them across every
  // schema of the database, and would otherwise mistake another deployment's for ours.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: schema });
  const known = Object.keys(migrations).sort();
  // Kysely runs the pending migrations in one transaction only where its adapter says DDL is
  // transactional (PostgreSQL). On SQLite it ran every statement on its own, so a migration cut off
  // half-way (a kill, a full disk, a row it could not read) stayed half done: the next run failed on
  // what was there ("duplicate column name"), or a data migration skipped the rows it had already
  // changed and never indexed them (0012). SQLite's DDL is transactional as well: run them in one
  // transaction here too, taking the write lock first, so another process migrating the same file
  // waits for it and then finds the migrations applied. Only when one is pending (as read before
  // the lock; the migrator reads again under it): an empty transaction's COMMIT counts as a write,
  // and a store that wrote waits out COMMIT_SETTLE_MS when it closes (sqlite/read-turns.ts), which
  // every open of an up-to-date file would then have paid.
  const own = !db.getExecutor().adapter.supportsTransactionalDdl && (await migrator.getMigrations()).some((m) => m.executedAt === undefined);
  if (own) await sql.raw('BEGIN IMMEDIATE').execute(db);
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
  try {
    outcome = await migrator.migrateToLatest();
  } catch (e) {
    if (own) await sql.raw('ROLLBACK').execute(db);
    throw e;
  }
  const { error, results } = outcome;
  if (own) await sql.raw(error ? 'ROLLBACK' : 'COMMIT').execute(db);
  if (error) {
    const msg = error instanceof Error ? error.message : String(error);
    if (/missing|corrupted/i.test(msg)) {
      // Kysely names the first one it does not know: "previously executed migration X is missing".
      const unknown = /migration (\S+) is missing/.exec(msg)?.[1];
      const has = unknown ? `migration ${unknown}, which this version does not know` : 'migrations this version does not know';
      throw new SchemaTooNewError(
        `The database schema is newer than this leadtrail (it has ${has}; this version knows ${known.join(', ')}). Upgrade leadtrail or point it at another database.`,
      );
    }
    const failed = results?.find((r) => r.status === 'Error');
    // PostgreSQL's query_canceled before any migration ran: the wait for the migration lock (each
    // migration lifts the timeout for itself, migrateDb).
    if (!failed && (error as { code?: unknown }).code === '57014') throw new MigrationLockWaitCut(msg);
    throw new Error(failed ? `Migration ${failed.migrationName} failed: ${msg}` : `The migrations could not be read or run: ${msg}`);
  }
}

/**
 * The store's own repos (calls made outside a transaction) when there is one writer connection
 * (SQLite): reads run on the reader connection, which sees only committed data, never a batch in
 * progress; each write method runs as a transaction of its own (`write`: through the pipeline, or
 * on the writer thread, sqlite/thread-store.ts), so it cannot
 * land inside (and be rolled back with, or answered before) somebody else's batch. A method not in
 * READ_METHODS counts as a write: slower if it is a read, but never wrong.
 */
export function routedRepos(read: Repos, write: (repo: keyof Repos, method: string, args: unknown[]) => Promise<unknown>): Repos {
  const route = <R extends object>(name: keyof Repos, repo: R): R => {
    const out: Record<string, unknown> = {};
    for (const [method, impl] of Object.entries(repo)) {
      if (typeof impl !== 'function') continue;
      out[method] = READ_METHODS.has(method) ? impl : (...args: unknown[]) => write(name, method, args);
    }
    return out as R;
  };
  return {
    accounts: route('accounts', read.accounts),
    leads: route('leads', read.leads),
    leadFields: route('leadFields', read.leadFields),
    activityTypes: route('activityTypes', read.activityTypes),
    activities: route('activities', read.activities),
    requests: route('requests', read.requests),
    journal: route('journal', read.journal),
    faultRules: route('faultRules', read.faultRules),
    webhooks: route('webhooks', read.webhooks),
  };
}

/** Default for `fnTimeoutMs`: the PostgreSQL statement timeout's default, so one stuck caller cannot hold every write for long. */
export const DEFAULT_FN_TIMEOUT_MS = 15_000;

export interface SqlStoreParts {
  engine: Engine;
  /** Store.where: which database this is, for messages. */
  where: string;
  /** Where transactions run: the pipeline takes one of its connections per batch. */
  writer: Kysely<DB>;
  /** Where reads made outside a transaction run (SQLite: a second connection; PostgreSQL: the pool). */
  reader: Kysely<DB>;
  /**
   * Writes made outside a transaction: 'pipeline' (SQLite, one writer connection: each runs as a
   * transaction of its own in the pipeline) or 'direct' (PostgreSQL: autocommit on a pool connection).
   */
  topLevelWrites: 'pipeline' | 'direct';
  /** Batches side by side (SQLite 1; PostgreSQL some of the pool). */
  slots: number;
  /** Wait one event-loop turn before a batch starts (SQLite, where a batch runs synchronously). */
  gatherTurn: boolean;
  /** A batch takes callers queued while it ran, up to this size, before its COMMIT (PipelineOptions.extendTo). */
  extendTo?: number;
  fnTimeoutMs: number;
  migrations: Record<string, Migration>;
  schema?: string;
  /**
   * How to read the reference-data token (sql/ref-cache.ts) without Kysely: SQLite passes raw
   * prepared statements on its two connections. Default: a query through Kysely.
   */
  refToken?: { reader: TokenReader; writer: TokenReader };
  /** Makes a committed batch durable when its COMMIT does not (SQLite, sqlite/wal-sync.ts); see PipelineOptions. */
  afterCommit?: () => Promise<void>;
  /** SQLite: the checkpoint thread's counters (Store.checkpointStats). */
  checkpointStats?: () => { passive: number; restart: number; restartBusy: number; failed: boolean };
  /** The statement that opens a write batch (PipelineOptions.begin). */
  begin?: string;
  /** Run by close once the pipeline (and so every commit's `afterCommit`) has finished, before the connections close. */
  onClose?: () => void | Promise<void>;
}

/** PostgreSQL's query_canceled: a statement timeout (or a cancel request, which leadtrail never sends). */
const QUERY_CANCELED = '57014';

/** Most callers in one batch: about 8 ms of SQLite work, and well within a PostgreSQL statement timeout. */
const MAX_BATCH = 256;

export function sqlStore(p: SqlStoreParts): Store & { pipeline: WritePipeline; refCache: RefCache } {
  const { engine, writer, reader } = p;
  const refCache = new RefCache();
  const begin = p.begin ?? 'BEGIN';
  const exclusiveLock = `select pg_advisory_xact_lock(${STARTUP_LOCK})`;
  // The lock's wait without the statement timeout, which is the connection's again after it
  // (TO DEFAULT: the value the connection was opened with).
  const exclusiveLockUnbounded = `SET LOCAL statement_timeout = 0; ${exclusiveLock}; SET LOCAL statement_timeout TO DEFAULT`;
  const pipeline = new WritePipeline({
    slots: p.slots,
    gatherTurn: p.gatherTurn,
    maxBatch: MAX_BATCH,
    extendTo: p.extendTo,
    fnTimeoutMs: p.fnTimeoutMs,
    exclusiveLock: engine === 'postgres' ? exclusiveLock : undefined,
    exclusiveLockUnbounded: engine === 'postgres' ? exclusiveLockUnbounded : undefined,
    begin: p.begin,
    // deadlock_detected, serialization_failure: two batches holding row locks of different callers.
    rerunnable: engine === 'postgres' ? (e) => ['40P01', '40001'].includes((e as { code?: string })?.code ?? '') : undefined,
    afterCommit: p.afterCommit,
    withSession: (cb) =>
      writer.connection().execute((conn) => {
        const repos = cachedRepos(reposFor(conn, engine, engine === 'postgres' ? writer : undefined), refCache, p.refToken?.writer ?? kyselyToken(conn), true);
        return cb({
          repos,
          beginCaller: repos.beginCaller,
          callersJoined: repos.forgetToken,
          // PostgreSQL: one simple-protocol query (no parameters) may hold several statements. The
          // batch's BEGIN carries the shared write lock (a reset waits for it, accounts.ts
          // WRITES_LOCK_KEY) and its reference-data token read (ref-cache.ts): one round trip
          // for all three instead of one each.
          exec: async (...texts) => {
            if (engine !== 'postgres') {
              for (const text of texts) await conn.executeQuery(CompiledQuery.raw(text));
              return;
            }
            // Not for `exclusive` (start-up work, which may run before the table exists).
            if (texts[0] !== begin || texts.includes(exclusiveLock) || texts.includes(exclusiveLockUnbounded)) {
              await conn.executeQuery(CompiledQuery.raw(texts.join('; ')));
              return;
            }
            const r = await conn
              .executeQuery<{ token: string | number }>(CompiledQuery.raw([texts[0], WRITES_SHARED_LOCK_SQL, ...texts.slice(1), REF_TOKEN_SQL].join('; ')))
              .catch((e: unknown) => {
                // Nothing in this round trip waits but the shared lock (a SAVEPOINT and the token's
                // one-row read do not): a statement timeout here is a hold that outlasted it.
                throw (e as { code?: unknown })?.code === QUERY_CANCELED ? writesHeldError(e) : e;
              });
            const token = r.rows[0]?.token;
            if (token !== undefined) repos.primeToken?.(String(token));
          },
        });
      }),
  });
  // Webhook events appended by domain writes go to the outbox in the same transaction (issue 14).
  pipeline.registerRecordWriter(WEBHOOK_EVENT_RECORD, (tx, records) => tx.webhooks.enqueue(records.map((r) => r.data as NewWebhookEvent)).then(() => undefined));
  // Outside a transaction (PostgreSQL: on the pool) concurrent lookups share their token reads.
  const readRepos = cachedRepos(reposFor(reader, engine), refCache, p.refToken?.reader ?? coalescedReads(kyselyToken(reader)), false);
  return {
    engine,
    where: p.where,
    pipeline,
    refCache,
    ...(p.topLevelWrites === 'pipeline'
      ? routedRepos(readRepos, (name, method, args) => pipeline.transaction((tx) => (tx[name] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method](...args)))
      : readRepos),
    transaction: (fn) => pipeline.transaction(fn),
    exclusive: (fn, options) => pipeline.transaction(fn, true, options?.timeoutMs),
    registerRecordWriter: (kind, w) => pipeline.registerRecordWriter(kind, w),
    writeStats: () => ({ ...pipeline.stats }),
    ...(p.checkpointStats ? { checkpointStats: p.checkpointStats } : {}),
    migrate: () => migrateDb(writer, p.migrations, p.schema),
    close: async () => {
      await pipeline.close();
      await p.onClose?.();
      if (reader !== writer) await reader.destroy();
      await writer.destroy();
    },
  };
}

/** Arbitrary constant naming leadtrail's start-up lock (distinct from Kysely's migration lock). */
const STARTUP_LOCK = 7_240_118_305;

/** Migrates a freshly opened store, closing it if that fails, so no half-open store leaks out. */
export async function migrated(store: Store): Promise<Store> {
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
