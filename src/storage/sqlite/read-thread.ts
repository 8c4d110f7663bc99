/**
 * The SQLite read thread: a worker thread with a read-only connection of its own, for the reads that
 * may read much of an account (`LeadRepo.search`: `Leads.Get`, `Leads.RecentlyModified`,
 * `Leads/Retrieve/ByIds`). The event loop's side is `ReadThread` in read-thread-client.ts.
 *
 * Why a thread: such a search is one statement, or a few, that may read a million index entries (a
 * `<>`, a leading-wildcard `LIKE` that matches few, `RecordCount` of a wide window): 0.1–1.4 s on a
 * million-lead account. Until the nineteenth session it ran on the writer thread, as a write (it was
 * missing from READ_METHODS), and every write waited for it; on the event loop's reader, every call
 * would. Here it holds neither: writes and other reads go on beside it, on the other core.
 *
 * Each call runs in a read transaction of its own (one snapshot for its statements: the page and
 * RecordCount agree), begun when it starts: it sees every write committed before, as a read on the
 * event loop would. Calls run one after another, in the order they came.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, SqliteDialect } from 'kysely';
import type { Repos } from '../store.js';
import { reposFor } from '../sql/sql-store.js';
import type { DB } from '../sql/schema.js';
import { connect, withStatementCache } from './sqlite-store.js';
import type { EncodedError } from '../operations.js';
import { encodeError, type RepoCall } from './writer-protocol.js';

export interface ReadThreadData {
  file: string;
}

/** A repo read, by the caller's id. */
export type ToReader = { id: number } & RepoCall;
/** Its answer: `value` is the repo method's result, as structured clone carries it. */
export type FromReader = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: EncodedError };

const port = parentPort!;
const { file } = workerData as ReadThreadData;
const conn = connect(file, 'FULL');
conn.pragma('query_only = ON');
const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(conn) }) });
const repos: Repos = reposFor(db, 'sqlite');
const begin = conn.prepare('BEGIN');
const commit = conn.prepare('COMMIT');

async function run(m: ToReader): Promise<FromReader> {
  const repo = repos[m.repo] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>> | undefined;
  const fn = repo?.[m.method];
  if (typeof fn !== 'function') return { id: m.id, ok: false, error: encodeError(new Error(`no repo method ${String(m.repo)}.${m.method}`)) };
  try {
    begin.run();
    return { id: m.id, ok: true, value: await fn.apply(repo, m.args) };
  } catch (e) {
    return { id: m.id, ok: false, error: encodeError(e) };
  } finally {
    // A read transaction's COMMIT only ends it; if it fails, the next BEGIN says so to its caller.
    try {
      if (conn.inTransaction) commit.run();
    } catch {
      /* see above */
    }
  }
}

function answer(a: FromReader): void {
  try {
    port.postMessage(a);
  } catch (e) {
    // A value structured clone refuses: its caller gets the error instead.
    port.postMessage({ id: a.id, ok: false, error: encodeError(e) } satisfies FromReader);
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToReader | 'close') => {
  if (m === 'close') {
    queue = queue.then(() => {
      conn.close();
      port.close();
    });
    return;
  }
  // run never rejects (its errors are answers). A failure to answer at all is the thread's own: it
  // stops, and the event loop's side fails the calls still waiting (read-thread-client.ts).
  queue = queue
    .then(() => run(m).then(answer))
    .catch((e: unknown) => {
      setImmediate(() => {
        throw e;
      });
    });
});
