/**
 * Which error a body with several mistakes gets: the order in which each activity endpoint judges
 * its properties (its endpoint schema, src/schemas/prospect-activity.ts), and the properties it
 * never reads. Create reads ProcessFilesAsync, IncludeLeadScore, then the lead (RelatedProspectId,
 * else EmailAddress with the new lead's details, else the mandatory error), then the activity;
 * CustomActivityType/Update reads ActivityEvent only without ID and Direction only without
 * EventDirection. The async doors store the body and the worker judges it later the same way.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, activitiesOf, createLead, createType, expectMx, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';
import { accept, settled } from '../async/helpers.js';

let s: TestServer;
let code: number;
let leadId: string;

beforeAll(async () => {
  s = await started();
  code = await createType(s, { ActivityEventName: 'Order Type' });
  leadId = await createLead(s, { FirstName: 'Ord', EmailAddress: 'order@example.com' });
});

const create = (body: unknown) => s.call('POST', `${PA}/Create`, body);
const MANDATORY_REF = /'RelatedProspectId' or 'EmailAddress' is mandatory/;

describe('Create', () => {
  it('an ActivityEvent that is neither a number nor a string: a 400 that says what it takes and what came', async () => {
    for (const [bad, got] of [[true, 'true'], [false, 'false'], [[], 'a list'], [{}, 'an object']] as const) {
      expectMx(
        await create({ RelatedProspectId: leadId, ActivityEvent: bad }),
        400,
        'MXInvalidInputException',
        `'ActivityEvent' must be a whole number, as a JSON number or a string of digits; got ${got}`,
      );
    }
    expectOk(await create({ RelatedProspectId: leadId, ActivityEvent: ` ${code} ` }));
  });

  it("ignores the new lead's details, and EmailAddress, once RelatedProspectId is given", async () => {
    const before = (await activitiesOf(s, leadId)).RecordCount;
    for (const bad of [{}, [1], 'a\u0000b']) {
      expectOk(await create({ RelatedProspectId: leadId, ActivityEvent: code, EmailAddress: bad, FirstName: bad, LastName: bad, Phone: bad, Mobile: bad }));
    }
    expect((await activitiesOf(s, leadId)).RecordCount).toBe(before + 3);
  });

  it("reads the new lead's details when the lead is given by EmailAddress, before the activity", async () => {
    expectMx(await create({ EmailAddress: 'order-new@example.com', FirstName: {}, ActivityEvent: {} }), 400, 'MXInvalidInputException', /'FirstName'/);
    expectMx(await create({ EmailAddress: 'order-new@example.com', Mobile: [], ActivityNote: {} }), 400, 'MXInvalidInputException', /'Mobile'/);
  });

  it('answers a missing lead before any malformed activity property', async () => {
    expectMx(await create({ ActivityEvent: {}, Fields: 'x', ValidateDropDownOptions: 'maybe' }), 500, 'MXMandatoryAttributeMissingException', MANDATORY_REF);
    expectMx(await create({ RelatedProspectId: '', EmailAddress: '', ActivityEvent: [] }), 500, 'MXMandatoryAttributeMissingException', MANDATORY_REF);
  });

  it('answers an unknown RelatedProspectId before anything wrong with the activity, and writes nothing', async () => {
    const ghost = '11111111-2222-3333-4444-5555555555aa';
    const wrong = [{ ActivityEvent: 4242 }, { ActivityEvent: 'abc' }, { ActivityEvent: code, ActivityDateTime: '2015-02-30 10:00:00' }, { ActivityEvent: code, Fields: [{ SchemaName: 'mx_Nope', Value: '1' }] }, { ActivityEvent: code, ActivityOwnerEmail: 'not-an-address' }, { ActivityEvent: code }];
    for (const body of wrong) expectMx(await create({ RelatedProspectId: ghost, ...body }), 500, 'MXInvalidEntityException', new RegExp(`Lead does not exist in the system: ${ghost}`));
    expect((await activitiesOf(s, ghost)).RecordCount).toBe(0);
    // The same lead, named in upper case, is found, and the activity is stored under its id.
    const before = (await activitiesOf(s, leadId)).RecordCount;
    expectOk(await create({ RelatedProspectId: leadId.toUpperCase(), ActivityEvent: code }));
    expect((await activitiesOf(s, leadId)).RecordCount).toBe(before + 1);
  });

  it('reads ProcessFilesAsync, then IncludeLeadScore, then RelatedProspectId', async () => {
    const all = { ProcessFilesAsync: 'maybe', IncludeLeadScore: 'maybe', RelatedProspectId: {}, ActivityEvent: code };
    expectMx(await create(all), 400, 'MXInvalidInputException', /'ProcessFilesAsync'/);
    expectMx(await create({ ...all, ProcessFilesAsync: true }), 400, 'MXInvalidInputException', /'IncludeLeadScore'/);
    expectMx(await create({ ...all, ProcessFilesAsync: true, IncludeLeadScore: false }), 400, 'MXInvalidInputException', /'RelatedProspectId'/);
  });

  it('reads the activity in order: ActivityEvent, ActivityNote, ActivityDateTime, Fields, ActivityOwnerEmail, ValidateDropDownOptions', async () => {
    const order = ['ActivityEvent', 'ActivityNote', 'ActivityDateTime', 'Fields', 'ActivityOwnerEmail', 'ValidateDropDownOptions'];
    for (const [i, name] of order.entries()) {
      const body: Record<string, unknown> = { relatedprospectid: leadId, ActivityEvent: code };
      for (const later of order.slice(i)) body[later] = { bad: true };
      expectMx(await create(body), 400, 'MXInvalidInputException', new RegExp(`'${name}`));
    }
  });
});

describe('CreateCustom', () => {
  const custom = (body: unknown) => s.call('POST', `${PA}/CreateCustom`, body);

  it('reads LeadDetails (mandatory) before Activity, and Activity before ValidateDropDownOptions', async () => {
    expectMx(await custom({ ValidateDropDownOptions: 'maybe' }), 500, 'MXMandatoryAttributeMissingException', /'LeadDetails' is mandatory/);
    expectMx(await custom({ LeadDetails: null, Activity: 'x' }), 500, 'MXMandatoryAttributeMissingException', /'LeadDetails' is mandatory/);
    expectMx(await custom({ LeadDetails: [{ Attribute: 5 }], Activity: 'x' }), 400, 'MXInvalidInputException', /'LeadDetails\[0\]'/);
    const lead = [{ Attribute: 'EmailAddress', Value: 'order-c@example.com' }];
    expectMx(await custom({ LeadDetails: lead, ValidateDropDownOptions: 'maybe' }), 400, 'MXInvalidInputException', /'Activity' must be a JSON object/);
    expectMx(await custom({ LeadDetails: lead, Activity: { ActivityEvent: {} }, ValidateDropDownOptions: 'maybe' }), 400, 'MXInvalidInputException', /'Activity\.ActivityEvent'/);
    expectMx(await custom({ LeadDetails: lead, Activity: { ActivityEvent: code }, ValidateDropDownOptions: 'maybe' }), 400, 'MXInvalidInputException', /'ValidateDropDownOptions'/);
  });
});

describe('bulk activity posts', () => {
  it("name a row that is not an object without repeating the row (Bulk/CustomActivity/Update's answer keeps its own wording)", async () => {
    const r = expectMx(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [{ RelatedProspectId: leadId, ActivityEvent: code }, 7]), 400, 'MXInvalidInputException');
    expect(r).toBe('Invalid request body: row 2 must be a JSON object');
    const u = expectMx(await s.call('POST', `${PA}/Bulk/CustomActivity/Update`, [{ ProspectActivityId: 'x' }, 7]), 400, 'MXInvalidInputException');
    expect(u).toBe('Invalid request body: row 2: row 2 must be a JSON object');
  });

  it('judge every row before writing any, and a row without its lead fails alone', async () => {
    const before = (await activitiesOf(s, leadId)).RecordCount;
    const ok = { RelatedProspectId: leadId, ActivityEvent: code };
    expectMx(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [ok, { ...ok, ActivityNote: {} }]), 400, 'MXInvalidInputException', /^Invalid request body: row 2: 'ActivityNote'/);
    expect((await activitiesOf(s, leadId)).RecordCount).toBe(before);
    const r = expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [ok, { ActivityEvent: code }]));
    expect(r.Response.map((x: { ActivityCreated: boolean }) => x.ActivityCreated)).toEqual([true, false]);
    expect(r.Response[1]).toMatchObject({ ExceptionType: 'MXMandatoryAttributeMissingException', ExceptionMessage: "'RelatedProspectId' is mandatory" });
  });
});

describe('CustomActivityType/Update', () => {
  const typeUpdate = (body: unknown) => s.call('POST', `${PA}/CustomActivityType/Update`, body);

  it('reads ActivityEvent only without ID, and Direction only without EventDirection', async () => {
    expectOk(await typeUpdate({ ID: code, ActivityEvent: {}, EventDirection: 1, Direction: {} }));
    expectMx(await typeUpdate({ ID: '', ActivityEvent: {} }), 400, 'MXInvalidInputException', /'ActivityEvent'/);
    expectMx(await typeUpdate({ ID: code, Direction: {} }), 400, 'MXInvalidInputException', /'Direction'/);
    expectMx(await typeUpdate({ ID: code, Direction: 7 }), 500, 'MXInvalidInputException', /Direction must be 0/);
    // A null EventDirection is sent (and means no change): Direction is not read.
    expectOk(await typeUpdate({ ID: code, EventDirection: null, Direction: 7 }));
  });

  it('reads the flags, then ID, the name, the description, the direction, Score, then Fields', async () => {
    const all = { ShowInForm: {}, ID: {}, ActivityEventName: {}, Description: {}, EventDirection: {}, Score: {}, Fields: 'x' };
    const order = ['ShowInForm', 'ID', 'ActivityEventName', 'Description', 'EventDirection', 'Score', 'Fields'];
    const body: Record<string, unknown> = { ...all };
    for (const name of order) {
      expectMx(await typeUpdate(body), 400, 'MXInvalidInputException', new RegExp(`'${name}`));
      body[name] = name === 'ID' ? code : undefined;
    }
  });
});

describe('async doors', () => {
  it('the worker judges a stored Create body as the sync route does: details ignored by id, the lead before the activity', async () => {
    const byId = await accept(s.url, '/activity/create', { relatedProspectId: leadId, activityevent: code, FirstName: {} });
    expect((await settled(s.url, byId)).TaskStatus.Status).toBe('Success');
    const noLead = await accept(s.url, '/activity/create', { ActivityEvent: {} });
    const sync = await create({ ActivityEvent: {} });
    const st = await settled(s.url, noLead);
    expect(st.TaskStatus.Status).toBe('FAILURE');
    expect(st.TaskStatus.StatusReason).toBe(`${sync.body.ExceptionType}: ${sync.body.ExceptionMessage}`);
  });

  it('the worker judges a stored CreateCustom body as the sync route does', async () => {
    const body = { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'order-async@example.com' }], Activity: { ActivityEvent: code, Fields: 'x' } };
    const id = await accept(s.url, '/activity/createcustom', body);
    const sync = await s.call('POST', `${PA}/CreateCustom`, body);
    expect(sync.status).toBe(400);
    const st = await settled(s.url, id);
    expect(st.TaskStatus.StatusReason).toBe(`${sync.body.ExceptionType}: ${sync.body.ExceptionMessage}`);
  });
});
