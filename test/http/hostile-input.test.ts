/**
 * Generated hostile input against every route in the route table (new routes are covered without
 * touching this file): wrong JSON types at every property of a realistic body, arrays for objects and
 * back, 100 KB strings, 10,000 levels of nesting, unicode (emoji, RTL, NUL, lone surrogates), SQL
 * text, prototype keys, extreme numbers, invalid UTF-8, empty and `null` bodies, other content
 * types, hostile query strings and credentials, and bodies over the size limit. Every answer must be
 * an envelope with a fitting code, never a system error or a stack trace, and the database (read
 * directly) must not change unless the request succeeded. Seeded, so CI runs the same cases; set
 * HOSTILE_RUNS / HOSTILE_SEED to explore more.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/routes.js';
import { openReader, type DbReader } from '../helpers/db-snapshot.js';
import { finished, makeJudge, type Judge } from '../helpers/hostile-check.js';
import { HUGE, NASTY, RAW_BODIES, knownParams, mutate, jsonText, nodeCount, pct, queryFor, replaceStrings, requestArb, templateFor, type HostileRequest, type SeedIds } from '../helpers/hostile.js';
import { AUTH, LM, PA } from '../helpers/lsq.js';
import { started, KEYS, type TestServer } from '../helpers/server.js';

// Fewer generated runs on PostgreSQL: what differs there is storage, which the fixed sweeps reach.
const RUNS = Number(process.env.HOSTILE_RUNS ?? (process.env.LEADTRAIL_TEST_STORE === 'postgres' ? 6 : 12));
const SEED = Number(process.env.HOSTILE_SEED ?? 20261123);

let s: TestServer;
let reader: DbReader;
let judge: Judge;
let ids: SeedIds;
/** Routes that delete the lead they name (Lead/Delete/ById), each with a lead of its own: the seed lead stays for the routes after them. */
const doomed = new Map<string, SeedIds>();
const deletes = (path: string) => /\/lead\/delete\/byid$/i.test(path);
const idsFor = (route: { method: string; path: string }): SeedIds => doomed.get(`${route.method} ${route.path}`) ?? ids;
let accountId: string;

/**
 * Every route but /health (no input to refuse), /metrics (no input either, and its answer is
 * Prometheus text, not JSON: test/http/metrics.test.ts) and /_leadtrail/reset (it takes no input
 * and empties the account by design, which "nothing changed" cannot judge: test/http/reset.test.ts);
 * the server turns on the optional ones.
 */
const routeList = ROUTES.filter((r) => r.path !== '/health' && r.path !== '/metrics' && r.path !== '/_leadtrail/reset');
/** Whether a route has a realistic body to mutate (ids only fill in values; any will do here). */
const hasTemplate = (path: string) => templateFor(path, { leadId: '', email: '', phone: '', eventCode: 0, activityId: '', requestId: '' }) !== undefined;
const isFaults = (path: string) => path.toLowerCase().startsWith('/_leadtrail/faults');
const seedOf = (path: string) => [...path].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, SEED);
const ok = (route: { method: string; path: string }, body: HostileRequest['body'], query: string[] = []): HostileRequest => ({ method: route.method, path: route.path, query, body, auth: 'query' });

beforeAll(async () => {
  s = await started({ LEADTRAIL_FAULTS: 'true' });
  const type = await s.call('POST', `${PA}/CreateType`, {
    ActivityEventName: 'Hostile seed',
    Score: 5,
    Fields: [
      { SchemaName: 'mx_Custom_1', DataType: 'Number' },
      { SchemaName: 'mx_Custom_2', DataType: 'Dropdown', OptionSet: '[{"Value":"Red"},{"Value":"Blue"}]' },
      { SchemaName: 'mx_Custom_3', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DataType: 'String' }] },
    ],
  });
  expect(type.status, type.text).toBe(200);
  const email = 'seed.lead@example.com';
  const lead = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'FirstName', Value: 'Seed' }, { Attribute: 'Phone', Value: '+91-9876543210' }]);
  expect(lead.status, lead.text).toBe(200);
  const eventCode = type.body.Message.Id;
  const act = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead.body.Message.Id, ActivityEvent: eventCode, Fields: [{ SchemaName: 'mx_Custom_1', Value: '1' }] });
  expect(act.status, act.text).toBe(200);
  accountId = (await s.call('GET', `${AUTH}/UserByAccessKey.Get`)).body.OrgId;
  const accepted = await s.call('POST', '/lead/capture', [{ Attribute: 'EmailAddress', Value: email }], { headers: { 'x-api-key': KEYS.apiKey } });
  expect(accepted.status, accepted.text).toBe(200);
  await finished(s, accountId, accepted.body.RequestID, 'seed request');
  // A webhook for Webhook.svc/Update and Delete to change. It and those Create makes here are for
  // Task_Create (7), an event leadtrail never raises: no delivery changes the database while the
  // judge compares it (the webhook worker has no idle() to wait for).
  const hookUrl = `${s.url}/hostile-hook`;
  const hook = await s.call('POST', '/v2/Webhook.svc/Create', { URL: hookUrl, WebhookEvent: 7 });
  expect(hook.status, hook.text).toBe(200);
  ids = { leadId: lead.body.Message.Id, email, phone: '+91-9876543210', eventCode, activityId: act.body.Message.Id, requestId: accepted.body.RequestID, webhookId: hook.body.Message.Id, hookUrl };
  for (const [i, route] of ROUTES.filter((r) => deletes(r.path)).entries()) {
    const email = `doomed.${route.method.toLowerCase()}@example.com`;
    const phone = `+91-98765000${10 + i}`;
    const made = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'Phone', Value: phone }]);
    expect(made.status, made.text).toBe(200);
    const posted = await s.call('POST', `${PA}/Create`, { RelatedProspectId: made.body.Message.Id, ActivityEvent: eventCode });
    expect(posted.status, posted.text).toBe(200);
    doomed.set(`${route.method} ${route.path}`, { ...ids, leadId: made.body.Message.Id, email, phone, activityId: posted.body.Message.Id });
  }
  reader = await openReader(s);
  judge = await makeJudge(s, reader, accountId);
});

afterAll(async () => {
  await reader?.close();
});

describe('hostile input on every route', () => {
  it('covers the route table: every route is served here', () => {
    // A new optional route must be switched on above, or it would silently go untested.
    expect(routeList.filter((r) => r.needs && !s.services.config[r.needs])).toEqual([]);
    expect(routeList.length).toBeGreaterThanOrEqual(25);
  });

  for (const route of routeList) {
    const name = `${route.method} ${route.path}`;

    it(`${name}: generated requests`, async () => {
      await fc.assert(
        fc.asyncProperty(requestArb(route, idsFor(route)), async (req) => {
          await judge.check(route, req);
          // A fault rule a generated body happened to add would fail the next async request on purpose.
          if (isFaults(route.path)) {
          await s.services.faults.clear(accountId);
          await judge.forget();
        }
        }),
        { seed: seedOf(route.path), numRuns: RUNS },
      );
    });

    it(`${name}: NUL, lone surrogates, SQL, RTL and prototype names in every string and query value at once`, async () => {
      const template = templateFor(route.path, idsFor(route));
      const defer = route.auth === 'async-submit';
      for (const nasty of NASTY) {
        const query = Object.keys(knownParams(idsFor(route))).map((k) => `${k}=${pct(nasty)}`);
        await judge.check(route, ok(route, null, query), { defer });
        if (template !== undefined) await judge.check(route, ok(route, { label: 'json', bytes: jsonText(replaceStrings(template, nasty))!, contentType: 'application/json' }), { defer });
        if (isFaults(route.path)) {
          await s.services.faults.clear(accountId);
          await judge.forget();
        }
      }
      if (template !== undefined) {
        // 100 KB in one value (the first Value, note or name), the rest of the body valid.
        const huge = jsonText(template)!.replace(/"(Value|ActivityNote|ActivityEventName)":"[^"]*"/, `"$1":"${HUGE}"`);
        await judge.check(route, ok(route, { label: '100 KB value', bytes: huge, contentType: 'application/json' }), { defer });
      }
      await judge.check(route, { ...ok(route, null), auth: 'hostile' }, { defer });
      await judge.settle();
    });

    if (route.method === 'GET') continue;

    it(`${name}: bodies that are not JSON, and a 10 MB body (413)`, async () => {
      const defer = route.auth === 'async-submit';
      for (const body of RAW_BODIES) {
        await judge.check(route, ok(route, body), { defer });
        if (isFaults(route.path)) {
          await s.services.faults.clear(accountId);
          await judge.forget();
        }
      }
      const status = await judge.check(route, ok(route, { label: '10 MB', bytes: `{"Value":"${'x'.repeat(10 * 1024 * 1024)}"}`, contentType: 'application/json' }), { defer });
      expect(status).toBe(413);
      await judge.settle();
    });

    if (!hasTemplate(route.path)) continue;
    it(`${name}: every wrong JSON type at every property of a valid body`, async () => {
      const template = templateFor(route.path, idsFor(route));
      // Huge strings, booleans, deep nesting and the rest come from the generated runs; async bodies
      // are judged by the same operations as the sync routes, so they get the short list.
      const defer = route.auth === 'async-submit';
      // Each JSON type in turn: an object, a list, null, a number, a boolean and text, at every
      // property (a number or a boolean where text belongs is read as its text, as LeadSquared does).
      const wrong: unknown[] = defer ? [{}, [], true] : [{}, [], null, 7, true, 'text'];
      const query = queryFor(route.path, idsFor(route));
      for (let at = 0; at < nodeCount(template); at++) {
        for (const value of wrong) {
          const body = jsonText(mutate(template, [{ op: 'set', at, key: '', value }]));
          await judge.check(route, ok(route, { label: 'json', bytes: body ?? '', contentType: 'application/json' }, query), { defer });
          if (isFaults(route.path)) {
            await s.services.faults.clear(accountId);
            await judge.forget();
          }
        }
      }
      // The template itself is a request the route takes, so the sweep above reached past the
      // route's own lookups (the ByLeadField and Retrieve sweeps had been refused for a missing
      // query parameter, every one). Sent after the sweep: a delete's would remove what the sweep's
      // requests name. What an earlier request already made (a name, an e-mail) or removed is
      // refused as such, after every check of the body.
      const status = await judge.check(route, ok(route, { label: 'json', bytes: jsonText(template)!, contentType: 'application/json' }, query), { defer });
      const answer = judge.last!.text;
      const gone = /delete/i.test(route.path) && /does not exist|No webhook with/.test(answer);
      expect(status === 200 || /"ExceptionType":"MX\w*Duplicate\w*"/.test(answer) || gone, `${name}: its template was refused: ${status} ${answer.slice(0, 300)}`).toBe(true);
      if (isFaults(route.path)) {
        await s.services.faults.clear(accountId);
        await judge.forget();
      }
      await judge.settle();
    });
  }

  /**
   * Names every JavaScript object inherits, one string of a valid request at a time (the rest
   * valid, so each reaches the code that looks it up): `Sorting.ColumnName: "constructor"` on
   * Leads.Get had found `Object.prototype.constructor` in a table of columns and answered 500
   * MXSystemException (a fresh-eyes run), where the NASTY sweep above puts them in every string
   * at once and is refused by the first check.
   */
  const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
  for (const route of routeList) {
    const name = `${route.method} ${route.path}`;
    it(`${name}: a name of Object.prototype in each string and query value, one at a time`, async () => {
      const template = templateFor(route.path, idsFor(route));
      const defer = route.auth === 'async-submit';
      const query = queryFor(route.path, idsFor(route));
      const body = template === undefined || route.method === 'GET' ? null : template;
      const send = async (b: unknown, q: string[]) => {
        await judge.check(route, ok(route, b === null ? null : { label: 'json', bytes: jsonText(b)!, contentType: 'application/json' }, q), { defer });
        if (isFaults(route.path)) {
          await s.services.faults.clear(accountId);
          await judge.forget();
        }
      };
      const params = Object.entries(knownParams(idsFor(route)));
      for (const proto of PROTO_NAMES) {
        for (const [k] of params) await send(body, [...query.filter((q) => !q.toLowerCase().startsWith(`${k.toLowerCase()}=`)), `${k}=${proto}`]);
        if (body === null) continue;
        for (let at = 1; at < nodeCount(body); at++) await send(mutate(body, [{ op: 'set', at, key: '', value: proto }]), query);
      }
      await judge.settle();
    });
  }

  it('still answers normally afterwards', async () => {
    expect((await s.call('GET', '/health')).status).toBe(200);
    const lead = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'after.hostile@example.com' }]);
    expect(lead.status, lead.text).toBe(200);
    const act = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead.body.Message.Id, ActivityEvent: ids.eventCode, Fields: [{ SchemaName: 'mx_Custom_1', Value: '7' }] });
    expect(act.status, act.text).toBe(200);
    const read = await s.call('GET', `${LM}/Leads.GetById?id=${lead.body.Message.Id}`);
    expect(read.body[0].Score).toBe('5');
    expect(judge.sent).toBeGreaterThan(1_000);
    // The server runs in this process: `__proto__` / `constructor.prototype` bodies must not have reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
