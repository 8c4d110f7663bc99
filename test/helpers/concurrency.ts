/**
 * How many write-pipeline transactions run at once (test/storage/pg-write-batches.test.ts and the
 * pipeline contract's deadlock test).
 */
import type { Repos, Store } from '../../src/storage/store.js';

/**
 * The most transaction functions running at once, out of `n` started together. Each waits until as
 * many are running as `expected` (or 300 ms, if fewer ever are), so that batches that can overlap
 * do; then it runs `work` (a real statement on the batch's connection, so that a batch is a
 * database transaction).
 */
export async function mostAtOnce(store: Store, n: number, expected: number, work: (tx: Repos) => Promise<unknown> = (tx) => tx.accounts.list()): Promise<number> {
  let active = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const one = () =>
    store.transaction(async (tx) => {
      active += 1;
      most = Math.max(most, active);
      if (active >= expected) for (const w of waiting.splice(0)) w();
      else
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 300);
        });
      await work(tx);
      active -= 1;
    });
  await Promise.all(Array.from({ length: n }, one));
  return most;
}
