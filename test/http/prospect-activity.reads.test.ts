/** Activity reads: `POST Retrieve?leadId=` (filter, paging) and `GET GetActivityDetails?activityId=`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, activitiesOf, createLead, createType, expectMx, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let typeA: number;
let typeB: number;
let lead: string;
const idsA: string[] = []; // oldest first
let idB: string;

const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

beforeAll(async () => {
  s = await started();
  typeA = await createType(s, { ActivityEventName: 'Page Visit', Score: 1, Fields: [{ SchemaName: 'mx_Custom_1', DisplayName: 'Page', DataType: 'String' }] });
  typeB = await createType(s, { ActivityEventName: 'Call Back', Score: 10, Direction: 1 });
  lead = await createLead(s, { FirstName: 'Reader', EmailAddress: 'reader@example.com' });
  for (let i = 1; i <= 5; i++) {
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: typeA, ActivityNote: `visit ${i}`, ActivityDateTime: `2024-01-0${i} 10:00:00`, Fields: [{ SchemaName: 'mx_Custom_1', Value: `/page/${i}` }] });
    idsA.push(expectOk(r).Message.Id);
  }
  idB = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: typeB, ActivityNote: 'call', ActivityDateTime: '2024-01-03 12:00:00' })).Message.Id;
});

describe('Retrieve', () => {
  it('with {} lists every activity of the lead, newest first, in LeadSquared shape (checklist 22)', async () => {
    const r = await activitiesOf(s, lead, {});
    expect(r.RecordCount).toBe(6);
    expect(r.ProspectActivities.map((a) => a.Id)).toEqual([idsA[4], idsA[3], idB, idsA[2], idsA[1], idsA[0]]);
    const newest = r.ProspectActivities[0];
    expect(newest).toMatchObject({ Id: idsA[4], EventCode: typeA, EventName: 'Page Visit', ActivityScore: 1, CreatedOn: '2024-01-05 10:00:00', Type: 'Inbound' });
    expect(newest.CreatedOn).toMatch(DATE);
    expect(newest.Data).toEqual(expect.arrayContaining([{ Key: 'ActivityEvent_Note', Value: 'visit 5' }, { Key: 'mx_Custom_1', Value: '/page/5' }]));
    expect(newest.ActivityFields).toMatchObject({ ActivityEvent_Note: 'visit 5', mx_Custom_1: '/page/5' });
    expect(r.ProspectActivities[2]).toMatchObject({ EventName: 'Call Back', Type: 'Outbound', ActivityScore: 10 });
  });

  it('with no body at all answers the same', async () => {
    const r = expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`));
    expect(r.RecordCount).toBe(6);
  });

  it('answers as JSON: its content type, and the text JSON.stringify makes of what it answers', async () => {
    const r = await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, { Paging: { Offset: 0, RowCount: 3 } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.text).toBe(JSON.stringify(r.body));
    expect(Number(r.headers.get('content-length'))).toBe(Buffer.byteLength(r.text));
    // An error on the same route is still its envelope, as JSON.
    const bad = await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, { Paging: [0, 10] });
    expect(bad.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(bad.text).toBe(JSON.stringify(bad.body));
  });

  it("filters by Parameter.ActivityEvent and pages with Offset/RowCount as in the docs' body", async () => {
    const r = await activitiesOf(s, lead, { Parameter: { ActivityEvent: typeA }, Paging: { Offset: '1', RowCount: '2' } });
    expect(r.RecordCount).toBe(5);
    expect(r.ProspectActivities.map((a) => a.Id)).toEqual([idsA[3], idsA[2]]);
    const onlyB = await activitiesOf(s, lead, { Parameter: { ActivityEvent: String(typeB) } });
    expect(onlyB.ProspectActivities.map((a) => a.Id)).toEqual([idB]);
    const past = await activitiesOf(s, lead, { Paging: { Offset: 6, RowCount: 10 } });
    expect(past).toEqual({ RecordCount: 6, ProspectActivities: [] });
  });

  it('returns at most 25 by default', async () => {
    const busy = await createLead(s, { FirstName: 'Busy' });
    const rows = Array.from({ length: 25 }, () => ({ RelatedProspectId: busy, ActivityEvent: typeB }));
    expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, rows));
    expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, rows.slice(0, 3)));
    const r = await activitiesOf(s, busy);
    expect(r.RecordCount).toBe(28);
    expect(r.ProspectActivities).toHaveLength(25);
  });

  it('matches leadId in any case (GUIDs)', async () => {
    expect((await activitiesOf(s, lead.toUpperCase())).RecordCount).toBe(6);
  });

  it('an unknown lead has no activities', async () => {
    expect(await activitiesOf(s, '00000000-0000-0000-0000-000000000001')).toEqual({ RecordCount: 0, ProspectActivities: [] });
  });

  it('bad paging or filter values are application errors naming the parameter', async () => {
    const bad = (body: unknown) => s.call('POST', `${PA}/Retrieve?leadId=${lead}`, body);
    expectMx(await bad({ Paging: { RowCount: 'ten' } }), 500, 'MXInvalidInputException', /RowCount/);
    expectMx(await bad({ Paging: { RowCount: 1001 } }), 500, 'MXInvalidInputException', /RowCount/);
    expectMx(await bad({ Paging: { Offset: -1 } }), 500, 'MXInvalidInputException', /Offset/);
    expectMx(await bad({ Parameter: { ActivityEvent: 'calls' } }), 500, 'MXInvalidInputException', /ActivityEvent/);
  });

  it('a missing leadId is MXMandatoryAttributeMissingException; wrong JSON types are 400', async () => {
    expectMx(await s.call('POST', `${PA}/Retrieve`, {}), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, { Paging: [0, 10] }), 400, 'MXInvalidInputException', /Paging/);
    expectMx(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, [1]), 400, 'MXInvalidInputException');
    expectMx(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, undefined, { raw: '{"Paging":' }), 400, 'MXInvalidJsonException');
  });
});

describe('GetActivityDetails', () => {
  it('answers the activity with its type and field values', async () => {
    const d = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${idsA[0]}`));
    expect(d).toMatchObject({ ID: idsA[0], Name: 'Page Visit', ActivityEvent: typeA, RelatedProspectId: lead, ActivityNote: 'visit 1', ActivityDateTime: '2024-01-01 10:00:00', ActivityScore: 1 });
    expect(d.Fields).toEqual([expect.objectContaining({ SchemaName: 'mx_Custom_1', DisplayName: 'Page', Value: '/page/1', DataType: 'String' })]);
  });

  it('matches activityId in any case (GUIDs)', async () => {
    expect(expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${idB.toUpperCase()}`)).ID).toBe(idB);
  });

  it('an unknown activity id is MXUnknownProspectActivityException (checklist 23)', async () => {
    expectMx(await s.call('GET', `${PA}/GetActivityDetails?activityId=11111111-1111-1111-1111-111111111111`), 500, 'MXUnknownProspectActivityException', /11111111/);
  });

  it('a missing activityId is MXMandatoryAttributeMissingException', async () => {
    expectMx(await s.call('GET', `${PA}/GetActivityDetails`), 500, 'MXMandatoryAttributeMissingException', /activityId/);
  });
});
