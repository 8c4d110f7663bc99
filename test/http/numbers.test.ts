/**
 * Every number the API accepts is range-checked at the edge, so SQLite and PostgreSQL (whose INTEGER
 * is 32 bits) give the same MX answer: never MXSystemException, never a stored value out of range.
 * Each site gets the same seven inputs, sent as raw JSON so that 1e309 arrives as JSON wrote it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accept, settled, stored } from '../async/helpers.js';
import { LM, PA, createLead, createType, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;
let leadId: string;

/** The inputs of the property test, as JSON text. */
const INPUTS: [string, string][] = [
  ['-1', '-1'],
  ['0', '0'],
  ['2^31-1', '2147483647'],
  ['2^31', '2147483648'],
  ['2^53', '9007199254740992'],
  ['1e309', '1e309'],
  ['"12abc"', '"12abc"'],
];

interface Outcome {
  status: number;
  type?: string;
}

const ok: Outcome = { status: 200 };
const mx = (type: string, status = 500): Outcome => ({ status, type });
const invalidEvent = mx('MXInvalidActivityException');
const invalidInput = mx('MXInvalidInputException');
const badStructure = mx('MXInvalidInputException', 400);

/** Sends `json` (raw text) and returns status and ExceptionType, asserting the envelope on errors. */
async function send(method: string, path: string, json: string | undefined): Promise<Outcome> {
  const r = await s.call(method, path, undefined, json === undefined ? {} : { raw: json });
  if (r.status === 200) return ok;
  expect(r.body, r.text).toMatchObject({ Status: 'Error', ExceptionType: expect.stringMatching(/^MX/), ExceptionMessage: expect.any(String) });
  expect(r.body.ExceptionType, r.text).not.toBe('MXSystemException');
  return { status: r.status, type: r.body.ExceptionType };
}

beforeAll(async () => {
  s = await started();
  code = await createType(s, { ActivityEventName: 'Numbers', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Number' }] });
  leadId = await createLead(s, { FirstName: 'Numbers', EmailAddress: 'numbers@example.com' });
});

/** Each site: how to send a value, and what each input must get (the same on both engines). */
const SITES: { name: string; send: (v: string) => Promise<Outcome>; expect: Record<string, Outcome> }[] = [
  {
    name: 'Create ActivityEvent',
    send: (v) => send('POST', `${PA}/Create`, `{"RelatedProspectId":"${leadId}","ActivityEvent":${v}}`),
    expect: { '-1': invalidEvent, '0': invalidEvent, '2^31-1': invalidEvent, '2^31': invalidEvent, '2^53': invalidEvent, '1e309': invalidEvent, '"12abc"': invalidEvent },
  },
  {
    name: 'CreateCustom Activity.ActivityEvent',
    send: (v) => send('POST', `${PA}/CreateCustom`, `{"LeadDetails":[{"Attribute":"EmailAddress","Value":"numbers@example.com"}],"Activity":{"ActivityEvent":${v}}}`),
    expect: { '-1': invalidEvent, '0': invalidEvent, '2^31-1': invalidEvent, '2^31': invalidEvent, '2^53': invalidEvent, '1e309': invalidEvent, '"12abc"': invalidEvent },
  },
  {
    name: 'GetActivitySetting code',
    send: (v) => send('GET', `${PA}/CustomActivity/GetActivitySetting?code=${encodeURIComponent(v.replace(/"/g, ''))}`, undefined),
    expect: { '-1': invalidEvent, '0': invalidEvent, '2^31-1': invalidEvent, '2^31': invalidEvent, '2^53': invalidEvent, '1e309': invalidEvent, '"12abc"': invalidEvent },
  },
  {
    name: 'RetrieveByActivityEvent Parameter.ActivityEvent',
    send: (v) => send('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, `{"Parameter":{"ActivityEvent":${v}}}`),
    expect: { '-1': invalidEvent, '0': invalidEvent, '2^31-1': invalidEvent, '2^31': invalidEvent, '2^53': invalidEvent, '1e309': invalidEvent, '"12abc"': invalidEvent },
  },
  {
    name: 'Retrieve Parameter.ActivityEvent',
    send: (v) => send('POST', `${PA}/Retrieve?leadId=${leadId}`, `{"Parameter":{"ActivityEvent":${v}}}`),
    expect: { '-1': invalidInput, '0': invalidInput, '2^31-1': ok, '2^31': invalidInput, '2^53': invalidInput, '1e309': invalidInput, '"12abc"': invalidInput },
  },
  {
    name: 'Retrieve Paging.Offset',
    send: (v) => send('POST', `${PA}/Retrieve?leadId=${leadId}`, `{"Paging":{"Offset":${v}}}`),
    expect: { '-1': invalidInput, '0': ok, '2^31-1': invalidInput, '2^31': invalidInput, '2^53': invalidInput, '1e309': invalidInput, '"12abc"': invalidInput },
  },
  {
    name: 'Retrieve Paging.RowCount',
    send: (v) => send('POST', `${PA}/Retrieve?leadId=${leadId}`, `{"Paging":{"RowCount":${v}}}`),
    expect: { '-1': invalidInput, '0': ok, '2^31-1': invalidInput, '2^31': invalidInput, '2^53': invalidInput, '1e309': invalidInput, '"12abc"': invalidInput },
  },
  {
    name: 'RetrieveByActivityEvent Paging.PageIndex',
    send: (v) => send('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, `{"Parameter":{"ActivityEvent":${code}},"Paging":{"PageIndex":${v}}}`),
    expect: { '-1': invalidInput, '0': invalidInput, '2^31-1': invalidInput, '2^31': invalidInput, '2^53': invalidInput, '1e309': invalidInput, '"12abc"': invalidInput },
  },
  {
    name: 'RetrieveByActivityEvent Paging.PageSize',
    send: (v) => send('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, `{"Parameter":{"ActivityEvent":${code}},"Paging":{"PageSize":${v}}}`),
    expect: { '-1': invalidInput, '0': invalidInput, '2^31-1': invalidInput, '2^31': invalidInput, '2^53': invalidInput, '1e309': invalidInput, '"12abc"': invalidInput },
  },
  {
    name: 'CreateType Score',
    send: (v) => send('POST', `${PA}/CreateType`, `{"ActivityEventName":"Score ${Math.random()}","Score":${v}}`),
    // 1e309 is an infinite JSON number: not a value at all, the request body is malformed (400).
    expect: { '-1': ok, '0': ok, '2^31-1': ok, '2^31': invalidInput, '2^53': invalidInput, '1e309': badStructure, '"12abc"': invalidInput },
  },
  {
    name: 'CreateType Direction',
    send: (v) => send('POST', `${PA}/CreateType`, `{"ActivityEventName":"Direction ${Math.random()}","Direction":${v}}`),
    expect: { '-1': invalidInput, '0': ok, '2^31-1': invalidInput, '2^31': invalidInput, '2^53': invalidInput, '1e309': badStructure, '"12abc"': invalidInput },
  },
  {
    name: 'CreateType Fields[].MaxLength',
    send: (v) => send('POST', `${PA}/CreateType`, `{"ActivityEventName":"MaxLength ${Math.random()}","Fields":[{"SchemaName":"mx_Custom_1","MaxLength":${v}}]}`),
    expect: { '-1': invalidInput, '0': ok, '2^31-1': ok, '2^31': invalidInput, '2^53': invalidInput, '1e309': badStructure, '"12abc"': invalidInput },
  },
  {
    name: 'a Number field value',
    send: (v) => send('POST', `${PA}/Create`, `{"RelatedProspectId":"${leadId}","ActivityEvent":${code},"Fields":[{"SchemaName":"mx_Custom_1","Value":${v}}]}`),
    expect: { '-1': ok, '0': ok, '2^31-1': ok, '2^31': ok, '2^53': invalidInput, '1e309': badStructure, '"12abc"': invalidInput },
  },
];

describe('numbers are range-checked at the edge, the same on both engines', () => {
  for (const site of SITES) {
    it(`${site.name}: ${INPUTS.map(([n]) => n).join(', ')}`, async () => {
      const got: Record<string, Outcome> = {};
      for (const [name, json] of INPUTS) got[name] = await site.send(json);
      expect(got).toEqual(site.expect);
    });
  }

  it('a field value too large to be finite says so, not that it is no number', async () => {
    for (const v of ['1e309', '-1e400']) {
      const r = await s.call('POST', `${PA}/Create`, undefined, { raw: `{"RelatedProspectId":"${leadId}","ActivityEvent":${code},"Fields":[{"SchemaName":"mx_Custom_1","Value":${v}}]}` });
      expect([r.status, r.body.ExceptionType], r.text).toEqual([400, 'MXInvalidInputException']);
      expect(r.body.ExceptionMessage).toMatch(/'Fields\[0\]\.Value' is a number too large to be finite .*send such a value as a string/);
    }
  });

  it('CreateType ActivityEvent pins a code up to 2^31-1; past it, and one past the highest, are refused', async () => {
    const t = await started();
    const pin = (v: string) => t.call("POST", `${PA}/CreateType`, undefined, { raw: `{"ActivityEventName":"Pin ${Math.random()}","ActivityEvent":${v}}` });
    for (const v of ['2147483648', '9007199254740992', '-1', '0', '"12abc"']) {
      const r = await pin(v);
      expect([r.status, r.body.ExceptionType], `${v}: ${r.text}`).toEqual([500, 'MXInvalidInputException']);
    }
    expect(expectOk(await pin('2147483647')).Message.Id).toBe(2147483647);
    // Codes are given from 201 among the custom range below 12000: a pinned 2^31-1 takes nothing from it.
    expect(expectOk(await t.call('POST', `${PA}/CreateType`, { ActivityEventName: 'After the highest' })).Message.Id).toBe(201);
    const posted = await t.call('POST', `${PA}/Create`, { EmailAddress: 'max@example.com', ActivityEvent: 2147483647 });
    expect(posted.status, posted.text).toBe(200);
  });

  it('bulk rows: each out-of-range ActivityEvent fails its own row with the MX answer', async () => {
    const rows = INPUTS.map(([, json]) => `{"RelatedProspectId":"${leadId}","ActivityEvent":${json}}`);
    const r = await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, undefined, { raw: `[${rows.join(',')}]` });
    expect(r.status, r.text).toBe(200);
    expect(r.body.Response.map((x: any) => [x.ActivityCreated, x.ExceptionType])).toEqual(INPUTS.map(() => [false, 'MXInvalidActivityException']));
  });

  it('an async request whose ActivityEvent is 2^31 ends FAILURE at once, and does not hold the lead\'s later requests', async () => {
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'numbers@example.com', ActivityEvent: 2147483648 });
    const after = await accept(s.url, '/activity/create', { EmailAddress: 'numbers@example.com', ActivityEvent: code });
    const st = await settled(s.url, id);
    expect(st.TaskStatus.Status).toBe('FAILURE');
    expect(st.TaskStatus.StatusReason).toMatch(/MXInvalidActivityException/);
    expect((await stored(s, id))?.attempts).toBe(0);
    expect((await settled(s.url, after)).TaskStatus.Status).toBe('Success');
  });

  it('lead-field MaxLength past 32 bits is refused by the domain (the CLI\'s door)', async () => {
    const { defineLeadField } = await import('../../src/domain/leads.js');
    const [account] = await s.services.store.accounts.list();
    await expect(s.services.store.transaction((tx) => defineLeadField(tx, account.id, { schemaName: 'mx_Big', maxLength: 2 ** 31 }))).rejects.toMatchObject({ type: 'MXInvalidInputException' });
    await expect(s.services.store.transaction((tx) => defineLeadField(tx, account.id, { schemaName: 'mx_Kind', dataType: 'Foo' }))).rejects.toThrow(/Unknown lead field data type 'Foo'.*String, Text/);
    const r = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=mx_Kind`));
    expect(r).toEqual([]);
  });
});

describe('decimals in exponent notation', () => {
  // JSON numbers arrive as doubles: String() wrote 0.0000001 as "1e-7", which the Decimal check then
  // refused. Strings in exponent notation are decimals too. Both are stored written out.
  it.each([
    ['0.0000001', '0.0000001'],
    ['1e21', '1000000000000000000000'],
    ['-2.5e-3', '-0.0025'],
    ['"1.5e3"', '1500'],
    ['"1E-2"', '0.01'],
    ['1e20', '100000000000000000000'],
  ])('Revenue %s is stored as %s, on a lead and as a Decimal activity field', async (json, plain) => {
    const email = `dec${Math.random().toString(36).slice(2)}@example.com`;
    const created = await s.call('POST', `${LM}/Lead.Create`, undefined, { raw: `[{"Attribute":"EmailAddress","Value":"${email}"},{"Attribute":"Revenue","Value":${json}}]` });
    const id = expectOk(created).Message.Id;
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${id}`))[0].Revenue).toBe(plain);
    const t = await createType(s, { ActivityEventName: `Decimals ${Math.random()}`, Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Decimal' }] });
    const posted = await s.call('POST', `${PA}/Create`, undefined, { raw: `{"RelatedProspectId":"${id}","ActivityEvent":${t},"Fields":[{"SchemaName":"mx_Custom_1","Value":${json}}]}` });
    const activityId = expectOk(posted).Message.Id;
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${activityId}`));
    expect(JSON.stringify(details)).toContain(`"${plain}"`);
  });

  it('a string past the finite range (1e309) is still refused', async () => {
    const r = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'big@example.com' }, { Attribute: 'Revenue', Value: '1e309' }]);
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ ExceptionType: 'MXInvalidInputException', ExceptionMessage: expect.stringMatching(/Revenue.*not a number/) });
  });
});

describe('date-times: one parser for fields and body properties', () => {
  it.each(['2024-01-02 25:99:00', '2024-01-02 23:60:00', '2024-02-30 10:00:00', '2024-13-01 10:00:00', '2024-01-02 10:00:61'])('%s is refused as a DateTime field and as ActivityDateTime', async (bad) => {
    const t = await createType(s, { ActivityEventName: `Dates ${Math.random()}`, Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'DateTime' }] });
    const asField = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: t, Fields: [{ SchemaName: 'mx_Custom_1', Value: bad }] });
    expect([asField.status, asField.body.ExceptionType], asField.text).toEqual([500, 'MXInvalidInputException']);
    const asProperty = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: t, ActivityDateTime: bad });
    expect([asProperty.status, asProperty.body.ExceptionType], asProperty.text).toEqual([500, 'MXInvalidInputException']);
  });

  it('a valid date-time is taken by both', async () => {
    const t = await createType(s, { ActivityEventName: `Dates ok ${Math.random()}`, Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'DateTime' }] });
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: t, ActivityDateTime: '2024-02-29 23:59:59', Fields: [{ SchemaName: 'mx_Custom_1', Value: '2024-02-29 23:59:59' }] });
    expect(r.status, r.text).toBe(200);
  });
});
