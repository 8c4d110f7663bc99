/** `POST /v2/ProspectActivity.svc/CustomActivity/RetrieveByActivityEvent`: account-wide reads by type and date. */
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, SYNC_ENDPOINTS, createLead, createType, expectKeysRequired, expectMx, expectOk, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';
import { buildOpenApi } from '../../src/http/docs.js';

const PATH = `${PA}/CustomActivity/RetrieveByActivityEvent`;

let s: TestServer;
let other: CallInit;
let code: number;
let otherCode: number;
let ada: string;
let bob: string;
/** Activity ids by their ActivityDateTime's day: 01..05 January 2025. */
const byDay: Record<string, string> = {};

const post = (body: unknown, init?: CallInit) => s.call('POST', PATH, body, init);
const retrieve = async (Parameter: Record<string, unknown>, rest: Record<string, unknown> = {}, init?: CallInit) => expectOk(await post({ Parameter: { ActivityEvent: code, ...Parameter }, ...rest }, init));
const idsOf = (r: { List: any[] }) => r.List.map((a) => a.ProspectActivityId);

async function postActivity(leadId: string, eventCode: number, when: string, init?: CallInit, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: eventCode, ActivityDateTime: when, ...extra }, init);
  return expectOk(r).Message.Id;
}

beforeAll(async () => {
  s = await started();
  const b = await secondAccount(s);
  other = { keys: b.keys };
  code = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'String' }, { SchemaName: 'mx_Custom_2', DataType: 'Number' }] });
  otherCode = await createType(s);
  ada = await createLead(s, { FirstName: 'Ada', EmailAddress: 'ada.rbe@example.com' });
  bob = await createLead(s, { FirstName: 'Bob', EmailAddress: 'bob.rbe@example.com' });
  for (const day of ['03', '01', '05', '02', '04']) {
    byDay[day] = await postActivity(day === '02' ? bob : ada, code, `2025-01-${day} 10:00:00`, undefined, {
      ActivityNote: `note ${day}`,
      Fields: [{ SchemaName: 'mx_Custom_1', Value: `v${day}` }, { SchemaName: 'mx_Custom_2', Value: day }, { SchemaName: 'Status', Value: 'Active' }],
    });
  }
  // Same window, another type: never listed under `code`.
  await postActivity(ada, otherCode, '2025-01-03 11:00:00');
});

describe('RetrieveByActivityEvent', () => {
  it('lists the type\'s activities of every lead, newest first by default, with note, status and custom fields', async () => {
    const r = await retrieve({ FromDate: '2025-01-01 00:00:00', ToDate: '2025-01-31 23:59:59' });
    expect(r.RecordCount).toBe(5);
    expect(idsOf(r)).toEqual(['05', '04', '03', '02', '01'].map((d) => byDay[d]));
    expect(r.List[3]).toEqual({
      ProspectActivityId: byDay['02'],
      RelatedProspectId: bob,
      ActivityEvent: code,
      ActivityEvent_Note: 'note 02',
      Status: 'Active',
      CreatedOn: '2025-01-02 10:00:00',
      ModifiedOn: '2025-01-02 10:00:00',
      mx_Custom_1: 'v02',
      // A Number field's value in its stored form: sent as "02".
      mx_Custom_2: '2',
    });
  });

  it("is described by the OpenAPI document property by property, so a generated client reads it without a cast", async () => {
    const doc = buildOpenApi() as any;
    const item = doc.paths[PATH].post.responses['200'].content['application/json'].schema.properties.List.items;
    // The list's items were an untyped record: `{ [key: string]: unknown }` to openapi-typescript.
    expect(Object.keys(item.properties ?? {})).toEqual(['ProspectActivityId', 'RelatedProspectId', 'ActivityEvent', 'ActivityEvent_Note', 'Status', 'CreatedOn', 'ModifiedOn']);
    expect(item.required).toEqual(Object.keys(item.properties));
    const [listed] = (await retrieve({ FromDate: '2025-01-02 10:00:00', ToDate: '2025-01-02 10:00:00' })).List;
    const jsonType = (v: unknown) => (v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v);
    for (const [name, schema] of Object.entries<any>(item.properties)) {
      expect(name in listed, name).toBe(true);
      expect([schema.type].flat(), name).toContain(jsonType(listed[name]));
    }
    // The rest are the activity's fields by name, strings.
    for (const name of Object.keys(listed).filter((k) => !(k in item.properties))) expect(typeof listed[name], name).toBe('string');
  });

  it('filters on the activity date, both ends inclusive (ToDate to the end of its second)', async () => {
    const r = await retrieve({ FromDate: '2025-01-02 10:00:00', ToDate: '2025-01-04 10:00:00' });
    expect(r.RecordCount).toBe(3);
    expect(idsOf(r)).toEqual([byDay['04'], byDay['03'], byDay['02']]);
    expect(idsOf(await retrieve({ FromDate: '2025-01-05 10:00:01' }))).toEqual([]);
    expect(idsOf(await retrieve({ ToDate: '2025-01-01 10:00:00' }))).toEqual([byDay['01']]);
    // Without dates, the whole history of the type.
    expect((await retrieve({})).RecordCount).toBe(5);
  });

  it('pages with a 1-based PageIndex, RecordCount counting every match; sorts ascending on Direction 0', async () => {
    const sorting = { Sorting: { ColumnName: 'CreatedOn', Direction: 0 } };
    const p1 = await retrieve({}, { Paging: { PageIndex: 1, PageSize: 2 }, ...sorting });
    const p2 = await retrieve({}, { Paging: { PageIndex: '2', PageSize: '2' }, ...sorting });
    const p3 = await retrieve({}, { Paging: { PageIndex: 3, PageSize: 2 }, ...sorting });
    expect([p1.RecordCount, p2.RecordCount, p3.RecordCount]).toEqual([5, 5, 5]);
    expect([...idsOf(p1), ...idsOf(p2), ...idsOf(p3)]).toEqual(['01', '02', '03', '04', '05'].map((d) => byDay[d]));
    expect(idsOf(await retrieve({}, { Paging: { PageIndex: 4, PageSize: 2 } }))).toEqual([]);
    expect(idsOf(await retrieve({}, { Paging: { PageIndex: 1, PageSize: 1 }, Sorting: { ColumnName: 'ModifiedOn', Direction: '1' } }))).toEqual([byDay['05']]);
  });

  it('needs an ActivityEvent: missing, empty or unknown is MXInvalidActivityException', async () => {
    expectMx(await post({ Parameter: { FromDate: '2025-01-01 00:00:00' } }), 500, 'MXInvalidActivityException', /^Event Code is invalid or empty$/);
    expectMx(await post({}), 500, 'MXInvalidActivityException', 'Event Code is invalid or empty');
    expectMx(await post({ Parameter: { ActivityEvent: '' } }), 500, 'MXInvalidActivityException');
    expectMx(await post({ Parameter: { ActivityEvent: 99999 } }), 500, 'MXInvalidActivityException', /99999/);
    expectMx(await post({ Parameter: { ActivityEvent: 'abc' } }), 500, 'MXInvalidActivityException');
  });

  it('refuses bad dates, a reversed window, PageSize over 1000, PageIndex 0 and unknown sorting with MXInvalidInputException', async () => {
    const bad: unknown[] = [
      { Parameter: { ActivityEvent: code, FromDate: '2025-13-01 00:00:00' } },
      { Parameter: { ActivityEvent: code, ToDate: 'yesterday' } },
      { Parameter: { ActivityEvent: code, FromDate: '2025-01-02 00:00:00', ToDate: '2025-01-01 00:00:00' } },
      { Parameter: { ActivityEvent: code }, Paging: { PageIndex: 1, PageSize: 1001 } },
      { Parameter: { ActivityEvent: code }, Paging: { PageIndex: 0, PageSize: 10 } },
      { Parameter: { ActivityEvent: code }, Paging: { PageIndex: -1 } },
      { Parameter: { ActivityEvent: code }, Sorting: { ColumnName: 'Name; DROP TABLE activities' } },
      { Parameter: { ActivityEvent: code }, Sorting: { Direction: 'sideways' } },
    ];
    for (const body of bad) expectMx(await post(body), 500, 'MXInvalidInputException');
    // The largest page is allowed.
    expect((await retrieve({}, { Paging: { PageIndex: 1, PageSize: 1000 } })).RecordCount).toBe(5);
  });

  it('refuses a body of the wrong JSON shape with 400', async () => {
    expectMx(await post([]), 400, 'MXInvalidInputException');
    expectMx(await post({ Parameter: [] }), 400, 'MXInvalidInputException');
    expectMx(await post({ Parameter: { ActivityEvent: { a: 1 } } }), 400, 'MXInvalidInputException');
    expectMx(await post({ Parameter: { ActivityEvent: code, FromDate: 5 } }), 500, 'MXInvalidInputException');
  });

  it('sees only the caller\'s account', async () => {
    // Both accounts' first custom type gets the same code; each sees only its own activities of it.
    const theirCode = await createType(s, {}, other);
    expect(theirCode).toBe(code);
    const theirLead = await createLead(s, { FirstName: 'Them' }, other);
    const theirs = await postActivity(theirLead, theirCode, '2025-01-03 10:00:00', other);
    const seenByThem = expectOk(await post({ Parameter: { ActivityEvent: code } }, other));
    expect(seenByThem.RecordCount).toBe(1);
    expect(idsOf(seenByThem)).toEqual([theirs]);
    expect(idsOf(await retrieve({}))).toEqual(['05', '04', '03', '02', '01'].map((d) => byDay[d]));
    // Our second type does not exist over there.
    expectMx(await post({ Parameter: { ActivityEvent: otherCode } }, other), 500, 'MXInvalidActivityException');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('RetrieveByActivityEvent'))!, KEYS);
  });
});
