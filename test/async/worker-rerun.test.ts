/**
 * The worker's transaction can be run again by the write pipeline (src/storage/pipeline.ts): when
 * another caller of its batch fails having written, the batch is rolled back and the others run
 * again from the start. The worker's chunk of requests used to keep what its first run had taken,
 * so the second run applied none of them, committed, and left them claimed ("In-Process-Queue")
 * until their lease ran out. Here the worker's first transaction is made to share a batch with a
 * caller that writes and then throws, after it, on a real store of each engine (SQLite with
 * its writes on the event loop, where the worker batches requests this way).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { systemCtx } from '../../src/domain/context.js';
import { createWorker } from '../../src/queue/worker.js';
import type { Repos, Store } from '../../src/storage/store.js';
import { storeBeside, started } from '../helpers/server.js';
import { accept, accountIdOf, createType, waitFor } from './helpers.js';

/**
 * `store`, whose first transaction shares its batch with a caller that runs after it, writes, and
 * throws: both slots (PostgreSQL has two here; SQLite one) are held until both are queued.
 */
function withFailingNeighbour(store: Store, accountId: string): { store: Store; failed: () => boolean } {
  let first = true;
  let failed = false;
  const transaction = <T,>(fn: (tx: Repos) => Promise<T>): Promise<T> => {
    if (!first) return store.transaction(fn);
    first = false;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const holders = [store.transaction(() => gate), store.transaction(() => gate)];
    const mine = store.transaction(fn);
    const neighbour = store.transaction(async (tx) => {
      await tx.leads.count(accountId);
      await tx.accounts.create({ id: `neighbour-${Date.now()}`, name: 'rolled back', createdAt: Date.now() });
      throw new Error('refused after writing');
    });
    neighbour.catch(() => (failed = true));
    setTimeout(open, 50);
    return Promise.all(holders).then(() => mine);
  };
  return { store: { ...store, transaction } as Store, failed: () => failed };
}

describe('the async worker, when the pipeline runs its transaction again', () => {
  it('applies every request of the chunk once, and none is left claimed', async () => {
    const s = await started({ LEADTRAIL_WORKER: 'false' });
    const code = await createType(s, 'Rerun');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await accept(s.url, '/activity/create', { EmailAddress: `rerun${i}@example.com`, ActivityEvent: code }));
    const accountId = await accountIdOf(s);
    const store = await storeBeside(s);
    const wrapped = withFailingNeighbour(store, accountId);
    const worker = createWorker({
      store: wrapped.store,
      ctx: systemCtx,
      config: { workerConcurrency: 1, leaseSeconds: 300, pollMs: 20, retryScale: 1, retentionDays: 30, housekeepingSeconds: 3600 },
      log: pino({ level: 'silent' }),
    });
    try {
      worker.start();
      const statuses = await waitFor(
        () => Promise.all(ids.map(async (id) => (await store.requests.get(accountId, id))?.status)),
        (st) => st.every((x) => x === 'succeeded'),
        10_000,
      ).catch(async () => Promise.all(ids.map(async (id) => (await store.requests.get(accountId, id))?.status)));
      expect(wrapped.failed()).toBe(true);
      expect(statuses).toEqual(Array(5).fill('succeeded'));
      for (const id of ids) expect(await store.activities.countForRequest(accountId, id)).toBe(1);
    } finally {
      await worker.stop();
      await store.close();
    }
  });
});
