/**
 * Writes held by another process for longer than a write waits: on PostgreSQL, a `lead-fields set
 * --unique` re-key or a reset holds every write batch of the schema at its BEGIN (accounts.ts
 * holdWrites). A call held past LEADTRAIL_STATEMENT_TIMEOUT_MS is answered 503 with Retry-After,
 * as on SQLite past LOCK_WAIT_MS (sqlite-lock-wait.test.ts): it had been 500 `MXSystemException`,
 * PostgreSQL's statement timeout passed on. Nothing of it is stored, and the same call succeeds
 * once the hold ends. PostgreSQL only: SQLite's writes wait 30 s for a held file, too long for a
 * test, and their answer is held to 503 there.
 */
import { describe, expect, it } from 'vitest';
import { accept, asyncCall } from '../async/helpers.js';
import { LM, accountIdOf, counts, createType, expectMx } from '../helpers/lsq.js';
import { started, storeBeside } from '../helpers/server.js';

const ON_PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';

describe.skipIf(!ON_PG)('writes held by another process past what a write waits (PostgreSQL)', () => {
  it('a sync Create and an async accept are 503 with Retry-After and store nothing; once the hold ends they succeed', async () => {
    const s = await started({ LEADTRAIL_STATEMENT_TIMEOUT_MS: '1000' });
    const cli = await storeBeside(s);
    try {
      const accountId = await accountIdOf(s);
      const code = await createType(s);
      let release!: () => void;
      const gate = new Promise<void>((ok) => (release = ok));
      let holding!: () => void;
      const holds = new Promise<void>((ok) => (holding = ok));
      const hold = cli.transaction(async (tx) => {
        await tx.accounts.holdWrites();
        holding();
        await gate;
      });
      await holds;
      try {
        const create = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'held@example.com' }]);
        expectMx(create, 503, 'MXServiceUnavailableException', /held by another process .* Retry shortly/);
        expect(create.headers.get('retry-after')).toBe('5');
        const queued = await asyncCall(s.url, 'POST', '/activity/create', { EmailAddress: 'held@example.com', ActivityEvent: code });
        expectMx(queued, 503, 'MXServiceUnavailableException', /held by another process/);
        expect(queued.headers.get('retry-after')).toBe('5');
      } finally {
        release();
        await hold;
      }
      expect(await counts(s, accountId)).toEqual({ leads: 0, activities: 0 });
      expect((await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'held@example.com' }])).status).toBe(200);
      await accept(s.url, '/activity/create', { EmailAddress: 'held@example.com', ActivityEvent: code });
    } finally {
      await cli.close();
    }
  }, 30_000);
});
