/**
 * SQLite's durable commit (src/storage/sqlite/wal-sync.ts): a write is answered only once the WAL
 * has been synced to disk, nobody reads a commit before that, syncs are shared by the batches that
 * wait for them, and a failed sync fails every write after it instead of answering success for data
 * that may not be on disk. The sync is injected so that it can be held back or made to fail; the
 * database is a real file, and a second, raw connection shows what is committed meanwhile.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { walFdatasync, WalSyncFailed } from '../../src/storage/sqlite/wal-sync.js';
import type { Store } from '../../src/storage/store.js';
import { sqliteFiles } from '../helpers/sqlite-files.js';

const { dbFile, stores } = sqliteFiles('lt-walsync-');

/** A sync that waits until released, counting calls; `fail` makes the next ones reject. */
function heldSync() {
  const calls: string[] = [];
  let release: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let held = true;
  let failWith: Error | null = null;
  return {
    calls,
    sync: (file: string) => {
      calls.push(file);
      if (failWith) return Promise.reject(failWith);
      if (!held) return Promise.resolve();
      return new Promise<void>((resolve, reject) => release.push({ resolve, reject }));
    },
    release() {
      held = false;
      for (const r of release.splice(0)) r.resolve();
    },
    hold() {
      held = true;
    },
    fail(e: Error) {
      failWith = e;
      for (const r of release.splice(0)) r.reject(e);
    },
  };
}

/** Settles within a few event-loop turns, or not: 'pending'. */
async function state(p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let s: 'resolved' | 'rejected' | 'pending' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return s;
}

async function newAccount(store: Store, name: string): Promise<string> {
  const id = crypto.randomUUID();
  await store.transaction((tx) => tx.accounts.create({ id, name, createdAt: Date.now() }));
  return id;
}

/** Account names as another connection to the file (the CLI, say) sees them right now. */
function committedNames(file: string): string[] {
  const db = new (sqliteDriver())(file, { readonly: true });
  try {
    return (db.prepare('select name from accounts').all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('SQLite: a write is answered only once its commit is on disk', () => {
  it('holds the answer (and every read of it) until the WAL sync has finished', async () => {
    const file = dbFile();
    const s = heldSync();
    s.release(); // let the migrations through
    const store = await openSqliteStore(file, { fileSync: s.sync });
    stores.push(store);
    s.hold();
    const synced = s.calls.length;

    const write = newAccount(store, 'held');
    expect(await state(write)).toBe('pending');
    // Committed (another connection sees it), and the WAL of this very file is what is being synced...
    expect(committedNames(file)).toContain('held');
    expect(s.calls.slice(synced)).toEqual([`${path.resolve(file)}-wal`]);
    // ...but neither the writer nor a reader of this store is told before it is on disk.
    const read = store.accounts.list();
    expect(await state(read)).toBe('pending');

    s.release();
    await expect(write).resolves.toBeTypeOf('string');
    expect((await read).map((a) => a.name)).toContain('held');
  });

  it('shares one sync among the writes that arrive while another sync runs', async () => {
    const file = dbFile();
    const s = heldSync();
    s.release();
    const store = await openSqliteStore(file, { fileSync: s.sync });
    stores.push(store);
    s.hold();
    const before = s.calls.length;
    const first = newAccount(store, 'first');
    expect(await state(first)).toBe('pending');
    // 50 writes while the first sync is held: they commit in batches, and wait for one more sync.
    const more = Array.from({ length: 50 }, (_, i) => newAccount(store, `more-${i}`));
    await expect.poll(() => committedNames(file).filter((n) => n.startsWith('more-')).length).toBe(50);
    expect(await state(Promise.all(more))).toBe('pending');
    expect(s.calls.length - before).toBe(1);
    s.release();
    await Promise.all([first, ...more]);
    expect(s.calls.length - before).toBe(2);
  });

  it('after a failed sync, refuses the writes waiting for it and every later write and read, and says the store failed', async () => {
    const s = heldSync();
    s.release();
    const store = await openSqliteStore(dbFile(), { fileSync: s.sync });
    stores.push(store);
    await newAccount(store, 'before');
    expect(await state(store.failed!)).toBe('pending');
    s.hold();
    const waiting = newAccount(store, 'waiting');
    expect(await state(waiting)).toBe('pending');
    s.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(waiting).rejects.toBeInstanceOf(WalSyncFailed);
    await expect(waiting).rejects.toThrow(/could not be synced to disk.*EIO.*restart leadtrail/);
    await expect(newAccount(store, 'later')).rejects.toBeInstanceOf(WalSyncFailed);
    await expect(store.accounts.list()).rejects.toBeInstanceOf(WalSyncFailed);
    expect(await store.failed).toBeInstanceOf(WalSyncFailed);
  });

  it('with the real fdatasync, what was answered is in the file after the store closes', async () => {
    const file = dbFile();
    const store = await openSqliteStore(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => newAccount(store, `durable-${i}`)));
    await store.close();
    expect(committedNames(file).filter((n) => n.startsWith('durable-'))).toHaveLength(20);
  });

  it('walFdatasync syncs an existing file, and a missing WAL is nothing to sync', async () => {
    const file = dbFile();
    fs.writeFileSync(file, 'x');
    const w = walFdatasync();
    await expect(w.sync(file)).resolves.toBeUndefined();
    await expect(w.sync(`${file}-missing`)).resolves.toBeUndefined();
    w.close();
  });
});
