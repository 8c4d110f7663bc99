/**
 * SQLite's WAL checkpoints run on a thread of their own (src/storage/sqlite/checkpointer.ts), not
 * inside a request's COMMIT. What a user sees: under sustained writes the `-wal` file stays small
 * (the checkpoints happen, and the log starts over), every write is in the database afterwards, and
 * if the thread cannot run, SQLite's own checkpoints take over. Real files, real fdatasync.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteOptions } from '../../src/storage/sqlite/sqlite-store.js';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import type { Store } from '../../src/storage/store.js';
import { sqliteFiles } from '../helpers/sqlite-files.js';

const { dbFile, stores } = sqliteFiles('lt-checkpoint-');

const walBytes = (file: string) => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);

/**
 * Writes `n` accounts with 2 KB names, 50 at a time (so the pipeline batches them), and returns the
 * largest the WAL file was seen between rounds.
 */
async function writeAccounts(store: Store, file: string, n: number): Promise<number> {
  let largest = 0;
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        store.transaction((tx) => tx.accounts.create({ id: crypto.randomUUID(), name: `a${i + j}-${'x'.repeat(2048)}`, createdAt: Date.now() })),
      ),
    );
    largest = Math.max(largest, walBytes(file));
  }
  return largest;
}

async function open(file: string, opts: SqliteOptions): Promise<Store> {
  const store = await openSqliteStore(file, opts);
  stores.push(store);
  return store;
}

function committedCount(file: string): number {
  const db = new (sqliteDriver())(file, { readonly: true });
  try {
    return (db.prepare('select count(*) as n from accounts').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SQLite: WAL checkpoints on their own thread', () => {
  it('keeps the WAL bounded under sustained writes, and every write reaches the database file', async () => {
    const file = dbFile();
    // A restart once 200 pages (800 KB) are left after a passive checkpoint.
    const store = await open(file, { checkpoint: { everyCommits: 5, restartPages: 200 } });
    // 4,000 accounts of 2 KB: more than 8 MB written.
    const largest = await writeAccounts(store, file, 4000);
    // Without any checkpoint the log grows past 20 MB here (each commit adds its pages again); a
    // thread starved by a busy machine lags, so the bound leaves room for that.
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(12 * 1024 * 1024);
    // The thread did it (the writer's own checkpoints are off), and the log started over.
    const stats = store.checkpointStats?.();
    expect(stats?.failed).toBe(false);
    expect(stats?.passive).toBeGreaterThan(0);
    expect(stats?.restart).toBeGreaterThan(0);
    // The pages were copied into the database file (not only kept in the log).
    expect(fs.statSync(file).size).toBeGreaterThan(6 * 1024 * 1024);
    expect(await store.accounts.count()).toBe(4000);
    await store.close();
    expect(committedCount(file)).toBe(4000);
  });

  it('a reader holding an old snapshot (a backup) does not hold writes back at every cycle', async () => {
    const file = dbFile();
    let now = 1_000_000;
    const store = await open(file, { checkpoint: { everyCommits: 1, restartPages: 50, now: () => now } });
    await writeAccounts(store, file, 100);
    // Another connection in a read transaction: its snapshot keeps the log from starting over.
    const reader = new (sqliteDriver())(file, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('select count(*) from accounts').get();
      await writeAccounts(store, file, 4000);
      const held = store.checkpointStats!();
      // Dozens of cycles found the log long enough for a RESTART. The first one the reader kept from
      // finishing (writes held back up to 100 ms); with the clock standing still, no other was tried.
      expect(held.passive).toBeGreaterThan(20);
      expect(held.restartBusy).toBe(1);
      reader.exec('COMMIT');
      // Past the backoff, with the reader gone, a RESTART finishes again.
      now += 1_000;
      await writeAccounts(store, file, 2000);
      const after = store.checkpointStats!();
      expect(after.restart - after.restartBusy).toBeGreaterThan(held.restart - held.restartBusy);
    } finally {
      reader.close();
    }
    expect(await store.accounts.count()).toBe(6100);
  });

  it('falls back to SQLite\'s own checkpoints when the thread cannot start', async () => {
    const file = dbFile();
    const store = await open(file, { checkpoint: { everyCommits: 5, driverPath: path.join(os.tmpdir(), 'no-such-sqlite-driver.js') } });
    const largest = await writeAccounts(store, file, 4000);
    expect(store.checkpointStats?.()).toEqual({ passive: 0, restart: 0, restartBusy: 0, failed: true });
    // Without any checkpoint the log grows past 20 MB; SQLite's own keep it near 4 MB, plus what was
    // written before the thread's failure was known.
    expect(largest).toBeLessThan(12 * 1024 * 1024);
    expect(fs.statSync(file).size).toBeGreaterThan(4 * 1024 * 1024);
    expect(await store.accounts.count()).toBe(4000);
    await store.close();
    expect(committedCount(file)).toBe(4000);
  });
});
