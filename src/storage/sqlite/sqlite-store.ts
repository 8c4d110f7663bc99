import fs from 'node:fs';
import path from 'node:path';
import { Kysely, SqliteDialect, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement as KyselySqliteStatement } from 'kysely';
import { LOCK_WAIT_MS, type Store } from '../store.js';
import type { DB } from '../sql/schema.js';
import { REF_TOKEN_SQL } from '../sql/ref-cache.js';
import { DEFAULT_FN_TIMEOUT_MS, migrated, sqlStore } from '../sql/sql-store.js';
import { Checkpointer } from './checkpointer.js';
import { sqliteDriver, sqliteDriverPath, type SqliteDatabase, type SqliteStatement } from './driver.js';
import { sqliteMigrations } from './migrations.js';
import { COMMIT_SETTLE_MS, ReadTurns, settleSince, type ReadTurnOptions } from './read-turns.js';
import { walFdatasync, WalSync, type FileSync } from './wal-sync.js';

export interface SqliteOptions {
  /** How long one transaction function may run before it is rolled back (src/storage/pipeline.ts). */
  fnTimeoutMs?: number;
  /** How the WAL is flushed to disk after a commit (default fdatasync; tests inject faults and delays). */
  fileSync?: FileSync;
  /** Checkpoint thread settings (checkpointer.ts; tests make them small, or point the thread at a driver that fails to load). */
  checkpoint?: { everyCommits?: number; restartPages?: number; driverPath?: string; now?: () => number };
  /** The reader's shared read transactions (read-turns.ts; tests freeze their clock and scheduler). */
  readTurns?: ReadTurnOptions;
  /**
   * The COMMIT itself syncs the WAL (`synchronous=FULL`) instead of a sync after it (wal-sync.ts):
   * for the writer thread (writer-thread.ts), which may block on it, and whose commits other
   * connections then see only once they are on disk.
   */
  durableCommit?: boolean;
}


/** Prepared statements kept per connection; past this many distinct SQL texts the cache starts over. */
const STATEMENT_CACHE = 1000;

/**
 * `text` with each `LIMIT ?` and `OFFSET ?` written `LIMIT +?` and `OFFSET +?`: the same numbers, but
 * a statement SQLite prepares once. In the SQLite that better-sqlite3 bundles (3.53), a bare
 * parameter there is read as the integer bound to it (`sqlite3ExprIsInteger` with a `Parse`, for the
 * planner), which marks the statement to be prepared again whenever that parameter is bound
 * (`sqlite3VdbeSetVarmask`). better-sqlite3 binds every parameter on every run, so such a statement
 * was parsed and planned at every execution: 5–9 µs each for `Retrieve`'s page of 25 on a million
 * activities, about 15 against 20 µs for the bare index walk (a micro-benchmark; `sqlite3Reprepare`
 * under `sqlite3_step` in `perf`), and 15–35% of the event loop's CPU per `Retrieve` in the server
 * (docs/performance.md). A unary plus is an expression, which SQLite evaluates at run time instead.
 * Kysely writes both clauses as `limit ?` and `offset ?`.
 */
export function limitsAsExpressions(text: string): string {
  return text.replace(/\b(limit|offset) \?(?=[\s)]|$)/gi, '$1 +?');
}

/**
 * The connection as Kysely's SQLite dialect sees it, with each SQL text prepared once: Kysely's
 * driver prepares every query anew, which was 13% of a sync Create's CPU (and see
 * `limitsAsExpressions`).
 */
export function withStatementCache(db: SqliteDatabase, onCommit?: () => void, turns?: ReadTurns): KyselySqliteDatabase {
  const cache = new Map<string, KyselySqliteStatement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        if (cache.size >= STATEMENT_CACHE) cache.clear();
        const prepared = db.prepare(limitsAsExpressions(text));
        stmt = prepared.reader ? rowsBuiltHere(prepared) : boundAsArguments(prepared);
        if (onCommit && /^\s*(commit|end)\b/i.test(text)) stmt = noting(stmt, onCommit);
        if (turns) stmt = inTurns(stmt, turns);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

/**
 * A statement that returns rows, with each row made into an object here from the array
 * better-sqlite3 gives in raw mode. Its own objects are built in C++ one property at a time, each
 * column name made into a JavaScript string again for every row: 25 activities (14 columns) took
 * 89 µs that way against 55 here, in a micro-benchmark. Same objects: the columns' names in their
 * order, a later column of the same name overwriting an earlier one, as better-sqlite3 does.
 *
 * The names are read once, and again whenever a row's width differs from them: SQLite prepares a
 * statement anew after a schema change, and `SELECT *` then returns the columns of the new schema.
 */
function rowsBuiltHere(stmt: SqliteStatement): KyselySqliteStatement {
  stmt.raw(true);
  let width = -1;
  let build: (row: unknown[]) => Record<string, unknown> = () => ({});
  const toObject = (row: unknown[]): Record<string, unknown> => {
    if (row.length !== width) {
      const names = stmt.columns().map((c) => c.name);
      width = names.length;
      build = rowBuilder(names);
    }
    return build(row);
  };
  const bound = boundAsArguments(stmt);
  return {
    reader: true,
    all: (params) => (bound.all(params) as unknown[][]).map(toObject),
    *iterate(params) {
      for (const row of stmt.iterate(params) as IterableIterator<unknown[]>) yield toObject(row);
    },
    run: bound.run,
  };
}

/**
 * A function that makes a raw row (an array) into the object of `names`' columns: one object
 * literal per statement's columns, compiled once, so that every row is made with its final shape at
 * once. Filled one property at a time in a loop, each row went through the shapes of its first
 * 1, 2, … columns, and the loop's keyed store, shared by every statement, was megamorphic: 3–4.5 µs
 * per 25 rows against 0.5–1.2 (a micro-benchmark on `Retrieve`'s page; docs/performance.md,
 * thirty-second session). Same object as the loop's: a later column of a name already seen sets
 * its value where the first one put it. A row with a `__proto__` column (which sets the prototype
 * rather than a property, in a literal as in the loop) and a very wide row keep the loop.
 */
export function rowBuilder(names: readonly string[]): (row: unknown[]) => Record<string, unknown> {
  if (names.length > MAX_LITERAL_COLUMNS || names.includes('__proto__')) {
    return (row) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) o[names[i]] = row[i];
      return o;
    };
  }
  // Each name as a JSON string literal, which is a JavaScript one: nothing in a name is code.
  return new Function('row', `return {${names.map((n, i) => `${JSON.stringify(n)}: row[${i}]`).join(', ')}};`) as (row: unknown[]) => Record<string, unknown>;
}

/** Past this many columns (a wide ad-hoc SELECT) rows are built in a loop rather than compiled. */
const MAX_LITERAL_COLUMNS = 200;

/** Past this many parameters a statement gets them as one array (a call's arguments live on the stack; a journal batch of 32 rows binds 480). */
const MAX_ARGUMENTS = 1000;

/**
 * Whether `params` can go to better-sqlite3 as separate arguments rather than as one array: the same
 * values bound in the same order, but the driver reads an array's elements one at a time through V8's
 * API, about 400 instructions each (a sync Create binds some 23), and its arguments directly (Node
 * 20's better-sqlite3 12; callgrind, docs/performance.md, twenty-seventh session). Not when a value
 * is any object but bytes (an array, a plain object, a Date): as an argument the driver would bind
 * an array's elements and a plain object's properties as parameters of their own, where inside the
 * array it refuses them; nor for a long list.
 */
function asArguments(params: readonly unknown[]): boolean {
  if (params.length > MAX_ARGUMENTS) return false;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p === 'object' && p !== null && !ArrayBuffer.isView(p)) return false;
  }
  return true;
}

/** `stmt` with its parameters bound as arguments where they can be (`asArguments`). */
function boundAsArguments(stmt: SqliteStatement): KyselySqliteStatement {
  return {
    reader: stmt.reader,
    all: (params) => (asArguments(params) ? stmt.all(...params) : stmt.all(params)),
    iterate: (params) => stmt.iterate(params),
    run: (params) => (asArguments(params) ? stmt.run(...params) : stmt.run(params)),
  };
}

/** A reader's statement that joins the turn's shared read transaction before it runs (read-turns.ts). */
function inTurns(stmt: KyselySqliteStatement, turns: ReadTurns): KyselySqliteStatement {
  return {
    reader: stmt.reader,
    all(params) {
      turns.enter();
      return stmt.all(params);
    },
    iterate(params) {
      turns.enter();
      return stmt.iterate(params);
    },
    run(params) {
      turns.enter();
      return stmt.run(params);
    },
  };
}

/** A COMMIT statement that calls `onCommit` the moment it has run, before anything else can read. */
function noting(stmt: KyselySqliteStatement, onCommit: () => void): KyselySqliteStatement {
  return {
    reader: false,
    all: (params) => stmt.all(params),
    iterate: (params) => stmt.iterate(params),
    run(params) {
      const out = stmt.run(params);
      onCommit();
      return out;
    },
  };
}

/** Kysely's SQLite dialect whose connections are handed out only once `gate()` (if it gives a promise) resolves. */
export class GatedSqliteDialect extends SqliteDialect {
  constructor(
    database: KyselySqliteDatabase,
    private readonly gate: () => Promise<void> | null,
  ) {
    super({ database });
  }

  override createDriver(): ReturnType<SqliteDialect['createDriver']> {
    const driver = super.createDriver();
    const acquire = driver.acquireConnection.bind(driver);
    driver.acquireConnection = async () => {
      const wait = this.gate();
      if (wait) await wait;
      return acquire();
    };
    return driver;
  }
}

/** Reads ref_version's token on `conn`, prepared on first use (after the migrations made the table). */
export function rawToken(conn: SqliteDatabase): () => string {
  let stmt: { get(): unknown } | null = null;
  return () => {
    stmt ??= conn.prepare<[]>(REF_TOKEN_SQL).pluck().safeIntegers(); // exact: tokens are 64-bit
    return String(stmt.get());
  };
}

/**
 * The reader's token, read again only when it may have changed: after a COMMIT of this process's
 * writer (`noteCommit`, called synchronously right after it), or when another connection has
 * committed, which the writer's `PRAGMA data_version` tells (its value changes only when a
 * connection other than the writer commits: another process, such as the CLI). Under write load the
 * reader's page cache is dropped at every commit, so reading the token there took 11–21 µs in a
 * micro-benchmark, against 4–8 for the writer's `data_version` (about 3% of the event loop under
 * `Create` load, by `perf`; docs/performance.md). While the writer holds a transaction open,
 * its `data_version` is that of the transaction's start, and another process can commit only
 * before that transaction's first write (SQLite has one writer): such a change is seen once the
 * transaction ends. A batch runs from BEGIN to its first write without yielding to requests.
 *
 * `versionConn` is the connection whose `data_version` is watched: the writer here; the reader
 * itself when the writer is on another thread (thread-store.ts), where every commit is another
 * connection's.
 *
 * `turns`: the reader's shared read transactions (read-turns.ts). The token must come from a
 * snapshot no older than the version it is remembered with. Read on the reader itself, version and
 * token come from the same snapshot. Watched on the writer, a moved version ends the reader's shared
 * transaction first: a token read in a snapshot begun before the other process's commit would be
 * remembered as current until the next commit.
 */
export function readerToken(readConn: SqliteDatabase, versionConn: SqliteDatabase, turns?: ReadTurns): { read: () => string; noteCommit: () => void } {
  const token = rawToken(readConn);
  let dataVersion: { get(): unknown } | null = null;
  let known: string | null = null;
  let seenVersion: unknown = null;
  return {
    read() {
      const sameSnapshot = versionConn === readConn;
      if (sameSnapshot) turns?.enter();
      dataVersion ??= versionConn.prepare<[]>('PRAGMA data_version').pluck();
      // The version first: a commit between the two reads leaves an older version, read again next time.
      const v = dataVersion.get();
      if (known === null || v !== seenVersion) {
        if (!sameSnapshot) turns?.end();
        turns?.enter();
        seenVersion = v;
        known = token();
      }
      return known;
    },
    noteCommit() {
      known = null;
    },
  };
}

export function connect(file: string, synchronous: 'FULL' | 'NORMAL'): SqliteDatabase {
  const sqlite = new (sqliteDriver())(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/**
 * Opens (creating it and its folder if needed) the SQLite file and migrates it. WAL lets readers
 * run beside the writer. Every commit reaches the disk before anyone is answered, which is what
 * "accepted" promises: the writer runs `synchronous=NORMAL` and the WAL is fdatasynced after each
 * batch's COMMIT off the event loop (wal-sync.ts), callers answered only then; reads wait for any
 * such sync in flight, so nobody sees a commit before it is on disk. WAL checkpoints run on a thread
 * of their own (checkpointer.ts), not inside a COMMIT. One process owns the file.
 *
 * Two connections: the writer, on which the write pipeline runs every transaction (group commit,
 * one batch at a time), and a reader for reads made outside a transaction. The reader sees only
 * committed data, and does not wait for a batch in progress. (`:memory:` has one connection: a
 * second would be another database; nothing is synced, there is no disk.)
 */
export async function openSqliteStore(file: string, opts: SqliteOptions = {}): Promise<Store> {
  const memory = file === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const walFile = walFdatasync();
  const wal = memory || opts.durableCommit ? null : new WalSync(`${path.resolve(file)}-wal`, opts.fileSync ?? walFile.sync);
  const writeConn = connect(file, wal ? 'NORMAL' : 'FULL');
  // A caller of a batch may run in a SAVEPOINT (pipeline.ts), and SQLite copies every page a savepoint first
  // changes into a sub-journal: a temporary file by default, which cost about 30 µs per caller
  // (a sync Create changes ~8 pages). In memory it costs next to nothing. The writer's temporary
  // data is that and small sorts; the reader, which runs the big ones, keeps the default.
  writeConn.pragma('temp_store = MEMORY');
  // Checkpoints run on a thread of their own (checkpointer.ts), not inside a request's COMMIT.
  const checkpointer = !memory
    ? new Checkpointer({
        file: path.resolve(file),
        driverPath: opts.checkpoint?.driverPath ?? sqliteDriverPath(),
        everyCommits: opts.checkpoint?.everyCommits,
        restartPages: opts.checkpoint?.restartPages,
        now: opts.checkpoint?.now,
        fallBack: () => writeConn.pragma('wal_autocheckpoint = 1000'),
      })
    : null;
  if (checkpointer) writeConn.pragma('wal_autocheckpoint = 0');
  // A log that grew while a reader held it (a backup) is cut back to this when it starts over;
  // under sustained writes it stays below it (about 30 MB between restarts).
  writeConn.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  // A second connection for reads (not with `:memory:`, where it would be another database).
  const readConn = !memory ? connect(file, 'FULL') : writeConn;
  // The reader's statements share a read transaction while it is young (read-turns.ts), ended
  // also by every commit of the writer. With one connection the reader is the writer: its token is
  // read each time.
  const turns = readConn !== writeConn ? new ReadTurns(readConn, opts.readTurns) : null;
  const readToken = readConn !== writeConn ? readerToken(readConn, writeConn, turns ?? undefined) : null;
  /** When this store last committed (ReadTurnOptions.settleNow), for close()'s settle; null: never. */
  let lastCommit: number | null = null;
  const settleNow = opts.readTurns?.settleNow ?? (() => performance.now());
  const onCommit = checkpointer
    ? () => {
        lastCommit = settleNow();
        wal?.noteCommit();
        checkpointer.noteCommit();
        readToken?.noteCommit();
        turns?.end();
      }
    : undefined;
  const writerDb = withStatementCache(writeConn, onCommit);
  const writer = new Kysely<DB>({
    dialect: checkpointer ? new GatedSqliteDialect(writerDb, () => checkpointer.writerGate()) : new SqliteDialect({ database: writerDb }),
  });
  let reader = writer;
  if (readConn !== writeConn) {
    readConn.pragma('query_only = ON');
    const readDb = withStatementCache(readConn, undefined, turns ?? undefined);
    reader = new Kysely<DB>({ dialect: wal ? new GatedSqliteDialect(readDb, () => wal.gate()) : new SqliteDialect({ database: readDb }) });
  }
  const store = await migrated(
    sqlStore({
      engine: 'sqlite',
      where: memory ? file : path.resolve(file),
      writer,
      reader,
      topLevelWrites: 'pipeline',
      slots: 1,
      gatherTurn: true,
      // Take the write lock first, waiting for it (busy_timeout): other processes (the CLI, a server
      // on the same file) and the writer thread commit beside this connection. A deferred BEGIN that
      // read first failed at its first write with "database is locked" (SQLITE_BUSY, which SQLite
      // does not wait out) whenever another connection had committed since: the CLI's
      // `keys create` beside a server writing its journal, for one.
      begin: 'BEGIN IMMEDIATE',
      fnTimeoutMs: opts.fnTimeoutMs ?? DEFAULT_FN_TIMEOUT_MS,
      migrations: sqliteMigrations,
      // The reference-data token (sql/ref-cache.ts) is read before every cached lookup: as a raw
      // prepared statement it costs about a microsecond, through Kysely several.
      refToken: { reader: readToken?.read ?? rawToken(readConn), writer: rawToken(writeConn) },
      afterCommit: wal ? () => wal.afterCommit() : undefined,
      checkpointStats: checkpointer ? () => ({ ...checkpointer.stats }) : undefined,
      // After the pipeline has finished, so no sync is still in flight.
      onClose: async () => {
        await checkpointer?.close();
        walFile.close();
      },
    }),
  );
  // The migrations committed outside the pipeline: on disk before the store is used.
  if (wal) {
    wal.noteCommit();
    await wal.afterCommit();
  }
  if (turns) store.newReadSnapshot = () => turns.end();
  // A server on the same file reads a change of this store's (a CLI command's) in every request
  // sent once close() has resolved (read-turns.ts).
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await settleSince(lastCommit, COMMIT_SETTLE_MS, settleNow);
  };
  return wal ? Object.assign(store, { failed: wal.failed }) : store;
}
