/**
 * The storage contract: what every adapter must do, run against SQLite (sqlite.test.ts) and
 * PostgreSQL (postgres.test.ts). Accounts, leads and activities are isolated per test by fresh
 * account ids; the request queue is global (workers claim across accounts), so queue tests each
 * open their own empty store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityType, AsyncRequest, Credential, Lead } from '../../src/domain/types.js';
import { repoWrite, UniqueViolation, type NewRequest, type Store } from '../../src/storage/store.js';
import { journalContract } from './store.contract.journal.js';
import { leadAndActivityContract } from './store.contract.leads.js';
import { pipelineContract } from './store.contract.pipeline.js';

export interface Opened {
  store: Store;
  /** A second, independent Store on the same database (another process, as far as storage knows). */
  reopen(): Promise<Store>;
  /**
   * Changes this database, from outside the store, so that a user's account is checked only at
   * COMMIT (a deferred foreign key): the way the pipeline tests make a batch's COMMIT fail.
   */
  deferUserAccountCheck(): Promise<void>;
}

/** Opens a fresh, empty, migrated store (with a shorter transaction time limit when asked). */
export type StoreFactory = (opts?: { fnTimeoutMs?: number }) => Promise<Opened>;

export const uid = () => randomUUID();
export const T0 = 1_700_000_000_000;

export async function newAccount(store: Store): Promise<string> {
  const id = uid();
  await store.accounts.create({ id, name: `acct ${id.slice(0, 6)}`, createdAt: T0 });
  return id;
}

export function lead(accountId: string, fields: Lead['fields'] = {}, id = uid()): Lead {
  return { id, accountId, autoId: 0, fields, score: 0, engagementScore: 0, createdOn: T0, modifiedOn: T0, lastActivityId: null, lastActivityName: null, lastActivityOn: null };
}

/**
 * Runs `work` and counts the event loop's check phases that ran before it settled: 0 when it held
 * the loop throughout (on SQLite, one long statement), so nothing else could be answered meanwhile.
 * `watch` gets a reader of the count so far.
 */
export async function turnsDuring<T>(work: () => Promise<T>, watch?: (read: () => number) => void): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns += 1;
    setImmediate(tick);
  };
  watch?.(() => turns);
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    running = false;
  }
}

export function activityType(accountId: string, code: number, name = `Type ${code}`): ActivityType {
  return { accountId, code, name, displayName: name, description: '', score: 3, direction: 0, isSystem: false, fields: [], settings: { a: 1 }, createdOn: T0 };
}

function req(accountId: string, orderKey: string, createdAt = T0, id = uid()): NewRequest {
  return { id, accountId, kind: 'activity.create', body: JSON.stringify({ n: id }), params: { p: '1' }, orderKey, createdAt };
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`${name} store contract`, () => {
    const opened: Store[] = [];
    let shared: Store;
    const open = async (opts?: { fnTimeoutMs?: number }): Promise<Opened> => {
      const o = await factory(opts);
      opened.push(o.store);
      return {
        store: o.store,
        deferUserAccountCheck: o.deferUserAccountCheck,
        reopen: async () => {
          const s = await o.reopen();
          opened.push(s);
          return s;
        },
      };
    };
    beforeAll(async () => {
      shared = (await open()).store;
    });
    afterAll(async () => {
      for (const s of opened) await s.close();
    });

    it('reports its engine', () => {
      expect(shared.engine).toBe(name);
    });

    describe('accounts and credentials', () => {
      it('creates, reads, lists and counts accounts', async () => {
        const before = await shared.accounts.count();
        const id = await newAccount(shared);
        expect(await shared.accounts.get(id)).toEqual({ id, name: `acct ${id.slice(0, 6)}`, createdAt: T0 });
        expect(await shared.accounts.get(uid())).toBeNull();
        expect(await shared.accounts.count()).toBe(before + 1);
        expect((await shared.accounts.list()).map((a) => a.id)).toContain(id);
      });

      it('keeps users per account; firstUser is the oldest', async () => {
        const a = await newAccount(shared);
        const b = await newAccount(shared);
        const u1 = { id: uid(), accountId: a, email: 'x@y.z', firstName: 'X', lastName: 'Y', role: 'Admin', createdAt: T0 + 5 };
        const u0 = { ...u1, id: uid(), createdAt: T0 };
        await shared.accounts.createUser(u1);
        await shared.accounts.createUser(u0);
        expect(await shared.accounts.getUser(a, u1.id)).toEqual(u1);
        expect(await shared.accounts.getUser(b, u1.id)).toBeNull();
        expect((await shared.accounts.firstUser(a))?.id).toBe(u0.id);
        expect(await shared.accounts.firstUser(b)).toBeNull();
      });

      it('finds active credentials by lookup, refuses a duplicate lookup, revokes and sets limits', async () => {
        const a = await newAccount(shared);
        const lookup = `ak-${uid()}`;
        const cred: Credential = { id: uid(), accountId: a, userId: null, kind: 'access', lookup, label: lookup, secretHash: 'h', rateLimit: null, createdAt: T0, revokedAt: null };
        await shared.accounts.createCredential(cred);
        expect(await shared.accounts.findCredential('access', lookup)).toEqual(cred);
        expect(await shared.accounts.findCredential('api', lookup)).toBeNull();
        await expect(shared.accounts.createCredential({ ...cred, id: uid() })).rejects.toBeInstanceOf(UniqueViolation);

        expect(await shared.accounts.setCredentialRateLimit(a, lookup, '100/5s')).toBe(true);
        expect((await shared.accounts.findCredential('access', lookup))?.rateLimit).toBe('100/5s');
        expect(await shared.accounts.setCredentialRateLimit(uid(), lookup, '1/1s')).toBe(false);

        expect(await shared.accounts.revokeCredential(uid(), lookup, T0 + 1)).toBe(false);
        expect(await shared.accounts.revokeCredential(a, lookup, T0 + 1)).toBe(true);
        expect(await shared.accounts.revokeCredential(a, cred.id, T0 + 2)).toBe(false);
        expect(await shared.accounts.findCredential('access', lookup)).toBeNull();
        const listed = await shared.accounts.listCredentials(a);
        expect(listed).toHaveLength(1);
        expect(listed[0].revokedAt).toBe(T0 + 1);
        // A revoked key keeps its lookup: adding it again is the same UniqueViolation, not the engine's error.
        await expect(shared.accounts.createCredential({ ...cred, id: uid() })).rejects.toBeInstanceOf(UniqueViolation);
      });
    });

    leadAndActivityContract(() => shared);

    journalContract(() => shared);

    pipelineContract({ open });

    describe('async requests', () => {
      it('a batch inserted as one repoWrite transaction is all or nothing, past its first statement too', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        // 40 rows: two statements (32 + 8). The last repeats the first one's id, so the second fails.
        const rs = Array.from({ length: 40 }, (_, i) => req(a, `K${i}`, T0 + i));
        rs[39] = { ...rs[39], id: rs[0].id };
        await expect(store.transaction(repoWrite('requests', 'insertMany', rs))).rejects.toBeInstanceOf(Error);
        expect(await store.requests.get(a, rs[0].id)).toBeNull();
        expect(await store.requests.get(a, rs[1].id)).toBeNull();
        await store.transaction(repoWrite('requests', 'insertMany', rs.slice(0, 39)));
        expect((await store.requests.get(a, rs[38].id))?.orderKey).toBe('K38');
      });

      it('inserts a batch and reads each back, scoped by account', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        const rs = [req(a, 'L1'), req(a, 'L2', T0 + 1)];
        await store.requests.insertMany(rs);
        await store.requests.insertMany([]);
        const got = await store.requests.get(a, rs[1].id);
        expect(got).toMatchObject({ id: rs[1].id, accountId: a, kind: 'activity.create', body: rs[1].body, params: { p: '1' }, orderKey: 'L2', status: 'queued', attempts: 0, runAt: T0 + 1, lockedBy: null, createdAt: T0 + 1, finishedAt: null });
        expect(typeof got?.seq).toBe('number');
        // Clients may send a request's GUID in upper case.
        expect((await store.requests.get(a, rs[1].id.toUpperCase()))?.id).toBe(rs[1].id);
        expect(await store.requests.get(uid(), rs[1].id)).toBeNull();
        expect(await store.requests.countByStatus(a)).toEqual({ queued: 2, running: 0, succeeded: 0, failed: 0, errored: 0 });
      });

      it("getStatus reads what a status answer needs, as get reads it, through a request's life; any case of its id; scoped by account", async () => {
        const { store } = await open();
        const a = await newAccount(store);
        const r = req(a, "S1");
        await store.requests.insertMany([r]);
        const view = (x: AsyncRequest | null) => x && { id: x.id, kind: x.kind, status: x.status, statusReason: x.statusReason, attempts: x.attempts, lastError: x.lastError, body: x.body, message: x.message };
        const same = async () => expect(await store.requests.getStatus(a, r.id)).toEqual(view(await store.requests.get(a, r.id)));
        await same();
        expect(await store.requests.getStatus(a, r.id)).toMatchObject({ status: 'queued', attempts: 0, body: r.body, message: null });
        await store.requests.claim('w1', 10, T0 + 10, T0 + 1000);
        expect(await store.requests.retry(r.id, 'w1', 1, T0 + 500, 'db hiccup')).toBe(true);
        await same();
        expect(await store.requests.getStatus(a, r.id)).toMatchObject({ attempts: 1, lastError: 'db hiccup' });
        await store.requests.claim('w2', 10, T0 + 500, T0 + 1500);
        expect(await store.requests.finish(r.id, 'w2', { status: 'succeeded', statusReason: 'ok', message: '{"Status":"Success"}', at: T0 + 501 })).toBe(true);
        await same();
        expect(await store.requests.getStatus(a, r.id.toUpperCase())).toMatchObject({ id: r.id, status: 'succeeded', statusReason: 'ok', message: '{"Status":"Success"}' });
        expect(await store.requests.getStatus(uid(), r.id)).toBeNull();
        expect(await store.requests.getStatus(a, uid())).toBeNull();
      });

      it('claims in acceptance order, one at a time per order key, never a future retry', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        const [a1, a2, b1, c1] = [req(a, 'A'), req(a, 'A'), req(a, 'B'), req(a, 'C')];
        await store.requests.insertMany([a1, a2]);
        await store.requests.insertMany([b1, c1]);
        const first = await store.requests.claim('w1', 10, T0 + 10, T0 + 1000);
        expect(first.map((r) => r.id)).toEqual([a1.id, b1.id, c1.id]);
        expect(first.every((r) => r.status === 'running' && r.lockedBy === 'w1' && r.lockedUntil === T0 + 1000)).toBe(true);
        expect(await store.requests.claim('w2', 10, T0 + 10, T0 + 1000)).toEqual([]);

        // A1 fails with a system error and waits for its retry: A2 must still wait behind it.
        expect(await store.requests.retry(a1.id, 'w1', 1, T0 + 500, 'db hiccup')).toBe(true);
        expect(await store.requests.claim('w2', 10, T0 + 20, T0 + 1000)).toEqual([]);
        const again = await store.requests.claim('w2', 10, T0 + 500, T0 + 1500);
        expect(again.map((r) => [r.id, r.attempts, r.lastError])).toEqual([[a1.id, 1, 'db hiccup']]);
        expect(await store.requests.finish(a1.id, 'w2', { status: 'succeeded', statusReason: 'ok', message: '{}', at: T0 + 501 })).toBe(true);
        expect((await store.requests.claim('w2', 10, T0 + 502, T0 + 1500)).map((r) => r.id)).toEqual([a2.id]);
      });

      it('tells the worker when its next queued request falls due, and nothing once none is queued', async () => {
        const { store } = await open();
        expect(await store.requests.nextRunAt()).toBeNull();
        const a = await newAccount(store);
        const [r1, r2] = [req(a, 'A', T0 + 5), req(a, 'B', T0 + 3)];
        await store.requests.insertMany([r1, r2]);
        expect(await store.requests.nextRunAt()).toBe(T0 + 3);
        // Running requests are not due; one put back for a retry is, at its retry time.
        expect(await store.requests.claim('w', 10, T0 + 10, T0 + 1000)).toHaveLength(2);
        expect(await store.requests.nextRunAt()).toBeNull();
        expect(await store.requests.retry(r1.id, 'w', 1, T0 + 700, 'db hiccup')).toBe(true);
        expect(await store.requests.nextRunAt()).toBe(T0 + 700);
      });

      it('respects the claim limit', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        await store.requests.insertMany(Array.from({ length: 5 }, (_, i) => req(a, `K${i}`)));
        expect(await store.requests.claim('w', 3, T0, T0 + 1)).toHaveLength(3);
        expect(await store.requests.claim('w', 3, T0, T0 + 1)).toHaveLength(2);
      });

      it('lets only the lease holder finish or retry, and takes over expired leases', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        const r = req(a, 'L');
        await store.requests.insertMany([r]);
        await store.requests.claim('dead', 1, T0, T0 + 100);
        const done = { status: 'succeeded' as const, statusReason: 'ok', message: null, at: T0 + 1 };
        expect(await store.requests.finish(r.id, 'other', done)).toBe(false);
        expect(await store.requests.retry(r.id, 'other', 1, T0, 'x')).toBe(false);
        expect(await store.requests.releaseExpired(T0 + 99)).toBe(0);
        expect(await store.requests.releaseExpired(T0 + 101)).toBe(1);
        const taken = await store.requests.claim('alive', 1, T0 + 101, T0 + 200);
        expect(taken.map((x) => [x.id, x.lockedBy, x.attempts])).toEqual([[r.id, 'alive', 1]]);
        expect(taken[0].lastError).toMatch(/lease expired/);
        // The dead worker comes back too late: its outcome must not land.
        expect(await store.requests.finish(r.id, 'dead', done)).toBe(false);
        expect(await store.requests.finish(r.id, 'alive', done)).toBe(true);
        expect(await store.requests.finish(r.id, 'alive', done)).toBe(false);
        expect(await store.requests.get(a, r.id)).toMatchObject({ status: 'succeeded', statusReason: 'ok', finishedAt: T0 + 1, lockedBy: null });
      });

      it('releaseAll requeues every running request', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        await store.requests.insertMany([req(a, 'X'), req(a, 'Y')]);
        await store.requests.claim('w', 10, T0, T0 + 1_000_000);
        expect(await store.requests.releaseAll()).toBe(2);
        expect(await store.requests.countByStatus(null)).toMatchObject({ queued: 2, running: 0 });
      });

      it('purges finished requests past retention, keeps the rest; reports metrics and lists newest first', async () => {
        const { store } = await open();
        const a = await newAccount(store);
        const [old, recent, pending] = [req(a, 'A', T0), req(a, 'B', T0 + 1), req(a, 'C', T0 + 2)];
        await store.requests.insertMany([old, recent, pending]);
        await store.requests.claim('w', 2, T0 + 5, T0 + 100);
        await store.requests.finish(old.id, 'w', { status: 'failed', statusReason: 'MX', message: null, at: T0 + 10 });
        await store.requests.finish(recent.id, 'w', { status: 'succeeded', statusReason: 'ok', message: null, at: T0 + 1000 });
        expect(await store.requests.metrics(a, 'activity.create', T0 + 1000, 500)).toEqual({ pending: 1, oldestPendingAt: T0 + 2, finishedInWindow: 1 });
        expect(await store.requests.metrics(a, 'lead.capture', T0 + 1000, 500)).toEqual({ pending: 0, oldestPendingAt: null, finishedInWindow: 0 });
        const listed = await store.requests.list(a, { offset: 0, limit: 2 });
        expect(listed.total).toBe(3);
        expect(listed.requests.map((r) => r.id)).toEqual([pending.id, recent.id]);
        expect((await store.requests.list(a, { offset: 0, limit: 10, status: 'failed' })).requests.map((r) => r.id)).toEqual([old.id]);
        expect(await store.requests.purgeFinished(T0 + 500)).toBe(1);
        expect(await store.requests.get(a, old.id)).toBeNull();
        expect(await store.requests.get(a, recent.id)).not.toBeNull();
        expect(await store.requests.countByStatus(a)).toEqual({ queued: 1, running: 0, succeeded: 1, failed: 0, errored: 0 });
      });

      it('console: lists by kind, counts per minute, and requeues only an ERROR request (fresh attempts, due now)', async () => {
        const { store } = await open();
        const [a, b] = [await newAccount(store), await newAccount(store)];
        const M = T0 - (T0 % 60_000); // a minute's start
        const [r1, r2, r3] = [req(a, 'A', M + 1_000), req(a, 'B', M + 2_000), req(a, 'C', M + 61_000)];
        await store.requests.insertMany([r1, r2, r3, req(b, 'X', M + 1_000)]);
        await store.requests.insertMany([{ ...req(a, 'D', M + 3_000), kind: 'lead.capture' }]);
        expect((await store.requests.list(a, { offset: 0, limit: 10, kind: 'lead.capture' })).total).toBe(1);
        expect((await store.requests.list(a, { offset: 0, limit: 10, kind: 'activity.create', status: 'queued' })).total).toBe(3);
        await store.requests.claim('w', 10, M + 70_000, M + 1_000_000);
        await store.requests.finish(r1.id, 'w', { status: 'succeeded', statusReason: 'ok', message: null, at: M + 62_000 });
        await store.requests.finish(r2.id, 'w', { status: 'errored', statusReason: 'System error after 10 retries: x', message: null, at: M + 63_000 });
        await store.requests.finish(r3.id, 'w', { status: 'failed', statusReason: 'MX', message: null, at: M + 64_000 });
        expect(await store.requests.perMinute(a, M)).toEqual([
          { minute: M, accepted: 3, processed: 0, failed: 0 },
          { minute: M + 60_000, accepted: 1, processed: 1, failed: 2 },
        ]);
        expect(await store.requests.perMinute(a, M + 60_000)).toEqual([{ minute: M + 60_000, accepted: 1, processed: 1, failed: 2 }]);

        expect(await store.requests.requeue(b, r2.id, M + 90_000)).toBe(false); // another account's id
        expect(await store.requests.requeue(a, r3.id, M + 90_000)).toBe(false); // FAILURE is final
        expect(await store.requests.requeue(a, r1.id, M + 90_000)).toBe(false);
        expect(await store.requests.requeue(a, r2.id, M + 90_000)).toBe(true);
        expect(await store.requests.get(a, r2.id)).toMatchObject({ status: 'queued', attempts: 0, runAt: M + 90_000, statusReason: null, finishedAt: null });
        expect(await store.requests.requeue(a, r2.id, M + 90_000)).toBe(false);
        expect((await store.requests.claim('w2', 10, M + 90_000, M + 2_000_000)).map((r) => r.id)).toEqual([r2.id]);
      });

      it('two stores claiming side by side never share a request nor run two of one order key at once', async () => {
        const { store, reopen } = await open();
        const other = await reopen();
        const a = await newAccount(store);
        const all = Array.from({ length: 300 }, (_, i) => req(a, `lead-${i % 40}`, T0 + i));
        await store.requests.insertMany(all);
        const claimedBy = new Map<string, string>();
        const inFlight = new Set<string>();
        const overlaps: string[] = [];
        const worker = async (s: Store, wid: string) => {
          for (let idle = 0; idle < 3; ) {
            const got = await s.requests.claim(wid, 7, T0 + 10_000, T0 + 1_000_000);
            if (got.length === 0) {
              idle++;
              await new Promise((r) => setTimeout(r, 5));
              continue;
            }
            idle = 0;
            for (const r of got) {
              if (claimedBy.has(r.id)) overlaps.push(`${r.id} claimed by ${claimedBy.get(r.id)} and ${wid}`);
              claimedBy.set(r.id, wid);
              if (inFlight.has(r.orderKey)) overlaps.push(`${r.orderKey} twice in flight`);
              inFlight.add(r.orderKey);
            }
            await new Promise((r) => setTimeout(r, 1));
            for (const r of got) {
              inFlight.delete(r.orderKey);
              expect(await s.requests.finish(r.id, wid, { status: 'succeeded', statusReason: 'ok', message: null, at: T0 + 20_000 })).toBe(true);
            }
          }
        };
        await Promise.all([worker(store, 'w1'), worker(other, 'w2'), worker(store, 'w3')]);
        expect(overlaps).toEqual([]);
        expect(claimedBy.size).toBe(all.length);
        expect(await store.requests.countByStatus(a)).toMatchObject({ queued: 0, running: 0, succeeded: all.length });
      });
    });

    describe('transactions', () => {
      it('a failure rolls back every write of the transaction', async () => {
        const a = uid();
        await expect(
          shared.transaction(async (tx) => {
            await tx.accounts.create({ id: a, name: 'gone', createdAt: T0 });
            await tx.leads.insert(lead(a), []);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await shared.accounts.get(a)).toBeNull();
        expect(await shared.leads.count(a)).toBe(0);
      });

      it('a unique violation inside a transaction surfaces as UniqueViolation and leaves nothing behind', async () => {
        const a = await newAccount(shared);
        await shared.leads.insert(lead(a, { EmailAddress: 'taken@x.io' }), [{ field: 'emailaddress', value: 'taken@x.io', unique: true }]);
        const l = lead(a, { EmailAddress: 'taken@x.io' });
        await expect(
          shared.transaction(async (tx) => {
            await tx.activityTypes.insert(activityType(a, 260));
            await tx.leads.insert(l, [{ field: 'emailaddress', value: 'taken@x.io', unique: true }]);
          }),
        ).rejects.toBeInstanceOf(UniqueViolation);
        expect(await shared.leads.get(a, l.id)).toBeNull();
        expect(await shared.activityTypes.get(a, 260)).toBeNull();
        expect(await shared.leads.count(a)).toBe(1);
      });

      it('exclusive runs its function in one transaction', async () => {
        const a = uid();
        await expect(
          shared.exclusive(async (tx) => {
            await tx.accounts.create({ id: a, name: 'x', createdAt: T0 });
            throw new Error('no');
          }),
        ).rejects.toThrow('no');
        expect(await shared.accounts.get(a)).toBeNull();
        expect(await shared.exclusive(async (tx) => tx.accounts.get(a))).toBeNull();
      });
    });
  });
}
