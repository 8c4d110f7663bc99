/** `POST CustomActivity/Update` (an activity's note and fields) and `POST CustomActivityType/Update`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, SYNC_ENDPOINTS, activitiesOf, createLead, createType, expectKeysRequired, expectMx, expectNoChange, expectOk, getLead, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;
let other: CallInit;
let code: number;
let lead: string;

const details = async (id: string, init?: CallInit) => expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`, undefined, init));
const valueOf = (d: any, name: string) => d.Fields.find((f: any) => f.SchemaName === name)?.Value;
const update = (body: unknown, init?: CallInit) => s.call('POST', `${PA}/CustomActivity/Update`, body, init);
const typeUpdate = (body: unknown, init?: CallInit) => s.call('POST', `${PA}/CustomActivityType/Update`, body, init);
const setting = async (c: number, init?: CallInit) => expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${c}`, undefined, init));

async function post(fields: Record<string, string> = { mx_Custom_1: 'first', mx_Custom_2: '5' }, note = 'original'): Promise<string> {
  const r = await s.call('POST', `${PA}/Create`, {
    RelatedProspectId: lead,
    ActivityEvent: code,
    ActivityNote: note,
    ActivityDateTime: '2025-01-01 10:00:00',
    Fields: Object.entries(fields).map(([SchemaName, Value]) => ({ SchemaName, Value })),
  });
  return expectOk(r).Message.Id;
}

beforeAll(async () => {
  s = await started();
  other = { keys: (await secondAccount(s)).keys };
  code = await createType(s, {
    Score: 4,
    Fields: [
      { SchemaName: 'mx_Custom_1', DataType: 'String', IsMandatory: true },
      { SchemaName: 'mx_Custom_2', DataType: 'Number' },
      { SchemaName: 'mx_Custom_3', DataType: 'Dropdown', OptionSet: 'Hot,Cold' },
    ],
  });
  lead = await createLead(s, { FirstName: 'Upd', EmailAddress: 'upd@example.com' });
});

describe('CustomActivity/Update', () => {
  it('sets the note and the fields named, keeps the others, and answers Message.Id', async () => {
    const id = await post();
    const r = expectOk(await update({ ProspectActivityId: id, ActivityEvent: code, ActivityNote: 'changed', ProcessFilesAsync: true, Fields: [{ SchemaName: 'mx_Custom_2', Value: '7' }, { SchemaName: 'mx_Custom_3', Value: 'Hot' }, { SchemaName: 'Status', Value: 'Done' }] }));
    expect(r).toEqual({ Status: 'Success', Message: { Id: id } });
    const d = await details(id);
    expect(d.ActivityNote).toBe('changed');
    expect([valueOf(d, 'mx_Custom_1'), valueOf(d, 'mx_Custom_2'), valueOf(d, 'mx_Custom_3'), valueOf(d, 'Status')]).toEqual(['first', '7', 'Hot', 'Done']);
    // Date, score and lead stay: the activity is listed once, the lead's score counted it once.
    expect(d.ActivityDateTime).toBe('2025-01-01 10:00:00');
    expect((await activitiesOf(s, lead)).ProspectActivities.filter((a) => a.Id === id)).toHaveLength(1);
  });

  it('without ActivityNote keeps the note; an empty value empties an optional field', async () => {
    const id = await post();
    expectOk(await update({ ProspectActivityId: id, Fields: [{ SchemaName: 'mx_Custom_2', Value: '' }] }));
    const d = await details(id);
    expect(d.ActivityNote).toBe('original');
    expect(valueOf(d, 'mx_Custom_2')).toBe('');
  });

  it('an ActivityEvent_Note entry in Fields is the note, on Create and on Update, never a field beside it (found by a fresh-eyes run)', async () => {
    // Stored as a field, the activity had two notes: Retrieve's Data listed ActivityEvent_Note twice,
    // its ActivityFields said one thing and RetrieveByActivityEvent another.
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: 'x' }, { SchemaName: 'ActivityEvent_Note', Value: 'via field' }] });
    const id = expectOk(r).Message.Id as string;
    let d = await details(id);
    expect(d.ActivityNote).toBe('via field');
    expect(d.Fields.map((f: any) => f.SchemaName)).not.toContain('ActivityEvent_Note');
    const listed = (await activitiesOf(s, lead)).ProspectActivities.find((a: any) => a.Id === id);
    expect(listed.Data.filter((k: any) => k.Key === 'ActivityEvent_Note')).toEqual([{ Key: 'ActivityEvent_Note', Value: 'via field' }]);
    // ActivityNote, when given, wins; on Update the entry changes the note as ActivityNote does.
    const both = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'the note', Fields: [{ SchemaName: 'mx_Custom_1', Value: 'x' }, { SchemaName: 'activityevent_note', Value: 'not this' }] })).Message.Id;
    expect((await details(both)).ActivityNote).toBe('the note');
    expectOk(await update({ ProspectActivityId: id, Fields: [{ SchemaName: 'ActivityEvent_Note', Value: 'field note 2' }] }));
    d = await details(id);
    expect(d.ActivityNote).toBe('field note 2');
    expect(d.Fields.map((f: any) => f.SchemaName)).not.toContain('ActivityEvent_Note');
  });

  it("a custom field set named on Update keeps its sub-fields not named, and GetActivityDetails shows each sub-field's value (found by a fresh-eyes run)", async () => {
    const setCode = await createType(s, {
      Fields: [{ SchemaName: 'mx_Custom_6', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DataType: 'String' }, { SchemaName: 'mx_CustomObject_2', DataType: 'Number' }] }],
    });
    const set = (Fields: { SchemaName: string; Value: string }[]) => [{ SchemaName: 'mx_Custom_6', Value: '', Fields }];
    const id = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: setCode, Fields: set([{ SchemaName: 'mx_CustomObject_1', Value: 'x.png' }, { SchemaName: 'mx_CustomObject_2', Value: '7' }]) })).Message.Id as string;
    const subs = async () => (await details(id)).Fields.find((f: any) => f.SchemaName === 'mx_Custom_6').Fields.map((f: any) => [f.SchemaName, f.Value, f.ParentField]);
    expect(await subs()).toEqual([
      ['mx_CustomObject_1', 'x.png', 'mx_Custom_6'],
      ['mx_CustomObject_2', '7', 'mx_Custom_6'],
    ]);
    // Replaced whole, the set had lost x.png.
    expectOk(await update({ ProspectActivityId: id, Fields: set([{ SchemaName: 'mx_CustomObject_2', Value: '8' }]) }));
    expect(await subs()).toEqual([
      ['mx_CustomObject_1', 'x.png', 'mx_Custom_6'],
      ['mx_CustomObject_2', '8', 'mx_Custom_6'],
    ]);
    // Named with no sub-fields (an empty Value), the set is emptied, as an empty Value empties a field.
    expectOk(await update({ ProspectActivityId: id, Fields: [{ SchemaName: 'mx_Custom_6', Value: '' }] }));
    expect(await subs()).toEqual([
      ['mx_CustomObject_1', '', 'mx_Custom_6'],
      ['mx_CustomObject_2', '', 'mx_Custom_6'],
    ]);

    // A mandatory sub-field is checked on the merged set: an update naming another sub-field only
    // is taken (it had been refused as missing the mandatory one, which the set held: a review).
    const strictCode = await createType(s, {
      Fields: [{ SchemaName: 'mx_Custom_6', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DataType: 'String', IsMandatory: true }, { SchemaName: 'mx_CustomObject_2', DataType: 'Number' }] }],
    });
    const strict = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: strictCode, Fields: set([{ SchemaName: 'mx_CustomObject_1', Value: 'kept' }]) })).Message.Id as string;
    expectOk(await update({ ProspectActivityId: strict, Fields: set([{ SchemaName: 'mx_CustomObject_2', Value: '9' }]) }));
    const strictSubs = (await details(strict)).Fields.find((f: any) => f.SchemaName === 'mx_Custom_6').Fields.map((f: any) => f.Value);
    expect(strictSubs).toEqual(['kept', '9']);
    expectMx(await update({ ProspectActivityId: strict, Fields: set([{ SchemaName: 'mx_CustomObject_1', Value: '' }]) }), 500, 'MXMandatoryAttributeMissingException', /mx_Custom_6\.mx_CustomObject_1/);
  });

  it('validates as Create does, and a failed update changes nothing', async () => {
    const id = await post();
    await expectNoChange(s, [lead], async () => {
      const before = await details(id);
      expectMx(await update({ ProspectActivityId: id, Fields: [{ SchemaName: 'mx_Custom_2', Value: 'many' }] }), 500, 'MXInvalidInputException', /mx_Custom_2/);
      expectMx(await update({ ProspectActivityId: id, Fields: [{ SchemaName: 'mx_Custom_3', Value: 'Warm' }] }), 500, 'MXInvalidInputException', /options/);
      expectMx(await update({ ProspectActivityId: id, Fields: [{ SchemaName: 'mx_Custom_9', Value: 'x' }] }), 500, 'MXUnknownAttributeException', /mx_Custom_9/);
      expectMx(await update({ ProspectActivityId: id, ActivityNote: 'x', Fields: [{ SchemaName: 'mx_Custom_1', Value: '' }] }), 500, 'MXMandatoryAttributeMissingException', /mx_Custom_1/);
      expectMx(await update({ ProspectActivityId: id, ActivityEvent: 21, ActivityNote: 'x' }), 500, 'MXInvalidActivityException', /21/);
      expectMx(await update({ ProspectActivityId: id, ActivityEvent: 'abc' }), 500, 'MXInvalidActivityException');
      expectMx(await update({ ProspectActivityId: '00000000-0000-0000-0000-000000000000', ActivityNote: 'x' }), 500, 'MXUnknownProspectActivityException');
      expectMx(await update({ ActivityNote: 'x' }), 500, 'MXMandatoryAttributeMissingException', /ProspectActivityId/);
      expectMx(await update({ ProspectActivityId: id, Fields: {} }), 400, 'MXInvalidInputException', /Fields/);
      expectMx(await update([]), 400, 'MXInvalidInputException');
      expect(await details(id)).toEqual(before);
    });
    // ValidateDropDownOptions: true skips the options check, as on Create.
    expectOk(await update({ ProspectActivityId: id, ValidateDropDownOptions: true, Fields: [{ SchemaName: 'mx_Custom_3', Value: 'Warm' }] }));
    expect(valueOf(await details(id), 'mx_Custom_3')).toBe('Warm');
  });

  it('matches the path and property names in any case, and ids in any case', async () => {
    const id = await post();
    expectOk(await s.call('POST', `${PA.toLowerCase()}/customactivity/update`, { prospectactivityid: id.toUpperCase(), ACTIVITYNOTE: 'lower', fields: [{ schemaname: 'MX_CUSTOM_2', value: '9' }] }));
    const d = await details(id);
    expect([d.ActivityNote, valueOf(d, 'mx_Custom_2')]).toEqual(['lower', '9']);
  });

  it('never touches another account’s activity', async () => {
    const id = await post();
    expectMx(await update({ ProspectActivityId: id, ActivityNote: 'theirs' }, other), 500, 'MXUnknownProspectActivityException');
    expect((await details(id)).ActivityNote).toBe('original');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('CustomActivity/Update'))!, KEYS);
  });
});

describe('CustomActivityType/Update', () => {
  it('changes name, score, description, direction and settings; answers {"Status":"Success"}', async () => {
    const c = await createType(s, { ActivityEventName: 'Type to rename', Score: 1, Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'String' }] });
    const r = expectOk(await typeUpdate({ ID: c, ActivityEventName: 'Renamed type', Score: 15, Description: 'Updated', EventDirection: 1, CanDeleteActivity: true }));
    expect(r).toEqual({ Status: 'Success' });
    expect(await setting(c)).toMatchObject({ ID: c, Name: 'Renamed type', DisplayName: 'Renamed type', Description: 'Updated', Score: 15, Direction: 1, CanDeleteActivity: true });
    const listed = (expectOk(await s.call('GET', `${PA}/ActivityTypes.Get`)) as any[]).find((t) => t.ActivityEvent === c);
    expect(listed).toMatchObject({ ActivityEventName: 'Renamed type', Score: 15, Direction: 1 });
    // The new score counts for activities posted from now on.
    const l = await createLead(s, { FirstName: 'Scored' });
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: l, ActivityEvent: c, Fields: [] }));
    expect((await getLead(s, l))?.Score).toBe('15');
  });

  it('adds and replaces fields by SchemaName, keeping the others, and new activities are validated by them', async () => {
    const c = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'String' }, { SchemaName: 'mx_Custom_2', DataType: 'String' }] });
    expectOk(await typeUpdate({ ID: String(c), Fields: [{ SchemaName: 'mx_Custom_2', DisplayName: 'New display name of Custom 2', DataType: 'Number', IsMandatory: false, Sequence: 2, OptionSet: '' }, { SchemaName: 'mx_custom_3', DataType: 'Date' }] }));
    const fields = (await setting(c)).Fields;
    expect(fields.map((f: any) => [f.SchemaName, f.DataType])).toEqual([['mx_Custom_1', 'String'], ['mx_Custom_2', 'Number'], ['mx_Custom_3', 'Date']]);
    expect(fields[1].DisplayName).toBe('New display name of Custom 2');
    const l = await createLead(s, { FirstName: 'Typed' });
    expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: l, ActivityEvent: c, Fields: [{ SchemaName: 'mx_Custom_2', Value: 'abc' }] }), 500, 'MXInvalidInputException', /mx_Custom_2/);
  });

  it('refuses system types, unknown codes, a taken name, bad values, and changes nothing', async () => {
    const c = await createType(s, { ActivityEventName: 'Kept name', Score: 2 });
    await createType(s, { ActivityEventName: 'Taken name' });
    const before = await setting(c);
    expectMx(await typeUpdate({ ID: 22, ActivityEventName: 'Calls' }), 500, 'MXInvalidInputException', /system/);
    expectMx(await typeUpdate({ ID: 99999, Score: 1 }), 500, 'MXInvalidActivityException');
    expectMx(await typeUpdate({ ID: '5f47d58f-5d17-11e6-9887-22000aa582a3', Score: 1 }), 500, 'MXInvalidActivityException');
    expectMx(await typeUpdate({ Score: 1 }), 500, 'MXMandatoryAttributeMissingException', /ID/);
    expectMx(await typeUpdate({ ID: c, ActivityEventName: 'TAKEN NAME' }), 500, 'MXDuplicateEntityNameException');
    expectMx(await typeUpdate({ ID: c, ActivityEventName: '  ' }), 500, 'MXInvalidInputException', /empty/);
    expectMx(await typeUpdate({ ID: c, EventDirection: 2 }), 500, 'MXInvalidInputException', /Direction/);
    expectMx(await typeUpdate({ ID: c, Score: '2147483648' }), 500, 'MXInvalidInputException', /Score/);
    expectMx(await typeUpdate({ ID: c, Fields: [{ SchemaName: 'mx_Custom_51' }] }), 500, 'MXInvalidInputException', /mx_Custom_51/);
    expectMx(await typeUpdate({ ID: c, Fields: 'x' }), 400, 'MXInvalidInputException', /Fields/);
    expectMx(await typeUpdate({ ID: c, CanDeleteActivity: { a: 1 } }), 400, 'MXInvalidInputException', /CanDeleteActivity/);
    expect(await setting(c)).toEqual(before);
    // Its own name, in another case, is not a duplicate.
    expectOk(await typeUpdate({ ID: c, ActivityEventName: 'KEPT NAME' }));
  });

  it('matches the path and property names in any case, and never changes another account’s type', async () => {
    const c = await createType(s, { ActivityEventName: 'Case type' });
    expectOk(await s.call('POST', `${PA}/customactivitytype/update`, { id: c, description: 'lower', SCORE: 3 }));
    expect(await setting(c)).toMatchObject({ Description: 'lower', Score: 3 });
    // The other account has no custom type with this code.
    expectMx(await typeUpdate({ ID: c, Description: 'theirs' }, other), 500, 'MXInvalidActivityException');
    expect((await setting(c)).Description).toBe('lower');
    const theirs = await createType(s, { ActivityEventName: 'Case type' }, other);
    expectOk(await typeUpdate({ ID: theirs, Description: 'theirs' }, other));
    expect((await setting(theirs, other)).Description).toBe('theirs');
    expect((await setting(c)).Description).toBe('lower');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('CustomActivityType/Update'))!, KEYS);
  });
});
