/**
 * A property inside one of a body's objects (`Sorting.ColumnName`, `Columns.Include_CSV`,
 * `Parameter.FromDate`, `Paging.PageIndex`) that holds a value of the wrong type is named with the
 * object it is in: `'Include_CSV' must be a string, number or boolean` left a client to guess where
 * (found by a fresh-eyes run on Leads.Get; RetrieveByActivityEvent's Paging, the lead reads' Sorting
 * and Parameter's dates, and Webhook.svc/Retrieve's Parameter and Sorting did the same). Every
 * route with a realistic body (test/helpers/hostile.ts), every scalar property of every object
 * property of it, in turn: new routes and properties are covered without touching this file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/routes.js';
import { queryFor, templateFor, type SeedIds } from '../helpers/hostile.js';
import { LM, PA } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let ids: SeedIds;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** The sync routes whose realistic body is an object with objects in it, and the nested properties: [route, parent, child]. */
function nestedProperties(): { method: string; path: string; parent: string; child: string }[] {
  const blank: SeedIds = { leadId: 'x', email: 'x', phone: 'x', eventCode: 0, activityId: 'x', requestId: 'x', webhookId: 'x', hookUrl: 'x' };
  const out: { method: string; path: string; parent: string; child: string }[] = [];
  for (const r of ROUTES) {
    if (r.auth === 'async-submit' || r.auth === 'none') continue;
    const t = templateFor(r.path, blank);
    if (!isPlainObject(t)) continue;
    for (const [parent, v] of Object.entries(t)) {
      if (!isPlainObject(v)) continue;
      for (const [child, c] of Object.entries(v)) if (isScalar(c)) out.push({ method: r.method, path: r.path, parent, child });
    }
  }
  return out;
}

beforeAll(async () => {
  s = await started();
  const type = await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Nested names', Score: 1 });
  expect(type.status, type.text).toBe(200);
  const email = 'nested.names@example.com';
  const lead = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }]);
  expect(lead.status, lead.text).toBe(200);
  const act = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead.body.Message.Id, ActivityEvent: type.body.Message.Id });
  expect(act.status, act.text).toBe(200);
  ids = { leadId: lead.body.Message.Id, email, phone: '', eventCode: type.body.Message.Id, activityId: act.body.Message.Id, requestId: '' };
});

describe('a wrong type inside a body object names its object', () => {
  const props = nestedProperties();
  it('finds nested properties on the routes that have them', () => {
    // Leads.Get, ByIds, RecentlyModified, Retrieve, RetrieveByActivityEvent, RetrieveRecentlyModified, Webhook.svc/Retrieve, …
    expect(props.length).toBeGreaterThanOrEqual(20);
  });

  // Beyond scalars straight inside an object (a review): a list inside an object, the rows of a
  // list that is not a bulk body, a check of a whole object, and a refused value (500).
  const code = () => ids.eventCode;
  it.each([
    ['CreateCustom: a field of the activity', `${PA}/CreateCustom`, () => ({ LeadDetails: [{ Attribute: 'EmailAddress', Value: ids.email }], Activity: { ActivityEvent: code(), Fields: [{ SchemaName: 'mx_Custom_1', Value: {} }] } }), 400, "'Activity.Fields[0].Value'"],
    ['CreateType: a field definition', `${PA}/CreateType`, () => ({ ActivityEventName: 'Nested rows', Fields: [{ SchemaName: 'mx_Custom_1' }, { SchemaName: {} }] }), 400, "'Fields[1].SchemaName'"],
    // A value refused (500, as Int32 values are): the definition's MaxLength had named the schema
    // name (`'mx_Custom_2.MaxLength'`), its other properties their place.
    ['CreateType: a field definition\'s MaxLength', `${PA}/CreateType`, () => ({ ActivityEventName: 'Nested lengths', Fields: [{ SchemaName: 'mx_Custom_1' }, { SchemaName: 'mx_Custom_2', MaxLength: 'ten' }] }), 500, "'Fields[1].MaxLength'"],
    ['CreateType: a field definition\'s MaxFieldLength', `${PA}/CreateType`, () => ({ ActivityEventName: 'Nested field lengths', Fields: [{ SchemaName: 'mx_Custom_1', MaxFieldLength: -1 }] }), 500, "'Fields[0].MaxFieldLength'"],
    ['Webhook.svc/Create: a custom header', '/v2/Webhook.svc/Create', () => ({ URL: 'http://127.0.0.1:9/hook', WebhookEvent: 7, CustomHeaders: [{ Key: 'X-A', Value: 'a' }, { Key: 'X-B', Value: {} }] }), 400, "'CustomHeaders[1].Value'"],
    ['Leads.Get: a value the whole Parameter is checked for', `${LM}/Leads.Get`, () => ({ Parameter: { LookupName: 'EmailAddress', LookupValue: ['a'], SqlOperator: '=' } }), 400, "'Parameter.LookupValue'"],
    ['Leads.Get: an operator it does not know', `${LM}/Leads.Get`, () => ({ Parameter: { LookupName: 'EmailAddress', LookupValue: 'a', SqlOperator: 'zz' } }), 500, "'Parameter.SqlOperator'"],
  ])('%s', async (_what, path, body, status, named) => {
    const r = await s.call('POST', path, body());
    expect(r.status, r.text).toBe(status);
    expect(r.body.ExceptionType, r.text).toBe('MXInvalidInputException');
    expect(r.body.ExceptionMessage, r.text).toContain(named);
  });

  for (const { method, path, parent, child } of props) {
    it(`${method} ${path}: ${parent}.${child} as an object`, async () => {
      const body = templateFor(path, ids) as Record<string, Record<string, unknown>>;
      body[parent] = { ...body[parent], [child]: { x: 1 } };
      const query = queryFor(path, ids);
      const r = await s.call(method, query.length > 0 ? `${path}?${query.join('&')}` : path, body);
      expect(r.status, r.text).toBe(400);
      expect(r.body.Status, r.text).toBe('Error');
      expect(r.body.ExceptionMessage, r.text).toContain(`${parent}.${child}`);
    });
  }
});
