/**
 * The write pipeline behind `Store.transaction` (issue 11): group commit for every write.
 *
 * Concurrent `transaction(fn)` calls are gathered into one database transaction, their `fn`s run one
 * after another on the batch's connection. A caller that throws gets its own error and nothing it
 * wrote stays: a batch runs its callers without savepoints until one throws having written; then it
 * is rolled back and the others run again in a later batch, each in a SAVEPOINT of its own (RELEASE
 * when it resolves, ROLLBACK TO when it throws). See runBatch. One COMMIT ends the batch, and only
 * then is any caller answered: every caller resolves after the commit has reached the disk (PostgreSQL's synchronous commit; on SQLite the WAL's fdatasync, run off
 * the event loop by `afterCommit` while the next batch goes on), and if the COMMIT or that sync fails
 * every caller of the batch is rejected, none answered as a success.
 *
 * Engine-neutral: the adapter gives a way to open a session on its writer connection (`withSession`)
 * and says how many batches may run side by side (`slots`: 1 on SQLite, its single writer; more on
 * PostgreSQL) and whether to wait one event-loop turn before starting a batch (`gatherTurn`: on
 * SQLite the whole batch runs synchronously, so requests can only join a batch that waits for them).
 *
 * A caller whose `fn` never settles would hold its batch, and on SQLite every write, forever. So each
 * `fn` has `fnTimeoutMs`: past it, its savepoint is rolled back, the caller is rejected with
 * `TransactionTimeout`, and the batch goes on. The `tx` it was given is closed from then on: any later
 * call through it throws instead of writing into someone else's transaction.
 */
import { READ_METHODS, type Repos, type TxRecord, type TxRecordWriter } from './store.js';

/** A transaction open on the writer connection, as the adapter provides it. */
export interface TxSession {
  /** Repos bound to this session's connection. */
  repos: Repos;
  /**
   * Runs statements with no parameters (BEGIN, SAVEPOINT x, COMMIT, …) in order, stopping at the
   * first that fails; in one round trip where the engine allows it.
   */
  exec(...sqlTexts: string[]): Promise<void>;
  /** Called before each caller's fn runs in the session (the reference-data cache forgets its token). */
  beginCaller?(): void;
  /**
   * Called when callers that arrived after the batch began join it (`extendTo`): its reference-data
   * token was read before they asked, so the cache reads it again for them.
   */
  callersJoined?(): void;
}

export interface PipelineOptions {
  /** Opens a session on a writer connection, runs `cb`, gives the connection back. */
  withSession<R>(cb: (s: TxSession) => Promise<R>): Promise<R>;
  /** Batches that may run side by side. */
  slots: number;
  /** Wait one event-loop turn (setImmediate) before starting a batch, so that requests arriving together share it. */
  gatherTurn: boolean;
  /** Most callers in one batch. */
  maxBatch: number;
  /**
   * A batch whose callers have all run takes the callers queued meanwhile, before its COMMIT, while
   * it holds fewer than this many (default 0: never). For an engine where every statement is a round
   * trip (PostgreSQL): a batch's BEGIN and COMMIT are then shared among more callers, and callers
   * that arrive while both slots are busy need not wait for a slot. Callers already in the batch wait
   * longer for its commit.
   */
  extendTo?: number;
  /** How long one caller's `fn` may run before it is rolled back and rejected. */
  fnTimeoutMs: number;
  /**
   * The statement that opens a batch (default `BEGIN`). SQLite's writer thread uses `BEGIN IMMEDIATE`:
   * it takes the write lock at once, waiting for it (busy_timeout) if another writer of the file
   * holds it, where a deferred BEGIN that first reads could fail with SQLITE_BUSY at its first write.
   */
  begin?: string;
  /** Run by a solo caller (`exclusive`) right after BEGIN, before its `fn`. */
  exclusiveLock?: string;
  /**
   * Run instead of `exclusiveLock` by a solo caller without a time limit (`timeoutMs` Infinity):
   * the same lock, its wait not cut by the statement timeout (PostgreSQL), as the caller's own
   * work is not. A second process starting while the first re-keyed a large account for longer
   * than LEADTRAIL_STATEMENT_TIMEOUT_MS had failed its start waiting (a review).
   */
  exclusiveLockUnbounded?: string;
  /**
   * Errors that are the pipeline's doing rather than the caller's: PostgreSQL's deadlock between two
   * batches that each hold row locks of earlier callers. Such a caller is rolled back and run again
   * in a later batch (its fn runs again from the start), up to MAX_RERUNS times.
   */
  rerunnable?(e: unknown): boolean;
  /**
   * Makes the batch just committed durable, when the COMMIT itself does not (SQLite: fdatasync of
   * the WAL off the event loop, sqlite/wal-sync.ts). The batch's callers are answered only once it
   * resolves, rejected if it rejects; the next batch does not wait for it.
   */
  afterCommit?(): Promise<void>;
}

/** Reruns of one caller after a rerunnable error. */
const MAX_RERUNS = 3;

/** Batches that run one at a time, their callers in savepoints, after a rerunnable error (a deadlock between batches). */
const ISOLATE_AFTER_RERUN = 1000;

export class TransactionTimeout extends Error {
  override name = 'TransactionTimeout';
  constructor(ms: number) {
    super(`transaction function did not finish within ${ms} ms; its writes were rolled back`);
  }
}

/** Thrown by a `tx` used after its transaction function has ended (timed out, or kept after resolving). */
export class TransactionClosed extends Error {
  override name = 'TransactionClosed';
  constructor() {
    super('this transaction is over: its repos can no longer be used');
  }
}

/**
 * A RangeError when `timeoutMs` (Store.exclusive's) is given and not a positive number of ms or
 * Infinity, else null: NaN would arm no timer, and so mean no limit without saying so (a review).
 */
export function timeoutError(timeoutMs: number | undefined): RangeError | null {
  return timeoutMs !== undefined && !(timeoutMs > 0) ? new RangeError(`timeoutMs must be a positive number of ms or Infinity; got ${timeoutMs}`) : null;
}

/** The longest delay setTimeout keeps (2^31-1 ms, about 24.8 days); a longer limit is none. */
const MAX_TIMER_MS = 2_147_483_647;

interface Item {
  fn: (tx: Repos) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  solo: boolean;
  reruns: number;
  /** Run in a SAVEPOINT of its own: set once a batch it was in had to be rolled back for another caller. */
  isolate: boolean;
  /** How long fn may run, when not `fnTimeoutMs` (ms; Infinity: no limit). */
  timeoutMs?: number;
}

/** `clean`: the fn failed having called only read methods, none of which failed: it changed nothing. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown; clean: boolean };

/** Statistics, for metrics, tests and measurements. */
export interface PipelineStats {
  batches: number;
  callers: number;
  largestBatch: number;
  /**
   * Seconds batches held a writer connection: from the session's start (BEGIN about to be sent,
   * waiting for the write lock included) to the end of its COMMIT or ROLLBACK, summed over batches;
   * `afterCommit`'s sync is not in it. Its rate is how busy the writer is: on SQLite (one writer) a
   * rate near 1 means writes wait for each other; batches side by side (PostgreSQL, `slots`) can
   * take it up to `slots`.
   */
  busySeconds: number;
}

export class WritePipeline {
  private queue: Item[] = [];
  private running = 0;
  /** Committed batches whose callers wait for `afterCommit`. */
  private syncing = 0;
  private scheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly writers = new Map<string, TxRecordWriter>();
  /** Batches up to this number run one at a time, their callers in savepoints (set after a rerunnable error). */
  private isolateUntil = -1;
  readonly stats: PipelineStats = { batches: 0, callers: 0, largestBatch: 0, busySeconds: 0 };

  constructor(private readonly o: PipelineOptions) {}

  /**
   * Runs `fn` in a batch (`solo`: alone in its own, as `Store.exclusive`). `timeoutMs`: how long it
   * may run instead of `fnTimeoutMs` (`Infinity`: no limit).
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>, solo = false, timeoutMs?: number): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const bad = timeoutError(timeoutMs);
    if (bad) return Promise.reject(bad);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject, solo, reruns: 0, isolate: false, timeoutMs });
      this.kick();
    });
  }

  /** Registers the writer of one kind of appended record; returns the unregister function. */
  registerRecordWriter(kind: string, writer: TxRecordWriter): () => void {
    if (this.writers.has(kind)) throw new Error(`a record writer for "${kind}" is already registered`);
    this.writers.set(kind, writer);
    return () => {
      if (this.writers.get(kind) === writer) this.writers.delete(kind);
    };
  }

  /** Refuses new callers and waits for every queued and running batch to finish. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0 || this.queue.length > 0 || this.scheduled || this.syncing > 0) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  /**
   * Batches that may run now: one while batches contend for rows (after a deadlock between two,
   * for the next ISOLATE_AFTER_RERUN batches), so that they no longer deadlock; `slots` otherwise.
   * 64 callers posting to 5 PostgreSQL leads from two batches side by side deadlocked again and
   * again, each deadlock found only after PostgreSQL's `deadlock_timeout` (1 s).
   */
  private slots(): number {
    return this.stats.batches <= this.isolateUntil ? 1 : this.o.slots;
  }

  private kick(): void {
    if (this.scheduled || this.running >= this.slots() || this.queue.length === 0) return;
    if (this.o.gatherTurn) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.startBatches();
      });
    } else {
      this.startBatches();
    }
  }

  private startBatches(): void {
    while (this.running < this.slots() && this.queue.length > 0) {
      const batch = this.take();
      this.running += 1;
      void this.runBatch(batch).finally(() => {
        this.running -= 1;
        this.kick();
        this.notifyIdle();
      });
    }
  }

  private notifyIdle(): void {
    if (this.running === 0 && this.queue.length === 0 && !this.scheduled && this.syncing === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** FIFO: a solo caller gets a batch of its own; others are taken up to `maxBatch`, stopping at a solo one. */
  private take(): Item[] {
    if (this.queue[0].solo) return this.queue.splice(0, 1);
    let n = 0;
    while (n < this.queue.length && n < this.o.maxBatch && !this.queue[n].solo) n += 1;
    return this.queue.splice(0, n);
  }

  /**
   * Callers queued since `batch` began that it can still take before its COMMIT (`extendTo`): up to
   * that size, in order, stopping at a solo caller, or, in a batch without savepoints, at one run
   * again after a rollback (which needs a savepoint of its own).
   */
  private more(batch: Item[], isolate: boolean): Item[] {
    const room = Math.min(this.o.extendTo ?? 0, this.o.maxBatch) - batch.length;
    let n = 0;
    while (n < room && n < this.queue.length && !this.queue[n].solo && (this.queue[n].isolate ? isolate : true)) n += 1;
    if (n === 0) return [];
    this.stats.callers += n;
    return this.queue.splice(0, n);
  }

  private async runBatch(batch: Item[]): Promise<void> {
    this.stats.batches += 1;
    this.stats.callers += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    // Callers whose fn succeeded, waiting for the COMMIT; callers already answered with their own error.
    const done: { item: Item; value: unknown }[] = [];
    let committed = false;
    const failed = new Set<Item>();
    const rerun: Item[] = [];
    // Callers to run again in a later batch, each in a savepoint, after this one was rolled back.
    let redo: Item[] = [];
    // A caller whose error is rerunnable goes back to the head of the queue once its batch is over.
    const fail = (item: Item, error: unknown) => {
      if (item.reruns < MAX_RERUNS && this.o.rerunnable?.(error)) {
        item.reruns += 1;
        rerun.push(item);
        // Batches are contending for rows: the next ones run one at a time (slots()), and isolate
        // their callers, as a deadlock with another process would otherwise roll a whole batch back.
        this.isolateUntil = this.stats.batches + ISOLATE_AFTER_RERUN;
      } else {
        item.reject(error);
      }
    };
    // One caller alone needs no savepoint: if it throws, the whole transaction is its own. Nor do
    // callers that succeed, which is nearly all of them: a batch runs them without savepoints (a
    // round trip each on PostgreSQL, and a tenth of a Create's statements on SQLite) until one fails
    // having written. Then the batch is rolled back and the others run again in a later batch, each
    // in its own savepoint (see the else branch below).
    // Extending a batch of one makes it a batch of several: its callers then run as any batch's.
    const extending = (this.o.extendTo ?? 0) > 1;
    const alone = batch.length === 1 && !extending;
    const isolate = !alone && (this.stats.batches <= this.isolateUntil || batch.some((item) => item.isolate));
    try {
      await this.o.withSession(async (s) => {
        const held = performance.now();
        // Control statements wait and go together with the next ones (BEGIN with the first
        // SAVEPOINT, each RELEASE with the next SAVEPOINT, the last with COMMIT): one round trip
        // instead of two per caller on PostgreSQL.
        let next: string[] = [this.o.begin ?? 'BEGIN'];
        try {
          if (batch.length === 1 && batch[0].solo && this.o.exclusiveLock) {
            const unbounded = batch[0].timeoutMs !== undefined && !(batch[0].timeoutMs <= MAX_TIMER_MS);
            next.push(unbounded ? (this.o.exclusiveLockUnbounded ?? this.o.exclusiveLock) : this.o.exclusiveLock);
          }
          for (let i = 0; ; i += 1) {
            if (i === batch.length && !batch[0].solo) {
              const joined = this.more(batch, isolate);
              if (joined.length > 0) {
                s.callersJoined?.();
                batch.push(...joined);
              }
            }
            if (i === batch.length) break;
            const item = batch[i];
            const sp = `lt_sp_${i}`;
            if (isolate) next.push(`SAVEPOINT ${sp}`);
            if (next.length > 0) await s.exec(...next);
            next = [];
            const out = await this.runFn(item, s);
            if (out.ok) {
              if (isolate) next.push(`RELEASE ${sp}`);
              done.push({ item, value: out.value });
              continue;
            }
            failed.add(item);
            if (alone) {
              await s.exec('ROLLBACK').catch(() => {});
              fail(item, out.error);
              return;
            }
            // This caller gets its own error now: it saw what the callers before it wrote, as it
            // would have in a savepoint. If its savepoint then cannot be rolled back (connection
            // lost, SQLite rolled the whole transaction back after an I/O error), the batch fails below.
            fail(item, out.error);
            if (isolate) {
              next.push(`ROLLBACK TO ${sp}`, `RELEASE ${sp}`);
              continue;
            }
            // Without a savepoint, a caller that only read has left the transaction as it found it.
            if (out.clean) continue;
            // Its writes cannot be undone alone: nothing of this batch is kept, and every other
            // caller (those done, those not yet run) goes again, in order, in savepoints.
            redo = [...done.map((d) => d.item), ...batch.slice(i + 1)];
            done.length = 0;
            await s.exec('ROLLBACK').catch(() => {});
            return;
          }
          this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
          if (done.length === 0) await s.exec(...next, 'ROLLBACK');
          else {
            await s.exec(...next, 'COMMIT');
            committed = true;
          }
        } catch (e) {
          await s.exec('ROLLBACK').catch(() => {});
          throw e;
        } finally {
          // Before the batch's callers are answered a success, so that their answers' counters
          // include it (SQLite's writer thread sends them along); a caller rejected mid-batch is
          // answered before this.
          this.stats.busySeconds += (performance.now() - held) / 1000;
        }
      });
    } catch (e) {
      // BEGIN, a savepoint command or the COMMIT failed: nothing of the batch is committed, and
      // nobody in it may be answered as a success.
      for (const item of batch) if (!failed.has(item) && !redo.includes(item)) item.reject(e);
      return;
    } finally {
      for (const item of redo) item.isolate = true;
      // Back to the head of the queue in their order in this batch.
      const again = [...redo, ...rerun].sort((a, b) => batch.indexOf(a) - batch.indexOf(b));
      if (again.length > 0) this.queue.unshift(...again);
    }
    if (!committed || !this.o.afterCommit) {
      for (const d of done) d.item.resolve(d.value);
      return;
    }
    // Committed but not yet durable: answer once it is. The batch's slot is free meanwhile.
    this.syncing += 1;
    this.o.afterCommit().then(
      () => {
        for (const d of done) d.item.resolve(d.value);
      },
      (e: unknown) => {
        for (const d of done) d.item.reject(e);
      },
    ).finally(() => {
      this.syncing -= 1;
      this.notifyIdle();
    });
  }

  /** Runs one caller's fn against a guarded view of the session, then writes its appended records. */
  private async runFn(item: Item, s: TxSession): Promise<Outcome> {
    s.beginCaller?.();
    const guard = new Guard(s.repos);
    let timer: NodeJS.Timeout | undefined;
    const limit = item.timeoutMs ?? this.o.fnTimeoutMs;
    // No timer for no limit: setTimeout takes Infinity (and anything past 2^31-1 ms) as 1 ms.
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      if (limit <= MAX_TIMER_MS) timer = setTimeout(() => resolve(TIMED_OUT), limit);
    });
    try {
      const value = await Promise.race([item.fn(guard.tx), timedOut]);
      if (value === TIMED_OUT) throw new TransactionTimeout(limit);
      // Records appended by fn commit with its changes, inside its savepoint: if writing them fails,
      // this caller fails alone and its changes go with them.
      if (guard.records.length > 0) await this.writeRecords(s.repos, guard.records);
      return { ok: true, value };
    } catch (error) {
      // Settled first: a write still in flight counts.
      await guard.settled();
      return { ok: false, error, clean: !guard.wrote && !guard.callFailed };
    } finally {
      clearTimeout(timer);
      guard.close();
      // Queries fn started and has not awaited (or had in flight when it timed out) finish before
      // the savepoint is released or rolled back, so that none lands in the next caller's savepoint.
      await guard.settled();
    }
  }

  private async writeRecords(repos: Repos, records: TxRecord[]): Promise<void> {
    const byKind = new Map<string, TxRecord[]>();
    for (const r of records) {
      const list = byKind.get(r.kind);
      if (list) list.push(r);
      else byKind.set(r.kind, [r]);
    }
    for (const [kind, list] of byKind) {
      const writer = this.writers.get(kind);
      if (!writer) throw new Error(`no record writer registered for "${kind}"`);
      await writer(repos, list);
    }
  }
}

const TIMED_OUT = Symbol('timed out');

/**
 * The `tx` one caller sees: the session's repos behind a gate that closes when its fn ends, counting
 * the calls in flight, plus `append` for records that commit with the transaction.
 */
class Guard {
  open = true;
  inflight = 0;
  /** A method that may write (any but READ_METHODS) was called. */
  wrote = false;
  /** A call failed: on PostgreSQL the transaction may then be unusable, whatever the call was. */
  callFailed = false;
  records: TxRecord[] = [];
  private waiters: (() => void)[] = [];
  readonly tx: Repos;

  constructor(repos: Repos) {
    const handler: ProxyHandler<object> = {
      get: (target, prop) => {
        const v = (target as Record<string | symbol, unknown>)[prop];
        if (typeof v !== 'function') return v;
        const writes = typeof prop !== 'string' || !READ_METHODS.has(prop);
        return (...args: unknown[]) => {
          if (writes && this.open) this.wrote = true;
          return this.call(() => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        };
      },
    };
    this.tx = {
      accounts: new Proxy(repos.accounts, handler) as Repos['accounts'],
      leads: new Proxy(repos.leads, handler) as Repos['leads'],
      leadFields: new Proxy(repos.leadFields, handler) as Repos['leadFields'],
      activityTypes: new Proxy(repos.activityTypes, handler) as Repos['activityTypes'],
      activities: new Proxy(repos.activities, handler) as Repos['activities'],
      requests: new Proxy(repos.requests, handler) as Repos['requests'],
      journal: new Proxy(repos.journal, handler) as Repos['journal'],
      faultRules: new Proxy(repos.faultRules, handler) as Repos['faultRules'],
      webhooks: new Proxy(repos.webhooks, handler) as Repos['webhooks'],
      append: (record: TxRecord) => {
        if (!this.open) throw new TransactionClosed();
        this.records.push(record);
      },
    };
  }

  private call(run: () => Promise<unknown>): Promise<unknown> {
    if (!this.open) return Promise.reject(new TransactionClosed());
    this.inflight += 1;
    let p: Promise<unknown>;
    try {
      p = run();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.catch(() => {
      this.callFailed = true;
    });
    return p.finally(() => {
      this.inflight -= 1;
      if (this.inflight === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  close(): void {
    this.open = false;
  }

  settled(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
}
