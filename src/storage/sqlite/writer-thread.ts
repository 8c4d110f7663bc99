/**
 * The SQLite writer thread (issue 11): a worker thread that owns the writer connection and the write
 * pipeline (group commit, checkpoints), so that running the statements, the COMMIT and
 * its fsync no longer take the event loop's core. The event loop's side is thread-store.ts; the
 * messages are writer-protocol.ts.
 *
 * What runs here:
 * - named operations (`op`), from the module whose URL `workerData.operations` gives: the whole
 *   operation, domain rules included, runs on this thread (the hot writes: sync Create and friends);
 * - one repo write as a transaction of its own (`write`): a `repoWrite` (an async request batch,
 *   the request journal's entries, a webhook attempt), or a repo write made outside a transaction;
 * - transactions whose function runs on the event loop (`tx`): the function's repo calls arrive one
 *   by one (`call`) and run here as that caller's. Everything else that writes works this way,
 *   unchanged, at the cost of a message per call.
 *
 * The store here commits with `synchronous=FULL` (`durableCommit`): the COMMIT returns once the WAL
 * is on disk, and only then do other connections (the event loop's reader) see it. `done` is sent
 * after that, so a caller answered has its change on disk, and reads made after it see it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TransactionClosed } from '../pipeline.js';
import type { Repos, Store } from '../store.js';
import { openSqliteStore, type SqliteOptions } from './sqlite-store.js';
import type { EncodedError, ErrorCodec, NamedOperation, OperationsModule } from '../operations.js';
import { decodeError, encodeError, type FromWriter, type RepoCall, type ToWriter, type WriteCounters } from './writer-protocol.js';

export interface WriterThreadData {
  file: string;
  options: Pick<SqliteOptions, 'fnTimeoutMs'>;
  /** URL of the OperationsModule to load, if any. */
  operations: string | null;
}

const port = parentPort!;
const data = workerData as WriterThreadData;
/**
 * Messages to the event loop wait until the microtasks running now are done and go together as one
 * array (see thread-store.ts's `send`): the `done` of every caller of a batch leave as one message.
 * `now` sends at once, with whatever waits before it (the start-up and closing messages).
 */
let outbox: FromWriter[] = [];
let encodeFailure: (e: unknown) => EncodedError = (e) => encodeError(e);
function postAlone(m: FromWriter): void {
  try {
    port.postMessage(m);
  } catch (e) {
    // A value structured clone refuses (an answer holding a function): its caller gets the error instead.
    if (m.t === 'done') port.postMessage({ t: 'done', id: m.id, ok: false, error: encodeFailure(e), w: m.w });
    else if (m.t === 'result') port.postMessage({ t: 'result', cid: m.cid, ok: false, error: encodeFailure(e) });
    else throw e;
  }
}
function flushOut(): void {
  if (outbox.length === 0) return;
  const out = outbox;
  outbox = [];
  if (out.length === 1) return postAlone(out[0]);
  try {
    port.postMessage(out);
  } catch {
    for (const m of out) postAlone(m);
  }
}
function post(m: FromWriter, now = false): void {
  outbox.push(m);
  if (now) flushOut();
  else if (outbox.length === 1) queueMicrotask(flushOut);
}

/** A transaction whose function runs on the event loop: its tx here, and how to end it. */
interface Remote {
  tx: Repos;
  end: (ok: boolean) => void;
}

function callRepo(tx: Repos, c: RepoCall): Promise<unknown> {
  const repo = tx[c.repo] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>> | undefined;
  const fn = repo?.[c.method];
  if (typeof fn !== 'function') return Promise.reject(new Error(`no repo method ${String(c.repo)}.${c.method}`));
  return fn.apply(repo, c.args);
}

/** The function ran on the event loop and threw: its caller there has the error itself. */
class RemoteFailed extends Error {
  override name = 'RemoteFailed';
}

async function main(): Promise<void> {
  let store: Store;
  let ops: Record<string, NamedOperation> = {};
  let codec: ErrorCodec | undefined;
  try {
    if (data.operations) {
      const mod = (await import(data.operations)) as OperationsModule;
      ops = mod.threadOperations;
      codec = mod.errorCodec;
    }
    store = await openSqliteStore(data.file, { ...data.options, durableCommit: true });
  } catch (e) {
    post({ t: 'failed', error: encodeError(e, codec) }, true);
    return;
  }
  encodeFailure = (e) => encodeError(e, codec);
  const remotes = new Map<number, Remote>();
  const counters = (): WriteCounters => {
    const w = store.writeStats();
    return [w.batches, w.callers, w.largestBatch, w.busySeconds];
  };
  const settle = (id: number, p: Promise<unknown>) =>
    p.then(
      (value) => post({ t: 'done', id, ok: true, value, w: counters() }),
      (e: unknown) => post({ t: 'done', id, ok: false, error: encodeError(e, codec), w: counters() }),
    );

  // Checkpoint and pipeline counters for metrics, sent when they change (at most every 500 ms). The
  // pipeline's also travel with every `done`, but a caller rejected in the middle of its batch is
  // answered before the batch's time is counted: if no other answer follows, this one brings it.
  let lastStats = '';
  const stats = setInterval(() => {
    const checkpoint = store.checkpointStats?.() ?? null;
    const w = counters();
    const text = JSON.stringify([checkpoint, w]);
    if (text === lastStats) return;
    lastStats = text;
    post({ t: 'stats', checkpoint, w });
  }, 500);
  stats.unref();

  const handle = (m: ToWriter) => {
    switch (m.t) {
      case 'op': {
        const op = ops[m.name];
        settle(m.id, op ? store.transaction((tx) => op(tx, m.call, m.input)) : Promise.reject(new Error(`no operation named "${m.name}" in the writer thread`)));
        break;
      }
      case 'write':
        settle(m.id, store.transaction((tx) => callRepo(tx, m)));
        break;
      case 'tx': {
        const run = (tx: Repos) =>
          new Promise<null>((resolve, reject) => {
            remotes.set(m.id, { tx, end: (ok) => (ok ? resolve(null) : reject(new RemoteFailed())) });
            post({ t: 'begin', id: m.id });
          }).finally(() => remotes.delete(m.id));
        settle(m.id, m.solo ? store.exclusive(run, { timeoutMs: m.timeoutMs }) : store.transaction(run));
        break;
      }
      case 'call': {
        const r = remotes.get(m.id);
        const p = r ? callRepo(r.tx, m) : Promise.reject(decodeError({ kind: 'TransactionClosed', name: 'TransactionClosed', message: '' }));
        p.then(
          (value) => post({ t: 'result', cid: m.cid, ok: true, value }),
          (e: unknown) => post({ t: 'result', cid: m.cid, ok: false, error: encodeError(e, codec) }),
        );
        break;
      }
      case 'append': {
        const r = remotes.get(m.id);
        // A record of a transaction already over (timed out here) is dropped with it: its tx refuses
        // it, and that refusal, thrown in this listener, would have ended the thread.
        try {
          r?.tx.append?.(m.record);
        } catch (e) {
          if (!(e instanceof TransactionClosed)) throw e;
        }
        break;
      }
      case 'end':
        remotes.get(m.id)?.end(m.ok);
        break;
      case 'migrate':
        settle(m.id, store.migrate());
        break;
      case 'close':
        clearInterval(stats);
        void store.close().then(
          () => {
            post({ t: 'closed' }, true);
            port.close();
          },
          (e: unknown) => {
            post({ t: 'failed', error: encodeError(e, codec) }, true);
            port.close();
          },
        );
        break;
    }
  };
  port.on('message', (m: ToWriter | ToWriter[]) => {
    if (Array.isArray(m)) for (const one of m) handle(one);
    else handle(m);
  });
  post({ t: 'ready' }, true);
}

void main();
