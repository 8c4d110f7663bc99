/**
 * A store opened the way the CLI opens one, beside a running server on the same database: its
 * transactions that read and then write wait for the server's commits instead of failing. On SQLite
 * a deferred BEGIN took its snapshot at the first read, and its first write then failed at once
 * with "database is locked" (SQLITE_BUSY, not waited out) whenever the server had committed since:
 * `leadtrail keys create` beside a server writing its journal, for one (found as a flaky test).
 * On the engine of the vitest project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccessKey } from '../../src/domain/accounts.js';
import type { Store } from '../../src/storage/store.js';
import { KEYS, startServer, storeBeside, type CallResult, type TestServer } from '../helpers/server.js';

const LM = '/v2/LeadManagement.svc';

describe('a CLI store beside a running server', () => {
  let server: TestServer;
  let cli: Store;
  let accountId: string;

  beforeAll(async () => {
    server = await startServer();
    cli = await storeBeside(server);
    accountId = (await cli.accounts.findCredential('access', KEYS.accessKey))!.accountId;
  });
  afterAll(async () => {
    await cli?.close();
    await server?.close();
  });

  it('a transaction that reads, then writes after the server was asked to write meanwhile, succeeds, and so does the server', async () => {
    const ctx = { now: () => Date.now(), newId: () => crypto.randomUUID() };
    const calls: Promise<CallResult>[] = [];
    const keys = await cli.transaction(async (tx) => {
      // A read first: a deferred BEGIN would take its snapshot here.
      expect((await tx.accounts.listCredentials(accountId)).length).toBeGreaterThan(0);
      // The server writes meanwhile (a lead, and its journal entry after): were it let through, it
      // would commit while this transaction waits.
      for (let i = 0; i < 3; i++) calls.push(server.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `beside${i}@example.com` }]));
      await new Promise((r) => setTimeout(r, 300));
      // Reads the credentials again, then writes one: what `leadtrail keys create` does.
      return addAccessKey(tx, ctx, accountId, null);
    });
    for (const r of await Promise.all(calls)) expect(r.status, r.text).toBe(200);
    // The key the CLI made works on the server.
    const r = await server.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=beside0@example.com`, undefined, { keys });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toHaveLength(1);
  });
});
