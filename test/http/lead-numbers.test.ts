/**
 * ProspectAutoId, the account's lead number: leads made at once, by the server's callers and by a
 * second process on the same database (as `leadtrail seed` beside a running server), each get their
 * own number, and together the numbers run 1..N with none given twice. On SQLite the number is
 * taken inside the lead's transaction; on PostgreSQL in a statement of its own whose commit does not
 * wait for the disk (src/storage/sql/leads.ts), so this is what keeps that shortcut honest. On
 * SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { systemCtx } from '../../src/domain/context.js';
import { createLead as createLeadInDomain } from '../../src/domain/leads.js';
import { LM, accountIdOf, expectOk, getLead } from '../helpers/lsq.js';
import { started, storeBeside } from '../helpers/server.js';

describe('lead numbers', () => {
  it('gives leads made at once by two processes the numbers 1..N, none twice, and the next lead N+1', async () => {
    const s = await started();
    const accountId = await accountIdOf(s);
    const beside = await storeBeside(s);
    try {
      const viaApi = Array.from({ length: 48 }, async (_, i) => {
        const r = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `api-${i}@example.com` }]);
        return expectOk(r).Message.Id as string;
      });
      const viaBeside = Array.from({ length: 16 }, (_, i) =>
        beside.transaction(async (tx) => (await createLeadInDomain(tx, systemCtx, accountId, { EmailAddress: `beside-${i}@example.com` })).id),
      );
      const ids = await Promise.all([...viaApi, ...viaBeside]);
      const numbers = await Promise.all(ids.map(async (id) => Number((await getLead(s, id))?.ProspectAutoId)));
      expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));

      const next = expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'after@example.com' }])).Message.Id;
      expect((await getLead(s, next))?.ProspectAutoId).toBe('65');
    } finally {
      await beside.close();
    }
  });
});
