/**
 * The request journal's writer (issue 15). Entries are buffered in memory as calls are answered and
 * written in batches: one store transaction per flush, joining the write pipeline's group commit,
 * never one per call and never before the answer is sent. A flush starts when BATCH entries are
 * waiting or FLUSH_MS after the first one arrived, whichever comes first.
 *
 * Durability: best effort. An entry is stored a few milliseconds after its call was answered, in a
 * transaction of its own, not with the change the call made: a process that dies in between loses
 * the entries still buffered (at most FLUSH_MS worth, or MAX_BUFFERED), and an entry the database
 * refuses (its batch failed, and so did it alone) is logged and dropped rather than retried. The data the calls wrote is unaffected either way.
 *
 * Limits are kept off the request path: after a flush, the accounts written to since the last trim
 * are trimmed to their newest `maxEntries` once as many entries as that were written (or PRUNE_MS
 * went by), and entries older than `maxAgeMs` are purged at most every PRUNE_MS (sooner for a short
 * age limit). Reading the journal through the API flushes first and applies the limits at once.
 */
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import { repoWrite, type JournalEntry, type Store } from '../storage/store.js';

export type NewJournalEntry = Omit<JournalEntry, 'seq'>;

export interface RecorderOptions {
  /** Entries kept per account; 0 keeps any number. */
  maxEntries: number;
  /** Entries older than this (ms) are purged; 0 keeps them. */
  maxAgeMs: number;
  now(): number;
  log: Logger;
}

/** Entries that start a flush at once. */
const BATCH = 256;
/** Longest an entry waits in memory before its flush starts. */
const FLUSH_MS = 100;
/** Entries held while the database is slow; beyond this new entries are dropped (and counted). */
const MAX_BUFFERED = 20_000;
/** Longest time between trims of the accounts written to, and between age purges. */
const PRUNE_MS = 60_000;

export class JournalRecorder {
  private buffer: NewJournalEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The flush waiting to start (shared by everyone who asks for a flush meanwhile). */
  private queued: { force: boolean; promise: Promise<void> } | null = null;
  /** The end of the flush running or queued last. */
  private tail: Promise<void> = Promise.resolve();
  private readonly touched = new Set<string>();
  private writtenSinceTrim = 0;
  private lastTrim: number;
  private lastPurge = 0;
  /** Entries dropped because the buffer was full or their flush failed. */
  dropped = 0;

  constructor(
    private readonly store: Pick<Store, 'transaction' | 'journal'>,
    private readonly o: RecorderOptions,
  ) {
    this.lastTrim = o.now();
  }

  /** Adds an entry to be written with the next flush. Synchronous and cheap: the caller's answer is already sent. */
  record(entry: NewJournalEntry): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.dropped += 1;
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= BATCH) {
      void this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /**
   * Writes everything recorded so far, then applies the limits; resolves when done (never rejects:
   * a failed write is logged). Calls made while a flush waits to start share it. With `limits`,
   * the limits are applied now rather than when their thresholds are reached, so what is read next
   * is within them.
   */
  flush(limits = false): Promise<void> {
    let q = this.queued;
    if (!q) {
      const next: { force: boolean; promise: Promise<void> } = { force: false, promise: Promise.resolve() };
      next.promise = this.tail.then(() => {
        this.queued = null;
        return this.writeOnce(next.force);
      });
      this.queued = q = next;
      this.tail = next.promise;
    }
    if (limits) q.force = true;
    return q.promise;
  }

  private async writeOnce(force: boolean): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) {
      try {
        // One repo write (repoWrite): on SQLite's writer thread one message there and back.
        await this.store.transaction(repoWrite('journal', 'insertMany', batch));
        this.written(batch);
      } catch (err) {
        // One entry the database refuses must not cost the others theirs: each goes alone once.
        this.o.log.warn({ err, entries: batch.length }, 'request journal batch could not be stored; storing its entries one by one');
        for (const e of batch) {
          try {
            await this.store.transaction(repoWrite('journal', 'insertMany', [e]));
            this.written([e]);
          } catch (err1) {
            this.dropped += 1;
            this.o.log.warn({ err: err1, journalId: e.id }, 'request journal entry could not be stored; dropped');
          }
        }
      }
    }
    await this.applyLimits(force);
  }

  private written(entries: NewJournalEntry[]): void {
    for (const e of entries) this.touched.add(e.accountId);
    this.writtenSinceTrim += entries.length;
  }

  private async applyLimits(force: boolean): Promise<void> {
    const now = this.o.now();
    const { maxEntries, maxAgeMs } = this.o;
    try {
      if (maxEntries > 0 && this.touched.size > 0 && (force || this.writtenSinceTrim >= maxEntries || now - this.lastTrim >= PRUNE_MS)) {
        const accounts = [...this.touched];
        this.touched.clear();
        this.writtenSinceTrim = 0;
        this.lastTrim = now;
        for (const a of accounts) await this.store.journal.trim(a, maxEntries);
      }
      if (maxAgeMs > 0 && (force || now - this.lastPurge >= Math.min(PRUNE_MS, maxAgeMs))) {
        this.lastPurge = now;
        await this.store.journal.purgeBefore(now - maxAgeMs);
      }
    } catch (err) {
      this.o.log.warn({ err }, 'request journal limits could not be applied; trying again later');
    }
  }
}

const recorders = new WeakMap<Services, JournalRecorder>();

/** The journal writer of these services (one per process, shared by its apps), or null when LEADTRAIL_JOURNAL is off. */
export function journalRecorder(s: Services): JournalRecorder | null {
  if (!s.config.journal) return null;
  let r = recorders.get(s);
  if (!r) {
    r = new JournalRecorder(s.store, { maxEntries: s.config.journalMaxEntries, maxAgeMs: s.config.journalMaxAgeMs, now: () => s.ctx.now(), log: s.log });
    recorders.set(s, r);
  }
  return r;
}

/**
 * Writes this process's buffered journal entries now (and applies the limits): before reading the
 * journal, so a call answered a moment ago is listed, and before resetting an account.
 */
export async function flushJournal(s: Services): Promise<void> {
  await journalRecorder(s)?.flush(true);
}
