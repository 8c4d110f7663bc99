/**
 * Forced faults on the API itself (http rules of /_leadtrail/faults): a forced status in
 * LeadSquared's envelope, added latency, a dropped connection, each for the next N calls or a
 * percentage, matched by path and body text; counted atomically; scoped to the calling account;
 * never applied to the faults API itself. On SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/domain/accounts.js';
import { asyncCall } from '../async/helpers.js';
import { started, type TestServer } from '../helpers/server.js';
import { expectMx } from '../helpers/lsq.js';

const FAULTS = '/_leadtrail/faults';
let refusing: Promise<TestServer> | undefined;
const LM = '/v2/LeadManagement.svc';
const create = (s: TestServer, email: string) => s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }]);

describe('sync forced faults', () => {
  it('429 with Retry-After for the next 2 calls of one path, then the real answer; other paths untouched', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const add = await s.call('POST', FAULTS, { path: `${LM}/lead.create/`, status: 429, retryAfter: 7, times: 2 });
    expect(add.status, add.text).toBe(200);
    expect(add.body.fault).toMatchObject({ target: 'http', path: `${LM.toLowerCase()}/lead.create`, status: 429, retryAfter: 7, remaining: 2, percent: null, drop: false });

    // Another path is not matched.
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await create(s, `limited${i}@example.com`);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
      expect(r.body).toEqual({ Status: 'Error', ExceptionType: 'MXAPIRateLimitExceededException', ExceptionMessage: expect.stringContaining('forced') });
    }
    const ok = await create(s, 'after@example.com');
    expect(ok.status, ok.text).toBe(200);
    // The forced answers stored nothing; the third call did.
    const accountId = (await s.services.store.accounts.list())[0].id;
    expect(await s.services.store.leads.count(accountId)).toBe(1);
    // A spent rule is gone from the list.
    expect((await s.call('GET', FAULTS)).body.faults).toEqual([]);
  });

  it('500 MXSystemException only for bodies containing the match text', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    await s.call('POST', FAULTS, { path: '*', status: 500, match: 'boom@example.com', times: 5, message: 'Unable to Connect to DB' });
    expect((await create(s, 'fine@example.com')).status).toBe(200);
    const r = await create(s, 'boom@example.com');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ Status: 'Error', ExceptionType: 'MXSystemException', ExceptionMessage: 'Unable to Connect to DB' });
    expect((await s.call('GET', FAULTS)).body.faults).toMatchObject([{ remaining: 4 }]);
  });

  it('503 on the async API by a path prefix, and GET requests match on their query string', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    await s.call('POST', FAULTS, { Path: '/activity/*', Status: 503, Times: 1 });
    const r = await asyncCall(s.url, 'POST', '/activity/create', { EmailAddress: 'a@example.com', ActivityEvent: 201 });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.body.ExceptionType).toBe('MXServiceUnavailableException');

    await s.call('POST', FAULTS, { path: `${LM}/Leads.GetByEmailaddress`, status: 500, match: 'ghost%40example.com' });
    expect((await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=someone%40example.com`)).status).toBe(200);
    expect((await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=ghost%40example.com`)).status).toBe(500);
  });

  it('added latency delays the answer, which is then the real one', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    await s.call('POST', FAULTS, { path: `${LM}/Lead.Create`, latencyMs: 600 });
    const t0 = performance.now();
    const r = await create(s, 'slow@example.com');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(590);
    expect(r.status, r.text).toBe(200);
    expect(r.body.Status).toBe('Success');
  });

  it('a dropped connection gets no answer at all; the next call is served', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    await s.call('POST', FAULTS, { path: `${LM}/Lead.Create`, drop: true, times: 1 });
    await expect(create(s, 'dropped@example.com')).rejects.toThrow();
    expect((await create(s, 'next@example.com')).status).toBe(200);
    // The dropped call is in the journal and the metrics, as status 444 (it was in neither, and
    // whoever rehearsed failures could not see which call had been dropped).
    const journal = await s.call('GET', '/_leadtrail/journal?path=Lead.Create&bodies=true');
    expect(journal.body.entries.map((e: { status: number }) => e.status)).toEqual([200, 444]);
    expect(journal.body.entries[1].requestBody).toContain('dropped@example.com');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/leadtrail_http_requests_total\{[^}]*route="\/v2\/LeadManagement\.svc\/Lead\.Create"[^}]*status="444"[^}]*\} 1/);
  });

  it('a percentage applies to about that share of calls, until cleared', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const add = await s.call('POST', FAULTS, { path: `${LM}/LeadsMetaData.Get`, status: 500, percent: 50 });
    expect(add.body.fault).toMatchObject({ remaining: null, percent: 50 });
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status);
    const failed = statuses.filter((x) => x === 500).length;
    // Binomial(60, 0.5): outside 10..50 has a chance below one in a million.
    expect(failed).toBeGreaterThan(10);
    expect(failed).toBeLessThan(50);
    expect(statuses.filter((x) => x !== 500 && x !== 200)).toEqual([]);
    expect((await s.call('DELETE', FAULTS)).body).toEqual({ cleared: 1 });
    for (let i = 0; i < 5; i++) expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
  });

  it('"next N" holds under concurrent calls: exactly N of them are hit', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    await s.call('POST', FAULTS, { path: `${LM}/LeadsMetaData.Get`, status: 429, times: 7 });
    const all = await Promise.all(Array.from({ length: 25 }, () => s.call('GET', `${LM}/LeadsMetaData.Get`)));
    expect(all.filter((r) => r.status === 429)).toHaveLength(7);
    expect(all.filter((r) => r.status === 200)).toHaveLength(18);
  });

  it('applies only to the calling account, and never to the faults API itself', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const other = { accessKey: 'o-access', secretKey: 'o-secret', apiKey: 'o-api' };
    await s.services.store.transaction((tx) => createAccount(tx, s.services.ctx, { name: 'other', ...other }));
    await s.call('POST', FAULTS, { path: '*', status: 503, percent: 100 });
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(503);
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: other })).status).toBe(200);
    // A rule on every path still lets the account list and clear its rules.
    expect((await s.call('GET', FAULTS)).status).toBe(200);
    expect((await s.call('DELETE', FAULTS)).body).toEqual({ cleared: 1 });
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
  });

  it('a rule and a request match whatever unreserved characters either percent-encodes (`Lead%2ECreate` is Lead.Create)', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    // Was: the rule's path was stored as `…/leads%2egetbyid` and a request's path compared as sent,
    // so the router served `Leads%2EGetById` as Leads.GetById while no rule for it applied.
    const add = await s.call('POST', FAULTS, { path: `${LM}/Leads%2EGetById`, status: 503, times: 2 });
    expect(add.body.fault.path).toBe(`${LM.toLowerCase()}/leads.getbyid`);
    expect((await s.call('GET', `${LM}/Leads.GetById?id=x`)).status).toBe(503);
    expect((await s.call('GET', `/v2/%4CeadManagement.svc/Leads%2EGetById?id=x`)).status).toBe(503);
    expect((await s.call('GET', `${LM}/Leads%2EGetById?id=x`)).status).toBe(200);

    // A prefix rule is decoded too (and its doubled slashes made one), and hits requests spelt either way.
    expect((await s.call('POST', FAULTS, { path: '/v2//%4CeadManagement.svc/*', status: 500, times: 2 })).body.fault.path).toBe(`${LM.toLowerCase()}/*`);
    expect((await s.call('GET', `${LM}/LeadsMetaData%2EGet`)).status).toBe(500);
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(500);
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
  });

  it('DELETE ?id= removes one rule and leaves the others', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const a = (await s.call('POST', FAULTS, { path: `${LM}/LeadsMetaData.Get`, status: 500, times: 5 })).body.fault.id;
    const b = (await s.call('POST', FAULTS, { operation: 'lead.capture', times: 2 })).body.fault.id;
    expect((await s.call('DELETE', `${FAULTS}?id=${a.toUpperCase()}`)).body).toEqual({ cleared: 1 });
    expect((await s.call('DELETE', `${FAULTS}?id=${a}`)).body).toEqual({ cleared: 0 });
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
    expect((await s.call('GET', FAULTS)).body.faults.map((f: { id: string }) => f.id)).toEqual([b]);
  });

  it('takes every path leadtrail serves, in any case and spelling, and prefixes of them', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    for (const path of [`${LM}/Lead.Create`, '/V2/leadmanagement.svc/lead%2Ecreate/', '/activity/status', '/lead/capture/metrics', '/v2/*', '/lead/*', `${LM}/Leads.Get*`]) {
      const r = await s.call('POST', FAULTS, { path, status: 500 });
      expect(r.status, `${path}: ${r.text}`).toBe(200);
    }
  });

  it('DELETE with a blank id removes nothing, and an id in the body removes only that rule', async () => {
    // A blank `?id=` (an unset shell variable) and an id sent in the body had removed every rule.
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const a = (await s.call('POST', FAULTS, { path: `${LM}/LeadsMetaData.Get`, status: 500, times: 5 })).body.fault.id;
    const b = (await s.call('POST', FAULTS, { operation: 'lead.capture', times: 2 })).body.fault.id;
    for (const blank of [`${FAULTS}?id=`, `${FAULTS}?id=%20%20`]) {
      expectMx(await s.call('DELETE', blank), 400, 'MXInvalidInputException', /'id' is blank/);
    }
    expectMx(await s.call('DELETE', FAULTS, { id: ' ' }), 400, 'MXInvalidInputException', /'id' is blank/);
    expect((await s.call('GET', FAULTS)).body.faults).toHaveLength(2);
    expect((await s.call('DELETE', FAULTS, { id: ` ${a} ` })).body).toEqual({ cleared: 1 });
    expect((await s.call('GET', FAULTS)).body.faults.map((f: { id: string }) => f.id)).toEqual([b]);
    // A body that names no usable rule removes nothing: an explicit null id, a list, a bare string.
    expectMx(await s.call('DELETE', FAULTS, { id: null }), 400, 'MXInvalidInputException', /'id' is null/);
    expectMx(await s.call('DELETE', FAULTS, [b]), 400, 'MXInvalidInputException', /must be a JSON object/);
    expectMx(await s.call('DELETE', FAULTS, b), 400, 'MXInvalidInputException', /must be a JSON object/);
    // A JSON null or "" body (what JSON.stringify(rule?.id ?? null) sends) is no "every rule" either.
    expectMx(await s.call('DELETE', FAULTS, null), 400, 'MXInvalidInputException', /must be a JSON object/);
    expectMx(await s.call('DELETE', FAULTS, ''), 400, 'MXInvalidInputException', /must be a JSON object/);
    expect((await s.call('GET', FAULTS)).body.faults.map((f: { id: string }) => f.id)).toEqual([b]);
    // The query's id goes first.
    expect((await s.call('DELETE', `${FAULTS}?id=${b}`, { id: 'other' })).body).toEqual({ cleared: 1 });
    // No id anywhere (no body, or a body without one): every rule.
    await s.call('POST', FAULTS, { path: '*', status: 500, times: 1 });
    expect((await s.call('DELETE', FAULTS, {})).body).toEqual({ cleared: 1 });
  });

  it.each([
    [{ path: 'lead.create', status: 500 }, 'path'],
    [{ path: '*' }, "needs 'status', 'latencyMs' or 'drop'"],
    [{ path: '*', status: 404 }, 'status'],
    [{ path: '*', status: 500, retryAfter: 3 }, 'retryAfter'],
    [{ path: '*', status: 500, drop: true }, 'drop'],
    [{ path: '*', drop: 'yes' }, 'drop'],
    [{ path: '*', latencyMs: 0 }, 'latencyMs'],
    [{ path: '*', latencyMs: 600_001 }, 'latencyMs'],
    [{ path: '*', status: 500, percent: 0 }, 'percent'],
    [{ path: '*', status: 500, percent: 101 }, 'percent'],
    [{ path: '*', status: 500, operation: 'lead.capture' }, 'not both'],
    [{ status: 500 }, 'path'],
    // Rules no request can match, which had been taken with 200 and never applied (a fresh-eyes run).
    [{ path: '/v2/*/Lead.Create', status: 500 }, '* only at its end'],
    [{ path: '/v2/LeadManagement.svc/Lead.Create ', status: 503 }, 'spaces'],
    [{ path: '/v2/LeadManagement.svc/Lead.Creat', status: 500 }, 'is not a path leadtrail serves'],
    [{ path: '/v3/*', status: 500 }, 'is not the start of a path leadtrail serves'],
    [{ path: '/health', status: 503 }, "leadtrail's own"],
    [{ path: '/METRICS', status: 503 }, "leadtrail's own"],
    [{ path: '/_leadtrail/*', status: 503 }, "leadtrail's own"],
  ])('refuses %j with 400', async (body, what) => {
    // One server for every case (a refused rule adds nothing): a server each held more PostgreSQL
    // connections than the database takes.
    const s = (refusing ??= started({ LEADTRAIL_FAULTS: 'true' }));
    const r = await (await s).call('POST', FAULTS, body);
    expect(r.status, r.text).toBe(400);
    expect(r.body.ExceptionMessage).toContain(what);
    expect((await (await s).call('GET', FAULTS)).body.faults).toEqual([]);
  });
});
