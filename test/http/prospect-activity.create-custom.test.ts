/** `POST /v2/ProspectActivity.svc/CreateCustom`: SearchBy upsert of the lead plus the activity, in one transaction. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf, activitiesOf, createLead, createType, defineLeadField, expectMx, expectNoChange, expectOk, getLead, leadByEmail } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;
let accountId: string;

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
  code = await createType(s, {
    Score: 5,
    Fields: [
      { SchemaName: 'mx_Custom_1', DataType: 'Number' },
      { SchemaName: 'mx_Custom_2', DataType: 'DateTime' },
      { SchemaName: 'mx_Custom_3', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_2' }, { SchemaName: 'mx_CustomObject_4' }] },
    ],
  });
  await defineLeadField(s, accountId, { schemaName: 'mx_CustomerNo', displayName: 'Customer No', isUnique: true });
  await defineLeadField(s, accountId, { schemaName: 'mx_Tier', dataType: 'Dropdown', options: ['Gold', 'Silver'] });
});

type Attr = { Attribute: string; Value: string; Fields?: Attr[] };
const attrs = (o: Record<string, string>): Attr[] => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));

/** The docs' "Create a Lead and Activity" body, with a real event code and date. */
function docBody(email: string, activity: Record<string, unknown> = {}) {
  return {
    LeadDetails: [
      { Attribute: 'EmailAddress', Value: email },
      { Attribute: 'mx_City', Value: 'Bangalore' },
      {
        Attribute: 'mx_KYC',
        Value: '',
        Fields: [
          { Attribute: 'Status', Value: 'Pending' },
          { Attribute: 'mx_CustomObject_1', Value: 'XYZ12345.png' },
          { Attribute: 'mx_CustomObject_2', Value: '864563' },
        ],
      },
      { Attribute: 'SearchBy', Value: 'EmailAddress' },
    ],
    Activity: {
      ActivityEvent: code,
      ActivityNote: 'Note for the activity',
      ActivityDateTime: '2024-03-04 05:06:07',
      Fields: [
        { SchemaName: 'mx_Custom_1', Value: '123' },
        { SchemaName: 'mx_Custom_2', Value: '2016-07-07 10:55:00' },
        { Attribute: 'mx_Custom_3', Value: '', Fields: [{ Attribute: 'Status', Value: 'Pending' }, { Attribute: 'mx_CustomObject_2', Value: 'XYZ12345.png' }, { Attribute: 'mx_CustomObject_4', Value: '864563' }] },
      ],
      ...activity,
    },
  };
}

const custom = (leadDetails: Attr[], activity: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  s.call('POST', `${PA}/CreateCustom`, { LeadDetails: leadDetails, Activity: { ActivityEvent: code, ...activity }, ...extra });

describe('CreateCustom: happy path', () => {
  it('creates the lead and the activity from the docs example (checklist 12)', async () => {
    const body = expectOk(await s.call('POST', `${PA}/CreateCustom`, docBody('email@example.com')));
    expect(body.Status).toBe('Success');
    expect(body.Message).toMatchObject({ Id: expect.any(String), RelatedId: expect.any(String), IsLeadCreated: true });
    const lead = await leadByEmail(s, 'email@example.com');
    expect(lead).toMatchObject({ ProspectID: body.Message.RelatedId, mx_City: 'Bangalore', Score: '5', EngagementScore: '5' });
    expect(JSON.parse(lead!.mx_KYC!)).toEqual({ Status: 'Pending', mx_CustomObject_1: 'XYZ12345.png', mx_CustomObject_2: '864563' });
    const acts = await activitiesOf(s, body.Message.RelatedId);
    expect(acts.RecordCount).toBe(1);
    expect(acts.ProspectActivities[0]).toMatchObject({ Id: body.Message.Id, EventCode: code, CreatedOn: '2024-03-04 05:06:07' });
    expect(JSON.parse(acts.ProspectActivities[0].ActivityFields.mx_Custom_3)).toEqual({ Status: 'Pending', mx_CustomObject_2: 'XYZ12345.png', mx_CustomObject_4: '864563' });
  });

  it('a repeat with the same SearchBy value updates that lead and never makes a second one (checklist 12)', async () => {
    const first = expectOk(await s.call('POST', `${PA}/CreateCustom`, docBody('repeat@example.com')));
    const body2 = docBody('REPEAT@example.com');
    body2.LeadDetails[1].Value = 'Mumbai';
    const second = expectOk(await s.call('POST', `${PA}/CreateCustom`, body2));
    expect(second.Message).toMatchObject({ RelatedId: first.Message.RelatedId, IsLeadCreated: false });
    expect(await getLead(s, first.Message.RelatedId)).toMatchObject({ mx_City: 'Mumbai', Score: '10' });
    expect((await activitiesOf(s, first.Message.RelatedId)).RecordCount).toBe(2);
  });

  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ['Phone', { Phone: '+91-9988776655', FirstName: 'P1' }, { Phone: '9988776655', FirstName: 'P2' }],
    ['Mobile', { Mobile: '9123456780', FirstName: 'M1' }, { Mobile: '+91 91234 56780', FirstName: 'M2' }],
    ['mx_CustomerNo', { mx_CustomerNo: 'C-001', FirstName: 'U1' }, { mx_CustomerNo: 'c-001', FirstName: 'U2' }],
  ];
  for (const [searchBy, first, again] of cases) {
    it(`SearchBy ${searchBy}: the second call finds and updates the first lead`, async () => {
      const a = expectOk(await custom([...attrs(first), { Attribute: 'SearchBy', Value: searchBy }]));
      expect(a.Message.IsLeadCreated).toBe(true);
      const before = await s.services.store.leads.count(accountId);
      const b = expectOk(await custom([...attrs(again), { Attribute: 'SearchBy', Value: searchBy }]));
      expect(b.Message).toMatchObject({ RelatedId: a.Message.RelatedId, IsLeadCreated: false });
      expect(await s.services.store.leads.count(accountId)).toBe(before);
      expect(await getLead(s, a.Message.RelatedId)).toMatchObject({ FirstName: again.FirstName });
    });
  }

  it('a field marked unique after leads exist finds those leads; marking a field with shared values unique fails', async () => {
    const id = await createLead(s, { FirstName: 'Late', mx_Badge: 'B-7' });
    await createLead(s, { FirstName: 'Twin1', mx_Pair: 'same' });
    await createLead(s, { FirstName: 'Twin2', mx_Pair: 'same' });
    await defineLeadField(s, accountId, { schemaName: 'mx_Badge', isUnique: true });
    const r = expectOk(await custom(attrs({ mx_Badge: 'b-7', LastName: 'Found', SearchBy: 'mx_Badge' })));
    expect(r.Message).toMatchObject({ RelatedId: id, IsLeadCreated: false });
    expectMx(await s.call('POST', `${LM}/Lead.Create`, attrs({ FirstName: 'Copy', mx_Badge: 'B-7' })), 500, 'MXDuplicateEntryException', /mx_Badge/);
    await expect(defineLeadField(s, accountId, { schemaName: 'mx_Pair', isUnique: true })).rejects.toMatchObject({ type: 'MXDuplicateEntryException' });
    // The failed definition rolled back: the field is still not unique, so both twins may keep the value.
    expectMx(await custom(attrs({ mx_Pair: 'same', SearchBy: 'mx_Pair' })), 500, 'MXInvalidInputException', /mx_Pair/);
  });

  it('parallel repeats for one new lead all succeed and make one lead (CreateCustom and Create by email)', async () => {
    const body = { LeadDetails: attrs({ EmailAddress: 'race@example.com', SearchBy: 'EmailAddress' }), Activity: { ActivityEvent: code } };
    const rs = await Promise.all(Array.from({ length: 8 }, () => s.call('POST', `${PA}/CreateCustom`, body)));
    for (const r of rs) expect(r.status, r.text).toBe(200);
    expect(rs.filter((r) => r.body.Message.IsLeadCreated)).toHaveLength(1);
    expect(new Set(rs.map((r) => r.body.Message.RelatedId)).size).toBe(1);
    const posts = await Promise.all(Array.from({ length: 8 }, () => s.call('POST', `${PA}/Create`, { EmailAddress: 'race2@example.com', ActivityEvent: code })));
    for (const r of posts) expect(r.status, r.text).toBe(200);
    const lead = await leadByEmail(s, 'race2@example.com');
    expect((await activitiesOf(s, lead!.ProspectID!)).RecordCount).toBe(8);
    expect(lead!.Score).toBe('40');
  });

  it('SearchBy ProspectID updates the lead with that id', async () => {
    const id = await createLead(s, { FirstName: 'ById', EmailAddress: 'byid@example.com' });
    const r = expectOk(await custom(attrs({ ProspectID: id, LastName: 'Updated', SearchBy: 'ProspectID' })));
    expect(r.Message).toMatchObject({ RelatedId: id, IsLeadCreated: false });
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'ById', LastName: 'Updated' });
  });

  it('without SearchBy, EmailAddress is the lookup', async () => {
    const id = await createLead(s, { EmailAddress: 'default-search@example.com' });
    expect(expectOk(await custom(attrs({ EmailAddress: 'default-search@example.com', FirstName: 'D' }))).Message.RelatedId).toBe(id);
  });

  it('a lead dropdown value outside the options passes with ValidateDropDownOptions true (top level or in Activity)', async () => {
    expectOk(await custom(attrs({ EmailAddress: 'dd1@example.com', mx_Tier: 'Bronze' }), {}, { ValidateDropDownOptions: true }));
    expectOk(await custom(attrs({ EmailAddress: 'dd2@example.com', mx_Tier: 'Bronze' }), { ValidateDropDownOptions: true }));
    expect(await leadByEmail(s, 'dd2@example.com')).toMatchObject({ mx_Tier: 'Bronze' });
  });
});

describe('CreateCustom: failures change nothing', () => {
  let existing: string;
  beforeAll(async () => {
    existing = await createLead(s, { FirstName: 'Keep', EmailAddress: 'keep@example.com', Phone: '9000000001', mx_CustomerNo: 'K-1' });
  });

  const fails = async (leadDetails: Attr[], activity: Record<string, unknown>, status: number, type: string, message: RegExp) => {
    await expectNoChange(s, [existing], async () => {
      expectMx(await custom(leadDetails, activity), status, type, message);
    });
  };

  it('a bad activity after a new lead leaves no lead behind', async () => {
    await fails(attrs({ EmailAddress: 'never@example.com', mx_Never_Field: 'x', SearchBy: 'EmailAddress' }), { ActivityEvent: 777 }, 500, 'MXInvalidActivityException', /Event Code/);
    expect(await leadByEmail(s, 'never@example.com')).toBeNull();
    // The mx_ attribute it would have created as a lead field is gone with the rest.
    expect(expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=mx_Never_Field`))).toEqual([]);
  });

  it('a bad activity after a lead update leaves the lead as it was', () =>
    fails(attrs({ EmailAddress: 'keep@example.com', FirstName: 'Changed' }), { Fields: [{ SchemaName: 'mx_Custom_1', Value: 'NaN' }] }, 500, 'MXInvalidInputException', /mx_Custom_1/));

  it('bad ActivityDateTime', () => fails(attrs({ EmailAddress: 'keep@example.com' }), { ActivityDateTime: 'yyyy-MM-dd HH:mm:ss' }, 500, 'MXInvalidInputException', /ActivityDateTime/));
  // With SearchBy EmailAddress the phone is not looked up: a new lead would take another's number.
  it('duplicate Phone on a new lead → MXDuplicateEntryException naming Phone', () =>
    fails(attrs({ EmailAddress: 'dup@example.com', Phone: '+91 9000000001', SearchBy: 'EmailAddress' }), {}, 500, 'MXDuplicateEntryException', /Phone/));
  it('duplicate Email on an update → MXDuplicateEntryException naming Email', async () => {
    await createLead(s, { EmailAddress: 'other-owner@example.com' });
    await fails(attrs({ Phone: '9000000001', EmailAddress: 'Other-Owner@example.com', SearchBy: 'Phone' }), {}, 500, 'MXDuplicateEntryException', /Email/);
  });
  it('duplicate custom unique field → MXDuplicateEntryException naming the field', () =>
    fails(attrs({ EmailAddress: 'dup2@example.com', mx_CustomerNo: 'k-1', SearchBy: 'EmailAddress' }), {}, 500, 'MXDuplicateEntryException', /mx_CustomerNo/));
  it('SearchBy a field that is not unique', () => fails(attrs({ EmailAddress: 'keep@example.com', mx_Tier: 'Gold', SearchBy: 'mx_Tier' }), {}, 500, 'MXInvalidInputException', /mx_Tier/));
  it('SearchBy a field with no value passed', () => fails(attrs({ FirstName: 'x', SearchBy: 'Phone' }), {}, 500, 'MXMandatoryAttributeMissingException', /Phone/));
  it('no SearchBy and nothing the default lookup searches by (email, phones, unique fields)', () =>
    fails(attrs({ FirstName: 'Nobody' }), {}, 500, 'MXMandatoryAttributeMissingException', /EmailAddress, Phone, a field marked unique, or Mobile/));
  it('SearchBy ProspectID of an unknown lead', () =>
    fails(attrs({ ProspectID: '99999999-9999-9999-9999-999999999999', SearchBy: 'ProspectID' }), {}, 500, 'MXInvalidEntityException', /99999999/));
  it('unknown lead attribute (not mx_)', () => fails(attrs({ EmailAddress: 'keep@example.com', Shoesize: '44' }), {}, 500, 'MXUnknownAttributeException', /Shoesize/));
  it('read-only lead attribute', () => fails(attrs({ EmailAddress: 'keep@example.com', Score: '100' }), {}, 500, 'MXInvalidInputException', /Score/));
  it('lead value too long', () => fails(attrs({ EmailAddress: 'keep@example.com', FirstName: 'x'.repeat(201) }), {}, 500, 'MXInvalidInputException', /FirstName.*200/));
  it('lead email not an email', () => fails(attrs({ EmailAddress: 'keep-at-example' }), {}, 500, 'MXInvalidInputException', /EmailAddress/));
  it('lead dropdown value not among the options', () => fails(attrs({ EmailAddress: 'keep@example.com', mx_Tier: 'Bronze' }), {}, 500, 'MXInvalidInputException', /mx_Tier.*Gold, Silver/));

  it('missing LeadDetails is an application error; missing Activity or a non-list LeadDetails is 400', async () => {
    await expectNoChange(s, [existing], async () => {
      expectMx(await s.call('POST', `${PA}/CreateCustom`, { Activity: { ActivityEvent: code } }), 500, 'MXMandatoryAttributeMissingException', /LeadDetails/);
      expectMx(await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: attrs({ EmailAddress: 'keep@example.com' }) }), 400, 'MXInvalidInputException', /Activity/);
      expectMx(await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: { EmailAddress: 'x@y.z' }, Activity: { ActivityEvent: code } }), 400, 'MXInvalidInputException', /LeadDetails/);
      expectMx(await s.call('POST', `${PA}/CreateCustom`, undefined, { raw: '{"LeadDetails": [' }), 400, 'MXInvalidJsonException');
    });
  });
});
