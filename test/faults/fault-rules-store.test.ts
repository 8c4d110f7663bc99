/**
 * The fault-rule table (migration 0008) on SQLite and PostgreSQL: a use is taken atomically (of many
 * concurrent takes exactly `remaining` succeed, from the store and a second store on the same
 * database alike), spent rules leave the list, rules without a count stay until cleared, and
 * everything is per account.
 */
import { describe, expect, it } from 'vitest';
import type { StoredFaultRule } from '../../src/storage/fault-rules.js';
import { openStore } from '../../src/storage/open-store.js';
import { loadConfig } from '../../src/config.js';
import { schemaUrl } from '../helpers/pg.js';
import { started } from '../helpers/server.js';

const rule = (id: string, accountId: string, remaining: number | null): StoredFaultRule => ({
  id,
  accountId,
  target: 'http',
  operation: null,
  path: '*',
  match: null,
  status: 500,
  retryAfter: null,
  latencyMs: null,
  drop: false,
  remaining,
  percent: remaining === null ? 50 : null,
  message: 'forced',
  createdAt: Date.now(),
});

describe('fault rules in the store', () => {
  it('takes exactly `remaining` uses under concurrency, across two stores on one database', async () => {
    const s = await started();
    const store = s.services.store;
    // A second, separately opened store on the same database: another process's view.
    const other = await openStore(
      loadConfig(s.dbPath.startsWith('pg:') ? { DATABASE_URL: schemaUrl(s.dbPath.slice(3)), LEADTRAIL_PG_POOL: '4' } : { LEADTRAIL_DB: s.dbPath }),
    );
    try {
      await store.faultRules.insert(rule('r1', 'acc-a', 10));
      expect((await other.faultRules.list('acc-a')).map((r) => r.remaining)).toEqual([10]);
      const takes = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : store).faultRules.take('acc-a', 'r1')));
      expect(takes.filter(Boolean)).toHaveLength(10);
      expect(await store.faultRules.list('acc-a')).toEqual([]);
      expect(await other.faultRules.take('acc-a', 'r1')).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('rules without a count stay until cleared; accounts and targets are kept apart', async () => {
    const store = (await started()).services.store;
    await store.faultRules.insert(rule('open', 'acc-a', null));
    await store.faultRules.insert({ ...rule('async', 'acc-a', 2), target: 'async', operation: '*', path: null });
    await store.faultRules.insert(rule('b', 'acc-b', 1));
    for (let i = 0; i < 5; i++) expect(await store.faultRules.take('acc-a', 'open')).toBe(true);
    // Another account's id is not this account's rule.
    expect(await store.faultRules.take('acc-b', 'open')).toBe(false);
    expect((await store.faultRules.list('acc-a', 'http')).map((r) => r.id)).toEqual(['open']);
    expect((await store.faultRules.list('acc-a', 'async')).map((r) => r.id)).toEqual(['async']);
    expect(await store.faultRules.list('acc-a')).toHaveLength(2);
    expect(await store.faultRules.clear('acc-a')).toBe(2);
    expect(await store.faultRules.take('acc-a', 'open')).toBe(false);
    expect((await store.faultRules.list('acc-b')).map((r) => ({ id: r.id, remaining: r.remaining, percent: r.percent, drop: r.drop }))).toEqual([
      { id: 'b', remaining: 1, percent: null, drop: false },
    ]);
  });
});
