/**
 * The reader connection's statements share one read transaction while it is young (issue 11). In
 * WAL mode every statement outside a transaction begins and ends a read transaction of its own:
 * locks on the shared-memory index and on the file, a few system calls. That was 5–7 µs per
 * statement in a micro-benchmark, about as much as the statement itself for the small ones (the
 * reference-data check, a lead's row), and a `Leads.GetById` runs two to three of them, a
 * `Retrieve` four. Sharing one transaction between the statements that run close together costs its
 * BEGIN and COMMIT once for all of them, and under load once for the several requests that one
 * turn of the event loop handles (docs/performance.md, thirty-third session).
 *
 * A shared snapshot must not hide a commit from a read that comes after it. It ends at the first of:
 * - `end()` as the outcome of any write of this process reaches the event loop, before anyone is
 *   answered: a read that follows a write (the same request's, or the caller's next) sees it;
 * - the event loop's next check phase (`setImmediate`): an idle server ends it after each request;
 * - `maxAgeMs` (default 1 ms): a statement never joins one begun longer ago;
 * - `end()` called by anyone else (`Store.newReadSnapshot`).
 * So a read sees every commit of another process (the CLI) made more than `maxAgeMs` before it: the
 * snapshot it reads was begun after the read's time less `maxAgeMs` (BEGIN is deferred: the snapshot
 * is taken at its first statement, after `openedAt`). A store that wrote waits COMMIT_SETTLE_MS after
 * its last commit before its `close()` resolves (settleSince), so a change made with the CLI is seen
 * by every request sent once the command has returned, under load too. Until the thirty-third
 * session the server also ended the snapshot as each request arrived; that cost status and lead
 * reads 10–15% of their event loop (two `fcntl` calls and a BEGIN and COMMIT per request).
 *
 * While a statement is still stepping (an iterator), SQLite cannot end the transaction; the
 * connection then holds its snapshot exactly as it would without this (one connection has one
 * read transaction), and the end is tried again at the next check phase. Nothing reads the reader
 * lazily today (Kysely's `.all()`, never `.stream()`), and nothing should: a stream held across
 * awaits would keep its snapshot, retry the end at every turn, and in loop mode let a token be read
 * in a snapshot older than its version (sqlite-store.ts, `readerToken`).
 *
 * The cost: a snapshot now lasts until the end of the event loop's turn rather than its statement.
 * A WAL restart (checkpointer.ts) waits for snapshots older than its copy, holding writes back
 * meanwhile, so such a restart may wait for the rest of a turn (a console page's rendering, say)
 * where it waited for nothing before; it gives up after its busy timeout and tries later.
 */
import type { SqliteDatabase, SqliteStatement } from './driver.js';
import type { ReadTurnOptions } from './read-turn-options.js';

export type { ReadTurnOptions } from './read-turn-options.js';

/** How old a shared read transaction may be when a statement joins it, in ms (see above). */
export const READ_TURN_MAX_AGE_MS = 1;

/**
 * How long a store that wrote waits after its last commit before `close()` resolves, in ms: twice a
 * server's READ_TURN_MAX_AGE_MS, so that by then no server on the file reads in a snapshot begun
 * before the commit (see above).
 */
export const COMMIT_SETTLE_MS = 2 * READ_TURN_MAX_AGE_MS;

/**
 * Resolves once at least `ms` have passed since `since` (both `now()`'s milliseconds; default
 * performance.now and COMMIT_SETTLE_MS); at once when `since` is null (nothing was committed). The
 * time is measured, not left to one timer: a timer may fire early by the event loop's cached clock.
 */
export async function settleSince(since: number | null, ms = COMMIT_SETTLE_MS, now: () => number = () => performance.now()): Promise<void> {
  if (since === null) return;
  for (let left = since + ms - now(); left > 0; left = since + ms - now()) {
    await new Promise((r) => setTimeout(r, Math.ceil(left)));
  }
}

export class ReadTurns {
  private open = false;
  private openedAt = 0;
  private endScheduled = false;
  private begin: SqliteStatement | null = null;
  private commit: SqliteStatement | null = null;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly schedule: (end: () => void) => void;
  /** Transactions begun, and ends that had to wait for a statement still stepping (tests, measurements). */
  readonly stats = { begun: 0, deferredEnds: 0 };

  constructor(
    private readonly conn: SqliteDatabase,
    opts: ReadTurnOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? READ_TURN_MAX_AGE_MS;
    this.now = opts.now ?? (() => performance.now());
    this.schedule = opts.schedule ?? ((end) => setImmediate(end));
  }

  /** Called before each statement on the connection: joins the current read transaction, or begins one. */
  enter(): void {
    if (this.open) {
      if (this.now() - this.openedAt <= this.maxAgeMs) return;
      // Too old to join: end it (unless a statement still steps; then the snapshot stays, as it would).
      if (!this.tryEnd()) return;
    }
    // A transaction begun by someone else (none today) is left alone.
    if (this.conn.inTransaction) return;
    this.begin ??= this.conn.prepare('BEGIN');
    this.begin.run();
    this.open = true;
    this.openedAt = this.now();
    this.stats.begun += 1;
    this.scheduleEnd();
  }

  /** Ends the shared read transaction now, if one is open (a write of this process committed). */
  end(): void {
    if (this.open) this.tryEnd();
  }

  private scheduleEnd(): void {
    if (this.endScheduled) return;
    this.endScheduled = true;
    this.schedule(() => {
      this.endScheduled = false;
      if (this.open) this.tryEnd();
    });
  }

  /** True once no transaction is open; false when a statement still steps (tried again later). Never throws. */
  private tryEnd(): boolean {
    // Closed, or rolled back by SQLite itself (an I/O error): nothing left to end.
    if (!this.conn.open || !this.conn.inTransaction) {
      this.open = false;
      return true;
    }
    try {
      this.commit ??= this.conn.prepare('COMMIT');
      this.commit.run();
    } catch {
      // SQLITE_BUSY "cannot commit transaction - SQL statements in progress": an iterator is open.
      if (this.conn.open && this.conn.inTransaction) {
        this.stats.deferredEnds += 1;
        this.scheduleEnd();
        return false;
      }
    }
    this.open = false;
    return true;
  }
}
