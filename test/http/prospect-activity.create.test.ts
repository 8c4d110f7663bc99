/** `POST /v2/ProspectActivity.svc/Create`: by RelatedProspectId and by EmailAddress, every failure path. */
import { beforeAll, describe, expect, it } from 'vitest';
import { DOC_EXAMPLE_FIELDS, PA, activitiesOf, createLead, createType, expectMx, expectNoChange, expectOk, getLead, leadByEmail } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let docType: number; // mx_Custom_1..15 as in the docs' example
let strict: number; // a type with every kind of checked field, score 7
let leadId: string;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

beforeAll(async () => {
  s = await started();
  docType = await createType(s, { Fields: DOC_EXAMPLE_FIELDS });
  strict = await createType(s, {
    Score: 7,
    Fields: [
      { SchemaName: 'mx_Custom_1', DisplayName: 'Amount', DataType: 'Number' },
      { SchemaName: 'mx_Custom_2', DisplayName: 'Plan', DataType: 'Dropdown', OptionSet: ['Gold', 'Silver'] },
      { SchemaName: 'mx_Custom_3', DisplayName: 'Code', DataType: 'String', MaxLength: 5 },
      { SchemaName: 'mx_Custom_4', DisplayName: 'When', DataType: 'DateTime' },
      { SchemaName: 'mx_Custom_5', DisplayName: 'Ref', DataType: 'String', IsMandatory: true },
      { SchemaName: 'mx_Custom_6', DisplayName: 'KYC', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DataType: 'String' }] },
    ],
  });
  leadId = await createLead(s, { FirstName: 'Ada', EmailAddress: 'ada@example.com' });
});

/** The docs' "Post an Activity on a Lead" body, aimed at our lead and type. */
function docBody(extra: Record<string, unknown> = {}) {
  return {
    RelatedProspectId: leadId,
    ActivityEvent: docType,
    ActivityNote: 'Your Activity Note',
    ProcessFilesAsync: true,
    ActivityDateTime: '2015-10-11 12:13:44',
    Fields: [
      { SchemaName: 'mx_Custom_1', Value: '123123123' },
      { SchemaName: 'mx_Custom_2', Value: '123' },
      { SchemaName: 'mx_Custom_3', Value: '3' },
      { SchemaName: 'mx_Custom_4', Value: '4' },
      { SchemaName: 'mx_Custom_5', Value: '2016-07-07 10:55:00' },
      { SchemaName: 'mx_Custom_6', Value: 'Value for Custom field' },
      { SchemaName: 'mx_Custom_7', Value: 'Value for Custom field' },
      { SchemaName: 'mx_Custom_8', Value: '1' },
      { SchemaName: 'mx_Custom_9', Value: 'Value for Custom field' },
      { SchemaName: 'mx_Custom_10', Value: '' },
      { SchemaName: 'mx_Custom_11', Value: '' },
      { SchemaName: 'mx_Custom_12', Value: '' },
      { SchemaName: 'mx_Custom_13', Value: 'Value for Custom field' },
      { SchemaName: 'mx_Custom_14', Value: 'Value for Custom field' },
      { SchemaName: 'mx_Custom_15', Value: 'asd' },
    ],
    ...extra,
  };
}

const strictFields = (over: Record<string, string> = {}) =>
  Object.entries({ mx_Custom_1: '10', mx_Custom_2: 'Gold', mx_Custom_3: 'abc', mx_Custom_4: '2024-01-02 03:04:05', mx_Custom_5: 'R1', ...over }).map(([SchemaName, Value]) => ({ SchemaName, Value }));

describe('Create by RelatedProspectId: happy path', () => {
  it('posts the docs example and answers {"Status":"Success","Message":{"Id":guid}} (checklist 1)', async () => {
    const r = await s.call('POST', `${PA}/Create`, docBody());
    const body = expectOk(r);
    expect(body.Status).toBe('Success');
    expect(body.Message.Id).toMatch(GUID);
    const acts = await activitiesOf(s, leadId, { Parameter: { ActivityEvent: docType } });
    const posted = acts.ProspectActivities.find((a) => a.Id === body.Message.Id);
    expect(posted).toMatchObject({ EventCode: docType, CreatedOn: '2015-10-11 12:13:44' });
    expect(posted.ActivityFields).toMatchObject({ ActivityEvent_Note: 'Your Activity Note', mx_Custom_1: '123123123', mx_Custom_5: '2016-07-07 10:55:00' });
    // Retrieve lists "non-empty custom field values" (LeadSquared's page): the example's empty mx_Custom_10 is in neither list.
    expect(posted.ActivityFields).not.toHaveProperty('mx_Custom_10');
    expect(posted.Data.map((d: { Key: string }) => d.Key)).not.toContain('mx_Custom_10');
  });

  it('accepts credentials in x-LSQ-AccessKey / x-LSQ-SecretKey headers (checklist 2)', async () => {
    const r = await s.call('POST', `${PA}/Create`, docBody(), { noAuth: true, headers: { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey } });
    expect(expectOk(r).Message.Id).toMatch(GUID);
  });

  it('matches RelatedProspectId in any case (GUIDs)', async () => {
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId.toUpperCase(), ActivityEvent: docType });
    expect(expectOk(r).Message.RelatedId).toBe(leadId);
  });

  it('uses now when ActivityDateTime is absent, and ignores an extra ?leadId= query parameter', async () => {
    const before = Date.now();
    const r = await s.call('POST', `${PA}/Create?leadId=${leadId}`, { RelatedProspectId: leadId, ActivityEvent: docType });
    const id = expectOk(r).Message.Id;
    const posted = (await activitiesOf(s, leadId)).ProspectActivities.find((a) => a.Id === id);
    const at = Date.parse(`${posted.CreatedOn.replace(' ', 'T')}Z`);
    expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it("adds the type's Score to the lead's Score and EngagementScore; IncludeLeadScore returns it", async () => {
    const lead = await createLead(s, { FirstName: 'Scored' });
    const first = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: strict, Fields: strictFields() }));
    expect(first.Message.LeadScore).toBeUndefined();
    const second = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: strict, Fields: strictFields(), IncludeLeadScore: true }));
    expect(second.Message.LeadScore).toBe(14);
    expect(await getLead(s, lead)).toMatchObject({ Score: '14', EngagementScore: '14' });
  });

  it('stores ActivityOwnerEmail and a custom field set keyed SchemaName or Attribute', async () => {
    for (const key of ['SchemaName', 'Attribute']) {
      const cfs = { [key]: 'mx_Custom_6', Value: '', Fields: [{ Attribute: 'Status', Value: 'Pending' }, { Attribute: 'mx_CustomObject_1', Value: 'XYZ12345.png' }] };
      const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: strict, ActivityOwnerEmail: 'owner@example.com', Fields: [...strictFields(), cfs] });
      const id = expectOk(r).Message.Id;
      const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
      expect(details.ActivityOwnerEmail).toBe('owner@example.com');
      const kyc = details.Fields.find((f: any) => f.SchemaName === 'mx_Custom_6');
      expect(JSON.parse(kyc.Value)).toEqual({ Status: 'Pending', mx_CustomObject_1: 'XYZ12345.png' });
    }
  });
});

describe('Create by EmailAddress', () => {
  it('creates the lead from the docs example body, then finds it by email (checklist 9)', async () => {
    const body = { ...docBody(), RelatedProspectId: undefined, EmailAddress: 'john.smith@acmeconsulting.co', FirstName: 'John', LastName: 'Smith', Phone: '+919845098450', ActivityNote: 'Note for the activity' };
    expect(expectOk(await s.call('POST', `${PA}/Create`, body)).Status).toBe('Success');
    const lead = await leadByEmail(s, 'John.Smith@AcmeConsulting.co');
    expect(lead).toMatchObject({ FirstName: 'John', LastName: 'Smith', EmailAddress: 'john.smith@acmeconsulting.co', Phone: '+919845098450' });
    expect((await activitiesOf(s, lead!.ProspectID!)).RecordCount).toBe(1);
  });

  it('posts on the existing lead (email matched case-insensitively) without making a second one', async () => {
    const r = await s.call('POST', `${PA}/Create`, { EmailAddress: 'ADA@example.com', FirstName: 'Other', ActivityEvent: docType });
    expect(expectOk(r).Message.RelatedId).toBe(leadId);
    expect(await getLead(s, leadId)).toMatchObject({ FirstName: 'Ada' });
  });

  it("ignores unknown top-level properties such as the php-library sample's \"Score\": 10", async () => {
    const r = await s.call('POST', `${PA}/Create`, { EmailAddress: 'php@example.com', FirstName: 'Php', ActivityEvent: strict, Fields: strictFields(), Score: 10 });
    expect(await getLead(s, expectOk(r).Message.RelatedId)).toMatchObject({ Score: '7' });
  });

  it('refuses a malformed email without creating anything', async () => {
    await expectNoChange(s, [], async () => {
      expectMx(await s.call('POST', `${PA}/Create`, { EmailAddress: 'not-an-email', ActivityEvent: docType }), 500, 'MXInvalidInputException', /EmailAddress/);
    });
  });

  it('an unknown ActivityEvent with a new email creates no lead', async () => {
    await expectNoChange(s, [], async () => {
      expectMx(await s.call('POST', `${PA}/Create`, { EmailAddress: 'ghost@example.com', FirstName: 'G', ActivityEvent: 99999 }), 500, 'MXInvalidActivityException');
    });
    expect(await leadByEmail(s, 'ghost@example.com')).toBeNull();
  });

  it('a field error with a new email creates no lead', async () => {
    await expectNoChange(s, [], async () => {
      const r = await s.call('POST', `${PA}/Create`, { EmailAddress: 'ghost2@example.com', ActivityEvent: strict, Fields: strictFields({ mx_Custom_1: 'ten' }) });
      expectMx(r, 500, 'MXInvalidInputException', /mx_Custom_1/);
    });
    expect(await leadByEmail(s, 'ghost2@example.com')).toBeNull();
  });
});

describe('Create: application errors are 500 with an MX type, and change nothing', () => {
  const post = (body: Record<string, unknown>) => s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: strict, Fields: strictFields(), ...body });
  const fails = async (body: Record<string, unknown>, type: string, message: RegExp) => {
    await expectNoChange(s, [leadId], async () => {
      expectMx(await post(body), 500, type, message);
    });
  };

  it('unknown RelatedProspectId (checklist 4)', () => fails({ RelatedProspectId: '11111111-2222-3333-4444-555555555555' }, 'MXInvalidEntityException', /Lead does not exist.*11111111/));
  it('ActivityEvent without a type (checklist 5)', () => fails({ ActivityEvent: 4242 }, 'MXInvalidActivityException', /Event Code is invalid or empty/));
  it('missing ActivityEvent (checklist 6)', () => fails({ ActivityEvent: undefined }, 'MXInvalidActivityException', /Event Code is invalid or empty/));
  it('non-numeric ActivityEvent', () => fails({ ActivityEvent: 'abc' }, 'MXInvalidActivityException', /abc/));
  it('missing lead reference', () => fails({ RelatedProspectId: undefined }, 'MXMandatoryAttributeMissingException', /RelatedProspectId/));
  it('ActivityDateTime in the wrong format (checklist 7)', () => fails({ ActivityDateTime: '11-10-2015' }, 'MXInvalidInputException', /ActivityDateTime.*yyyy-MM-dd HH:mm:ss/));
  it('ActivityDateTime that is no real date', () => fails({ ActivityDateTime: '2015-02-30 10:00:00' }, 'MXInvalidInputException', /ActivityDateTime/));
  it('value not a number', () => fails({ Fields: strictFields({ mx_Custom_1: '12abc' }) }, 'MXInvalidInputException', /mx_Custom_1.*not a whole number/));
  it('date field in the wrong format', () => fails({ Fields: strictFields({ mx_Custom_4: '02/01/2024' }) }, 'MXInvalidInputException', /mx_Custom_4/));
  it('dropdown value not among the options (checklist 8, first half)', () => fails({ Fields: strictFields({ mx_Custom_2: 'Bronze' }) }, 'MXInvalidInputException', /mx_Custom_2.*Gold, Silver/));
  it('missing mandatory field', () => fails({ Fields: strictFields().filter((f) => f.SchemaName !== 'mx_Custom_5') }, 'MXMandatoryAttributeMissingException', /mx_Custom_5/));
  it('mandatory field present but empty', () => fails({ Fields: strictFields({ mx_Custom_5: '' }) }, 'MXMandatoryAttributeMissingException', /mx_Custom_5/));
  it('value longer than the max length', () => fails({ Fields: strictFields({ mx_Custom_3: 'abcdef' }) }, 'MXInvalidInputException', /mx_Custom_3.*maximum length is 5/));
  it('unknown schema name', () => fails({ Fields: [...strictFields(), { SchemaName: 'mx_Custom_49', Value: 'x' }] }, 'MXUnknownAttributeException', /mx_Custom_49/));
  it('unknown field inside a custom field set', () =>
    fails({ Fields: [...strictFields(), { SchemaName: 'mx_Custom_6', Value: '', Fields: [{ Attribute: 'mx_CustomObject_9', Value: 'x' }] }] }, 'MXUnknownAttributeException', /mx_Custom_6\.mx_CustomObject_9/));
  it('malformed ActivityOwnerEmail', () => fails({ ActivityOwnerEmail: 'nobody' }, 'MXInvalidInputException', /ActivityOwnerEmail/));

  it('dropdown value not among the options is accepted with ValidateDropDownOptions true (checklist 8)', async () => {
    const r = await post({ Fields: strictFields({ mx_Custom_2: 'Bronze' }), ValidateDropDownOptions: true });
    const id = expectOk(r).Message.Id;
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
    expect(details.Fields.find((f: any) => f.SchemaName === 'mx_Custom_2').Value).toBe('Bronze');
  });

  it('a dropdown value with spaces around it is its option, stored as the option is spelled (found by a fresh-eyes run)', async () => {
    // " silver " had been refused as no option, where " 10 " is taken for a Number.
    const id = expectOk(await post({ Fields: strictFields({ mx_Custom_2: '  silver ' }) })).Message.Id;
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
    expect(details.Fields.find((f: any) => f.SchemaName === 'mx_Custom_2').Value).toBe('Silver');
  });

  it('ValidateDropDownOptions true does not skip the other checks', () => fails({ Fields: strictFields({ mx_Custom_1: 'x' }), ValidateDropDownOptions: true }, 'MXInvalidInputException', /mx_Custom_1/));
});

describe('Create: wrong structure is 400 and changes nothing', () => {
  const bad = async (raw: string, message: RegExp, type = 'MXInvalidInputException') => {
    await expectNoChange(s, [leadId], async () => {
      expectMx(await s.call('POST', `${PA}/Create`, undefined, { raw }), 400, type, message);
    });
  };
  it('body {not json (checklist 10)', () => bad('{not json', /Unexpected character/, 'MXInvalidJsonException'));
  it('body is an array', () => bad(JSON.stringify([{ RelatedProspectId: 'x' }]), /JSON object/));
  it('Fields is an object', () => bad(JSON.stringify({ RelatedProspectId: 'x', ActivityEvent: 201, Fields: { SchemaName: 'mx_Custom_1' } }), /Fields/));
  it('a Fields entry without SchemaName', () => bad(JSON.stringify({ RelatedProspectId: 'x', ActivityEvent: 201, Fields: [{ Value: '1' }] }), /SchemaName/));
  it('ActivityEvent is an object', () => bad(JSON.stringify({ RelatedProspectId: 'x', ActivityEvent: { code: 201 } }), /ActivityEvent/));
  it('IncludeLeadScore is not a boolean', () => bad(JSON.stringify({ RelatedProspectId: 'x', ActivityEvent: 201, IncludeLeadScore: 'maybe' }), /IncludeLeadScore/));

  it('wrong secret is 401 and stores nothing (checklist 3)', async () => {
    await expectNoChange(s, [leadId], async () => {
      const r = await s.call('POST', `${PA}/Create`, docBody(), { keys: { accessKey: KEYS.accessKey, secretKey: 'wrong' } });
      expectMx(r, 401, 'MXUnAuthorizedAccessException');
    });
  });
});
