/**
 * A lost race for a new lead is retried wherever the operation runs. On PostgreSQL two transactions
 * can both miss a new email and both insert it; the later one hits the unique key. The sync API
 * retried that; the async worker ended the request FAILURE MXDuplicateEntryException. Here the race is
 * made certain: a second connection holds an uncommitted lead with the email while the worker
 * applies a request for it, and commits once the worker waits on it.
 * PostgreSQL only: SQLite has one writer, so two writes never interleave there.
 */
import { describe, expect, it } from 'vitest';
import { actingAs } from '../../src/domain/context.js';
import { createLead } from '../../src/domain/leads.js';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { Store } from '../../src/storage/store.js';
import { LM } from '../helpers/lsq.js';
import { lockWaitersIn, schemaUrl } from '../helpers/pg.js';
import { started, type TestServer } from '../helpers/server.js';
import { accept, accountIdOf, createType, settled, waitFor } from './helpers.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';

/** Holds an uncommitted new lead with `email` in a second connection until `commit()` is called. */
async function holdLead(server: TestServer, email: string): Promise<{ other: Store; commit: () => Promise<string> }> {
  const schema = server.dbPath.slice(3);
  const other = await openPostgresStore(schemaUrl(schema), { poolSize: 2, statementTimeoutMs: 20_000 });
  const accountId = await accountIdOf(server);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let inserted!: () => void;
  const insertedP = new Promise<void>((r) => (inserted = r));
  const done = other.transaction(async (tx) => {
    const lead = await createLead(tx, actingAs(server.services.ctx, null), accountId, { EmailAddress: email, FirstName: 'Held' });
    inserted();
    await gate;
    return lead.id;
  });
  await insertedP;
  return {
    other,
    commit: async () => {
      release();
      return done;
    },
  };
}

/** Waits until some session of this schema waits on a lock (the worker or the request, blocked on ours). */
async function someoneWaits(schema: string): Promise<void> {
  await waitFor(
    () => lockWaitersIn(schema),
    (n) => n > 0,
  );
}

describe.skipIf(!onPostgres)('a lost race for a new lead (PostgreSQL)', () => {
  it('the async worker runs the request again and posts on the lead that won, not FAILURE', async () => {
    const s = await started();
    const code = await createType(s, 'Race');
    const held = await holdLead(s, 'race-async@example.com');
    try {
      const id = await accept(s.url, '/activity/create', { EmailAddress: 'race-async@example.com', ActivityEvent: code });
      await someoneWaits(s.dbPath.slice(3));
      const winner = await held.commit();
      const st = await settled(s.url, id);
      expect(st.TaskStatus.Status, st.TaskStatus.StatusReason).toBe('Success');
      expect(JSON.parse(st.TaskStatus.Message).Message.RelatedId).toBe(winner);
    } finally {
      await held.other.close();
    }
  });

  it('Lead.Create, which does not look up, answers the documented duplicate message whichever check catches it', async () => {
    const s = await started();
    const held = await holdLead(s, 'race-create@example.com');
    try {
      const pending = s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'race-create@example.com' }]);
      await someoneWaits(s.dbPath.slice(3));
      await held.commit();
      const r = await pending;
      expect(r.status, r.text).toBe(500);
      expect(r.body).toEqual({ Status: 'Error', ExceptionType: 'MXDuplicateEntryException', ExceptionMessage: 'A Lead with same Email already exists.' });
    } finally {
      await held.other.close();
    }
  });
});
