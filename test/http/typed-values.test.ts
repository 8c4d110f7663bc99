/**
 * Typed field values are stored in one form, however they were written (found by a fresh-eyes run):
 * a DateTime written `2025-01-02T03:00` had been stored as typed, so `Leads.Get` compared it as text
 * (`> 04:00` found it, `= 03:00:00` did not) and sorted it after later times. Now lead and activity
 * DateTime, Time and Number values are stored as `yyyy-MM-dd HH:mm:ss`, `HH:mm:ss` and plain digits,
 * dropdown values as their option is spelled, and lookups on such fields take any accepted spelling
 * and refuse a value that is not one. A mandatory field given only spaces is not filled.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf, createLead, createType, defineLeadField, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;

beforeAll(async () => {
  s = await started();
  const accountId = await accountIdOf(s);
  await defineLeadField(s, accountId, { schemaName: 'mx_Joined', dataType: 'DateTime' });
  await defineLeadField(s, accountId, { schemaName: 'mx_Slot', dataType: 'Time' });
  await defineLeadField(s, accountId, { schemaName: 'mx_Seats', dataType: 'Number' });
  await defineLeadField(s, accountId, { schemaName: 'mx_Level', dataType: 'Dropdown', options: ['Gold', 'Silver'] });
});

const search = async (body: unknown) => expectOk(await s.call('POST', `${LM}/Leads.Get`, body)) as Record<string, string>[];
const names = (rows: Record<string, string>[]) => rows.map((r) => r.FirstName);

describe('lead fields: one stored form per typed value', () => {
  const written = { A: '2025-01-02T03:00:00', B: '2025-01-02 05:00:00', C: '2025-01-02 03:00', D: '2025-01-02T03:04:05.678' };

  beforeAll(async () => {
    for (const [name, joined] of Object.entries(written)) await createLead(s, { FirstName: name, LastName: 'Typed', mx_Joined: joined });
  });

  it('reads DateTime values back as yyyy-MM-dd HH:mm:ss (with milliseconds when given)', async () => {
    const rows = await search({ Parameter: { LookupName: 'LastName', LookupValue: 'Typed' }, Columns: { Include_CSV: 'FirstName,mx_Joined' }, Sorting: { ColumnName: 'FirstName', Direction: '0' } });
    expect(rows.map((r) => [r.FirstName, r.mx_Joined])).toEqual([
      ['A', '2025-01-02 03:00:00'],
      ['B', '2025-01-02 05:00:00'],
      ['C', '2025-01-02 03:00:00'],
      ['D', '2025-01-02 03:04:05.678'],
    ]);
  });

  it('compares and sorts DateTime values as times, whatever spelling the lookup uses', async () => {
    const q = (op: string, v: string) => search({ Parameter: { LookupName: 'mx_Joined', LookupValue: v, SqlOperator: op }, Columns: { Include_CSV: 'FirstName' }, Sorting: { ColumnName: 'FirstName', Direction: '0' } });
    expect(names(await q('>', '2025-01-02 04:00:00'))).toEqual(['B']);
    expect(names(await q('<', '2025-01-02T04:00'))).toEqual(['A', 'C', 'D']);
    expect(names(await q('=', '2025-01-02T03:00'))).toEqual(['A', 'C']);
    expect(names(await q('IN', '2025-01-02 05:00, 2025-01-02T03:00:00'))).toEqual(['A', 'B', 'C']);
    const sorted = await search({ Parameter: { LookupName: 'LastName', LookupValue: 'Typed' }, Columns: { Include_CSV: 'FirstName' }, Sorting: { ColumnName: 'mx_Joined', Direction: '0' } });
    expect(names(sorted).slice(-2)).toEqual(['D', 'B']);
  });

  it('refuses a lookup value that is not of the field type, as for CreatedOn', async () => {
    for (const [field, value] of [
      ['mx_Joined', 'garbage'],
      ['mx_Joined', '2025-02-30 10:00'],
      ['mx_Slot', '25:00'],
    ]) {
      expectMx(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: field, LookupValue: value, SqlOperator: '=' } }), 500, 'MXInvalidInputException', new RegExp(field));
    }
    // LIKE still takes any text.
    expect(await search({ Parameter: { LookupName: 'mx_Joined', LookupValue: '2025-01-02 05%', SqlOperator: 'LIKE' }, Columns: { Include_CSV: 'FirstName' } })).toEqual([{ FirstName: 'B' }]);
  });

  it('stores Time as HH:mm:ss, Number as plain digits, a dropdown value as its option is spelled', async () => {
    const id = await createLead(s, { FirstName: 'Forms', mx_Slot: '09:30', mx_Seats: ' 042 ', mx_Level: 'gold' });
    expect(await getLead(s, id)).toMatchObject({ mx_Slot: '09:30:00', mx_Seats: '42', mx_Level: 'Gold' });
    expect(names(await search({ Parameter: { LookupName: 'mx_Slot', LookupValue: '09:30:00' }, Columns: { Include_CSV: 'FirstName' } }))).toEqual(['Forms']);
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'mx_Level', Value: 'SILVER' }]));
    expect((await getLead(s, id))!.mx_Level).toBe('Silver');
  });
});

describe('activity fields: one stored form per typed value', () => {
  let code: number;
  let lead: string;

  beforeAll(async () => {
    code = await createType(s, {
      ActivityEventName: 'Typed Visit',
      Fields: [
        { SchemaName: 'mx_Custom_1', DisplayName: 'When', DataType: 'DateTime' },
        { SchemaName: 'mx_Custom_2', DisplayName: 'Plan', DataType: 'Dropdown', OptionSet: ['Gold', 'Silver'] },
        { SchemaName: 'mx_Custom_3', DisplayName: 'Count', DataType: 'Number' },
        { SchemaName: 'mx_Custom_4', DisplayName: 'Ref', DataType: 'String', IsMandatory: true, MaxLength: 4 },
      ],
    });
    lead = await createLead(s, { FirstName: 'Visitor', LastName: 'Typed activity' });
  });

  const post = (fields: { SchemaName: string; Value: string }[], extra: Record<string, unknown> = {}) =>
    s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'n', Fields: fields, ...extra });

  it('reads DateTime, Number and dropdown values back in their stored form', async () => {
    const id = expectOk(
      await post([
        { SchemaName: 'mx_Custom_1', Value: '2025-02-28T10:11' },
        { SchemaName: 'mx_Custom_2', Value: 'silver' },
        { SchemaName: 'mx_Custom_3', Value: '007' },
        { SchemaName: 'mx_Custom_4', Value: 'R1' },
      ]),
    ).Message.Id as string;
    const got = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
    const fields = Object.fromEntries((got.Fields as { SchemaName: string; Value: string }[]).map((f) => [f.SchemaName, f.Value]));
    expect(fields).toMatchObject({ mx_Custom_1: '2025-02-28 10:11:00', mx_Custom_2: 'Silver', mx_Custom_3: '7', mx_Custom_4: 'R1' });
  });

  it('with ValidateDropDownOptions true a dropdown value is stored as sent (it is not checked against the options)', async () => {
    const id = expectOk(await post([{ SchemaName: 'mx_Custom_2', Value: 'bronze' }, { SchemaName: 'mx_Custom_4', Value: 'R2' }], { ValidateDropDownOptions: true })).Message.Id as string;
    const got = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
    expect((got.Fields as { SchemaName: string; Value: string }[]).find((f) => f.SchemaName === 'mx_Custom_2')?.Value).toBe('bronze');
  });

  it('a mandatory field given only spaces is missing, as one given null is', async () => {
    expectMx(await post([{ SchemaName: 'mx_Custom_4', Value: '   ' }]), 500, 'MXMandatoryAttributeMissingException', /mx_Custom_4/);
  });

  it('counts a length in UTF-16 units, and says so: three emoji are six', async () => {
    expectMx(await post([{ SchemaName: 'mx_Custom_4', Value: '😀😀😀' }]), 500, 'MXInvalidInputException', /is 6 characters long \(UTF-16 units: an emoji counts as two\); its maximum length is 4/);
    expectOk(await post([{ SchemaName: 'mx_Custom_4', Value: '😀😀' }]));
  });
});

describe('email, phone and web addresses: surrounding spaces are not part of them', () => {
  it('a lead written " a@b.example " is stored, found and deduplicated as "a@b.example"', async () => {
    const created = expectOk(await s.call('POST', `${LM}/Lead.Create`, [
      { Attribute: 'EmailAddress', Value: '  Spaced@Typed.example ' },
      { Attribute: 'Phone', Value: ' 9876543210 ' },
      { Attribute: 'Website', Value: ' typed.example ' },
    ]));
    const id = created.Message.Id as string;
    const lead = (await getLead(s, id))!;
    expect([lead.EmailAddress, lead.Phone, lead.Website]).toEqual(['Spaced@Typed.example', '9876543210', 'typed.example']);
    const found = expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=spaced@typed.example`)) as { ProspectID: string }[];
    expect(found.map((l) => l.ProspectID)).toEqual([id]);
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'spaced@typed.example' }]), 500, 'MXDuplicateEntryException');
    // Create by EmailAddress with spaces posts on that lead, and keeps the owner's address trimmed.
    const code = await createType(s);
    const posted = expectOk(await s.call('POST', `${PA}/Create`, { EmailAddress: ' spaced@typed.example  ', ActivityEvent: code, ActivityOwnerEmail: ' owner@typed.example ' }));
    expect(posted.Message.RelatedId).toBe(id);
    const acts = expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${id}`, { Parameter: { ActivityEvent: code } }));
    expect(acts.ProspectActivities.map((a: { ActivityOwnerEmail: string }) => a.ActivityOwnerEmail)).toEqual(['owner@typed.example']);
  });

  it('spaces inside an address are still refused', async () => {
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'a b@typed.example' }]), 500, 'MXInvalidInputException', /not an email address/);
    expectMx(await s.call('POST', `${PA}/Create`, { EmailAddress: 'a b@typed.example', ActivityEvent: await createType(s) }), 500, 'MXInvalidInputException', /not a valid email address/);
  });
});
