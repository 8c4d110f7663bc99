/**
 * SQLite WAL checkpoints on a thread of their own (issue 11).
 *
 * By default SQLite checkpoints inside the COMMIT that takes the write-ahead log past 1,000 pages:
 * that COMMIT copies the log's pages into the database file and fsyncs both, on the event loop,
 * while every request waits. Here the writer runs `wal_autocheckpoint=0` and a worker thread with its
 * own connection runs the checkpoints:
 *
 * - every `everyCommits` commits, a PASSIVE checkpoint: it copies what it can without waiting for
 *   the writer or the readers, so writes go on meanwhile;
 * - when the log still holds `restartPages` or more after that (under sustained writes a passive
 *   checkpoint never finds the log idle, and only a checkpoint that finds every frame copied lets
 *   the writer start the log over), a RESTART checkpoint with new write batches held back: the
 *   writer's gate (`writerGate`) is closed until it ends. The passive run just before has copied
 *   most of the log, so the pause is short, and the event loop stays free during it. A RESTART
 *   that a long reader (a backup) keeps from finishing gives up after 100 ms, and the next is not
 *   tried for 0.2 s, then 0.4, 0.8, … up to 10 s while that goes on.
 *
 * Durability is SQLite's: the checkpoint connection runs `synchronous=NORMAL`, under which the log is
 * synced before its pages are copied and the database file after (https://sqlite.org/pragma.html#pragma_synchronous),
 * so a checkpoint never puts into the database file a page whose log frame is not on disk. Callers are
 * still answered only after wal-sync.ts's fdatasync of the log.
 *
 * If the thread cannot start or a checkpoint fails, the writer goes back to SQLite's own
 * checkpoints (`wal_autocheckpoint=1000`): slower, never wrong.
 *
 * The thread's code is a short CommonJS text run with `eval`, so that it runs the same from the
 * built files and from the TypeScript sources under test; it loads the same SQLite driver as the
 * store, by its resolved path.
 */
import { Worker } from 'node:worker_threads';

/** What one checkpoint reported: frames in the log, frames copied, whether it was stopped short. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointerOptions {
  /** The database file (not `:memory:`). */
  file: string;
  /** Absolute path of the better-sqlite3 package the store uses (require.resolve). */
  driverPath: string;
  /** Commits between two passive checkpoints (default 20). */
  everyCommits?: number;
  /** Log frames left after a passive checkpoint that call for a RESTART (default 4,096). */
  restartPages?: number;
  /** The clock for the RESTART backoff, in ms (tests inject one). */
  now?: () => number;
  /** Puts SQLite's own checkpoints back on the writer; called once if the thread fails. */
  fallBack: (error: unknown) => void;
}

/** Checkpoints counted, for tests and metrics. */
export interface CheckpointStats {
  passive: number;
  restart: number;
  /** RESTARTs that gave up because a reader held an older snapshot past the wait. */
  restartBusy: number;
  failed: boolean;
}

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
// A RESTART waits a little for a reader of an older snapshot (write batches are held back meanwhile);
// past that it gives up (busy), and the main thread tries again later.
db.pragma('busy_timeout = 100');
parentPort.on('message', (mode) => {
  if (mode === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const r = db.pragma('wal_checkpoint(' + (mode === 'RESTART' ? 'RESTART' : 'PASSIVE') + ')')[0];
    parentPort.postMessage({ ok: true, busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String((e && e.message) || e) });
  }
});
`;

type Reply = ({ ok: true } & CheckpointResult) | { ok: false; error: string };

export class Checkpointer {
  private worker: Worker | null = null;
  private pending: ((r: Reply) => void) | null = null;
  private commits = 0;
  private running = false;
  private closed = false;
  private pause: { done: Promise<void>; open: () => void } | null = null;
  private cycle: Promise<void> = Promise.resolve();
  readonly stats: CheckpointStats = { passive: 0, restart: 0, restartBusy: 0, failed: false };
  private readonly everyCommits: number;
  private readonly restartPages: number;
  /** After a RESTART that a reader kept from finishing, none before this time (ms); the wait doubles each time. */
  private restartNotBefore = 0;
  private restartBackoffMs = 0;
  private readonly now: () => number;

  constructor(private readonly o: CheckpointerOptions) {
    this.everyCommits = o.everyCommits ?? 20;
    this.restartPages = o.restartPages ?? 4096;
    this.now = o.now ?? Date.now;
  }

  /** Call after each COMMIT on the writer. Starts a checkpoint cycle every `everyCommits` commits (the thread on first need). */
  noteCommit(): void {
    this.commits += 1;
    if (this.running || this.closed || this.stats.failed || this.commits < this.everyCommits) return;
    this.commits = 0;
    this.running = true;
    this.cycle = this.runCycle().finally(() => {
      this.running = false;
    });
  }

  /** For the writer: null to go ahead, or a promise that resolves when a RESTART checkpoint has ended. */
  writerGate(): Promise<void> | null {
    return this.pause ? this.pause.done : null;
  }

  /** Waits for a cycle in progress, then stops the thread (its connection closes). */
  async close(): Promise<void> {
    this.closed = true;
    await this.cycle;
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    w.ref();
    w.postMessage('close');
    await exited;
  }

  private async runCycle(): Promise<void> {
    try {
      const passive = await this.run('PASSIVE');
      this.stats.passive += 1;
      if (passive.log < this.restartPages || this.closed) return;
      if (this.now() < this.restartNotBefore) return;
      let open!: () => void;
      this.pause = { done: new Promise<void>((r) => (open = r)), open };
      try {
        const restart = await this.run('RESTART');
        this.stats.restart += 1;
        // A reader of an older snapshot (a backup, a shell) kept it from finishing: no RESTART for
        // the next 0.2 s, then 0.4, 0.8, … up to 10 s, so that such a reader costs writes a 100 ms
        // pause now and then (1% of the time once the wait is 10 s), not at every cycle. A
        // finished one starts the log over.
        if (restart.busy) {
          this.stats.restartBusy += 1;
          this.restartBackoffMs = Math.min(Math.max(200, this.restartBackoffMs * 2), 10_000);
          this.restartNotBefore = this.now() + this.restartBackoffMs;
        } else {
          this.restartBackoffMs = 0;
        }
      } finally {
        this.pause.open();
        this.pause = null;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private run(mode: 'PASSIVE' | 'RESTART'): Promise<CheckpointResult> {
    const w = this.thread();
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.pending = (r) => (r.ok ? resolve(r) : reject(new Error(`SQLite checkpoint failed: ${r.error}`)));
      // The thread keeps the process alive only while a checkpoint runs (a CLI command that closes
      // the store mid-checkpoint waits for it), not while it idles.
      w.ref();
      w.postMessage(mode);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(THREAD_SOURCE, { eval: true, workerData: { file: this.o.file, driverPath: this.o.driverPath } });
    // Idle, the thread does not keep the process alive; close() ends it.
    w.unref();
    w.on('message', (r: Reply) => {
      w.unref();
      const p = this.pending;
      this.pending = null;
      p?.(r);
    });
    w.on('exit', () => {
      const p = this.pending;
      this.pending = null;
      p?.({ ok: false, error: 'the checkpoint thread exited' });
    });
    w.on('error', (e) => {
      const p = this.pending;
      this.pending = null;
      p?.({ ok: false, error: e.message });
      this.fail(e);
    });
    this.worker = w;
    return w;
  }

  private fail(e: unknown): void {
    if (this.stats.failed) return;
    this.stats.failed = true;
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
    this.o.fallBack(e);
  }
}
