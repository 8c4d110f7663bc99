/** The sync rate limit: per access key, global default, per-key override, 0 = off; 429 + envelope + Retry-After. */
import { beforeAll, describe, expect, it } from 'vitest';
import { addAccessKey } from '../../src/domain/accounts.js';
import { LM, PA, accountIdOf, counts, createLead, expectMx, expectOk, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

const META = `${LM}/LeadsMetaData.Get`;

async function burst(s: TestServer, n: number, init?: CallInit): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await s.call('GET', META, undefined, init)).status);
  return out;
}

async function newKey(s: TestServer, accessKey: string): Promise<{ accessKey: string; secretKey: string }> {
  // Straight from the store: an API call here would spend the default key's budget.
  const accountId = (await s.services.store.accounts.findCredential('access', KEYS.accessKey))!.accountId;
  return s.services.store.transaction((tx) => addAccessKey(tx, s.services.ctx, accountId, null, accessKey, `${accessKey}-secret`));
}

describe('LEADTRAIL_RATE_LIMIT=5/10s', () => {
  let s: TestServer;
  let accountId: string;
  let lead: string;
  beforeAll(async () => {
    s = await started({ LEADTRAIL_RATE_LIMIT: '5/10s' });
    // Setup calls use their own key so that the keys under test start with a full window.
    const setup = await newKey(s, 'setup-key');
    accountId = await accountIdOf(s, { keys: setup });
    lead = await createLead(s, { FirstName: 'Limited' }, { keys: setup });
  });

  it('the 6th call in the window is 429 MXAPIRateLimitExceededException naming the limit, with Retry-After', async () => {
    expect(await burst(s, 5)).toEqual([200, 200, 200, 200, 200]);
    const r = await s.call('GET', META);
    expectMx(r, 429, 'MXAPIRateLimitExceededException', 'API calls exceeded the limit of 5 in 10 second(s)');
    const retry = Number(r.headers.get('retry-after'));
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(10);
  });

  it('applies to every sync endpoint, and a refused write writes nothing', async () => {
    const before = await counts(s, accountId);
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: 21 });
    expectMx(r, 429, 'MXAPIRateLimitExceededException');
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: 'X' }]), 429, 'MXAPIRateLimitExceededException');
    expect(await counts(s, accountId)).toEqual(before);
  });

  it('the limit counts per key: header keys are the same key; another key of the account, or of another account, has its own budget', async () => {
    const headers = { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey };
    expect((await s.call('GET', META, undefined, { noAuth: true, headers })).status).toBe(429);
    const second = await newKey(s, 'second-key');
    expect(await burst(s, 6, { keys: second })).toEqual([200, 200, 200, 200, 200, 429]);
    const b = await secondAccount(s);
    expect(await burst(s, 5, { keys: b.keys })).toEqual([200, 200, 200, 200, 200]);
  });

  it('calls with wrong keys are refused as 401, not counted against the real key', async () => {
    const fresh = await newKey(s, 'fresh-key');
    for (let i = 0; i < 8; i++) expect((await s.call('GET', META, undefined, { keys: { accessKey: fresh.accessKey, secretKey: 'wrong' } })).status).toBe(401);
    expect(await burst(s, 5, { keys: fresh })).toEqual([200, 200, 200, 200, 200]);
  });

  it('a key can carry its own limit (setCredentialRateLimit), and "0" turns it off for that key', async () => {
    const tight = await newKey(s, 'tight-key');
    await s.services.store.accounts.setCredentialRateLimit(accountId, tight.accessKey, '2/10s');
    const statuses = await burst(s, 3, { keys: tight });
    expect(statuses).toEqual([200, 200, 429]);
    expectMx(await s.call('GET', META, undefined, { keys: tight }), 429, 'MXAPIRateLimitExceededException', 'API calls exceeded the limit of 2 in 10 second(s)');

    const free = await newKey(s, 'free-key');
    await s.services.store.accounts.setCredentialRateLimit(accountId, free.accessKey, '0');
    expect((await burst(s, 12, { keys: free })).every((c) => c === 200)).toBe(true);
  });
});

describe('windows and switching off', () => {
  it('a full window frees up again once it has passed', async () => {
    const s = await started({ LEADTRAIL_RATE_LIMIT: '2/3s' });
    expect(await burst(s, 3)).toEqual([200, 200, 429]);
    const r = await s.call('GET', META);
    expect(r.status).toBe(429);
    const wait = Number(r.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(3);
    await new Promise((res) => setTimeout(res, wait * 1000 + 100));
    expect((await s.call('GET', META)).status).toBe(200);
  });

  it("LEADTRAIL_RATE_LIMIT=0 turns the limit off", async () => {
    const s = await started({ LEADTRAIL_RATE_LIMIT: '0' });
    expect((await burst(s, 40)).every((c) => c === 200)).toBe(true);
  });

  it('the default is 25 per 5 s (checklist 19)', async () => {
    // undefined removes the test helper's "0", so the server runs on the built-in default.
    const s = await started({ LEADTRAIL_RATE_LIMIT: undefined });
    const statuses = await burst(s, 26);
    expect(statuses.slice(0, 25).every((c) => c === 200)).toBe(true);
    expectMx(await s.call('GET', META), 429, 'MXAPIRateLimitExceededException', 'API calls exceeded the limit of 25 in 5 second(s)');
    expect(statuses[25]).toBe(429);
  });
});
