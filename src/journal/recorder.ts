/**
 * The request journal's writer (issue 15). Entries are buffered in memory as calls are answered and
 * written in batches: one store transaction per flush, joining the write pipeline's group commit,
 * never one per call and never before the answer is sent. A flush starts when BATCH entries are
 * waiting or FLUSH_MS after the first one arrived, whichever comes first.
 *
 * What is recorded is the call as made (its URL, key values and bodies: `RecordedCall`); the entry
 * that is stored, masked and capped (entry.ts), is built at the flush, for the whole batch in one
 * loop, which costs a read less than building it as each call is answered, between everything else
 * the request does (docs/performance.md, twenty-third session).
 *
 * Bodies are packed as UTF-8 into chunks of shared memory as they are recorded, so no body string
 * outlives its call: strings held until the flush lived through young-generation collections and
 * piled up in the old generation (under `Retrieve` load the event loop's heap grew to 130 MB of
 * them, most of the peak RSS over 250 MB; docs/performance.md). A body within the cap is packed as
 * sent and masked at the flush; one over it is masked and cut at once (`body`). BATCH_BYTES of them
 * start a flush, and at most MAX_BUFFERED_BYTES wait. A body the entry keeps as it was packed stays
 * where it lies (one that masking changed goes as text): the batch crosses to SQLite's writer thread
 * as those chunks and is stored from them without being made into strings again.
 *
 * The chunks (SharedArrayBuffer, 1 MB each: entry.ts) come from a pool: the calls recorded while a
 * batch is built and written fill other chunks, and a batch's chunks go back to the pool only once
 * its write has settled, so the store (on SQLite, its writer thread) reads the bodies where they
 * lie. A steady load allocates no new ones.
 * Before, each flush copied its bytes into a new buffer, which structured clone copied again: under
 * `Retrieve` load (25 MB of bodies a second) those copies were garbage that V8 collects late, being
 * outside its heap, and held 20–50 MB on the event loop and 10–20 MB on the writer thread. Then one
 * buffer per batch, doubled as it filled and replaced when it had grown: the same, less often
 * (docs/performance.md, twenty-fifth session).
 *
 * Durability: best effort. An entry is stored a few milliseconds after its call was answered, in a
 * transaction of its own, not with the change the call made: a process that dies in between loses
 * the entries still buffered (at most FLUSH_MS worth, or MAX_BUFFERED), and an entry the database
 * refuses (its batch failed, and so did it alone) is logged and dropped rather than retried. The
 * data the calls wrote is unaffected either way.
 *
 * Limits are kept off the request path: after a flush, the accounts written to since the last trim
 * are trimmed to their newest `maxEntries` once as many entries as that were written (or PRUNE_MS
 * went by), and entries older than `maxAgeMs` are purged at most every PRUNE_MS (sooner for a short
 * age limit). Reading the journal through the API flushes first and applies the limits at once.
 */
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import { bodyBytes, repoWrite, type JournalBodyRef, type JournalEntry, type NewJournalEntry as StoredEntry, type Store } from '../storage/store.js';
import { BodyPacker, buildEntry, ChunkPool, keptBody, STORE_CALLS, type JournalCall, type StoreCallsInput, type StoreCallsResult } from './entry.js';
import { maskedValues, redactBody, secretValues } from './redact.js';

/** A stored entry (what the journal lists), without its seq. */
export type NewJournalEntry = Omit<JournalEntry, 'seq'>;

/**
 * A call to record, as made (entry.ts's JournalCall with its bodies as text): the recorder packs the
 * bodies, and the entry is built at the flush. An empty body counts as none.
 */
export type RecordedCall = Omit<JournalCall, 'requestBody' | 'responseBody' | 'responseSize'> & {
  requestBody: string | null;
  responseBody: string | null;
};

export interface RecorderOptions {
  /** Entries kept per account; 0 keeps any number. */
  maxEntries: number;
  /** Entries older than this (ms) are purged; 0 keeps them. */
  maxAgeMs: number;
  /** Bytes of each body kept (LEADTRAIL_JOURNAL_MAX_BODY_BYTES); 0 keeps none. */
  maxBodyBytes: number;
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

/** Longest time between trims of the accounts written to, and between age purges. */
const PRUNE_MS = 60_000;
/** How long a reset's cut-off is kept (forgetBefore): longer than any call stays open (a request's body 30 s, a forced latency 60 s, a write's waits). */
const CUTOFF_KEEP_MS = 10 * 60_000;

export class JournalRecorder {
  private buffer: JournalCall[] = [];
  /** Memory for bodies, shared by the batches. */
  private readonly pool = new ChunkPool();
  /** The buffered calls' bodies, UTF-8. */
  private raw = new BodyPacker(this.pool);
  private timer: NodeJS.Timeout | null = null;
  /** The flush waiting to start (shared by everyone who asks for a flush meanwhile). */
  private queued: { force: boolean; promise: Promise<void> } | null = null;
  /** The end of the flush running or queued last. */
  private tail: Promise<void> = Promise.resolve();
  private readonly touched = new Set<string>();
  /** Accounts whose journal this process has trimmed (or will, at the flush queued). */
  private readonly trimmedOnce = new Set<string>();
  private writtenSinceTrim = 0;
  private lastTrim: number;
  private lastPurge = 0;
  /** Entries dropped because the buffer was full or their flush failed. */
  dropped = 0;
  /** Per account reset by this process: calls received before this time (epoch ms) are not recorded (forgetBefore). */
  private readonly resetCutoffs = new Map<string, number>();

  /** Chunks of body memory allocated so far (reused from batch to batch; entry.ts's ChunkPool). */
  get chunksAllocated(): number {
    return this.pool.allocated;
  }

  constructor(
    private readonly store: Pick<Store, 'transaction' | 'journal' | 'operate' | 'writesWaiting'>,
    private readonly o: RecorderOptions,
  ) {
    this.lastTrim = o.now();
  }

  /**
   * Adds a call to be built and written with the next flush. Synchronous and cheap (its bodies are
   * packed, nothing else): the caller's answer is already sent.
   */
  record(call: RecordedCall): void {
    if (this.resetCutoffs.size > 0) {
      const cutoff = this.resetCutoffs.get(call.accountId);
      if (cutoff !== undefined && call.at < cutoff) return;
    }
    if (this.buffer.length >= MAX_BUFFERED || this.raw.used >= MAX_BUFFERED_BYTES) {
      this.dropped += 1;
      return;
    }
    const [requestBody, requestSize, requestFinal] = this.body(call, call.requestBody, call.requestSize, false);
    const [responseBody, responseSize, responseFinal] = this.body(call, call.responseBody, null, true);
    this.buffer.push({
      id: call.id,
      accountId: call.accountId,
      at: call.at,
      method: call.method,
      url: call.url,
      keys: call.keys,
      requestBody,
      requestSize,
      responseBody,
      responseSize,
      final: (requestFinal ? 1 : 0) | (responseFinal ? 2 : 0),
      status: call.status,
      latencyMs: call.latencyMs,
      leadId: call.leadId,
      activityId: call.activityId,
      requestId: call.requestId,
    });
    if (this.buffer.length >= BATCH || this.raw.used >= BATCH_BYTES) {
      void this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.o.flushAfterMs ?? FLUSH_MS);
      this.timer.unref();
    }
  }

  /**
   * A body of `call` packed for its entry, the size to record for it (`sent`: its size as sent, when
   * known), and whether it is already as the entry keeps it. A body within the cap is packed as it is, and masked at the flush. One over the cap
   * is masked and cut now (keptBody, as the flush would), so that only what is kept waits in memory
   * and is packed: packed whole, a `Retrieve` answer over the cap took the peak RSS from 236 to 372 MB
   * (docs/performance.md, twenty-third session). Bodies not kept are not packed: only their sizes are.
   * `answer`: the call's answer, masked also of what the request body's masking takes out.
   */
  private body(call: RecordedCall, text: string | null, sent: number | null, answer: boolean): [JournalBodyRef | null, number | null, boolean] {
    if (!text) return [null, sent, false];
    const max = this.o.maxBodyBytes;
    // A string of n UTF-16 units is at most 3n bytes: most bodies are within the cap without counting.
    if (max !== 0 && text.length * 3 <= max) return [this.raw.pack(text), sent, false];
    const size = Buffer.byteLength(text);
    if (max === 0) return [null, sent ?? size, false];
    if (size <= max) return [this.raw.pack(text), sent, false];
    const secrets = secretValues(call.keys);
    let repeats: string[] = [];
    if (answer && call.requestBody) {
      // An answer: the values the request body's masking takes out are masked in it too, as the
      // flush does for answers within the cap (entry.ts buildEntry).
      const masked: string[] = [];
      redactBody(call.requestBody, secrets, masked);
      repeats = maskedValues(masked);
    }
    return [this.raw.pack(keptBody(text, secrets, max, undefined, repeats)), sent ?? size, true];
  }

  /**
   * A reset of `accountId` empties its journal: the calls it received before `before` (epoch ms,
   * as an entry's `at`) are dropped, those still buffered and those answered from now on. A call
   * made just before a reset and answered after it (its journal entry is recorded as it is
   * answered) had landed in the emptied journal, before the reset's own entry (a fresh-eyes run).
   * Cut-offs older than CUTOFF_KEEP_MS are let go: no call is still open from then.
   */
  forgetBefore(accountId: string, before: number): void {
    for (const [account, at] of this.resetCutoffs) if (at < before - CUTOFF_KEEP_MS) this.resetCutoffs.delete(account);
    this.resetCutoffs.set(accountId, Math.max(before, this.resetCutoffs.get(accountId) ?? before));
    if (this.buffer.some((c) => c.accountId === accountId && c.at < before)) {
      // Their packed bodies stay in the chunks until the batch is written, unread.
      this.buffer = this.buffer.filter((c) => c.accountId !== accountId || c.at >= before);
    }
  }

  /**
   * Writes everything recorded so far, then applies the limits; resolves when done (never rejects:
   * a failed write is logged). Calls made while a flush waits to start share it. With `limits`,
   * the limits are applied now rather than when their thresholds are reached, so what is read next
   * is within them; `account`, the account about to be read, is then trimmed too, the first time,
   * although this process wrote nothing of it yet.
   */
  flush(limits = false, account?: string): Promise<void> {
    // An account this process has not trimmed yet (entries from before a restart, or written by
    // another process) is trimmed at its first read, so that a read is within the limits.
    if (limits && account !== undefined && !this.trimmedOnce.has(account)) {
      this.trimmedOnce.add(account);
      this.touched.add(account);
    }
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
    const calls = this.buffer;
    // Calls recorded from now on go into other chunks; this batch's go back to the pool once its
    // write has settled.
    const sent = this.raw;
    this.buffer = [];
    this.raw = new BodyPacker(this.pool);
    const chunks = sent.views();
    if (calls.length > 0 && !(await this.storeOnWriter(calls, chunks))) {
      // Built here, the whole batch at once: cheaper than one at a time as calls are answered
      // (docs/performance.md, twenty-third session).
      const entries: StoredEntry[] = [];
      for (const c of calls) {
        try {
          entries.push(buildEntry(c, chunks, this.o.maxBodyBytes));
        } catch (err) {
          // Never, short of a fault in the packing: the others are stored all the same.
          this.dropped += 1;
          this.o.log.warn({ err, journalId: c.id }, 'request journal entry could not be built; dropped');
        }
      }
      // In place (no copy: SQLite's writer thread reads this shared memory).
      await this.storeBatch(entries, chunks);
    }
    // Its write is over (storeBatch never rejects): nothing reads these chunks any more.
    sent.release();
    await this.applyLimits(force);
  }

  /**
   * Has the store's writer thread build the batch's entries and store them (`storeCalls`, run as
   * the named operation STORE_CALLS: SQLite's writer thread, `Store.operate`) when that thread is
   * idle; true once they are stored. Reads keep the event loop busy and leave the writer thread
   * idle, and the batch crosses to it either way: sent as calls, it costs the event loop no masking.
   * Writes keep the writer thread busy, and every caller of a batch waits for it, so with writes
   * waiting there the entries are built here as before (docs/performance.md, twenty-ninth session).
   * False where the store has no such thread (PostgreSQL, SQLite without the thread), while it has
   * writes waiting, or when the operation failed, which rolled it back whole: the caller then builds
   * the entries here and stores them, one by one if need be (storeBatch), which logs what fails.
   */
  private async storeOnWriter(calls: JournalCall[], chunks: Uint8Array[]): Promise<boolean> {
    const operate = this.store.operate;
    if (!operate || (this.store.writesWaiting?.() ?? 1) > 0) return false;
    const input: StoreCallsInput = { calls, chunks, maxBodyBytes: this.o.maxBodyBytes };
    let result: StoreCallsResult;
    try {
      result = (await operate.call(this.store, STORE_CALLS, { now: this.o.now(), userId: null }, input)) as StoreCallsResult;
    } catch (err) {
      this.o.log.debug({ err, entries: calls.length }, 'request journal batch not stored on the writer thread; building it here');
      return false;
    }
    const unbuilt = new Set(result.unbuilt.map((u) => u.id));
    for (const u of result.unbuilt) {
      // Never, short of a fault in the packing: the others are stored all the same.
      this.dropped += 1;
      this.o.log.warn({ err: u.error, journalId: u.id }, 'request journal entry could not be built; dropped');
    }
    this.written(unbuilt.size === 0 ? calls : calls.filter((c) => !unbuilt.has(c.id)));
    return true;
  }

  /** Stores a batch of entries (bodies in `chunks`): in one transaction, or one by one if that fails. */
  private async storeBatch(batch: StoredEntry[], chunks: Uint8Array[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      // One repo write (repoWrite): on SQLite's writer thread one message there and back.
      await this.store.transaction(repoWrite('journal', 'insertMany', batch, chunks));
      this.written(batch);
    } catch (err) {
      // One entry the database refuses must not cost the others theirs: each goes alone once.
      this.o.log.warn({ err, entries: batch.length }, 'request journal batch could not be stored; storing its entries one by one');
      const text = (b: string | JournalBodyRef | null) => (b === null || typeof b === 'string' ? b : bodyBytes(chunks, b).toString('utf8'));
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

  private written(entries: readonly { accountId: string }[]): void {
    for (const e of entries) this.touched.add(e.accountId);
    this.writtenSinceTrim += entries.length;
  }

  private async applyLimits(force: boolean): Promise<void> {
    const now = this.o.now();
    const { maxEntries, maxAgeMs } = this.o;
    try {
      if (maxEntries > 0 && this.touched.size > 0 && (force || this.writtenSinceTrim >= maxEntries || now - this.lastTrim >= PRUNE_MS)) {
        const accounts = [...this.touched];
        for (const a of accounts) this.trimmedOnce.add(a);
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
    r = new JournalRecorder(s.store, {
      maxEntries: s.config.journalMaxEntries,
      maxAgeMs: s.config.journalMaxAgeMs,
      maxBodyBytes: s.config.journalMaxBodyBytes,
      now: () => s.ctx.now(),
      log: s.log,
    });
    recorders.set(s, r);
  }
  return r;
}

/**
 * Writes this process's buffered journal entries now (and applies the limits, to `accountId` too
 * when given): before reading the journal, so a call answered a moment ago is listed and the
 * entries read are within the limits, and before resetting an account.
 */
export async function flushJournal(s: Services, accountId?: string): Promise<void> {
  await journalRecorder(s)?.flush(true, accountId);
}
