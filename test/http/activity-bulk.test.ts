/** `POST Bulk/CustomActivity/Update` (activities updated in bulk) and `POST RetrieveRecentlyModified` (an account's activities by date window). */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, SYNC_ENDPOINTS, createLead, createType, expectKeysRequired, expectMx, expectOk, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;
let other: CallInit;
let code: number;
let code2: number;
let lead: string;
/** The server's clock: each activity below is posted (and updated) at a chosen time. */
let clock = Date.UTC(2025, 0, 1, 10, 0, 0);
const at = (iso: string) => (clock = Date.parse(`${iso}Z`));

const bulkUpdate = (body: unknown, init?: CallInit) => s.call('POST', `${PA}/Bulk/CustomActivity/Update`, body, init);
const recent = (body: unknown, init?: CallInit) => s.call('POST', `${PA}/RetrieveRecentlyModified`, body, init);
const details = async (id: string, init?: CallInit) => expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`, undefined, init));
const valueOf = (d: any, name: string) => d.Fields.find((f: any) => f.SchemaName === name)?.Value;

async function post(event: number, note: string, fields: Record<string, string> = { mx_Custom_1: 'first' }, init?: CallInit, leadId = lead): Promise<string> {
  const r = await s.call('POST', `${PA}/Create`, {
    RelatedProspectId: leadId,
    ActivityEvent: event,
    ActivityNote: note,
    ActivityDateTime: '2024-06-01 08:00:00',
    Fields: Object.entries(fields).map(([SchemaName, Value]) => ({ SchemaName, Value })),
  }, init);
  return expectOk(r).Message.Id;
}

beforeAll(async () => {
  s = await started({}, { ctx: { now: () => clock, newId: () => randomUUID() } });
  other = { keys: (await secondAccount(s)).keys };
  code = await createType(s, {
    ActivityEventName: 'Bulk upd type',
    Fields: [
      { SchemaName: 'mx_Custom_1', DataType: 'String', IsMandatory: true },
      { SchemaName: 'mx_Custom_2', DataType: 'Number' },
    ],
  });
  code2 = await createType(s, { ActivityEventName: 'Other type', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'String' }] });
  lead = await createLead(s, { FirstName: 'Bulk', EmailAddress: 'bulk-upd@example.com' });
});

describe('Bulk/CustomActivity/Update', () => {
  it('updates each row, and a row the rules refuse fails alone, saying why, while the rows around it are kept', async () => {
    at('2025-01-01T10:00:00');
    const a = await post(code, 'a');
    const b = await post(code, 'b');
    const c = await post(code, 'c');
    at('2025-01-02T10:00:00');
    const missing = '00000000-0000-0000-0000-000000000000';
    const r = expectOk(await bulkUpdate([
      { ProspectActivityId: a, ActivityNote: 'a2', Fields: [{ SchemaName: 'mx_Custom_2', Value: '7' }] },
      { ProspectActivityId: b, Fields: [{ SchemaName: 'mx_Custom_2', Value: 'not a number' }] },
      { ProspectActivityId: missing, ActivityNote: 'x' },
      { ActivityNote: 'no id' },
      { ProspectActivityId: c.toUpperCase(), ActivityNote: 'c2', Fields: [{ SchemaName: 'mx_Custom_1', Value: 'changed' }] },
    ]));
    expect(r.Response).toHaveLength(5);
    expect(r.Response[0]).toEqual({ RowNumber: 1, ProspectActivityId: a, ActivityUpdated: true });
    expect(r.Response[1]).toMatchObject({ RowNumber: 2, ProspectActivityId: b, ActivityUpdated: false, ExceptionType: 'MXInvalidInputException' });
    expect(r.Response[1].ExceptionMessage).toMatch(/mx_Custom_2/);
    expect(r.Response[2]).toMatchObject({ RowNumber: 3, ProspectActivityId: missing, ActivityUpdated: false, ExceptionType: 'MXUnknownProspectActivityException' });
    expect(r.Response[3]).toMatchObject({ RowNumber: 4, ProspectActivityId: null, ActivityUpdated: false, ExceptionType: 'MXMandatoryAttributeMissingException' });
    expect(r.Response[4]).toEqual({ RowNumber: 5, ProspectActivityId: c, ActivityUpdated: true });
    const da = await details(a);
    expect([da.ActivityNote, valueOf(da, 'mx_Custom_1'), valueOf(da, 'mx_Custom_2')]).toEqual(['a2', 'first', '7']);
    const db = await details(b);
    expect([db.ActivityNote, valueOf(db, 'mx_Custom_2')]).toEqual(['b', '']);
    const dc = await details(c);
    expect([dc.ActivityNote, valueOf(dc, 'mx_Custom_1')]).toEqual(['c2', 'changed']);
  });

  it('refuses more than 25 rows and a malformed row before writing anything', async () => {
    const a = await post(code, 'keep');
    const row = { ProspectActivityId: a, ActivityNote: 'changed' };
    expectMx(await bulkUpdate(Array.from({ length: 26 }, () => row)), 500, 'MXInvalidInputException', /25/);
    expectMx(await bulkUpdate([row, { ProspectActivityId: a, Fields: 'nope' }]), 400, 'MXInvalidInputException', /row 2/);
    expectMx(await bulkUpdate([row, 'nope']), 400, 'MXInvalidInputException', /row 2/);
    expectMx(await bulkUpdate({ ProspectActivityId: a }), 400, 'MXInvalidInputException');
    expect((await details(a)).ActivityNote).toBe('keep');
    expect(expectOk(await bulkUpdate([]))).toEqual({ Response: [] });
  });

  it('checks ActivityEvent against the activity and a mandatory field may not be emptied', async () => {
    const a = await post(code, 'n');
    const r = expectOk(await bulkUpdate([
      { ProspectActivityId: a, ActivityEvent: code2, ActivityNote: 'x' },
      { ProspectActivityId: a, Fields: [{ SchemaName: 'mx_Custom_1', Value: '' }] },
      { ProspectActivityId: a, ActivityEvent: code, ActivityNote: 'ok' },
    ]));
    expect(r.Response.map((x: any) => x.ActivityUpdated)).toEqual([false, false, true]);
    expect(r.Response[1].ExceptionType).toBe('MXMandatoryAttributeMissingException');
    expect((await details(a)).ActivityNote).toBe('ok');
  });

  it('matches the path and property names in any case', async () => {
    const a = await post(code, 'case');
    const r = expectOk(await s.call('POST', `${PA.toLowerCase()}/bulk/customactivity/update`, [{ prospectactivityid: a, ACTIVITYNOTE: 'cased', fields: [{ schemaname: 'mx_Custom_2', value: '9' }] }]));
    expect(r.Response[0].ActivityUpdated).toBe(true);
    const d = await details(a);
    expect([d.ActivityNote, valueOf(d, 'mx_Custom_2')]).toEqual(['cased', '9']);
  });

  it('never touches another account’s activity', async () => {
    const a = await post(code, 'mine');
    const r = expectOk(await bulkUpdate([{ ProspectActivityId: a, ActivityNote: 'theirs' }], other));
    expect(r.Response[0]).toMatchObject({ ActivityUpdated: false, ExceptionType: 'MXUnknownProspectActivityException' });
    expect((await details(a)).ActivityNote).toBe('mine');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('Bulk/CustomActivity/Update'))!, KEYS);
  });
});

describe('RetrieveRecentlyModified (activities of all leads by date window)', () => {
  /** Activities posted at 2025-03-0N 10:00:00 (N = 1..4); the third is then updated on 2025-03-10. */
  const ids: string[] = [];
  let otherLead: string;

  beforeAll(async () => {
    otherLead = await createLead(s, { FirstName: 'Second', EmailAddress: 'second-recent@example.com' });
    for (let n = 1; n <= 4; n++) {
      at(`2025-03-0${n}T10:00:00`);
      ids.push(await post(n === 2 ? code2 : code, `recent ${n}`, { mx_Custom_1: `v${n}` }, undefined, n === 4 ? otherLead : lead));
    }
    at('2025-03-10T10:00:00');
    expectOk(await s.call('POST', `${PA}/CustomActivity/Update`, { ProspectActivityId: ids[2], ActivityNote: 'recent 3 updated' }));
    at('2025-04-01T00:00:00');
  });

  const window = (FromDate: string, ToDate: string, rest: { Parameter?: object; Paging?: object; Sorting?: object } = {}, init?: CallInit) =>
    recent({ ...rest, Parameter: { FromDate, ToDate, ...(rest.Parameter ?? {}) } }, init);

  it('lists the activities of every lead whose ModifiedOn is in the window, newest change first, with RecordCount', async () => {
    const r = expectOk(await window('2025-03-01 00:00:00', '2025-03-31 23:59:59', { Parameter: { IncludeCustomFields: 1 } }));
    expect(r.RecordCount).toBe(4);
    expect(r.ProspectActivities.map((a: any) => a.Id)).toEqual([ids[2], ids[3], ids[1], ids[0]]);
    const third = r.ProspectActivities[0];
    expect(third).toMatchObject({ Id: ids[2], EventCode: code, EventName: 'Bulk upd type', RelatedProspectId: lead, CreatedOn: '2024-06-01 08:00:00', ModifiedOn: '2025-03-10 10:00:00' });
    expect(third.ActivityFields).toMatchObject({ ActivityEvent_Note: 'recent 3 updated', mx_Custom_1: 'v3' });
    expect(r.ProspectActivities[1]).toMatchObject({ Id: ids[3], RelatedProspectId: otherLead, ModifiedOn: '2025-03-04 10:00:00' });
  });

  it('both ends are inclusive (ToDate takes in its whole second); an update moves an activity into a later window', async () => {
    const r = expectOk(await window('2025-03-02 10:00:00', '2025-03-04 10:00:00'));
    expect(r.ProspectActivities.map((a: any) => a.Id)).toEqual([ids[3], ids[1]]);
    const later = expectOk(await window('2025-03-05 00:00:00', '2025-03-31 00:00:00'));
    expect(later.ProspectActivities.map((a: any) => a.Id)).toEqual([ids[2]]);
  });

  it('RetrieveByActivityEvent reports the same ModifiedOn (its window stays on the activity date)', async () => {
    const r = expectOk(await s.call('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: code, FromDate: '2024-06-01 00:00:00', ToDate: '2024-06-01 23:59:59' }, Paging: { PageSize: 1000 } }));
    const byId = Object.fromEntries(r.List.map((a: any) => [a.ProspectActivityId, a]));
    expect(byId[ids[2]]).toMatchObject({ CreatedOn: '2024-06-01 08:00:00', ModifiedOn: '2025-03-10 10:00:00' });
    expect(byId[ids[0]]).toMatchObject({ CreatedOn: '2024-06-01 08:00:00', ModifiedOn: '2024-06-01 08:00:00' });
  });

  it('custom fields only with IncludeCustomFields', async () => {
    const r = expectOk(await window('2025-03-01 00:00:00', '2025-03-01 23:59:59'));
    expect(r.ProspectActivities[0].ActivityFields).toEqual({ ActivityEvent_Note: 'recent 1' });
    expect(r.ProspectActivities[0].Data).toEqual([{ Key: 'ActivityEvent_Note', Value: 'recent 1' }]);
  });

  it('pages, sorts ascending or by activity date, filters by ActivityEvent', async () => {
    const page = (PageIndex: number) => window('2025-03-01 00:00:00', '2025-03-31 23:59:59', { Paging: { PageIndex, PageSize: 3 }, Sorting: { ColumnName: 'ModifiedOn', Direction: '0' } });
    const p1 = expectOk(await page(1));
    const p2 = expectOk(await page(2));
    expect(p1.RecordCount).toBe(4);
    expect([...p1.ProspectActivities, ...p2.ProspectActivities].map((a: any) => a.Id)).toEqual([ids[0], ids[1], ids[3], ids[2]]);
    expect(expectOk(await page(3)).ProspectActivities).toEqual([]);
    const byEvent = expectOk(await window('2025-03-01 00:00:00', '2025-03-31 23:59:59', { Parameter: { ActivityEvent: code2 } }));
    expect(byEvent).toMatchObject({ RecordCount: 1, ProspectActivities: [{ Id: ids[1], EventCode: code2 }] });
    const byDate = expectOk(await window('2025-03-01 00:00:00', '2025-03-31 23:59:59', { Sorting: { ColumnName: 'CreatedOn', Direction: 1 } }));
    expect(byDate.RecordCount).toBe(4);
  });

  it('refuses bad dates, a window that ends before it starts, a page over 1000, a bad sort and an unknown event', async () => {
    expectMx(await window('2025-13-01 00:00:00', '2025-03-31 00:00:00'), 500, 'MXInvalidInputException', /FromDate/);
    expectMx(await window('2025-03-31 00:00:00', '2025-03-01 00:00:00'), 500, 'MXInvalidInputException', /later/);
    expectMx(await window('2025-03-01 00:00:00', '2025-03-31 00:00:00', { Paging: { PageSize: 1001 } }), 500, 'MXInvalidInputException', /PageSize.*1000/);
    expectMx(await window('2025-03-01 00:00:00', '2025-03-31 00:00:00', { Sorting: { ColumnName: 'Nope' } }), 500, 'MXInvalidInputException', /ColumnName/);
    expectMx(await window('2025-03-01 00:00:00', '2025-03-31 00:00:00', { Sorting: { Direction: 'up' } }), 500, 'MXInvalidInputException', /Direction/);
    expectMx(await window('2025-03-01 00:00:00', '2025-03-31 00:00:00', { Parameter: { ActivityEvent: 99999 } }), 500, 'MXInvalidActivityException');
    expectMx(await recent([]), 400, 'MXInvalidInputException');
  });

  it('matches the path and property names in any case', async () => {
    const r = expectOk(await s.call('POST', `${PA.toLowerCase()}/retrieverecentlymodified`, { parameter: { fromdate: '2025-03-01 00:00:00', TODATE: '2025-03-01 23:59:59' }, paging: { pagesize: 5 } }));
    expect(r.ProspectActivities.map((a: any) => a.Id)).toEqual([ids[0]]);
  });

  it('never lists another account’s activities', async () => {
    const theirs = expectOk(await window('2025-03-01 00:00:00', '2025-03-31 23:59:59', {}, other));
    expect(theirs).toEqual({ RecordCount: 0, ProspectActivities: [] });
    at('2025-03-20T10:00:00');
    const theirLead = await createLead(s, { FirstName: 'Theirs', EmailAddress: 'theirs-recent@example.com' }, other);
    const theirType = await createType(s, { ActivityEventName: 'Their type' }, other);
    const theirId = await post(theirType, 'their note', {}, other, theirLead);
    at('2025-04-01T00:00:00');
    const r = expectOk(await window('2025-03-20 00:00:00', '2025-03-20 23:59:59', {}, other));
    expect(r.ProspectActivities.map((a: any) => a.Id)).toEqual([theirId]);
    expect(expectOk(await window('2025-03-20 00:00:00', '2025-03-20 23:59:59')).RecordCount).toBe(0);
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('/RetrieveRecentlyModified'))!, KEYS);
  });
});
