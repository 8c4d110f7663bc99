/** Keys on every sync endpoint (query or x-LSQ-* headers), and `GET /v2/Authentication.svc/UserByAccessKey.Get`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { addAccessKey } from '../../src/domain/accounts.js';
import { ROUTES } from '../../src/http/routes.js';
import { AUTH, LM, PA, SYNC_ENDPOINTS, expectKeysRequired, expectMx, expectOk } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await started();
});

const headerKeys = { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey };

describe('every /v2 endpoint needs valid keys', () => {
  it('the list checked here is every /v2 route in the route table', () => {
    const routes = ROUTES.filter((r) => r.path.toLowerCase().startsWith('/v2/')).map((r) => `${r.method} ${r.path.toLowerCase()}`);
    const checked = SYNC_ENDPOINTS.map((e) => `${e.method} ${e.path.split('?')[0].toLowerCase()}`);
    expect([...checked].sort()).toEqual([...routes].sort());
  });

  for (const ep of SYNC_ENDPOINTS) {
    it(`${ep.method} ${ep.path.split('?')[0]}: 401 without, or with wrong, keys (query and headers), nothing written`, async () => {
      await expectKeysRequired(s, ep, KEYS);
    });
  }

  for (const ep of SYNC_ENDPOINTS) {
    it(`${ep.method} ${ep.path.split('?')[0]}: accepted with keys in x-LSQ-* headers`, async () => {
      const r = await s.call(ep.method, ep.path, ep.body, { noAuth: true, headers: headerKeys });
      // Some sample calls name unknown records (an application error); none may be refused as unauthorized.
      expect(r.status, r.text).not.toBe(401);
      expect(r.body?.ExceptionType).not.toBe('MXUnAuthorizedAccessException');
    });
  }
});

describe('ways to pass keys', () => {
  it('query names in any case (accesskey/secretkey as in a docs example URL)', async () => {
    const r = await s.call('GET', `${LM}/LeadsMetaData.Get?accesskey=${KEYS.accessKey}&SECRETKEY=${KEYS.secretKey}`, undefined, { noAuth: true });
    expect(r.status, r.text).toBe(200);
  });

  it('empty query keys next to header keys count as absent', async () => {
    const r = await s.call('GET', `${LM}/LeadsMetaData.Get?accessKey=&secretKey=`, undefined, { noAuth: true, headers: headerKeys });
    expect(r.status, r.text).toBe(200);
  });

  it('header names in any case', async () => {
    const r = await s.call('GET', `${PA}/ActivityTypes.Get`, undefined, { noAuth: true, headers: { 'X-LSQ-ACCESSKEY': KEYS.accessKey, 'x-lsq-secretkey': KEYS.secretKey } });
    expect(r.status, r.text).toBe(200);
  });

  it('POST with header keys writes as that account', async () => {
    const r = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'hdr@example.com' }], { noAuth: true, headers: headerKeys });
    const id = expectOk(r).Message.Id;
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${id}`))).toHaveLength(1);
  });

  it('a revoked key stops working', async () => {
    const st = s.services.store;
    const accountId = expectOk(await s.call('GET', `${AUTH}/UserByAccessKey.Get`)).OrgId;
    const pair = await st.transaction((tx) => addAccessKey(tx, s.services.ctx, accountId, null, 'to-revoke', 'to-revoke-secret'));
    expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: pair }));
    await st.accounts.revokeCredential(accountId, 'to-revoke', Date.now());
    expectMx(await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: pair }), 401, 'MXUnAuthorizedAccessException');
  });
});

describe('UserByAccessKey.Get', () => {
  it('answers the user and org, with LSQCommonServiceURLs.api = this server (checklist 28)', async () => {
    const r = expectOk(await s.call('GET', `${AUTH}/UserByAccessKey.Get`));
    const host = new URL(s.url).host;
    expect(r).toMatchObject({ Id: expect.any(String), OrgId: expect.any(String), PassPhrase: expect.stringContaining('@'), Role: 'Administrator', TimeZone: 'UTC' });
    expect(r.LSQCommonServiceURLs.api).toBe(host);
    expect(r.Status).toBeUndefined();
  });

  it('answers the same with header keys and in any path case', async () => {
    const r = expectOk(await s.call('GET', '/V2/authentication.SVC/userbyaccesskey.get', undefined, { noAuth: true, headers: headerKeys }));
    expect(r.LSQCommonServiceURLs.api).toBe(new URL(s.url).host);
  });

  it('LEADTRAIL_PUBLIC_HOST overrides the host it reports', async () => {
    const other = await started({ LEADTRAIL_PUBLIC_HOST: 'api-in21.example.test' });
    const r = expectOk(await other.call('GET', `${AUTH}/UserByAccessKey.Get`));
    expect(r.LSQCommonServiceURLs.api).toBe('api-in21.example.test');
  });
});
