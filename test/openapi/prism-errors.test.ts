/**
 * The error answers a client meets, through Prism's proxy (without --errors: every request is
 * forwarded, even one the document refuses): each answer's status and body must be one the
 * document declares for that operation, so that a client generated from it can read the error.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { KEYS, startServer, started, type TestServer } from '../helpers/server.js';
import { startPrism, violations, type Prism } from './prism.js';

const KEYQ = `accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;
const API = { 'x-api-key': KEYS.apiKey };

describe('error answers through Prism', () => {
  let s: TestServer;
  let prism: Prism;
  beforeAll(async () => {
    s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_SANDBOX: 'true' });
    prism = await startPrism(s.url);
  }, 90_000);
  afterAll(() => prism?.stop());

  /** Sends through Prism; the answer's status, envelope type, and what Prism found wrong in the answer. */
  async function send(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
    const res = await fetch(`${prism.url}${path}`, { method, headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers }, body: init.body });
    const text = await res.text();
    let type: string | undefined;
    try {
      type = (JSON.parse(text) as { ExceptionType?: string }).ExceptionType;
    } catch {
      type = undefined;
    }
    return { status: res.status, type, answer: violations(res).response.map((v) => v.message), request: violations(res).request.map((v) => v.message) };
  }

  it('a missing required query parameter: 500 MXMandatoryAttributeMissingException, as the document says', async () => {
    for (const p of ['/v2/LeadManagement.svc/Leads.GetById', '/v2/LeadManagement.svc/Leads.GetByEmailaddress', '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber']) {
      expect(await send('GET', `${p}?${KEYQ}`), p).toMatchObject({ status: 500, type: 'MXMandatoryAttributeMissingException', answer: [] });
    }
    // Each of these parameters is required in the document too, so a generated client asks for it.
    expect(await send('GET', `/v2/LeadManagement.svc/Leads.GetByQuickSearch?${KEYQ}`)).toEqual({
      status: 500,
      type: 'MXMandatoryAttributeMissingException',
      answer: [],
      request: ["Request query must have required property 'key'"],
    });
    for (const p of ['/activity/status', '/activity/create/status', '/activity/createcustom/status', '/lead/status', '/lead/update/status']) {
      expect(await send('GET', p, { headers: API }), p).toMatchObject({ status: 500, type: 'MXMandatoryAttributeMissingException', answer: [] });
    }
  });

  it('a forced system fault (500 MXSystemException) on any API path is in the document', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['/v2/Authentication.svc/UserByAccessKey.Get', `?${KEYQ}`, {}],
      ['/v2/ProspectActivity.svc/ActivityTypes.Get', `?${KEYQ}`, {}],
      ['/activity/create/metrics', '', API],
    ];
    for (const [p, q, headers] of cases) {
      expect((await s.call('POST', '/_leadtrail/faults', { path: p, status: 500, times: 1 })).status).toBe(200);
      expect(await send('GET', `${p}${q}`, { headers }), p).toMatchObject({ status: 500, type: 'MXSystemException', answer: [] });
    }
  });

  it('a compressed body: 415 MXUnsupportedMediaTypeException on any POST or DELETE, as the document says', async () => {
    const cases: [string, Record<string, string>][] = [
      [`/v2/LeadManagement.svc/Lead.Create?${KEYQ}`, {}],
      [`/activity/create?${KEYQ}`, API],
      [`/_leadtrail/retries/run-now?${KEYQ}`, {}],
    ];
    for (const [p, headers] of cases) {
      const r = await send('POST', p, { headers: { ...headers, 'content-encoding': 'gzip' }, body: '[]' });
      expect(r, p).toMatchObject({ status: 415, type: 'MXUnsupportedMediaTypeException', answer: [] });
    }
    // A DELETE's body is read too (Fastify parses it): its 415 and 413 were not in the document
    // (a fresh-eyes run).
    const del = `/_leadtrail/faults?${KEYQ}`;
    expect(await send('DELETE', del, { headers: { 'content-encoding': 'gzip' }, body: '{}' })).toMatchObject({ status: 415, type: 'MXUnsupportedMediaTypeException', answer: [] });
    expect(await send('DELETE', del, { body: `{"a":"${'x'.repeat(2 * 1024 * 1024)}"}` })).toMatchObject({ status: 413, type: 'MXRequestTooLargeException', answer: [] });
  });

  it('a number in the query that is not one: the error the document declares, and Prism names the integer it expected', async () => {
    for (const p of ['/_leadtrail/webhooks/deliveries?limit=abc', '/_leadtrail/webhooks/deliveries?offset=1e300', '/_leadtrail/journal?limit=abc', '/_leadtrail/journal?status=x']) {
      const r = await send('GET', `${p}&${KEYQ}`);
      expect(r, p).toMatchObject({ status: 400, type: 'MXInvalidInputException', answer: [] });
      expect(r.request.join('\n'), p).toMatch(/must be (integer|<= 9007199254740991)/);
    }
    const setting = await send('GET', `/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code=abc&${KEYQ}`);
    expect(setting).toMatchObject({ status: 500, type: 'MXInvalidActivityException', answer: [] });
    expect(setting.request.join('\n')).toMatch(/must be integer/);
    // A page index past the document's maximum was a 500 MXSystemException (an offset no BIGINT holds).
    const page = await send('POST', `/v2/Webhook.svc/Retrieve?${KEYQ}`, { body: '{"Paging":{"PageIndex":1e300}}' });
    expect(page).toMatchObject({ status: 500, type: 'MXInvalidInputException', answer: [] });
    expect(page.request.join('\n')).toMatch(/must be <= 1000000/);
  });

  it('every 429 and 503 carries the Retry-After the document declares for it', async () => {
    const cases: [string, number, Record<string, string>][] = [
      [`/v2/LeadManagement.svc/Leads.GetById?id=x&${KEYQ}`, 429, {}],
      [`/v2/LeadManagement.svc/Leads.GetById?id=x&${KEYQ}`, 503, {}],
      ['/lead/status?RequestID=x', 503, API],
    ];
    for (const [p, status, headers] of cases) {
      expect((await s.call('POST', '/_leadtrail/faults', { path: p.split('?')[0], status, retryAfter: 7, times: 1 })).status).toBe(200);
      const res = await fetch(`${prism.url}${p}`, { headers });
      await res.text();
      expect({ status: res.status, retryAfter: res.headers.get('retry-after'), answer: violations(res).response }, p).toEqual({ status, retryAfter: '7', answer: [] });
    }
    const doc = JSON.parse(fs.readFileSync(new URL('../../openapi/leadtrail.json', import.meta.url), 'utf8'));
    const missing: string[] = [];
    for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { required?: boolean }> }> }>>)) {
      for (const [method, op] of Object.entries(item)) {
        for (const status of ['429', '503']) {
          const r = op.responses[status];
          if (r && p !== '/health/live' && r.headers?.['Retry-After']?.required !== true) missing.push(`${method} ${p} ${status}`);
        }
      }
    }
    expect(missing, 'answers 429/503 without a required Retry-After in the document').toEqual([]);
  });

  it('a forced 429 on an async status or metrics path is in the document', async () => {
    for (const p of ['/activity/status', '/lead/capture/metrics']) {
      expect((await s.call('POST', '/_leadtrail/faults', { path: p, status: 429, times: 1 })).status).toBe(200);
      expect(await send('GET', `${p}?RequestID=x`, { headers: API }), p).toMatchObject({ status: 429, type: 'MXAPIRateLimitExceededException', answer: [] });
    }
  });
});

describe('health answers through Prism', () => {
  it('503 while starting is the plain health JSON the document describes', async () => {
    const port = await freePort();
    const prism = await startPrism(`http://127.0.0.1:${port}`);
    const seen: Record<string, { status: number; body: unknown; answer: string[] }> = {};
    try {
      // The start is held at the keys' announcement, with the port already bound.
      const s = await startServer(
        { PORT: String(port) },
        {
          announce: async () => {
            for (const p of ['/health', '/health/ready']) {
              const res = await fetch(`${prism.url}${p}`);
              seen[p] = { status: res.status, body: await res.json(), answer: violations(res).response.map((v) => v.message) };
            }
          },
        },
      );
      await s.close();
    } finally {
      prism.stop();
    }
    for (const p of ['/health', '/health/ready']) {
      expect(seen[p], p).toMatchObject({ status: 503, body: { status: 'starting' }, answer: [] });
    }
  }, 90_000);
});

describe('switched-off routes through Prism', () => {
  it('without LEADTRAIL_FAULTS and LEADTRAIL_SANDBOX, their routes answer 404 naming the switch, as the document says', async () => {
    const s = await started();
    const prism = await startPrism(s.url);
    try {
      for (const [method, p] of [['POST', '/_leadtrail/faults'], ['GET', '/_leadtrail/faults'], ['DELETE', '/_leadtrail/faults'], ['POST', '/_leadtrail/reset'], ['POST', '/_leadtrail/retries/run-now']]) {
        const res = await fetch(`${prism.url}${p}?${KEYQ}`, { method, ...(method === 'POST' && p.endsWith('faults') ? { headers: { 'content-type': 'application/json' }, body: '{"operation":"*"}' } : {}) });
        const body = (await res.json()) as { ExceptionType?: string };
        expect({ status: res.status, type: body.ExceptionType, answer: violations(res).response.map((v) => v.message) }, `${method} ${p}`).toEqual({
          status: 404,
          type: 'MXAPINotFoundException',
          answer: [],
        });
      }
    } finally {
      prism.stop();
    }
  }, 90_000);
});
