/** The storage contract on SQLite, plus SQLite's own start-up checks. */
import path from 'node:path';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';

const Database = sqliteDriver();
import { describe, expect, it } from 'vitest';
import { SchemaTooNewError } from '../../src/storage/sql/sql-store.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { deferUserAccountCheck } from '../helpers/sqlite-files.js';
import { tempDir } from '../helpers/server.js';
import { storeContract } from './store.contract.js';

storeContract('sqlite', async (opts) => {
  const file = path.join(tempDir(), 'contract.db');
  return {
    store: await openSqliteStore(file, opts),
    reopen: () => openSqliteStore(file),
    deferUserAccountCheck: async () => deferUserAccountCheck(file),
  };
});

describe('sqlite start-up', () => {
  it('refuses a database migrated by a newer leadtrail', async () => {
    const file = path.join(tempDir(), 'newer.db');
    await (await openSqliteStore(file)).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_the_future', new Date().toISOString());
    raw.close();
    const err = await openSqliteStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toMatch(/newer than this leadtrail.*0001_init/);
  });

  it('opening an up-to-date database again is a no-op', async () => {
    const file = path.join(tempDir(), 'again.db');
    const s1 = await openSqliteStore(file);
    await s1.accounts.create({ id: 'a', name: 'kept', createdAt: 1 });
    await s1.close();
    const s2 = await openSqliteStore(file);
    await s2.migrate();
    expect(await s2.accounts.get('a')).toMatchObject({ name: 'kept' });
    await s2.close();
  });
});
