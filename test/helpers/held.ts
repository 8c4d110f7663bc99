/**
 * A race between a server's call and another process's write, made certain: the write is held open
 * until the call waits for it. Used where the order of two writes of one row is the question (a
 * lead deleted beside its activity post, a webhook updated beside its worker's attempt).
 */
import type { Repos, Store } from '../../src/storage/store.js';
import { sleep, waitFor } from '../async/helpers.js';
import { lockWaitersIn } from './pg.js';
import type { TestServer } from './server.js';

/**
 * Runs `hold` in a transaction of `beside` (a second store on `server`'s database: storeBeside) and
 * keeps it open; once `hold` has resolved, sends `call`; once the call waits for the held
 * transaction, commits; answers with the call's result. Waiting is seen on PostgreSQL as a session
 * of the server's schema waiting on a lock (other test files share the database); on SQLite the
 * server's writer waits for the file's write lock (busy_timeout), which nothing can ask about, so
 * the commit comes 300 ms after the call is sent. Rejects if `hold` or the transaction does.
 */
export async function callWhileHeld<T>(server: TestServer, beside: Store, hold: (tx: Repos) => Promise<unknown>, call: () => Promise<T>): Promise<T> {
  let release!: () => void;
  const gate = new Promise<void>((ok) => (release = ok));
  let written!: () => void;
  const writtenP = new Promise<void>((ok) => (written = ok));
  const held = beside.transaction(async (tx) => {
    await hold(tx);
    written();
    await gate;
  });
  await Promise.race([writtenP, held]);
  const answer = call();
  if (server.dbPath.startsWith('pg:')) {
    await waitFor(
      () => lockWaitersIn(server.dbPath.slice(3)),
      (n) => n > 0,
    );
  } else {
    await sleep(300);
  }
  release();
  await held;
  return answer;
}
