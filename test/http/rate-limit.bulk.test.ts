/** The bulk APIs' own limit (LEADTRAIL_BULK_RATE_LIMIT): per access key, apart from the sync limit, off when the sync limit is off. */
import { beforeAll, describe, expect, it } from 'vitest';
import { addAccessKey } from '../../src/domain/accounts.js';
import { LM, PA, accountIdOf, counts, expectMx, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

const BULK_CREATE = `${LM}/Lead/Bulk/Create`;
const META = `${LM}/LeadsMetaData.Get`;
const row = (email: string) => [{ Attribute: 'EmailAddress', Value: email }];

let seq = 0;
const bulkCall = (s: TestServer, init?: CallInit) => s.call('POST', BULK_CREATE, [row(`rl-${process.pid}-${++seq}@bulk.example`)], init);

async function newKey(s: TestServer, accessKey: string): Promise<{ accessKey: string; secretKey: string }> {
  const accountId = (await s.services.store.accounts.findCredential('access', KEYS.accessKey))!.accountId;
  return s.services.store.transaction((tx) => addAccessKey(tx, s.services.ctx, accountId, null, accessKey, `${accessKey}-secret`));
}

describe('LEADTRAIL_BULK_RATE_LIMIT=2/10s with LEADTRAIL_RATE_LIMIT=3/10s', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await started({ LEADTRAIL_RATE_LIMIT: '3/10s', LEADTRAIL_BULK_RATE_LIMIT: '2/10s' });
  });

  it('the 3rd bulk call is 429 naming the bulk limit, with Retry-After, and writes nothing', async () => {
    const k = await newKey(s, 'bulk-a');
    const accountId = await accountIdOf(s, { keys: await newKey(s, 'bulk-a-reader') });
    expect((await bulkCall(s, { keys: k })).status).toBe(200);
    expect((await bulkCall(s, { keys: k })).status).toBe(200);
    const before = await counts(s, accountId);
    const r = await bulkCall(s, { keys: k });
    expectMx(r, 429, 'MXAPIRateLimitExceededException', 'API calls exceeded the limit of 2 in 10 second(s)');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await counts(s, accountId)).toEqual(before);
  });

  it('every bulk API shares the one bulk count (lead bulk writes and the bulk activity posts)', async () => {
    const k = await newKey(s, 'bulk-b');
    expect((await s.call('POST', `${LM}/Lead/Bulk/Update`, { LeadIds: ['00000000-0000-0000-0000-000000000000'], LeadFields: { Attribute: 'FirstName', Value: 'x' } }, { keys: k })).status).toBe(200);
    expect((await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [], { keys: k })).status).toBe(200);
    expectMx(await s.call('POST', `${LM}/Lead/Bulk/CreateOrUpdate`, [], { keys: k }), 429, 'MXAPIRateLimitExceededException');
    expectMx(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress`, [], { keys: k }), 429, 'MXAPIRateLimitExceededException');
    expectMx(await s.call('POST', `${PA}/Bulk/CustomActivity/Update`, [], { keys: k }), 429, 'MXAPIRateLimitExceededException');
    // The bulk activity update counts against the bulk budget too.
    const k2 = await newKey(s, 'bulk-b2');
    expect((await s.call('POST', `${PA}/Bulk/CustomActivity/Update`, [], { keys: k2 })).status).toBe(200);
    expect((await s.call('POST', `${PA}/Bulk/CustomActivity/Update`, [], { keys: k2 })).status).toBe(200);
    expectMx(await bulkCall(s, { keys: k2 }), 429, 'MXAPIRateLimitExceededException', 'limit of 2 in 10');
  });

  it('bulk calls do not use up the sync limit, and sync calls do not use up the bulk one', async () => {
    const k = await newKey(s, 'bulk-c');
    for (let i = 0; i < 3; i++) expect((await s.call('GET', META, undefined, { keys: k })).status).toBe(200);
    expectMx(await s.call('GET', META, undefined, { keys: k }), 429, 'MXAPIRateLimitExceededException', 'limit of 3 in 10');
    expect((await bulkCall(s, { keys: k })).status).toBe(200);
    expect((await bulkCall(s, { keys: k })).status).toBe(200);
    expectMx(await bulkCall(s, { keys: k }), 429, 'MXAPIRateLimitExceededException', 'limit of 2 in 10');
  });

  it('counts per access key: another key, or another account, has its own bulk budget', async () => {
    const k = await newKey(s, 'bulk-d');
    await bulkCall(s, { keys: k });
    await bulkCall(s, { keys: k });
    expect((await bulkCall(s, { keys: k })).status).toBe(429);
    expect((await bulkCall(s, { keys: await newKey(s, 'bulk-e') })).status).toBe(200);
    expect((await bulkCall(s, { keys: (await secondAccount(s)).keys })).status).toBe(200);
  });

  it('a call refused for its body (malformed JSON: 400) costs no bulk token, as with the sync limit', async () => {
    const k = await newKey(s, 'bulk-f');
    for (let i = 0; i < 4; i++) expect((await s.call('POST', BULK_CREATE, undefined, { keys: k, raw: '[[{"Attribute":' })).status).toBe(400);
    expect((await bulkCall(s, { keys: k })).status).toBe(200);
    expect((await bulkCall(s, { keys: k })).status).toBe(200);
  });

  it("a key whose own sync limit is 0 has no bulk limit either", async () => {
    const k = await newKey(s, 'bulk-g');
    const accountId = (await s.services.store.accounts.findCredential('access', KEYS.accessKey))!.accountId;
    await s.services.store.accounts.setCredentialRateLimit(accountId, k.accessKey, '0');
    for (let i = 0; i < 5; i++) expect((await bulkCall(s, { keys: k })).status).toBe(200);
  });
});

describe('switching off, and the default', () => {
  it('LEADTRAIL_RATE_LIMIT=0 turns the bulk limit off too', async () => {
    const s = await started({ LEADTRAIL_RATE_LIMIT: '0', LEADTRAIL_BULK_RATE_LIMIT: '1/10s' });
    for (let i = 0; i < 4; i++) expect((await bulkCall(s)).status).toBe(200);
  });

  it('LEADTRAIL_BULK_RATE_LIMIT=0 turns only the bulk limit off', async () => {
    const s = await started({ LEADTRAIL_RATE_LIMIT: '2/10s', LEADTRAIL_BULK_RATE_LIMIT: '0' });
    for (let i = 0; i < 4; i++) expect((await bulkCall(s)).status).toBe(200);
    await s.call('GET', META);
    await s.call('GET', META);
    expect((await s.call('GET', META)).status).toBe(429);
  });

  it('the default is 10 per 5 s, beside the sync default of 25 per 5 s', async () => {
    const s = await started({ LEADTRAIL_RATE_LIMIT: undefined });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await s.call('POST', BULK_CREATE, [])).status);
    expect(statuses.every((c) => c === 200)).toBe(true);
    expectMx(await s.call('POST', BULK_CREATE, []), 429, 'MXAPIRateLimitExceededException', 'API calls exceeded the limit of 10 in 5 second(s)');
  });
});
