/**
 * What the event loop and the SQLite writer thread (writer-thread.ts, thread-store.ts) say to each
 * other, and how errors cross between them. Messages travel by `postMessage` (structured clone), so
 * everything in them is plain data: no functions, no class instances. An error is sent as an
 * `EncodedError` and made into the same class again on the other side: the storage errors here, the
 * domain's by the `ErrorCodec` the operations module gives.
 */
import type { EncodedError, ErrorCodec } from '../operations.js';
import { TransactionClosed, TransactionTimeout } from '../pipeline.js';
import { UniqueViolation, type CallContext, type RepoCall, type TxRecord } from '../store.js';

export type { RepoCall };

/** [batches, callers, largest batch, busy seconds] of the writer thread's pipeline (PipelineStats). */
export type WriteCounters = [number, number, number, number];

/** Event loop → writer thread. `id` names one transaction or operation; `cid` one repo call inside it. */
export type ToWriter =
  /** Run operation `name` in a transaction of its own; answered by `done`. */
  | { t: 'op'; id: number; name: string; call: CallContext; input: unknown }
  /** One repo write as a transaction of its own (a `repoWrite`, or a write made outside a transaction); answered by `done`. */
  | ({ t: 'write'; id: number } & RepoCall)
  /** Open a transaction whose function runs on the event loop: answered by `begin`, then `done`. */
  | { t: 'tx'; id: number; solo: boolean; /** Store.exclusive's timeoutMs. */ timeoutMs?: number }
  /** A repo call of that function, inside its transaction; answered by `result`. */
  | ({ t: 'call'; id: number; cid: number } & RepoCall)
  /** A record the function appended (Repos.append). */
  | { t: 'append'; id: number; record: TxRecord }
  /** The function has ended: `ok` false rolls its writes back. */
  | { t: 'end'; id: number; ok: boolean }
  | { t: 'migrate'; id: number }
  | { t: 'close' };

/** Writer thread → event loop. */
export type FromWriter =
  | { t: 'ready' }
  /** The store could not be opened (the thread then exits). */
  | { t: 'failed'; error: EncodedError }
  | { t: 'begin'; id: number }
  | { t: 'result'; cid: number; ok: true; value: unknown }
  | { t: 'result'; cid: number; ok: false; error: EncodedError }
  /**
   * The transaction or operation is over: committed and on disk (`ok`), or not. `w`: the pipeline's
   * counters (batches, callers, largest batch, busy seconds) as it ends, for Store.writeStats.
   */
  | { t: 'done'; id: number; ok: true; value: unknown; w: WriteCounters }
  | { t: 'done'; id: number; ok: false; error: EncodedError; w: WriteCounters }
  /** The checkpoint thread's counters and the pipeline's, sent when they change (at most every 500 ms). */
  | { t: 'stats'; checkpoint: { passive: number; restart: number; restartBusy: number; failed: boolean } | null; w: WriteCounters }
  | { t: 'closed' };

/** An error as plain data: the codec's own first, then the storage errors, then any Error by its name, message and code. */
export function encodeError(e: unknown, codec?: ErrorCodec): EncodedError {
  const own = codec?.encode(e);
  if (own) return own;
  if (e instanceof TransactionTimeout) return { kind: 'TransactionTimeout', name: e.name, message: e.message };
  if (e instanceof TransactionClosed) return { kind: 'TransactionClosed', name: e.name, message: e.message };
  if (e instanceof UniqueViolation) return { kind: 'UniqueViolation', name: e.name, message: e.message, data: e.detail };
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { kind: 'Error', name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { kind: 'Error', name: 'Error', message: String(e) };
}

/** The error `encodeError` described, of the same class where this side knows it. */
export function decodeError(d: EncodedError, codec?: ErrorCodec): Error {
  const own = codec?.decode(d);
  if (own) return own;
  let e: Error;
  if (d.kind === 'TransactionTimeout') {
    e = new TransactionTimeout(0);
    e.message = d.message;
  } else if (d.kind === 'TransactionClosed') e = new TransactionClosed();
  else if (d.kind === 'UniqueViolation') e = new UniqueViolation(String(d.data));
  else {
    e = new Error(d.message);
    e.name = d.name;
    if (d.code) (e as { code?: string }).code = d.code;
  }
  return e;
}
