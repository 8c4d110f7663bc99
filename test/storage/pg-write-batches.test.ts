/**
 * LEADTRAIL_PG_WRITE_BATCHES: how many write batches one process runs side by side on PostgreSQL
 * (src/storage/postgres/postgres-store.ts, writeSlots). Transactions that arrive while every batch
 * is busy wait and then share one; never more batches than the setting, nor than half the pool.
 * A batch's BEGIN carries its reference-data token read, one round trip for both; a batch takes
 * the callers queued while it ran, up to EXTEND_BATCH_TO, before its COMMIT. Real PostgreSQL, a
 * schema per store.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createPool, EXTEND_BATCH_TO, openPostgresStore, parsePostgresUrl, writeSlots } from '../../src/storage/postgres/postgres-store.js';
import { WRITES_SHARED_LOCK_SQL } from '../../src/storage/sql/accounts.js';
import type { Repos, Store } from '../../src/storage/store.js';
import { activityType, lead, newAccount } from '../contract/store.contract.js';
import { mostAtOnce } from '../helpers/concurrency.js';
import { freshSchema, pgAvailable, type PgSchema } from '../helpers/pg.js';

const available = await pgAvailable();
const schemas: PgSchema[] = [];
afterAll(() => Promise.all(schemas.map((s) => s.drop())));

async function store(poolSize: number, writeBatches?: number): Promise<Store> {
  const s = freshSchema();
  schemas.push(s);
  const st = await openPostgresStore(s.url, { poolSize, writeBatches, statementTimeoutMs: 10_000 });
  await st.migrate();
  return st;
}

describe('writeSlots', () => {
  it('is the setting, at most half the pool, at least one', () => {
    expect(writeSlots(10)).toBe(3);
    expect(writeSlots(10, 2)).toBe(2);
    expect(writeSlots(10, 8)).toBe(5);
    expect(writeSlots(2, 4)).toBe(1);
    expect(writeSlots(3)).toBe(1);
  });
});

describe('LEADTRAIL_PG_WRITE_BATCHES', () => {
  it('defaults to 3 and refuses 0 with a message naming it', () => {
    expect(loadConfig({}).pgWriteBatches).toBe(3);
    expect(loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '5' }).pgWriteBatches).toBe(5);
    // More than half the pool (10 by default) stops the start (config-values.test.ts), rather than being cut down in silence.
    expect(() => loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '6' })).toThrow(/more than half of the PostgreSQL pool/);
    expect(() => loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '0' })).toThrow(/LEADTRAIL_PG_WRITE_BATCHES/);
  });
});

describe.skipIf(!available)('PostgreSQL: write batches side by side', () => {
  it.each([
    [1, 10, 1],
    [2, 10, 2],
    [undefined, 10, 3],
    [8, 6, 3],
  ])('with the setting %s and a pool of %i, runs at most %i batches at once, and every transaction commits', async (batches, pool, most) => {
    const st = await store(pool, batches);
    try {
      expect(await mostAtOnce(st, 12, most)).toBe(most);
    } finally {
      await st.close();
    }
  });
});

describe.skipIf(!available)('PostgreSQL: a batch reads its token with its BEGIN', () => {
  it('sends the token read in the BEGIN round trip, and no other token read for a lookup in the batch', async () => {
    const sent: string[] = [];
    let recording = false;
    const query = pg.Client.prototype.query;
    // The store's connections, opened from now on, let the test see what they send.
    pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
      if (recording && typeof a[0] === 'string') sent.push(a[0]);
      return (query as (...x: unknown[]) => unknown).apply(this, a);
    } as typeof query;
    const st = await store(4).finally(() => {
      pg.Client.prototype.query = query;
    });
    try {
      recording = true;
      const accounts = await st.transaction(async (tx) => {
        await tx.activityTypes.get('no-such-account', 201);
        await tx.activityTypes.get('no-such-account', 202);
        return tx.accounts.list();
      });
      expect(accounts).toEqual([]);
    } finally {
      recording = false;
      await st.close();
    }
    const tokenReads = sent.filter((t) => t.includes('ref_version'));
    // The shared write lock a reset waits for (accounts.ts) goes in the same round trip.
    expect(tokenReads).toEqual([`BEGIN; ${WRITES_SHARED_LOCK_SQL}; select token from ref_version where id = 1`]);
  });

  it('answers a query of several statements with the last one\'s rows', async () => {
    const s = freshSchema();
    const pool = createPool(parsePostgresUrl(s.url), { poolSize: 1, statementTimeoutMs: 10_000 });
    try {
      const r = await pool.query('select 1 as a; select 2 as b');
      expect(r.rows).toEqual([{ b: 2 }]);
      expect((await pool.query('select $1::int as c', [3])).rows).toEqual([{ c: 3 }]);
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!available)('PostgreSQL: a batch takes the callers queued while it ran', () => {
  /**
   * Both write batches held open by a caller each, `fns` queued behind them, then the holders let
   * go: returns the callers' outcomes and the batches it took (holders included).
   */
  async function behindHolders(st: Store, fns: ((tx: Repos) => Promise<unknown>)[]) {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started = 0;
    let bothStarted!: () => void;
    const both = new Promise<void>((r) => (bothStarted = r));
    const before = st.writeStats().batches;
    const holders = Array.from({ length: 2 }, () =>
      st.transaction(async () => {
        if (++started === 2) bothStarted();
        await held;
      }),
    );
    await both;
    const calls = Promise.allSettled(fns.map((fn) => st.transaction(fn)));
    release();
    await Promise.all(holders);
    const out = await calls;
    return { out, batches: st.writeStats().batches - before };
  }

  it(`commits callers that queued behind a running batch with it, up to ${EXTEND_BATCH_TO} callers a batch`, async () => {
    const st = await store(4);
    try {
      const a = await newAccount(st);
      const post = (i: number) => async (tx: Repos) => {
        await tx.leads.insert(lead(a, { FirstName: `p${i}` }), []);
        return i;
      };
      // 6 queued: the first holder's batch takes them all.
      const few = await behindHolders(st, Array.from({ length: 6 }, (_, i) => post(i)));
      expect(few.out.map((o) => o.status)).toEqual(Array(6).fill('fulfilled'));
      expect(few.batches).toBe(2);
      // 40 queued: each holder's batch takes 15 more (16 in all), a third batch the last 10.
      const many = await behindHolders(st, Array.from({ length: 40 }, (_, i) => post(100 + i)));
      expect(many.out.map((o) => o.status)).toEqual(Array(40).fill('fulfilled'));
      expect(many.batches).toBe(3);
      expect(st.writeStats().largestBatch).toBe(EXTEND_BATCH_TO);
      expect(await st.leads.count(a)).toBe(46);
    } finally {
      await st.close();
    }
  });

  it('a caller taken into a running batch sees reference data another process committed after the batch began', async () => {
    const s = freshSchema();
    schemas.push(s);
    const st = await openPostgresStore(s.url, { poolSize: 4, statementTimeoutMs: 10_000 });
    const other = await openPostgresStore(s.url, { poolSize: 2, statementTimeoutMs: 10_000 });
    try {
      const a = await newAccount(st);
      // Code 250 is looked up while it does not exist: the cache remembers that, under today's token.
      expect(await st.transaction((tx) => tx.activityTypes.get(a, 250))).toBeNull();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let began = 0;
      let bothBegan!: () => void;
      const both = new Promise<void>((r) => (bothBegan = r));
      // Both batches begin (and read the token) before the type exists.
      const holders = Array.from({ length: 2 }, () =>
        st.transaction(async (tx) => {
          await tx.activityTypes.get(a, 250);
          if (++began === 2) bothBegan();
          await held;
        }),
      );
      await both;
      await other.transaction((tx) => tx.activityTypes.insert(activityType(a, 250, 'Made elsewhere')));
      // Asked after the type was committed: queued behind the holders, then taken into one's batch.
      const seen = st.transaction((tx) => tx.activityTypes.get(a, 250));
      release();
      await Promise.all(holders);
      expect((await seen)?.name).toBe('Made elsewhere');
    } finally {
      await other.close();
      await st.close();
    }
  });

  it('a caller taken into a batch that fails having written gets its error; the others run again, in order, and only its writes are lost', async () => {
    const st = await store(4);
    try {
      const a = await newAccount(st);
      const order: number[] = [];
      const post = (i: number) => async (tx: Repos) => {
        order.push(i);
        await tx.leads.insert(lead(a, { FirstName: `p${i}` }), []);
        return i;
      };
      const refused = new Error('wrote, then refused');
      const { out } = await behindHolders(st, [
        post(1),
        async (tx) => {
          await tx.leads.insert(lead(a, { FirstName: 'lost' }), []);
          throw refused;
        },
        post(2),
      ]);
      expect(out).toEqual([
        { status: 'fulfilled', value: 1 },
        { status: 'rejected', reason: refused },
        { status: 'fulfilled', value: 2 },
      ]);
      expect(order).toEqual([1, 1, 2]);
      const names = (await st.leads.list(a, { offset: 0, limit: 10 })).leads.map((l) => l.fields.FirstName).sort();
      expect(names).toEqual(['p1', 'p2']);
    } finally {
      await st.close();
    }
  });
});
