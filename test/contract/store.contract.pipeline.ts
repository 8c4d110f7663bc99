/**
 * The storage contract for `Store.transaction` as a write pipeline (group commit, issue 11): callers
 * that arrive together share one database transaction and one commit, each in a savepoint of its own.
 * Run on both engines from store.contract.ts.
 */
import { describe, expect, it } from 'vitest';
import { TransactionClosed, TransactionTimeout } from '../../src/storage/pipeline.js';
import type { Repos, Store } from '../../src/storage/store.js';
import { mostAtOnce } from '../helpers/concurrency.js';
import { T0, activityType, lead, newAccount, uid, type Opened } from './store.contract.js';

export interface PipelineFixtures {
  /** A fresh store; `fnTimeoutMs` shortens the time limit of one transaction function. */
  open(opts?: { fnTimeoutMs?: number }): Promise<Opened>;
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const stats = (s: Store) => s.writeStats();

/**
 * Runs `fns` so that they certainly share one batch: holders that wait on a gate occupy every write
 * slot (and queue behind them), the callers under test queue after, then the gate opens and the next
 * batch takes everything that waits. Returns each caller's settled outcome.
 */
async function together(store: Store, fns: ((tx: Repos) => Promise<unknown>)[]): Promise<PromiseSettledResult<unknown>[]> {
  const g = gate();
  const holders = Promise.allSettled(Array.from({ length: 8 }, () => store.transaction(() => g.promise)));
  const calls = Promise.allSettled(fns.map((fn) => store.transaction(fn)));
  await new Promise((r) => setTimeout(r, 20));
  g.open();
  await holders;
  return calls;
}

export function pipelineContract(f: PipelineFixtures): void {
  describe('write pipeline (group commit)', () => {
    it('concurrent transactions share one commit; the one that throws rolls back alone and only its caller sees its error', async () => {
      const { store } = await f.open();
      const ids = Array.from({ length: 6 }, () => uid());
      const mine = new Error('only mine');
      const out = await together(
        store,
        ids.map((id, i) => async (tx: Repos) => {
          await tx.accounts.create({ id, name: `n${i}`, createdAt: T0 });
          await tx.leads.insert(lead(id), [{ field: 'emailaddress', value: `${i}@x.io`, unique: true }]);
          if (i === 2) throw mine;
          return i;
        }),
      );
      expect(stats(store).largestBatch).toBeGreaterThanOrEqual(ids.length);
      out.forEach((o, i) => {
        if (i === 2) expect(o).toEqual({ status: 'rejected', reason: mine });
        else expect(o).toEqual({ status: 'fulfilled', value: i });
      });
      for (const [i, id] of ids.entries()) {
        expect(await store.accounts.get(id), `account ${i}`).toEqual(i === 2 ? null : { id, name: `n${i}`, createdAt: T0 });
        expect(await store.leads.count(id)).toBe(i === 2 ? 0 : 1);
      }
    });

    it("a failed caller's writes are gone before the next caller of the batch runs; earlier callers' writes are visible to later ones", async () => {
      const { store } = await f.open();
      const a = await newAccount(store);
      const failed = lead(a);
      const kept = lead(a);
      const seen: Record<string, unknown> = {};
      const out = await together(store, [
        async (tx) => {
          await tx.leads.insert(kept, [{ field: 'emailaddress', value: 'kept@x.io', unique: true }]);
        },
        async (tx) => {
          await tx.activityTypes.insert(activityType(a, 240));
          await tx.leads.insert(failed, [{ field: 'emailaddress', value: 'failed@x.io', unique: true }]);
          // A unique violation: the database refuses, the savepoint rolls back everything above.
          await tx.leads.insert(lead(a), [{ field: 'emailaddress', value: 'kept@x.io', unique: true }]);
        },
        async (tx) => {
          seen.failedLead = await tx.leads.get(a, failed.id);
          seen.failedType = await tx.activityTypes.get(a, 240);
          seen.failedKey = await tx.leads.keyOwner(a, 'emailaddress', 'failed@x.io');
          seen.keptLead = (await tx.leads.get(a, kept.id))?.id;
          // The same unique value the failed caller tried is free again inside the batch.
          await tx.activityTypes.insert(activityType(a, 240, 'Taken after the rollback'));
        },
      ]);
      expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(seen).toEqual({ failedLead: null, failedType: null, failedKey: null, keptLead: kept.id });
      expect(await store.leads.get(a, failed.id)).toBeNull();
      expect(await store.leads.keyOwner(a, 'emailaddress', 'failed@x.io')).toBeNull();
      expect((await store.activityTypes.get(a, 240))?.name).toBe('Taken after the rollback');
      expect(await store.leads.count(a)).toBe(1);
    });

    it('callers run without savepoints: one that fails having only read costs the others nothing; one that fails having written makes them run again, in order, and only its writes are lost', async () => {
      const { store } = await f.open();
      const a = await newAccount(store);
      const runs = [0, 0, 0, 0];
      const order: number[] = [];
      const post = (i: number) => async (tx: Repos) => {
        runs[i] += 1;
        order.push(i);
        await tx.leads.insert(lead(a, { FirstName: `p${i}` }), []);
        return i;
      };
      const readThenFail = async (tx: Repos) => {
        await tx.leads.count(a);
        throw new Error('read, then refused');
      };
      const clean = await together(store, [post(0), readThenFail, post(1)]);
      expect(clean.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      // Neither ran again.
      expect(runs.slice(0, 2)).toEqual([1, 1]);

      const written = new Error('wrote, then refused');
      order.length = 0;
      const out = await together(store, [
        post(2),
        async (tx) => {
          await tx.leads.insert(lead(a, { FirstName: 'lost' }), []);
          throw written;
        },
        post(3),
      ]);
      expect(out).toEqual([
        { status: 'fulfilled', value: 2 },
        { status: 'rejected', reason: written },
        { status: 'fulfilled', value: 3 },
      ]);
      // 2 ran before the failure and again after the rollback; 3 ran once, after 2.
      expect(order).toEqual([2, 2, 3]);
      const names = (await store.leads.list(a, { offset: 0, limit: 10 })).leads.map((l) => l.fields.FirstName).sort();
      expect(names).toEqual(['p0', 'p1', 'p2', 'p3']);
    });

    it('a failing COMMIT rejects every caller of the batch, and none of their writes is stored', async () => {
      // A deferred foreign key is checked at COMMIT: a user of an account that does not exist passes
      // its savepoint and fails the batch's commit.
      const o = await f.open();
      await o.deferUserAccountCheck();
      const { store } = o;
      const good = uid();
      const ghost = uid();
      const out = await together(store, [
        (tx) => tx.accounts.create({ id: good, name: 'innocent', createdAt: T0 }),
        (tx) => tx.accounts.createUser({ id: uid(), accountId: ghost, email: 'g@x.io', firstName: 'G', lastName: 'H', role: 'r', createdAt: T0 }),
        (tx) => tx.accounts.create({ id: uid(), name: 'innocent too', createdAt: T0 }),
      ]);
      for (const r of out) {
        expect(r.status).toBe('rejected');
        expect(String((r as PromiseRejectedResult).reason)).toMatch(/foreign key/i);
      }
      expect(await store.accounts.get(good)).toBeNull();
      expect(await store.accounts.firstUser(ghost)).toBeNull();
      // The pipeline goes on with the next batch.
      await store.transaction((tx) => tx.accounts.create({ id: good, name: 'later', createdAt: T0 }));
      expect(await store.accounts.get(good)).toMatchObject({ name: 'later' });
    });

    it('a transaction is answered only after its commit; reads outside it never see it before', async () => {
      const { store } = await f.open();
      const id = uid();
      const g = gate();
      let wrote!: () => void;
      const written = new Promise<void>((r) => (wrote = r));
      let settled = false;
      const t = store
        .transaction(async (tx) => {
          await tx.accounts.create({ id, name: 'pending', createdAt: T0 });
          wrote();
          await g.promise;
        })
        .then(() => (settled = true));
      await written;
      expect(await store.accounts.get(id)).toBeNull();
      expect(settled).toBe(false);
      g.open();
      await t;
      expect(await store.accounts.get(id)).toMatchObject({ name: 'pending' });
    });

    it('counts the time batches hold the writer: a transaction held open adds at least as long, and no more than its caller waited', async () => {
      const { store } = await f.open();
      await store.transaction((tx) => tx.accounts.create({ id: uid(), name: 'first', createdAt: T0 }));
      const before = stats(store).busySeconds;
      expect(before).toBeGreaterThan(0);
      const t0 = performance.now();
      await store.transaction(async (tx) => {
        await tx.accounts.create({ id: uid(), name: 'held', createdAt: T0 });
        await new Promise((r) => setTimeout(r, 60));
      });
      const waited = (performance.now() - t0) / 1000;
      const added = stats(store).busySeconds - before;
      // Timers may fire up to a millisecond early by the clock read here.
      expect(added).toBeGreaterThanOrEqual(0.058);
      expect(added).toBeLessThanOrEqual(waited + 0.002);

      // A batch that is rolled back held the writer as long: its caller fails after 60 ms.
      const before2 = stats(store).busySeconds;
      const oops = new Error('after writing');
      await expect(
        store.transaction(async (tx) => {
          await tx.accounts.create({ id: uid(), name: 'undone', createdAt: T0 });
          await new Promise((r) => setTimeout(r, 60));
          throw oops;
        }),
      ).rejects.toBe(oops);
      // Its time may reach the counters after its caller's answer (SQLite's writer thread sends them
      // with the next answer or its periodic stats): one more write brings them.
      await store.transaction((tx) => tx.accounts.create({ id: uid(), name: 'after', createdAt: T0 }));
      expect(stats(store).busySeconds - before2).toBeGreaterThanOrEqual(0.058);
    });

    it('a transaction function that never settles is rolled back and rejected after the time limit; the others go on', async () => {
      const { store } = await f.open({ fnTimeoutMs: 300 });
      const stuck = uid();
      const fine = uid();
      let leaked: Repos | null = null;
      const never = store.transaction(async (tx) => {
        leaked = tx;
        await tx.accounts.create({ id: stuck, name: 'stuck', createdAt: T0 });
        await new Promise(() => {});
      });
      const other = store.transaction((tx) => tx.accounts.create({ id: fine, name: 'fine', createdAt: T0 }));
      await expect(never).rejects.toBeInstanceOf(TransactionTimeout);
      await other;
      expect(await store.accounts.get(stuck)).toBeNull();
      expect(await store.accounts.get(fine)).toMatchObject({ name: 'fine' });
      // The stuck caller's tx is closed: it cannot write into somebody else's transaction later.
      await expect(leaked!.accounts.create({ id: uid(), name: 'late', createdAt: T0 })).rejects.toBeInstanceOf(TransactionClosed);
    });

    it('exclusive takes its own time limit: a longer one, or none (Infinity), lets a function run past the store\'s', async () => {
      const { store } = await f.open({ fnTimeoutMs: 100 });
      const slow = (id: string) => async (tx: Repos) => {
        await tx.accounts.create({ id, name: 'slow', createdAt: T0 });
        await new Promise((r) => setTimeout(r, 400));
        return id;
      };
      const [limited, longer, unlimited] = [uid(), uid(), uid()];
      await expect(store.exclusive(slow(limited))).rejects.toBeInstanceOf(TransactionTimeout);
      expect(await store.exclusive(slow(longer), { timeoutMs: 5_000 })).toBe(longer);
      expect(await store.exclusive(slow(unlimited), { timeoutMs: Infinity })).toBe(unlimited);
      expect(await store.accounts.get(limited)).toBeNull();
      expect(await store.accounts.get(longer)).toMatchObject({ name: 'slow' });
      expect(await store.accounts.get(unlimited)).toMatchObject({ name: 'slow' });
      // A limit shorter than the store's applies too.
      await expect(store.exclusive(slow(uid()), { timeoutMs: 50 })).rejects.toBeInstanceOf(TransactionTimeout);
      // NaN, 0 or a negative limit is refused, not taken as none (NaN arms no timer).
      for (const timeoutMs of [NaN, 0, -1]) await expect(store.exclusive(slow(uid()), { timeoutMs })).rejects.toBeInstanceOf(RangeError);
    });

    it('appended records commit with the transaction, or not at all', async () => {
      const { store } = await f.open();
      const a = await newAccount(store);
      const unregister = store.registerRecordWriter('journal', async (tx, records) => {
        for (const r of records) {
          const d = r.data as { id: string; fail?: boolean };
          if (d.fail) throw new Error('journal refused');
          await tx.accounts.createUser({ id: d.id, accountId: a, email: 'j@x.io', firstName: 'J', lastName: 'R', role: 'journal', createdAt: T0 });
        }
      });
      try {
        expect(() => store.registerRecordWriter('journal', async () => {})).toThrow(/already registered/);
        const [kept, thrown, refused] = [uid(), uid(), uid()];
        const out = await together(store, [
          async (tx) => {
            tx.append!({ kind: 'journal', data: { id: kept } });
            await tx.leads.insert(lead(a), []);
          },
          async (tx) => {
            tx.append!({ kind: 'journal', data: { id: thrown } });
            throw new Error('fn failed');
          },
          async (tx) => {
            await tx.activityTypes.insert(activityType(a, 250));
            tx.append!({ kind: 'journal', data: { id: refused, fail: true } });
          },
          async (tx) => tx.append!({ kind: 'nobody-writes-this', data: 1 }),
        ]);
        expect(out.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual([
          'ok',
          'Error: fn failed',
          'Error: journal refused',
          expect.stringMatching(/no record writer registered for "nobody-writes-this"/),
        ]);
        expect(await store.accounts.getUser(a, kept)).toMatchObject({ role: 'journal' });
        expect(await store.accounts.getUser(a, thrown)).toBeNull();
        expect(await store.accounts.getUser(a, refused)).toBeNull();
        expect(await store.activityTypes.get(a, 250)).toBeNull();
        expect(await store.leads.count(a)).toBe(1);
        expect(store.append).toBeUndefined();
      } finally {
        unregister();
      }
    });

    it('two batches that deadlock on row locks: the victim is run again in a later batch, and both succeed; then batches run one at a time', async (ctx) => {
      const { store } = await f.open();
      // SQLite has one writer: batches never overlap, so they cannot deadlock.
      if (store.engine !== 'postgres') return ctx.skip();
      const a = await newAccount(store);
      const [l1, l2] = [lead(a), lead(a)];
      await store.leads.insert(l1, []);
      await store.leads.insert(l2, []);
      const bump = (tx: Repos, id: string) =>
        tx.leads.addActivity({ id: uid(), accountId: a, leadId: id, eventCode: 201, note: '', occurredAt: T0, ownerEmail: null, fields: {}, score: 1, createdOn: T0, requestId: null }, 'n');
      const [firstA, firstB] = [gate(), gate()];
      const both = Promise.all([firstA.promise, firstB.promise]);
      // Each locks one lead, waits until the other has locked its own, then wants the other's.
      const ta = store.transaction(async (tx) => {
        await bump(tx, l1.id);
        firstA.open();
        await both;
        await bump(tx, l2.id);
      });
      const tb = store.transaction(async (tx) => {
        await bump(tx, l2.id);
        firstB.open();
        await both;
        await bump(tx, l1.id);
      });
      await Promise.all([ta, tb]);
      expect((await store.leads.get(a, l1.id))?.score).toBe(2);
      expect((await store.leads.get(a, l2.id))?.score).toBe(2);
      // Batches that contend for rows would deadlock again: the next ones run one at a time (each
      // of these waits for a second to run beside it, which none does).
      const most = await mostAtOnce(store, 3, 2, (tx) => bump(tx, l1.id));
      expect(most).toBe(1);
      expect((await store.leads.get(a, l1.id))?.score).toBe(5);
    });

    it('exclusive runs alone, between batches, and commits', async () => {
      const { store } = await f.open();
      const ids = Array.from({ length: 5 }, () => uid());
      const ex = uid();
      await Promise.all([
        ...ids.map((id) => store.transaction((tx) => tx.accounts.create({ id, name: 'tx', createdAt: T0 }))),
        store.exclusive(async (tx) => {
          await tx.accounts.create({ id: ex, name: 'exclusive', createdAt: T0 });
        }),
      ]);
      for (const id of [...ids, ex]) expect(await store.accounts.get(id)).not.toBeNull();
    });

    it('writes outside a transaction are each committed on their own, and read back at once', async () => {
      const { store } = await f.open();
      const ids = Array.from({ length: 20 }, () => uid());
      await Promise.all(ids.map((id) => store.accounts.create({ id, name: 'direct', createdAt: T0 })));
      const dup = await store.accounts.create({ id: ids[0], name: 'again', createdAt: T0 }).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(Error);
      for (const id of ids) expect(await store.accounts.get(id)).toMatchObject({ name: 'direct' });
    });
  });
}
