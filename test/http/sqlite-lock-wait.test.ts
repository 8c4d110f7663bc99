/**
 * Another process holding a SQLite file's write lock (a long `leadtrail seed`, which is one
 * transaction) while the server writes: the server's writes wait for it (README, "Seed and reset")
 * rather than failing after SQLite's usual 5 s with a 500; a write that cannot wait longer
 * (LOCK_WAIT_MS) is answered 503 with Retry-After. Found by a fresh-eyes run: a seed of 70,000 leads
 * (about 30 s) made a running server's Create answer 500 after 9 s. SQLite only: on PostgreSQL a
 * seed locks the rows it writes, not the database.
 */
import { describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { LOCK_WAIT_MS, isStoreBusy } from '../../src/storage/store.js';
import { toMxError } from '../../src/http/envelope.js';
import { LM } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';

const ON_PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';

describe('a write lock held by another process', () => {
  it.skipIf(ON_PG)('a Create waits for it past SQLite usual 5 s, and is answered once it is released', async () => {
    const s = await started();
    const other = new (sqliteDriver())(s.dbPath);
    other.exec('BEGIN IMMEDIATE');
    const t0 = Date.now();
    const create = s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'waited@example.com' }]);
    await new Promise((r) => setTimeout(r, 6_000));
    other.exec('COMMIT');
    other.close();
    const r = await create;
    expect(r.status, r.text).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(6_000);
    expect(LOCK_WAIT_MS).toBeGreaterThan(6_000);
    const read = await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=waited@example.com`);
    expect(read.body).toHaveLength(1);
  }, 30_000);

  it('a write that could not wait longer is a 503 to retry, not a 500', () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(isStoreBusy(busy)).toBe(true);
    expect(isStoreBusy(new Error('database is locked'))).toBe(false);
    const e = toMxError(busy, 1024);
    expect(e).toMatchObject({ type: 'MXServiceUnavailableException', status: 503, headers: { 'retry-after': '5' } });
    expect(e?.message).toMatch(/^The database is held by another process/);
  });
});
