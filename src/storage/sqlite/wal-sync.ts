/**
 * Durable commits on SQLite without blocking the event loop (issue 11).
 *
 * With `synchronous=FULL`, SQLite fsyncs the WAL inside every COMMIT, and better-sqlite3 runs that
 * COMMIT on the event loop: each batch's fsync stopped every request in the process. Instead the
 * writer runs `synchronous=NORMAL` (a COMMIT writes its WAL frames but does not fsync them; SQLite
 * still syncs the WAL before each checkpoint and the database after it, and the WAL header when the
 * WAL is reused: https://sqlite.org/pragma.html#pragma_synchronous) and this module fdatasyncs the
 * WAL file in libuv's thread pool after the COMMIT. The write pipeline answers a batch's callers
 * only when that sync has finished, so a 200 still means "on disk", exactly as with FULL; meanwhile
 * the next batch runs.
 *
 * What FULL also gave, and this keeps: no other connection ever sees a commit before it is on disk.
 * FULL syncs before it publishes the commit to readers; here the commit is visible at once, so reads
 * wait at `gate()` until every commit made before them is synced (a read that meets no sync in
 * flight does not wait).
 *
 * Syncs are grouped: commits made while a sync runs are covered by one sync started when it ends.
 * A failed sync cannot be retried safely (after a failed fsync, Linux may have dropped the dirty
 * pages and report the next one as a success), so the first failure is final: every caller waiting
 * and every later `afterCommit()` is rejected with it, and the process must be restarted.
 */
import fs from 'node:fs';

/**
 * Flushes the WAL's data to stable storage. Injectable for fault tests; the default is
 * `walFdatasync` on the file named.
 */
export type FileSync = (file: string) => Promise<void>;

/**
 * fdatasync(2) of `file` in libuv's thread pool, through a descriptor opened on first use and kept.
 * Keeping it is safe because SQLite deletes the WAL only when the last connection to the database
 * closes (https://sqlite.org/wal.html), and the store's own connections stay open as long as the
 * store does; a checkpoint that truncates or restarts the WAL keeps the same file. One call per sync:
 * opening the file for each sync cost about 5% of a sync Create's CPU on the event loop.
 */
export function walFdatasync(): { sync: FileSync; close(): void } {
  let fd: number | null = null;
  let path: string | null = null;
  return {
    sync: (file) =>
      new Promise<void>((resolve, reject) => {
        if (fd === null || path !== file) {
          try {
            fd = fs.openSync(file, 'r');
            path = file;
          } catch (e) {
            // No WAL yet, or not any more: nothing in it to sync.
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') return resolve();
            return reject(e);
          }
        }
        fs.fdatasync(fd, (e) => (e ? reject(e) : resolve()));
      }),
    close() {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}

/** Thrown to every caller after a sync has failed once. */
export class WalSyncFailed extends Error {
  override name = 'WalSyncFailed';
  constructor(cause: unknown) {
    super(`the SQLite write-ahead log could not be synced to disk (${cause instanceof Error ? cause.message : String(cause)}); restart leadtrail`, { cause });
  }
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class WalSync {
  /** Commits counted so far (noted synchronously, the moment each COMMIT has run). */
  private committed = 0;
  /** Every commit up to this number is on disk. */
  private synced = 0;
  private running = false;
  private failure: WalSyncFailed | null = null;
  private waiters: Waiter[] = [];
  private fail!: (e: WalSyncFailed) => void;
  /** Settles with the failure once a sync has failed (Store.failed). */
  readonly failed = new Promise<WalSyncFailed>((resolve) => (this.fail = resolve));

  /** `walFile`: the database file's `-wal` companion. */
  constructor(
    private readonly walFile: string,
    private readonly sync: FileSync,
  ) {}

  /** Notes that a COMMIT has just run on the writer connection (call synchronously, right after it). */
  noteCommit(): void {
    this.committed += 1;
  }

  /** Resolves once every commit noted so far is on disk; rejects with WalSyncFailed if a sync failed. */
  afterCommit(): Promise<void> {
    return this.waitFor(this.committed);
  }

  /**
   * For reads: null when every commit so far is on disk (read at once), otherwise a promise that
   * resolves when it is. Rejects after a failed sync: data that may not be on disk is not shown.
   */
  gate(): Promise<void> | null {
    if (this.failure) return Promise.reject(this.failure);
    if (this.synced >= this.committed) return null;
    return this.waitFor(this.committed);
  }

  private waitFor(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.synced >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.start();
    });
  }

  /** Starts a sync unless one runs; the one that runs starts the next when it ends. */
  private start(): void {
    if (this.running || this.failure) return;
    this.running = true;
    // Everything committed before this sync starts is in the file (each COMMIT wrote its frames
    // before returning), so this sync covers commits up to `upTo`.
    const upTo = this.committed;
    this.sync(this.walFile).then(
      () => {
        this.running = false;
        this.synced = Math.max(this.synced, upTo);
        const still: Waiter[] = [];
        for (const w of this.waiters) (w.seq <= this.synced ? w.resolve() : still.push(w));
        this.waiters = still;
        if (still.length > 0) this.start();
      },
      (e: unknown) => {
        this.running = false;
        this.failure = new WalSyncFailed(e);
        for (const w of this.waiters.splice(0)) w.reject(this.failure);
        this.fail(this.failure);
      },
    );
  }
}
