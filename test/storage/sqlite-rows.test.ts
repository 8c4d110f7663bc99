/**
 * SQLite rows as objects (src/storage/sqlite/sqlite-store.ts builds them from better-sqlite3's raw
 * arrays, with the column names read when a statement is prepared): a read must still name every
 * value rightly after another connection changed the table under a statement already prepared, as
 * a `leadtrail migrate` from another process can. SQLite prepares such a statement anew, and
 * `SELECT *` then returns the new columns.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Lead } from '../../src/domain/types.js';

const onSqlite = process.env.LEADTRAIL_TEST_STORE !== 'postgres';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lt-rows-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!onSqlite)('SQLite rows after a schema change by another connection', () => {
  it('a lead read prepared before a column in the middle of its table was dropped still names every later value rightly', async () => {
    const file = path.join(dir, 'db.sqlite');
    const store = await openSqliteStore(file);
    try {
      const lead: Lead = {
        id: '0190a9c2-0000-7000-8000-000000000001',
        accountId: 'acc-1',
        autoId: 0,
        fields: { FirstName: 'Ada' },
        score: 7,
        engagementScore: 3,
        createdOn: 1_700_000_000_000,
        modifiedOn: 1_700_000_001_000,
        lastActivityId: null,
        lastActivityName: null,
        lastActivityOn: null,
      };
      await store.accounts.create({ id: 'acc-1', name: 'rows', createdAt: 1_700_000_000_000 });
      await store.transaction((tx) => tx.leads.insert(lead, []));
      const before = await store.leads.get('acc-1', lead.id);
      expect(before).toMatchObject({ autoId: 1, fields: { FirstName: 'Ada' }, score: 7, engagementScore: 3, createdOn: 1_700_000_000_000, modifiedOn: 1_700_000_001_000 });

      // Another connection drops a column that comes before those added by later migrations (auto_id
      // among them): every later value moves left. (An unindexed one: SQLite drops no indexed column.)
      const other = new (sqliteDriver())(file);
      other.exec('ALTER TABLE leads DROP COLUMN last_activity_name');
      other.close();

      const after = await store.leads.get('acc-1', lead.id);
      expect(after).toMatchObject({ id: lead.id, autoId: 1, fields: { FirstName: 'Ada' }, score: 7, createdOn: 1_700_000_000_000, modifiedOn: 1_700_000_001_000 });
    } finally {
      await store.close();
    }
  });
});
