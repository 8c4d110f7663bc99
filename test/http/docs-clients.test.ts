/**
 * What an integration written against LeadSquared's own pages meets, found by a fresh-eyes run that
 * pointed such calls at leadtrail unchanged: refusals whose advice can be followed, the pages'
 * example bodies taken, and answers typed as the pages show them (a .NET or Java client that reads
 * `LockAfterCreate` or `TrackLocation` as an int fails on a boolean or a null).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf, createLead, createType, defineLeadField, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;

beforeAll(async () => {
  s = await started();
  const accountId = await accountIdOf(s);
  await defineLeadField(s, accountId, { schemaName: 'mx_Plan', dataType: 'Dropdown', options: ['Gold', 'Silver'] });
  code = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Text' }] });
});

const attrs = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));

describe('a dropdown refusal says what the call can do about it', () => {
  it('a lead route, which takes no ValidateDropDownOptions, does not tell its caller to pass it', async () => {
    const calls: [string, string, unknown][] = [
      ['Lead.Create', `${LM}/Lead.Create`, attrs({ FirstName: 'T', mx_Plan: 'Bronze' })],
      ['Lead.CreateOrUpdate', `${LM}/Lead.CreateOrUpdate`, attrs({ EmailAddress: 'bronze@example.com', mx_Plan: 'Bronze' })],
      ['Lead.Capture', `${LM}/Lead.Capture`, attrs({ EmailAddress: 'bronze2@example.com', mx_Plan: 'Bronze' })],
    ];
    for (const [name, path, body] of calls) {
      const msg = expectMx(await s.call('POST', path, body), 500, 'MXInvalidInputException', /mx_Plan.*not one of its options/);
      expect(msg, name).not.toMatch(/Pass "ValidateDropDownOptions"/);
      expect(msg, name).toMatch(/takes no "ValidateDropDownOptions"; add the value to the field's options/);
    }
    const lead = await createLead(s, { FirstName: 'Upd' });
    const msg = expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, attrs({ mx_Plan: 'Bronze' })), 500, 'MXInvalidInputException', /not one of its options.*takes no/);
    expect(msg).not.toMatch(/Pass "ValidateDropDownOptions"/);
    // A bulk row fails alone, with the same advice.
    const bulk = JSON.stringify(expectOk(await s.call('POST', `${LM}/Lead/Bulk/Create`, [attrs({ FirstName: 'B', mx_Plan: 'Bronze' })])));
    expect(bulk).toMatch(/mx_Plan.*not one of its options.*takes no \\"ValidateDropDownOptions\\"/);
    expect(bulk).not.toMatch(/Pass \\"ValidateDropDownOptions\\"/);
  });

  it('CreateCustom, which takes it, advises it, and following the advice is a 200', async () => {
    const body = (flag?: boolean) => ({
      LeadDetails: attrs({ EmailAddress: 'custom-bronze@example.com', mx_Plan: 'Bronze', SearchBy: 'EmailAddress' }),
      Activity: { ActivityEvent: code },
      ...(flag === undefined ? {} : { ValidateDropDownOptions: flag }),
    });
    expectMx(await s.call('POST', `${PA}/CreateCustom`, body()), 500, 'MXInvalidInputException', /Pass "ValidateDropDownOptions": true to skip this check/);
    const ok = expectOk(await s.call('POST', `${PA}/CreateCustom`, body(true)));
    expect((await getLead(s, ok.Message.RelatedId))!.mx_Plan).toBe('Bronze');
  });
});

describe("the pages' LeadType attribute", () => {
  it("Lead.Create and Lead/Bulk/Create take LeadType OT_0 (the bulk page's rows) and change nothing; another object type is refused by name", async () => {
    const id = expectOk(await s.call('POST', `${LM}/Lead.Create`, [...attrs({ FirstName: 'Typed', EmailAddress: 'ot0@example.com' }), { Attribute: 'LeadType', Value: 'OT_0' }])).Message.Id;
    expect((await getLead(s, id))!.LeadType).toBeNull();
    const rows = [
      [...attrs({ FirstName: 'Row1', EmailAddress: 'ot0-row1@example.com' }), { Attribute: 'LeadType', Value: 'OT_0' }],
      [...attrs({ FirstName: 'Row2', EmailAddress: 'ot0-row2@example.com' }), { Attribute: 'leadtype', Value: 'ot_0' }],
    ];
    const bulk = expectOk(await s.call('POST', `${LM}/Lead/Bulk/Create`, rows));
    expect(JSON.stringify(bulk)).not.toMatch(/Exception/);
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'LeadType', Value: 'OT_0' }, { Attribute: 'LastName', Value: 'Kept' }]));
    expect((await getLead(s, id))!.LastName).toBe('Kept');
    expectMx(
      await s.call('POST', `${LM}/Lead.Create`, [...attrs({ FirstName: 'Other', EmailAddress: 'ot1@example.com' }), { Attribute: 'LeadType', Value: 'OT_1' }]),
      500,
      'MXInvalidInputException',
      /LeadType 'OT_1'.*OT_0/,
    );
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=ot1@example.com`))).toEqual([]);
  });
});

describe('messages that name the real mistake', () => {
  it('a SearchBy naming a field that cannot find a lead says so, also when that field has no value in the body', async () => {
    const body = { LeadDetails: attrs({ EmailAddress: 'searchby-bogus@example.com', SearchBy: 'Bogus' }), Activity: { ActivityEvent: code } };
    expectMx(await s.call('POST', `${PA}/CreateCustom`, body), 500, 'MXInvalidInputException', /SearchBy field 'Bogus' cannot find a lead/);
    const upsert = [...attrs({ EmailAddress: 'searchby-bogus@example.com' }), { Attribute: 'SearchBy', Value: 'FirstName' }];
    expectMx(await s.call('POST', `${LM}/Lead.CreateOrUpdate`, upsert), 500, 'MXInvalidInputException', /SearchBy field 'FirstName' cannot find a lead/);
    // A searchable field without its value is still the missing value.
    const noValue = { LeadDetails: [{ Attribute: 'FirstName', Value: 'X' }, { Attribute: 'SearchBy', Value: 'Phone' }], Activity: { ActivityEvent: code } };
    expectMx(await s.call('POST', `${PA}/CreateCustom`, noValue), 500, 'MXMandatoryAttributeMissingException', /no value for 'Phone'/);
  });

  it("an attribute-list body that is an object without LeadDetails names both forms it takes", async () => {
    const lead = await createLead(s, { FirstName: 'Obj' });
    for (const body of [{}, { Leaddetail: [] }]) {
      expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, body), 400, 'MXInvalidInputException', /JSON array of \{"Attribute","Value"\} entries, or an object with that array as 'LeadDetails'/);
    }
    // The wrapped form is taken.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, { LeadDetails: attrs({ LastName: 'Wrapped' }) }));
    expect((await getLead(s, lead))!.LastName).toBe('Wrapped');
  });

  it('a method not allowed on a GET route names HEAD beside GET, as the route answers both', async () => {
    const r = await s.call('POST', `${LM}/LeadsMetaData.Get`, {});
    expectMx(r, 405, 'MXMethodNotAllowedException', /use GET, HEAD/);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('answers typed as the pages show them', () => {
  it("LeadsMetaData.Get: LockAfterCreate is a number, RenderType LeadSquared's for Phone (6) and Dropdown (13)", async () => {
    const fields = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`)) as Record<string, unknown>[];
    const by = (n: string) => fields.find((f) => f.SchemaName === n)!;
    for (const f of fields) expect(typeof f.LockAfterCreate, String(f.SchemaName)).toBe('number');
    expect(by('Phone')).toMatchObject({ RenderType: 6, RenderTypeTextValue: 'Phone' });
    expect(by('mx_Plan')).toMatchObject({ RenderType: 13, RenderTypeTextValue: 'Dropdown' });
    expect(by('FirstName')).toMatchObject({ RenderType: 0, RenderTypeTextValue: 'Textbox' });
  });

  it('Retrieve: TrackLocation is 0; GetActivitySetting: ParentField and an option-less OptionSet are ""', async () => {
    const lead = await createLead(s, { FirstName: 'Track' });
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: 'x' }] }));
    const page = expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, {}));
    expect(page.ProspectActivities[0]).toMatchObject({ TrackLocation: 0 });
    const setting = expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${code}`));
    expect(setting.Fields[0]).toMatchObject({ SchemaName: 'mx_Custom_1', ParentField: '', OptionSet: '' });
  });
});
