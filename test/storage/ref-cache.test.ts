/**
 * The in-process cache of reference data (keys, lead fields, activity types; src/storage/sql/ref-cache.ts)
 * against changes made elsewhere: a key revoked or re-limited, or an activity type added, by another
 * connection to the same database (what the CLI is, on its own process) while the server runs takes
 * effect on the server's very next request. On the engine of the vitest project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefCache } from '../../src/storage/sql/ref-cache.js';
import type { LeadFieldDef } from '../../src/domain/types.js';
import type { Store } from '../../src/storage/store.js';
import { KEYS, startServer, storeBeside, type TestServer } from '../helpers/server.js';

const PA = '/v2/ProspectActivity.svc';

const cacheOf = (s: TestServer) => (s.services.store as unknown as { refCache: RefCache }).refCache;

describe('reference-data cache across connections', () => {
  let server: TestServer;
  let other: Store;
  /** A third store on the database that only ever reads. */
  let reading: Store;
  let accountId: string;

  beforeAll(async () => {
    server = await startServer();
    other = await storeBeside(server);
    reading = await storeBeside(server);
    accountId = (await other.accounts.findCredential('access', KEYS.accessKey))!.accountId;
  });
  afterAll(async () => {
    await reading?.close();
    await other?.close();
    await server?.close();
  });

  it('answers repeated lookups from the cache, and a key revoked elsewhere is refused on the next request', async () => {
    // A second key of the account, made elsewhere, so the test's own key stays usable.
    const { addAccessKey } = await import('../../src/domain/accounts.js');
    const keys = await other.transaction((tx) => addAccessKey(tx, { now: () => Date.now(), newId: () => crypto.randomUUID() } as never, accountId, null));
    const before = { ...cacheOf(server).stats };
    for (let i = 0; i < 5; i++) expect((await server.call('GET', `${PA}/ActivityTypes.Get`, undefined, { keys })).status).toBe(200);
    const after = cacheOf(server).stats;
    // The key and the type list were read once, then found in the cache.
    expect(after.hits - before.hits).toBeGreaterThanOrEqual(8);

    expect(await other.accounts.revokeCredential(accountId, keys.accessKey, Date.now())).toBe(true);
    const refused = await server.call('GET', `${PA}/ActivityTypes.Get`, undefined, { keys });
    expect(refused.status).toBe(401);
    // The account's other key is untouched.
    expect((await server.call('GET', `${PA}/ActivityTypes.Get`)).status).toBe(200);
  });

  it('under concurrent requests, every request sent after a key is revoked elsewhere is refused', async () => {
    const { addAccessKey } = await import('../../src/domain/accounts.js');
    const keys = await other.transaction((tx) => addAccessKey(tx, { now: () => Date.now(), newId: () => crypto.randomUUID() } as never, accountId, null));
    // Requests with the key keep arriving, so token reads are in flight when the key is revoked.
    let stop = false;
    let served = 0;
    const load = Array.from({ length: 16 }, async () => {
      while (!stop) if ((await server.call('GET', `${PA}/ActivityTypes.Get`, undefined, { keys })).status === 200) served += 1;
    });
    while (served < 50) await new Promise((r) => setImmediate(r));
    expect(await other.accounts.revokeCredential(accountId, keys.accessKey, Date.now())).toBe(true);
    const after = await Promise.all(Array.from({ length: 32 }, () => server.call('GET', `${PA}/ActivityTypes.Get`, undefined, { keys })));
    stop = true;
    await Promise.all(load);
    expect(after.map((r) => r.status)).toEqual(after.map(() => 401));
  });

  it('a rate limit set elsewhere applies from the next request', async () => {
    const { addAccessKey } = await import('../../src/domain/accounts.js');
    const keys = await other.transaction((tx) => addAccessKey(tx, { now: () => Date.now(), newId: () => crypto.randomUUID() } as never, accountId, null));
    for (let i = 0; i < 4; i++) expect((await server.call('GET', `${PA}/ActivityTypes.Get`, undefined, { keys })).status).toBe(200);
    expect(await other.accounts.setCredentialRateLimit(accountId, keys.accessKey, '2/60s')).toBe(true);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await server.call('GET', `${PA}/ActivityTypes.Get`, undefined, { keys })).status);
    expect(codes).toEqual([200, 200, 429]);
  });

  it('an activity type added elsewhere can be posted at once', async () => {
    const post = () => server.call('POST', `${PA}/Create`, { EmailAddress: 'cache@example.com', ActivityEvent: 277, ActivityNote: 'x' });
    const unknown = await post();
    expect(unknown.body?.ExceptionMessage, unknown.text).toMatch(/Event Code is invalid/);
    await other.activityTypes.insert({ accountId, code: 277, name: 'Made elsewhere', displayName: 'Made elsewhere', description: '', score: 3, direction: 0, isSystem: false, fields: [], settings: {}, createdOn: Date.now() });
    const ok = await post();
    expect(ok.status, ok.text).toBe(200);
  });

  it('hands every reader the same frozen lead-field list until a field changes elsewhere, then the new list', async () => {
    const store = reading;
    const first = await store.leadFields.list(accountId);
    expect(await store.leadFields.list(accountId)).toBe(first);
    // Shared, so no reader may change it for the others (a sort must copy it).
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => (first as LeadFieldDef[]).sort((a, b) => b.schemaName.localeCompare(a.schemaName))).toThrow(TypeError);
    await other.leadFields.upsert(accountId, { schemaName: 'mx_Cached_Elsewhere', displayName: 'Cached elsewhere', dataType: 'String', isUnique: false, isMandatory: false, maxLength: null, options: null, isSystem: false });
    const next = await store.leadFields.list(accountId);
    expect(next).not.toBe(first);
    expect(next.map((d) => d.schemaName)).toContain('mx_Cached_Elsewhere');
    expect(first.map((d) => d.schemaName)).not.toContain('mx_Cached_Elsewhere');
  });

  // The server's own commits make its reader read the token again; a store that only reads must
  // still see a change another process commits (SQLite: through the writer's data_version).
  it('a key revoked and re-limited by another process is seen by a store that has only read since', async () => {
    const { addAccessKey } = await import('../../src/domain/accounts.js');
    const keys = await other.transaction((tx) => addAccessKey(tx, { now: () => Date.now(), newId: () => crypto.randomUUID() } as never, accountId, null));
    const cache = (reading as unknown as { refCache: RefCache }).refCache;
    for (let i = 0; i < 3; i++) expect(await reading.accounts.findCredential('access', keys.accessKey)).toMatchObject({ rateLimit: null, revokedAt: null });
    const hits = cache.stats.hits;
    expect(await reading.accounts.findCredential('access', keys.accessKey)).toMatchObject({ rateLimit: null });
    expect(cache.stats.hits).toBe(hits + 1);

    expect(await other.accounts.setCredentialRateLimit(accountId, keys.accessKey, '7/60s')).toBe(true);
    expect(await reading.accounts.findCredential('access', keys.accessKey)).toMatchObject({ rateLimit: '7/60s', revokedAt: null });
    expect(await other.accounts.revokeCredential(accountId, keys.accessKey, 1_700_000_000_000)).toBe(true);
    // A revoked key is not found at all.
    expect(await reading.accounts.findCredential('access', keys.accessKey)).toBeNull();
  });
});

describe('enabled webhooks in the reference-data cache', () => {
  let server: TestServer;
  let other: Store;
  let accountId: string;

  beforeAll(async () => {
    // A webhook whose receiver refuses connections: its failures count on the webhook's row, at once.
    server = await startServer({ LEADTRAIL_WEBHOOK_RETRY_SCHEDULE: '60' });
    other = await storeBeside(server);
    accountId = (await other.accounts.findCredential('access', KEYS.accessKey))!.accountId;
    await other.activityTypes.insert({ accountId, code: 278, name: 'Hooked', displayName: 'Hooked', description: '', score: 0, direction: 0, isSystem: false, fields: [], settings: {}, createdOn: Date.now() });
  });
  afterAll(async () => {
    await other?.close();
    await server?.close();
  });

  const post = async () => {
    const r = await server.call('POST', `${PA}/Create`, { EmailAddress: 'hooked@example.com', ActivityEvent: 278, ActivityNote: 'x' });
    expect(r.status, r.text).toBe(200);
  };
  const outboxed = async () => Object.values(await server.services.store.webhooks.countByStatus()).reduce((a, b) => a + b, 0);

  it('a webhook added elsewhere gets the next write\'s event; disabled elsewhere, none; a failed delivery flushes nothing', async () => {
    await post(); // the account's (empty) webhook list is now cached
    const before = await outboxed();
    const now = Date.now();
    const hook = {
      id: crypto.randomUUID(),
      accountId,
      description: 'made elsewhere',
      url: 'http://127.0.0.1:9/refused',
      method: 'POST' as const,
      contentType: 'application/json' as const,
      eventCode: 2,
      customHeaders: [],
      notifyOnFailure: false,
      delaySeconds: 0,
      secret: null,
      status: 0 as const,
      consecutiveFailures: 0,
      createdOn: now,
      modifiedOn: now,
    };
    await other.webhooks.insert(hook);
    await post();
    expect(await outboxed()).toBe(before + 1);

    // The server's worker fails to deliver it: that counts on the webhook's row, but the enabled
    // list did not change, so the cache keeps its entries.
    const flushes = cacheOf(server).stats.flushes;
    await expect.poll(async () => (await other.webhooks.get(accountId, hook.id))?.consecutiveFailures ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
    expect((await other.webhooks.get(accountId, hook.id))?.status).toBe(0);
    await post();
    expect(cacheOf(server).stats.flushes).toBe(flushes);
    expect(await outboxed()).toBe(before + 2);

    expect(await other.webhooks.update({ ...hook, status: 1, modifiedOn: Date.now() })).toBe(true);
    await post();
    expect(await outboxed()).toBe(before + 2);
  });
});

describe('reference-data cache and rolled-back changes', () => {
  let store: Store;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    store = server.services.store;
  });
  afterAll(() => server?.close());

  it('a change that was read inside its transaction and then rolled back is never answered after', async () => {
    const accountId = (await store.accounts.findCredential('access', KEYS.accessKey))!.accountId;
    const type = { accountId, code: 288, name: 'Rolled back', displayName: 'Rolled back', description: '', score: 1, direction: 0, isSystem: false, fields: [], settings: {}, createdOn: 1 };
    await expect(
      store.transaction(async (tx) => {
        await tx.activityTypes.insert(type);
        expect(await tx.activityTypes.get(accountId, 288)).toMatchObject({ name: 'Rolled back' });
        throw new Error('roll it back');
      }),
    ).rejects.toThrow('roll it back');
    // Another change commits before anything looks again: a version counter would now be back at the
    // number the rolled-back change had, and the cache would still answer for it.
    await store.activityTypes.insert({ ...type, code: 289, name: 'Committed' });
    expect(await store.activityTypes.get(accountId, 288)).toBeNull();
    expect(await store.activityTypes.get(accountId, 289)).toMatchObject({ name: 'Committed' });
    await store.transaction(async (tx) => {
      expect(await tx.activityTypes.get(accountId, 288)).toBeNull();
    });
  });
});

