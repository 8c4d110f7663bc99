/**
 * Date-times with a zone (a new-user trial): `ActivityDateTime: new Date().toISOString()`
 * (`2025-01-02T10:00:00.000Z`), what a JavaScript integration sends first, was refused as "not a
 * valid date-time in the UTC format yyyy-MM-dd HH:mm:ss" though it is UTC. Now every date-time
 * input (ActivityDateTime on each write route, lead and activity DateTime fields, the FromDate/ToDate
 * windows, a search's LookupValue, the async twins) takes a trailing `Z` (any case) as UTC and a
 * numeric offset converted to UTC, and a refusal says why and which forms are taken. Status codes
 * are the routes' own.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf, counts, createLead, createType, defineLeadField, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';
import { accept, settled } from '../async/helpers.js';

let s: TestServer;
let accountId: string;
let code: number;
let lead: string;
/** The server's clock, so ModifiedOn windows can be asked about exactly. */
let clock = Date.UTC(2025, 0, 2, 10, 0, 0);

const FORMS = 'use yyyy-MM-dd HH:mm:ss in UTC, or ISO 8601 with Z or an offset (2025-01-02T10:00:00.000Z, 2025-01-02T15:30:00+05:30).';

beforeAll(async () => {
  s = await started({}, { ctx: { now: () => clock, newId: () => randomUUID() } });
  accountId = await accountIdOf(s);
  await defineLeadField(s, accountId, { schemaName: 'mx_Joined', dataType: 'DateTime' });
  await defineLeadField(s, accountId, { schemaName: 'mx_Born', dataType: 'Date' });
  code = await createType(s, { ActivityEventName: 'Zoned', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'DateTime' }, { SchemaName: 'mx_Custom_2', DataType: 'Date' }] });
  lead = await createLead(s, { FirstName: 'Zoned', EmailAddress: 'zoned@example.com' });
});

const details = async (id: string) => expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
const fieldOf = (d: { Fields: { SchemaName: string; Value: string }[] }, name: string) => d.Fields.find((f) => f.SchemaName === name)?.Value;
const create = (body: Record<string, unknown>) => s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ...body });

/** The same instant, 2025-01-02 10:00:00 UTC, written each way a client may send it. */
const SAME_INSTANT = [
  '2025-01-02T10:00:00.000Z', // JavaScript's toISOString()
  '2025-01-02T10:00:00z',
  '2025-01-02 10:00:00Z',
  '2025-01-02T10:00Z',
  '2025-01-02T10:00:00+00:00', // Python's isoformat() of an aware UTC datetime
  '2025-01-02T15:30:00+05:30',
  '2025-01-02T15:30:00+0530',
  '2025-01-02T02:00:00-0800',
  '2025-01-02 11:00:00+01',
  '2025-01-01T20:00:00-14:00',
  '2025-01-02T10:00:00.123456', // Python's isoformat() of a naive UTC datetime: six decimals, no zone
  '2025-01-02t10:00:00.1234567+00:00', // .NET's seven decimals, RFC 3339's lower-case t
];

describe('ActivityDateTime with Z or an offset', () => {
  it('is taken as the UTC instant it names, on Create, CreateCustom and a bulk row', async () => {
    for (const when of SAME_INSTANT) {
      const id = expectOk(await create({ ActivityDateTime: when })).Message.Id;
      expect((await details(id)).ActivityDateTime, when).toBe('2025-01-02 10:00:00');
    }
    const custom = expectOk(
      await s.call('POST', `${PA}/CreateCustom`, {
        LeadDetails: [{ Attribute: 'EmailAddress', Value: 'zoned@example.com' }],
        Activity: { ActivityEvent: code, ActivityDateTime: '2025-01-02T15:30:00.250+05:30' },
      }),
    ).Message.Id;
    expect((await details(custom)).ActivityDateTime).toBe('2025-01-02 10:00:00');
    const bulk = expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [{ RelatedProspectId: lead, ActivityEvent: code, ActivityDateTime: '2025-01-02T10:00:00.000Z' }]));
    expect(bulk.Response[0], JSON.stringify(bulk)).toMatchObject({ ActivityCreated: true });
    expect((await details(bulk.Response[0].Id ?? bulk.Response[0].ProspectActivityId)).ActivityDateTime).toBe('2025-01-02 10:00:00');
  });

  it('is refused, with why and the forms taken, when it is a date alone, has an impossible offset or is some other text; nothing is stored', async () => {
    const before = await counts(s, accountId);
    const cases: [string, string][] = [
      ['2025-01-02', 'is a date without a time'],
      ['2025-01-02Z', 'is a date without a time'],
      ['2025-01-02T10:00:00+15:00', 'has an offset beyond ±14:00'],
      ['2025-01-02T10:00:00+05:60', 'has an offset beyond ±14:00'],
      ['2025-02-30T10:00:00Z', 'names a date or time that does not exist'],
      ['2025-01-02T10:00:00.12345678Z', 'has more than seven decimals of seconds'],
      ['0001-01-01T00:30:00+01:00', 'falls outside the years 0001 to 9999 in UTC'],
      ['Thu, 02 Jan 2025 10:00:00 GMT', 'is not a date-time'],
      ['2025-01-02T10:00:00 UTC', 'is not a date-time'],
      ['2025-01-02T10:00:00+05:30[Asia/Kolkata]', 'is not a date-time'],
    ];
    for (const [when, why] of cases) {
      const message = expectMx(await create({ ActivityDateTime: when }), 500, 'MXInvalidInputException');
      expect(message, when).toBe(`'ActivityDateTime' value '${when}' ${why}: ${FORMS}`);
    }
    expect(await counts(s, accountId)).toEqual(before);
  });
});

describe('DateTime and Date fields', () => {
  it('a lead DateTime field takes Z and offsets and stores the UTC time, on Lead.Create, Lead.Update and Lead.CreateOrUpdate', async () => {
    const id = await createLead(s, { FirstName: 'Joiner', mx_Joined: '2025-01-02T15:30:00+05:30' });
    expect((await getLead(s, id))!.mx_Joined).toBe('2025-01-02 10:00:00');
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'mx_Joined', Value: '2025-01-03T09:15:00.500Z' }]));
    expect((await getLead(s, id))!.mx_Joined).toBe('2025-01-03 09:15:00.500');
    expectOk(await s.call('POST', `${LM}/Lead.CreateOrUpdate`, [{ Attribute: 'EmailAddress', Value: 'joiner@example.com' }, { Attribute: 'mx_Joined', Value: '2025-01-03T01:00:00-08:00' }]));
    const upserted = expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=joiner@example.com`))[0];
    expect(upserted.mx_Joined).toBe('2025-01-03 09:00:00');
  });

  it('an activity DateTime field takes them too; a date alone, or a date-time in a Date field, is refused saying so', async () => {
    const id = expectOk(await create({ ActivityDateTime: '2025-01-02 10:00:00', Fields: [{ SchemaName: 'mx_Custom_1', Value: '2025-01-02T02:00:00-08:00' }] })).Message.Id;
    expect(fieldOf(await details(id), 'mx_Custom_1')).toBe('2025-01-02 10:00:00');
    expectMx(
      await create({ Fields: [{ SchemaName: 'mx_Custom_1', Value: '2025-01-02' }] }),
      500,
      'MXInvalidInputException',
      `Value '2025-01-02' of field 'mx_Custom_1' is a date without a time: ${FORMS}`,
    );
    expectMx(
      await create({ Fields: [{ SchemaName: 'mx_Custom_2', Value: '2025-01-02T10:00:00.000Z' }] }),
      500,
      'MXInvalidInputException',
      "Value '2025-01-02T10:00:00.000Z' of field 'mx_Custom_2' is a date-time, and a Date field takes the date alone: use yyyy-MM-dd (2025-01-02).",
    );
    expectMx(
      await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: 'Born' }, { Attribute: 'mx_Born', Value: '2025-01-02T10:00:00Z' }]),
      500,
      'MXInvalidInputException',
      /of field 'mx_Born' is a date-time, and a Date field takes the date alone: use yyyy-MM-dd/,
    );
  });
});

describe('date windows and lookups', () => {
  it('FromDate and ToDate with Z or an offset window on the UTC instant (RetrieveByActivityEvent; ToDate without milliseconds takes in its second)', async () => {
    const only = expectOk(await create({ ActivityDateTime: '2024-07-01 06:00:00', ActivityNote: 'window' })).Message.Id;
    const list = async (FromDate: string, ToDate: string) =>
      expectOk(await s.call('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: code, FromDate, ToDate }, Paging: { PageSize: 1000 } })).List.map((a: any) => a.ProspectActivityId);
    expect(await list('2024-07-01T11:30:00+05:30', '2024-07-01T11:30:00+05:30')).toEqual([only]);
    expect(await list('2024-07-01T05:59:59.999Z', '2024-07-01T06:00:00.000Z')).toEqual([only]);
    // The same wall-clock text without its offset is another instant: 11:30 UTC, nothing then.
    expect(await list('2024-07-01 11:30:00', '2024-07-01 11:30:00')).toEqual([]);
    expect(await list('2024-07-01T06:00:00.001Z', '2024-07-01T23:00:00Z')).toEqual([]);
  });

  it('Leads.RecentlyModified and RetrieveRecentlyModified take toISOString() windows', async () => {
    clock = Date.UTC(2025, 5, 15, 12, 0, 0);
    const fresh = await createLead(s, { FirstName: 'Fresh', EmailAddress: 'fresh@example.com' });
    const act = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: fresh, ActivityEvent: code })).Message.Id;
    clock = Date.UTC(2025, 5, 20, 0, 0, 0);
    const from = new Date(Date.UTC(2025, 5, 15, 11, 59, 59)).toISOString();
    const to = new Date(Date.UTC(2025, 5, 15, 12, 0, 0)).toISOString();
    const leads = expectOk(await s.call('POST', `${LM}/Leads.RecentlyModified`, { Parameter: { FromDate: from, ToDate: to }, Columns: { Include_CSV: 'ProspectID' } }));
    expect(leads.Leads.map((l: any) => l.LeadPropertyList[0].Value)).toEqual([fresh]);
    const acts = expectOk(await s.call('POST', `${PA}/RetrieveRecentlyModified`, { Parameter: { FromDate: '2025-06-15T17:29:59+05:30', ToDate: '2025-06-15T17:30:00+05:30' } }));
    expect(acts.ProspectActivities.map((a: any) => a.Id)).toEqual([act]);
  });

  it('a window end that is a date alone or not a date-time is refused with the route\'s code, saying why and the forms', async () => {
    expectMx(
      await s.call('POST', `${LM}/Leads.RecentlyModified`, { Parameter: { FromDate: '2025-06-15' } }),
      500,
      'MXInvalidInputException',
      `'Parameter.FromDate' value '2025-06-15' is a date without a time: ${FORMS}`,
    );
    expectMx(
      await s.call('POST', `${PA}/RetrieveRecentlyModified`, { Parameter: { ToDate: 'yesterday' } }),
      500,
      'MXInvalidInputException',
      `'Parameter.ToDate' value 'yesterday' is not a date-time: ${FORMS}`,
    );
    expectMx(
      await s.call('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: code, FromDate: '2025-06-15T10:00:00+24:00' } }),
      500,
      'MXInvalidInputException',
      `'Parameter.FromDate' value '2025-06-15T10:00:00+24:00' has an offset beyond ±14:00: ${FORMS}`,
    );
  });

  it('Leads.Get compares CreatedOn and DateTime fields with a zoned LookupValue at its UTC instant', async () => {
    clock = Date.UTC(2025, 7, 1, 8, 0, 0);
    const early = await createLead(s, { FirstName: 'Early', mx_Joined: '2025-08-01 08:00:00' });
    const search = async (LookupName: string, LookupValue: string, SqlOperator = '=') =>
      expectOk(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName, LookupValue, SqlOperator }, Columns: { Include_CSV: 'ProspectID' } })).map((l: any) => l.ProspectID);
    expect(await search('CreatedOn', '2025-08-01T13:30:00+05:30')).toEqual([early]);
    expect(await search('mx_Joined', '2025-08-01T08:00:00.000Z')).toEqual([early]);
    expect(await search('mx_Joined', '2025-08-01T04:00:00-04:00')).toEqual([early]);
    expectMx(
      await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'mx_Joined', LookupValue: '2025-08-01' } }),
      500,
      'MXInvalidInputException',
      `Invalid Input! 'LookupValue' '2025-08-01' for mx_Joined (a DateTime field) is a date without a time: ${FORMS}`,
    );
  });
});

describe('the async twins', () => {
  it('/activity/create with toISOString() succeeds at that instant; with a date alone it ends FAILURE with the same message', async () => {
    const ok = await accept(s.url, '/activity/create', { RelatedProspectId: lead, ActivityEvent: code, ActivityDateTime: '2025-01-02T10:00:00.000Z' });
    const done = await settled(s.url, ok);
    expect(done.TaskStatus.Status, JSON.stringify(done)).toBe('Success');
    const id = JSON.parse(done.TaskStatus.Message).Message.Id;
    expect((await details(id)).ActivityDateTime).toBe('2025-01-02 10:00:00');
    const bad = await accept(s.url, '/activity/create', { RelatedProspectId: lead, ActivityEvent: code, ActivityDateTime: '2025-01-02' });
    const failed = await settled(s.url, bad);
    expect(failed.TaskStatus).toMatchObject({ Status: 'FAILURE', StatusReason: `MXInvalidInputException: 'ActivityDateTime' value '2025-01-02' is a date without a time: ${FORMS}` });
  });

  it('/lead/capture stores a zoned DateTime field at its UTC time', async () => {
    const id = await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'captured-zone@example.com' }, { Attribute: 'mx_Joined', Value: '2025-01-02T15:30:00+05:30' }]);
    const done = await settled(s.url, id, undefined, '/lead/status');
    expect(done.TaskStatus.Status, JSON.stringify(done)).toBe('Success');
    const captured = expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=captured-zone@example.com`))[0];
    expect(captured.mx_Joined).toBe('2025-01-02 10:00:00');
  });
});
