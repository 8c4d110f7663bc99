/**
 * The storage contract on SQLite with its writes on the writer thread (LEADTRAIL_SQLITE_WRITER=thread,
 * src/storage/sqlite/thread-store.ts): every transaction, repo write and pipeline promise of the
 * contract, kept across the thread boundary. The thread runs the built code (dist/), which
 * `npm test` builds first.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mx, MxError } from '../../src/domain/errors.js';
import { UnsendableInput } from '../../src/storage/operations.js';
import { openThreadedSqliteStore } from '../../src/storage/sqlite/thread-store.js';
import { readOperation } from '../../src/wire/operations.js';
import { errorCodec } from '../../src/wire/thread-operations.js';
import { tempDir } from '../helpers/server.js';
import { deferUserAccountCheck } from '../helpers/sqlite-files.js';
import { storeContract } from './store.contract.js';

const operations = { url: new URL('../../src/wire/thread-operations.ts', import.meta.url), errorCodec };

storeContract('sqlite', async (opts) => {
  const file = path.join(tempDir(), 'contract.db');
  return {
    store: await openThreadedSqliteStore(file, { ...opts, operations }),
    reopen: () => openThreadedSqliteStore(file, { operations }),
    deferUserAccountCheck: async () => deferUserAccountCheck(file),
  };
});

describe('sqlite writer thread', () => {
  it('runs a named operation there, and its LeadSquared error arrives as the same MxError', async () => {
    const store = await openThreadedSqliteStore(path.join(tempDir(), 'ops.db'), { operations });
    try {
      // The thread runs apply steps only: the caller reads the body first (runOperation does).
      const input = { accountId: 'nobody', body: { RelatedProspectId: 'no-such-lead', ActivityEvent: 201 }, params: {}, requestId: null };
      const read = readOperation('activity.create', input);
      const e = await store.operate!('activity.create', { now: 1_700_000_000_000, userId: null }, { ...input, body: null, read }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(MxError);
      expect(e).toMatchObject({ type: mx.unknownLead('x').type, status: 500 });
      expect((e as MxError).message).toContain('no-such-lead');
      // Sent unread, it is refused as a fault of the caller, not run half-way.
      await expect(store.operate!('activity.create', { now: 0, userId: null }, { accountId: 'nobody', body: {}, params: {}, requestId: null })).rejects.toThrow(
        /its input was not read before it was sent/,
      );
      await expect(store.operate!('no.such', { now: 0, userId: null }, null)).rejects.toThrow(/no operation named "no.such"/);
    } finally {
      await store.close();
    }
    // A thread that ended by close did not fail: nothing tells the server to restart.
    const settled = await Promise.race([store.failed, new Promise((r) => setTimeout(() => r('pending'), 100))]);
    expect(settled).toBe('pending');
  });

  it('once the thread has died, the operation in flight and every later write and read fail with its error; close still ends the store', async () => {
    const store = await openThreadedSqliteStore(path.join(tempDir(), 'crash.db'), { operations: { url: new URL('../helpers/writer-crash-ops.mjs', import.meta.url) } });
    expect(await store.accounts.count()).toBe(0);
    expect(await Promise.race([store.failed, 'pending'])).toBe('pending');
    await expect(store.operate!('crash', { now: 0, userId: null }, null)).rejects.toThrow(/boom: the writer thread crashed/);
    expect((await store.failed)?.message).toMatch(/boom: the writer thread crashed/);
    await expect(store.accounts.count()).rejects.toThrow(/boom: the writer thread crashed/);
    await expect(store.accounts.create({ id: 'a-after', name: 'late', createdAt: 0 })).rejects.toThrow(/boom/);
    await expect(store.transaction(async () => 1)).rejects.toThrow(/boom/);
    await expect(store.operate!('crash', { now: 0, userId: null }, null)).rejects.toThrow(/boom/);
    await store.close();
  });

  it('operations sent in one turn: one whose input cannot be sent fails alone, and the others run', async () => {
    const store = await openThreadedSqliteStore(path.join(tempDir(), 'together.db'), { operations: { url: new URL('../helpers/writer-echo-ops.mjs', import.meta.url) } });
    try {
      const call = { now: 0, userId: null };
      const results = await Promise.allSettled([store.operate!('echo', call, 1), store.operate!('echo', call, { f: () => 1 }), store.operate!('echo', call, 3)]);
      expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(UnsendableInput);
      expect(results[2]).toEqual({ status: 'fulfilled', value: 3 });
      // A write that cannot be sent fails at once, as it always did; the others go on.
      const unsendable = { id: 'a-2', name: 'two', createdAt: 0, extra: () => 1 } as unknown as Parameters<typeof store.accounts.create>[0];
      await expect(store.accounts.create(unsendable)).rejects.toBeInstanceOf(UnsendableInput);
      await store.accounts.create({ id: 'a-1', name: 'one', createdAt: 0 });
      expect((await store.accounts.list()).map((a) => a.id)).toEqual(['a-1']);
    } finally {
      await store.close();
    }
  });

  it('an answer the thread cannot send back fails its own caller only; the others of its batch get theirs', async () => {
    const store = await openThreadedSqliteStore(path.join(tempDir(), 'answers.db'), { operations: { url: new URL('../helpers/writer-echo-ops.mjs', import.meta.url) } });
    try {
      const call = { now: 0, userId: null };
      const results = await Promise.allSettled([store.operate!('echo', call, 1), store.operate!('unsendable', call, null), store.operate!('echo', call, 3)]);
      expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
      expect(results[1]).toMatchObject({ status: 'rejected', reason: { name: 'DataCloneError' } });
      expect(results[2]).toEqual({ status: 'fulfilled', value: 3 });
      // The thread lives on.
      await expect(store.operate!('echo', call, 'still here')).resolves.toBe('still here');
    } finally {
      await store.close();
    }
  });

  it('a transaction whose function appends a record and outlives its time limit fails alone; the thread lives on', async () => {
    const store = await openThreadedSqliteStore(path.join(tempDir(), 'late-append.db'), { operations, fnTimeoutMs: 100 });
    try {
      let ended!: () => void;
      const functionEnded = new Promise<void>((r) => (ended = r));
      const late = store.transaction(async (tx) => {
        tx.append!({ kind: 'nothing-registered', data: null });
        await new Promise((r) => setTimeout(r, 300));
        setImmediate(ended);
        return 1;
      });
      await expect(late).rejects.toThrow(/did not finish within 100 ms/);
      // The record and the function's end reach the thread after its time ran out.
      await functionEnded;
      await store.accounts.create({ id: 'a-after', name: 'after', createdAt: 0 });
      expect(await store.accounts.count()).toBe(1);
      expect(await Promise.race([store.failed, Promise.resolve('pending')])).toBe('pending');
    } finally {
      await store.close();
    }
  });

  it('refuses to open, with the reason, a file it cannot open', async () => {
    await expect(openThreadedSqliteStore(path.join(tempDir(), 'missing-dir', '\0bad'), { operations })).rejects.toThrow();
  });
});
