/**
 * The SQLite store with its writes on a thread of their own (`LEADTRAIL_SQLITE_WRITER=thread`,
 * issue 11): the event loop keeps a reader connection for reads made outside a transaction, and
 * hands every write to the writer thread (writer-thread.ts), which owns the writer connection and
 * the write pipeline. The same `Store` as openSqliteStore's, with the same promises: a write
 * resolves once committed and on disk; reads see only committed data.
 *
 * How each kind of write travels (writer-protocol.ts):
 * - `operate(name, …)`: one message there, one back; the operation runs wholly on the writer thread;
 * - a repo write outside a transaction (`store.journal.insertMany(…)`): likewise;
 * - `transaction(fn)`: `fn` runs here, and each of its repo calls is a message there and back, run
 *   as that caller's on the writer thread. Correct for any `fn`, slower than an operation:
 *   the hot paths are operations.
 *
 * Records appended in `fn` (`tx.append`) go to the writer thread, whose store writes them with the
 * writers it registered itself (webhook events); a writer registered here with
 * `registerRecordWriter` runs here, through `fn`'s tx, before the transaction ends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Kysely } from 'kysely';
import { TransactionClosed, timeoutError } from '../pipeline.js';
import type { CallContext, Repos, RepoWrite, Store, TxRecord, TxRecordWriter } from '../store.js';
import { cachedRepos, RefCache } from '../sql/ref-cache.js';
import { reposFor, routedRepos } from '../sql/sql-store.js';
import type { DB } from '../sql/schema.js';
import { ReadThread } from './read-thread-client.js';
import { COMMIT_SETTLE_MS, ReadTurns, settleSince, type ReadTurnOptions } from './read-turns.js';
import { connect, GatedSqliteDialect, readerToken, withStatementCache } from './sqlite-store.js';
import { UnsendableInput, type EncodedError, type ErrorCodec } from '../operations.js';
import { decodeError, type FromWriter, type RepoCall, type ToWriter, type WriteCounters } from './writer-protocol.js';
import type { WriterThreadData } from './writer-thread.js';

export interface ThreadStoreOptions {
  fnTimeoutMs?: number;
  /** URL of the operations module the writer thread loads (OperationsModule), and its error codec here. */
  operations?: { url: URL; errorCodec?: ErrorCodec };
  /** The reader's shared read transactions (read-turns.ts; tests freeze their clock and scheduler). */
  readTurns?: ReadTurnOptions;
}

/** The writer thread's young generation, in MB (see openThreadedSqliteStore). */
const WRITER_YOUNG_GENERATION_MB = 12;
/** The writer thread's old generation at most, in MB (see openThreadedSqliteStore). */
const WRITER_OLD_GENERATION_MB = 1024;

/**
 * A thread's script (`writer-thread`, `read-thread`). Built, it sits next to this file; run from the
 * TypeScript sources (the tests), next to it is a .ts file a worker cannot run, so the built one in
 * dist/ is used, which `npm test` builds first.
 */
function threadScript(name: 'writer-thread' | 'read-thread'): URL {
  const here = new URL(`./${name}.js`, import.meta.url);
  if (fs.existsSync(fileURLToPath(here))) return here;
  return new URL(`../../../dist/storage/sqlite/${name}.js`, import.meta.url);
}

/** The module `url` names, or the same module built when run from the TypeScript sources (see threadScript). */
function runnable(url: URL): URL {
  if (url.protocol !== 'file:' || (!url.pathname.endsWith('.ts') && fs.existsSync(fileURLToPath(url)))) return url;
  return new URL(url.href.replace(/\/src\/(.*)\.[jt]s$/, '/dist/$1.js'));
}

/** Something waiting for the writer thread: a `done` (operations, writes, transactions) or a `result` (a repo call). */
interface Waiting {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** A transaction whose function runs here. */
interface LocalTx {
  fn: (tx: Repos) => Promise<unknown>;
  /** What fn resolved with, or the error it threw (kept here: the writer thread only learns that it failed). */
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
  close?: () => void;
}

/**
 * Opens the SQLite file with a writer thread (migrating it there) and a reader here. Rejects if the
 * thread cannot open the store.
 */
export async function openThreadedSqliteStore(file: string, opts: ThreadStoreOptions = {}): Promise<Store & { refCache: RefCache }> {
  const codec = opts.operations?.errorCodec;
  const data: WriterThreadData = {
    file,
    options: { fnTimeoutMs: opts.fnTimeoutMs },
    operations: opts.operations ? runnable(opts.operations.url).href : null,
  };
  // A young generation of 12 MB instead of V8's default: the thread's garbage is short-lived
  // (statements, rows, messages), and peak RSS under sync Create load went from 272–278 MB to
  // 231–248 at the same throughput. At 6 MB it collected often enough to cost 7% of throughput.
  // An old generation of at most 1 GB: on a machine with several GB, V8 lets a heap with no limit of
  // its own grow to 4 times what it kept at its last full collection before the next one, and the
  // thread keeps about 17 MB, so its heap swung between 20 and 73 MB under sync Create load. Under a
  // 1 GB limit V8 grows it by 1.6 times (heap-controller.cc, MaxGrowingFactor): peak RSS of sync
  // Create by id and by email went from 231–251 MB to 191–205, at the same throughput (six pairs).
  // A thread that needs more than 1 GB stops, and the store fails as for any death of its thread.
  const worker = new Worker(threadScript('writer-thread'), {
    workerData: data,
    resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: WRITER_OLD_GENERATION_MB },
  });
  let nextId = 0;
  const waiting = new Map<number, Waiting>();
  const calls = new Map<number, Waiting>();
  const locals = new Map<number, LocalTx>();
  const recordWriters = new Map<string, TxRecordWriter>();
  let stats: Extract<FromWriter, { t: 'stats' }> = { t: 'stats', checkpoint: null, w: [0, 0, 0, 0] };
  let counters: WriteCounters = [0, 0, 0, 0];
  let dead: Error | null = null;
  /** The reader's shared read transactions (made once the writer thread is ready). */
  let turns: ReadTurns | null = null;
  /** When the last write's outcome arrived (ReadTurnOptions.settleNow), for close()'s settle; null: none yet. */
  let lastWriteDone: number | null = null;
  const settleNow = opts.readTurns?.settleNow ?? (() => performance.now());
  let closed: (() => void) | null = null;
  let closing = false;
  let fail!: (e: Error) => void;
  // Store.failed: the thread died other than by close (an uncaught error, an exit of its own).
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  /**
   * Operations (`op`: one per sync request, one per request the async worker applies) wait in
   * `outbox` until this turn's check phase and go together as one array: a message each cost about
   * 16 µs of CPU per round trip between the two threads, an array of 27 about 4 µs per message
   * (docs/performance.md, thirteenth session). Every other message first sends whatever waits, then
   * goes at once, so the writer thread sees them all in the order they were sent, and a repo call
   * inside a transaction waits for nothing. Writes (`write`) go at once too: each is already a batch
   * (an accept's, the journal's), and an accept's is sent from the check phase (enqueuer.ts waits a
   * turn first), where a `setImmediate` would only run after the next poll phase.
   */
  let outbox: { m: ToWriter; refused: (e: unknown) => void }[] = [];
  const sendAlone = (o: { m: ToWriter; refused: (e: unknown) => void }) => {
    try {
      worker.postMessage(o.m);
    } catch (e) {
      o.refused(e);
    }
  };
  const flush = () => {
    if (outbox.length === 0) return;
    const out = outbox;
    outbox = [];
    if (out.length === 1) return sendAlone(out[0]);
    try {
      worker.postMessage(out.map((o) => o.m));
    } catch {
      // One that structured clone refuses must not cost the others: each goes alone, in order.
      for (const o of out) sendAlone(o);
    }
  };
  /** Sends `m`; `refused` is told if structured clone refuses it (an `op` learns that later, at the flush). */
  const send = (m: ToWriter, refused?: (e: unknown) => void) => {
    if (refused && m.t === 'op') {
      outbox.push({ m, refused });
      if (outbox.length === 1) setImmediate(flush);
      return;
    }
    flush();
    worker.postMessage(m);
  };

  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromWriter) => {
      switch (m.t) {
        case 'ready':
          resolve();
          break;
        case 'failed':
          dead = decodeError(m.error, codec);
          reject(dead);
          break;
        case 'done':
          // A write's outcome: reads from now on must see it (read-turns.ts).
          turns?.end();
          lastWriteDone = settleNow();
          counters = m.w;
          answer(waiting, m.id, m);
          break;
        case 'result':
          answer(calls, m.cid, m);
          break;
        case 'begin':
          runLocal(m.id);
          break;
        case 'stats':
          stats = m;
          // Sent in order with the answers, so never older than the counters of an answer before it.
          counters = m.w;
          break;
        case 'closed':
          closed?.();
          break;
      }
    };
    worker.on('message', (m: FromWriter | FromWriter[]) => {
      if (Array.isArray(m)) for (const one of m) onMessage(one);
      else onMessage(m);
    });
    worker.on('error', (e) => {
      dead = e;
      reject(e);
      failAll(e);
      if (!closing) fail(e);
    });
    worker.on('exit', (code) => {
      if (!dead && !closed) {
        dead = new Error(`the SQLite writer thread stopped (exit code ${code})`);
        fail(dead);
      }
      if (dead) failAll(dead);
      closed?.();
    });
  });

  /** Settles whoever waits under `key` with the writer thread's answer. */
  function answer(from: Map<number, Waiting>, key: number, m: { ok: true; value: unknown } | { ok: false; error: EncodedError }): void {
    const w = from.get(key);
    from.delete(key);
    if (!w) return;
    if (m.ok) w.resolve(m.value);
    else w.reject(decodeError(m.error, codec));
  }

  function failAll(e: Error): void {
    for (const w of [...waiting.values(), ...calls.values()]) w.reject(e);
    waiting.clear();
    calls.clear();
  }

  /** Sends `m`, to be answered under `key` in `to`. */
  function ask(to: Map<number, Waiting>, key: number, m: ToWriter): Promise<unknown> {
    return new Promise((resolve, reject) => {
      to.set(key, { resolve, reject });
      // Nothing was sent: a value structured clone refuses (a function, an array nested too deep).
      const refused = (e: unknown) => {
        to.delete(key);
        reject(new UnsendableInput(e));
      };
      try {
        send(m, refused);
      } catch (e) {
        refused(e);
      }
    });
  }

  /** Sends `m` with a new id and resolves with what its `done` carries. */
  function request(make: (id: number) => ToWriter): Promise<unknown> {
    if (dead) return Promise.reject(dead);
    const id = ++nextId;
    return ask(waiting, id, make(id));
  }

  /** The tx `fn` sees: each repo call a message to the writer thread; closed once fn has ended. */
  function remoteTx(id: number, local: LocalTx): { tx: Repos; records: TxRecord[] } {
    let open = true;
    local.close = () => (open = false);
    const records: TxRecord[] = [];
    const repo = (name: keyof Repos) =>
      new Proxy(
        {},
        {
          get: (_t, method) =>
            typeof method !== 'string'
              ? undefined
              : (...args: unknown[]) => {
                  if (!open || dead) return Promise.reject(dead ?? new TransactionClosed());
                  const cid = ++nextId;
                  const c: RepoCall = { repo: name, method, args };
                  return ask(calls, cid, { t: 'call', id, cid, ...c });
                },
        },
      );
    const tx = {
      accounts: repo('accounts'),
      leads: repo('leads'),
      leadFields: repo('leadFields'),
      activityTypes: repo('activityTypes'),
      activities: repo('activities'),
      requests: repo('requests'),
      journal: repo('journal'),
      faultRules: repo('faultRules'),
      webhooks: repo('webhooks'),
      append: (record: TxRecord) => {
        if (!open) throw new TransactionClosed();
        records.push(record);
      },
    } as unknown as Repos;
    return { tx, records };
  }

  /**
   * The writer thread has begun `id` as a caller of a batch: run its function here, then say how it
   * ended. It may begin again (the batch was rolled back for another caller): the function runs again.
   */
  function runLocal(id: number): void {
    const local = locals.get(id);
    if (!local) {
      send({ t: 'end', id, ok: false });
      return;
    }
    const { tx, records } = remoteTx(id, local);
    void (async () => {
      try {
        const value = await local.fn(tx);
        // Records for writers registered here are written through tx, with the function's writes; the
        // others go to the writer thread's own writers.
        const mine = new Map<string, TxRecord[]>();
        for (const r of records) {
          if (recordWriters.has(r.kind)) mine.set(r.kind, [...(mine.get(r.kind) ?? []), r]);
          else send({ t: 'append', id, record: r });
        }
        for (const [kind, list] of mine) await recordWriters.get(kind)!(tx, list);
        local.outcome = { ok: true, value };
      } catch (error) {
        local.outcome = { ok: false, error };
      } finally {
        local.close?.();
      }
      send({ t: 'end', id, ok: local.outcome.ok });
    })();
  }

  function transaction<T>(fn: (tx: Repos) => Promise<T>, solo: boolean, timeoutMs?: number): Promise<T> {
    if (dead) return Promise.reject(dead);
    // Refused here, as the pipeline refuses it: the writer thread's error would cross as a plain Error.
    const bad = timeoutError(timeoutMs);
    if (bad) return Promise.reject(bad);
    // One repo write (repoWrite): run there whole, one message each way.
    const one = (fn as Partial<RepoWrite<T>>).repoCall;
    if (one && !solo) return request((id) => ({ t: 'write', id, ...one })) as Promise<T>;
    const id = ++nextId;
    const local: LocalTx = { fn };
    locals.set(id, local);
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, {
        resolve: () => {
          locals.delete(id);
          const o = local.outcome;
          if (o?.ok) resolve(o.value as T);
          else reject(o ? o.error : new Error('the transaction ended without its function'));
        },
        reject: (e) => {
          locals.delete(id);
          local.close?.();
          // fn's own error wins: the writer thread only knows that it failed.
          reject(local.outcome && !local.outcome.ok ? local.outcome.error : e);
        },
      });
      send({ t: 'tx', id, solo, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    });
  }

  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }

  // The reader: migrated by now (the writer thread opened the store).
  const readConn = connect(file, 'FULL');
  readConn.pragma('query_only = ON');
  // Once the writer thread has died, reads fail too (a readiness probe then says so), as they do
  // after a failed fsync on the event-loop writer: nothing is served by a store that cannot write.
  // Its statements share a read transaction while it is young, ended by any write's outcome, the
  // next check phase or 1 ms (read-turns.ts).
  turns = new ReadTurns(readConn, opts.readTurns);
  const reader = new Kysely<DB>({ dialect: new GatedSqliteDialect(withStatementCache(readConn, undefined, turns), () => (dead && !closing ? Promise.reject(dead) : null)) });
  const refCache = new RefCache();
  const cached = cachedRepos(reposFor(reader, 'sqlite'), refCache, readerToken(readConn, readConn, turns).read, false);
  // Lead searches, which may read much of an account, run on the read thread (read-thread.ts):
  // neither the event loop nor the writer thread waits for them.
  const reads = new ReadThread(file, threadScript('read-thread'), () => (closing ? new Error('the store is closed') : dead));
  const readRepos: Repos = { ...cached, leads: { ...cached.leads, search: (accountId, q) => reads.call('leads', 'search', [accountId, q]) as ReturnType<Repos['leads']['search']> } };
  const writeOutside = (repo: keyof Repos, method: string, args: unknown[]) => request((id) => ({ t: 'write', id, repo, method, args }));

  return {
    engine: 'sqlite',
    where: path.resolve(file),
    // The reads' cache, as sqlStore exposes its own (tests read its counters).
    refCache,
    ...routedRepos(readRepos, writeOutside),
    transaction: (fn) => transaction(fn, false),
    exclusive: (fn, options) => transaction(fn, true, options?.timeoutMs),
    operate: (name: string, call: CallContext, input: unknown) => request((id) => ({ t: 'op', id, name, call, input })),
    writesWaiting: () => waiting.size,
    newReadSnapshot: () => turns?.end(),
    registerRecordWriter(kind, writer) {
      if (recordWriters.has(kind)) throw new Error(`a record writer for "${kind}" is already registered`);
      recordWriters.set(kind, writer);
      return () => {
        if (recordWriters.get(kind) === writer) recordWriters.delete(kind);
      };
    },
    writeStats: () => ({ batches: counters[0], callers: counters[1], largestBatch: counters[2], busySeconds: counters[3] }),
    checkpointStats: () => ({ ...(stats.checkpoint ?? { passive: 0, restart: 0, restartBusy: 0, failed: false }) }),
    failed,
    migrate: async () => {
      await request((id) => ({ t: 'migrate', id }));
    },
    close: async () => {
      closing = true;
      if (!dead) {
        const done = new Promise<void>((r) => (closed = r));
        send({ t: 'close' });
        await done;
      }
      dead ??= new Error('the store is closed');
      await reads.close();
      await reader.destroy();
      // A server on the same file reads a change of this store's (a CLI command's) in every request
      // sent once this has resolved (read-turns.ts).
      await settleSince(lastWriteDone, COMMIT_SETTLE_MS, settleNow);
    },
  };
}

