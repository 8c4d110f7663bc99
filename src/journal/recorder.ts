/**
 * The request journal's writer (issue 15). Entries are buffered in memory as calls are answered and
 * written in batches: one store transaction per flush, joining the write pipeline's group commit,
 * never one per call and never before the answer is sent. A flush starts when BATCH entries are
 * waiting or FLUSH_MS after the first one arrived, whichever comes first.
 *
 * Bodies are packed as UTF-8 into one buffer per batch as they are recorded, so no body string
 * outlives its call: strings held until the flush lived through young-generation collections and
 * piled up in the old generation (under `Retrieve` load the event loop's heap grew to 130 MB of
 * them, most of the peak RSS over 250 MB; docs/performance.md). The batch crosses to SQLite's
 * writer thread as that one buffer and is stored from it without being made into strings again.
 *
 * The buffers are shared memory (SharedArrayBuffer), two of them: one fills while the other's batch
 * is being written, and the store (on SQLite, its writer thread) reads the bodies where they lie.
 * Flushes run one at a time, so a batch's buffer is filled again only after its write has settled.
 * Before, each flush copied its bytes into a new buffer, which structured clone copied again: under
 * `Retrieve` load (25 MB of bodies a second) those copies were garbage that V8 collects late, being
 * outside its heap, and held 20–50 MB on the event loop and 10–20 MB on the writer thread.
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
import { repoWrite, type JournalBodyRef, type JournalEntry, type NewJournalEntry as StoredEntry, type Store } from '../storage/store.js';

/** A call to record, its bodies as text (null: none, or not kept). */
export type NewJournalEntry = Omit<JournalEntry, 'seq'>;

export interface RecorderOptions {
  /** Entries kept per account; 0 keeps any number. */
  maxEntries: number;
  /** Entries older than this (ms) are purged; 0 keeps them. */
  maxAgeMs: number;
  now(): number;
  log: Logger;
  /** Longest an entry waits in memory before its flush starts (ms); default FLUSH_MS. */
  flushAfterMs?: number;
}

/** Entries that start a flush at once. */
const BATCH = 256;
/** Longest an entry waits in memory before its flush starts. */
const FLUSH_MS = 100;
/** Entries held while the database is slow; beyond this new entries are dropped (and counted). */
const MAX_BUFFERED = 20_000;
/** Body bytes that start a flush at once (large answers: `Retrieve` pages). */
const BATCH_BYTES = 1 << 20;
/** Body bytes held while the database is slow; beyond this new entries are dropped (and counted). */
const MAX_BUFFERED_BYTES = 64 << 20;
/** The body buffer's size to start with, and what it shrinks back to after a flush of large batches. */
const BYTES_START = 256 << 10;
/**
 * A buffer larger than this once its flush is over (it grew while the database was slow) is replaced
 * by one of BYTES_START. Smaller ones are kept: a batch of full size (BATCH_BYTES, and the room packing
 * leaves, up to three bytes a character, for the body that crosses it) grows one to 2 MB, and a
 * buffer given up after every flush is freed only once both threads have collected it: under
 * `Retrieve` load, shrinking at 1 MB took the peak RSS to 425 MB.
 */
const BYTES_KEPT = 4 * BATCH_BYTES;

/** `size` bytes of shared memory: read in place by the thread the batch is sent to (structured clone shares it). */
const sharedBytes = (size: number): Buffer => Buffer.from(new SharedArrayBuffer(size));
/** Longest time between trims of the accounts written to, and between age purges. */
const PRUNE_MS = 60_000;

export class JournalRecorder {
  private buffer: StoredEntry[] = [];
  /** The buffered entries' bodies, UTF-8, back to back: `bytes[0, used)`. */
  private bytes = sharedBytes(BYTES_START);
  /** The other buffer: the last flush's, free again once that flush is over (flushes run one at a time). */
  private spare = sharedBytes(BYTES_START);
  private used = 0;
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
    if (this.buffer.length >= MAX_BUFFERED || this.used >= MAX_BUFFERED_BYTES) {
      this.dropped += 1;
      return;
    }
    this.buffer.push({ ...entry, requestBody: this.pack(entry.requestBody), responseBody: this.pack(entry.responseBody) });
    if (this.buffer.length >= BATCH || this.used >= BATCH_BYTES) {
      void this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.o.flushAfterMs ?? FLUSH_MS);
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

  /** `text` appended to the body buffer as UTF-8; where it lies there. */
  private pack(text: string | null): JournalBodyRef | null {
    if (text === null) return null;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, so the write is never cut.
    const room = this.used + text.length * 3;
    if (room > this.bytes.length) {
      const grown = sharedBytes(Math.max(room, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    const start = this.used;
    this.used += this.bytes.write(text, start, 'utf8');
    return [start, this.used - start];
  }

  private async writeOnce(force: boolean): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    // The bytes used, in place (no copy: the writer thread reads this shared memory). Entries
    // recorded from now on go into the other buffer; this one takes entries again once the next
    // flush starts, which is only after this one is over.
    const sent = this.bytes;
    const bytes = new Uint8Array(sent.buffer, sent.byteOffset, this.used);
    this.buffer = [];
    this.used = 0;
    this.bytes = this.spare;
    this.spare = sent;
    if (batch.length > 0) {
      try {
        // One repo write (repoWrite): on SQLite's writer thread one message there and back.
        await this.store.transaction(repoWrite('journal', 'insertMany', batch, bytes));
        this.written(batch);
      } catch (err) {
        // One entry the database refuses must not cost the others theirs: each goes alone once.
        this.o.log.warn({ err, entries: batch.length }, 'request journal batch could not be stored; storing its entries one by one');
        const text = (b: string | JournalBodyRef | null) => (b === null || typeof b === 'string' ? b : Buffer.from(bytes.buffer, bytes.byteOffset + b[0], b[1]).toString('utf8'));
        for (const e of batch) {
          try {
            await this.store.transaction(repoWrite('journal', 'insertMany', [{ ...e, requestBody: text(e.requestBody), responseBody: text(e.responseBody) }]));
            this.written([e]);
          } catch (err1) {
            this.dropped += 1;
            this.o.log.warn({ err: err1, journalId: e.id }, 'request journal entry could not be stored; dropped');
          }
        }
      }
    }
    // Its write is over: a buffer that grew while the database was slow goes now, not at the next
    // flush, which may not come for a long time.
    if (sent.length > BYTES_KEPT) this.spare = sharedBytes(BYTES_START);
    await this.applyLimits(force);
  }

  private written(entries: StoredEntry[]): void {
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
