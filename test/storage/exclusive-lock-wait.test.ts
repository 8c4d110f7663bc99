/**
 * `Store.exclusive(fn, { timeoutMs: Infinity })` (the start-up re-key) may hold the start-up lock for
 * as long as the data takes: another process's exclusive without a limit waits for it as long, not
 * only for LEADTRAIL_STATEMENT_TIMEOUT_MS. Its wait had been cut by the statement timeout, and a
 * second process starting while the first re-keyed a large account failed its start (a review).
 * An exclusive with a limit keeps a bounded wait. (Its statements keep the timeout: the lock's
 * statement switches it off and back TO DEFAULT, the connection's own, in the same round trip.)
 * PostgreSQL only: SQLite's lock wait is its busy timeout, not a statement timeout.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { Store } from '../../src/storage/store.js';
import { dropSchemas, freshSchema } from '../helpers/pg.js';

const ON_PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const TIMEOUT_MS = 300;
const schemas: string[] = [];
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  await dropSchemas(schemas);
});

describe.skipIf(!ON_PG)('the start-up lock and the statement timeout (PostgreSQL)', () => {
  it('an exclusive without a limit waits for another that holds the lock past the statement timeout; one with a limit does not', async () => {
    const schema = freshSchema();
    schemas.push(schema.name);
    const open = async () => {
      const s = await openPostgresStore(schema.url, { poolSize: 2, statementTimeoutMs: TIMEOUT_MS });
      stores.push(s);
      return s;
    };
    const first = await open();
    const second = await open();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = false;
    const long = first.exclusive(async () => {
      holding = true;
      await held;
    }, { timeoutMs: Infinity });
    while (!holding) await new Promise((r) => setTimeout(r, 5));
    // A bounded exclusive gives up at the statement timeout, as before.
    await expect(second.exclusive(async () => 'bounded')).rejects.toThrow(/statement timeout/);
    const waiting = second.exclusive(async () => 'waited', { timeoutMs: Infinity });
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 4));
    release();
    await long;
    expect(await waiting).toBe('waited');
  });
});
