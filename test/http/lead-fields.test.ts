/**
 * `POST CreateLeadField`: a custom lead field named from its display name, read back by `LeadsMetaData.Get`, usable at once;
 * and the fields an unknown `mx_` attribute creates on first use.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, SYNC_ENDPOINTS, accountIdOf, createLead, defineLeadField, expectKeysRequired, expectMx, expectOk, getLead, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';
import { changeLeadField } from '../../src/domain/leads.js';

let s: TestServer;
const CREATE = `${LM}/CreateLeadField`;
const meta = async (name: string, init?: CallInit) => expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=${name}`, undefined, init));

beforeAll(async () => {
  s = await started();
});

describe('CreateLeadField', () => {
  it("creates the docs' example field as mx_<Display_Name>, answers its schema name, and LeadsMetaData.Get reads it back", async () => {
    const r = expectOk(
      await s.call('POST', CREATE, {
        DisplayName: 'Text Field', DataType: 'Text', IsMandatory: false, RenderTypeTextValue: 'Textbox', ShowInImport: true,
        ShowInMailMerge: true, LockAfterCreate: 0, UseInLeadClone: false, MaxLength: '60', OptionsJson: '',
      }),
    );
    expect(r).toEqual({ Status: 'Success', Message: { Id: 'mx_Text_Field' } });
    expect(await meta('mx_Text_Field')).toEqual([
      expect.objectContaining({ SchemaName: 'mx_Text_Field', DisplayName: 'Text Field', DataType: 'Text', MaxLength: '60', IsCustom: true, IsUnique: false }),
    ]);
    // Usable at once, and its length is enforced.
    const id = await createLead(s, { FirstName: 'F', mx_Text_Field: 'hello' });
    expect((await getLead(s, id))!.mx_Text_Field).toBe('hello');
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: 'G' }, { Attribute: 'mx_Text_Field', Value: 'x'.repeat(61) }]), 500, 'MXInvalidInputException');
  });

  it('a Select field takes its options from OptionsJson (a list, or that list as a JSON string); values outside them are refused', async () => {
    expectOk(await s.call('POST', CREATE, { DisplayName: 'Plan', DataType: 'Select', RenderTypeTextValue: 'Dropdown', OptionsJson: [{ IsDefault: true, Value: 'Gold', Order: 1 }, { Value: 'Silver' }] }));
    expect((await meta('mx_Plan'))[0]).toMatchObject({ DataType: 'Select', RenderTypeTextValue: 'Dropdown', Options: [{ Value: 'Gold' }, { Value: 'Silver' }] });
    expectOk(await s.call('POST', CREATE, { displayname: 'Tier', datatype: 'Select', optionsjson: '[{"Value":"A"},{"Value":"B"}]' }));
    expect((await meta('mx_Tier'))[0].Options).toEqual([{ Value: 'A' }, { Value: 'B' }]);
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: 'H' }, { Attribute: 'mx_Plan', Value: 'Bronze' }]), 500, 'MXInvalidInputException', /mx_Plan/);
  });

  it('DataType Date with RenderTypeTextValue DateTime makes a date-and-time field', async () => {
    expectOk(await s.call('POST', CREATE, { DisplayName: 'Visit At', DataType: 'Date', RenderTypeTextValue: 'DateTime' }));
    expect((await meta('mx_Visit_At'))[0].DataType).toBe('DateTime');
  });

  it("reads one field back as LeadSquared's 'Get a Lead Field's Properties' does: a one-item array, [] for a name not in the account", async () => {
    expectOk(await s.call('POST', CREATE, { DisplayName: 'Contact Mail', DataType: 'Email', MaxLength: 120 }));
    expect(await meta('mx_contact_mail')).toEqual([
      expect.objectContaining({ SchemaName: 'mx_Contact_Mail', Name: 'mx_Contact_Mail', Entity: '1', DisplayName: 'Contact Mail', DataType: 'Email', RenderTypeTextValue: 'Email', MaxLength: '120', IsMandatory: false, IsSearchable: true }),
    ]);
    expect(await meta('mx_No_Such_Field')).toEqual([]);
    // The field is searchable at once through Leads.Get.
    const id = await createLead(s, { FirstName: 'Mail', mx_Contact_Mail: 'Box@Example.com' });
    const found = expectOk(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'mx_Contact_Mail', LookupValue: 'box@example.com' }, Columns: { Include_CSV: 'ProspectID' } }));
    expect(found).toEqual([{ ProspectID: id }]);
  });

  it('errors: a name in use, no DisplayName or DataType, an unknown DataType, a bad MaxLength or name; none creates a field', async () => {
    const count = async () => expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`)).length;
    const before = await count();
    expectMx(await s.call('POST', CREATE, { DisplayName: 'Text Field', DataType: 'Text' }), 500, 'MXDuplicateEntityNameException', /mx_Text_Field/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'text  field', DataType: 'Number' }), 500, 'MXDuplicateEntityNameException');
    expectMx(await s.call('POST', CREATE, { DataType: 'Text' }), 500, 'MXMandatoryAttributeMissingException', /DisplayName/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'No Type' }), 500, 'MXMandatoryAttributeMissingException', /DataType/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'Odd Type', DataType: 'Hologram' }), 500, 'MXInvalidInputException', /Hologram/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'Long', DataType: 'Text', MaxLength: '0' }), 500, 'MXInvalidInputException', /MaxLength/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'Long', DataType: 'Text', MaxLength: 2 ** 31 }), 500, 'MXInvalidInputException', /MaxLength/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'Bad-Name!', DataType: 'Text' }), 500, 'MXInvalidInputException', /DisplayName/);
    expectMx(await s.call('POST', CREATE, { DisplayName: 'Opts', DataType: 'Select', OptionsJson: '{not json' }), 400, 'MXInvalidInputException', /OptionsJson/);
    expectMx(await s.call('POST', CREATE, { DisplayName: ['x'], DataType: 'Text' }), 400, 'MXInvalidInputException');
    expectMx(await s.call('POST', CREATE, [{ DisplayName: 'x', DataType: 'Text' }]), 400, 'MXInvalidInputException');
    expect(await count()).toBe(before);
  });

  it('path and property names in any case', async () => {
    expect(expectOk(await s.call('POST', `${LM.toLowerCase()}/createleadfield`, { DISPLAYNAME: 'Case Field', DATATYPE: 'Number' })).Message.Id).toBe('mx_Case_Field');
    expect((await meta('MX_CASE_FIELD'))[0].DataType).toBe('Number');
  });

  it('accounts are isolated: a field made in one account is not in another, which may make its own of the same name', async () => {
    const b = await secondAccount(s);
    expectOk(await s.call('POST', CREATE, { DisplayName: 'Only Mine', DataType: 'Text' }));
    expect(await meta('mx_Only_Mine', { keys: b.keys })).toEqual([]);
    expect(expectOk(await s.call('POST', CREATE, { DisplayName: 'Only Mine', DataType: 'Number' }, { keys: b.keys })).Message.Id).toBe('mx_Only_Mine');
    expect((await meta('mx_Only_Mine'))[0].DataType).toBe('Text');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('CreateLeadField'))!, KEYS);
  });
});

describe('a custom lead field created on first use', () => {
  it('an unknown mx_ attribute becomes a field without MaxLength: a long value is kept whole, until the operator gives the field a length', async () => {
    const long = 'n'.repeat(5000);
    const id = await createLead(s, { FirstName: 'Long', mx_Free_Text: long });
    expect((await getLead(s, id))!.mx_Free_Text).toBe(long);
    expect((await meta('mx_Free_Text'))[0]).toMatchObject({ SchemaName: 'mx_Free_Text', DataType: 'String', MaxLength: '' });
    // What `leadtrail lead-fields set --name mx_Free_Text --max-length 200` does.
    await defineLeadField(s, await accountIdOf(s), { schemaName: 'mx_Free_Text', maxLength: 200 });
    expect((await meta('mx_Free_Text'))[0].MaxLength).toBe('200');
    expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'mx_Free_Text', Value: 'm'.repeat(201) }]), 500, 'MXInvalidInputException', /maximum length is 200/);
    expect((await getLead(s, id))!.mx_Free_Text).toBe(long);
  });
});

describe('changing the type of a field that leads hold values of (lead-fields set --type)', () => {
  it('refuses a type a stored value does not fit, naming a lead and why, and changes nothing', async () => {
    // Accepted, the change left those leads unsearchable by the field (a search by the old value
    // refused as not a number, a range finding nothing) while reads still showed the value (a
    // fresh-eyes run on 20,000 leads).
    const accountId = await accountIdOf(s);
    await defineLeadField(s, accountId, { schemaName: 'mx_Code' });
    const k7 = await createLead(s, { EmailAddress: 'code-k7@example.com', mx_Code: 'K7' });
    await createLead(s, { EmailAddress: 'code-12@example.com', mx_Code: '12' });
    await createLead(s, { EmailAddress: 'code-none@example.com' });
    const change = (input: Parameters<typeof changeLeadField>[2]) => changeLeadField(s.services.store, accountId, input);
    await expect(change({ schemaName: 'mx_Code', dataType: 'Number' })).rejects.toMatchObject({
      type: 'MXInvalidInputException',
      message: expect.stringMatching(new RegExp(`^'mx_Code' cannot become Number: 1 lead holds a value it would refuse \\(lead ${k7}: Value 'K7' of field 'mx_Code' .*\\)\\. Change or clear it first\\.$`)),
    });
    await expect(change({ schemaName: 'mx_Code', dataType: 'Date' })).rejects.toMatchObject({ message: expect.stringContaining("'mx_Code' cannot become Date: 2 leads hold values it would refuse") });
    expect((await meta('mx_Code'))[0]).toMatchObject({ SchemaName: 'mx_Code', DataType: 'String' });
    const search = async (value: string) => expectOk(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'mx_Code', LookupValue: value, SqlOperator: '=' } }));
    expect((await search('K7')).map((l: { ProspectID: string }) => l.ProspectID)).toEqual([k7]);
    // Once the value fits, the change is made.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${k7}`, [{ Attribute: 'mx_Code', Value: '7' }]));
    await expect(change({ schemaName: 'mx_Code', dataType: 'Number', maxLength: 2 })).resolves.toMatchObject({ dataType: 'Number', maxLength: 2 });
    expect((await search('7')).map((l: { ProspectID: string }) => l.ProspectID)).toEqual([k7]);
  });
});
