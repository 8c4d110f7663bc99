/** `/v2/LeadManagement.svc/…`: lead reads, metadata, Lead.Create, Lead.Update and Lead.Capture. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, createLead, createType, expectMx, expectNoChange, expectOk, getLead, leadByEmail } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let ada: string;

const list = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));

beforeAll(async () => {
  s = await started();
  ada = await createLead(s, { FirstName: 'Ada', LastName: 'Lovelace', EmailAddress: 'ada@example.com', Phone: '+91-9988776655', Mobile: '9123400000', Company: 'Engines' });
});

describe('lead reads', () => {
  it('Leads.GetById answers one lead with every value a string or null', async () => {
    const r = expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${ada}`));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ ProspectID: ada, FirstName: 'Ada', EmailAddress: 'ada@example.com', Phone: '+91-9988776655', Score: '0', EngagementScore: '0', DoNotEmail: '0' });
    expect(r[0].ProspectAutoId).toMatch(/^\d+$/);
    expect(r[0].CreatedOn).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    for (const v of Object.values(r[0])) expect(v === null || typeof v === 'string').toBe(true);
  });

  it('Leads.GetById of an unknown id is 200 [] (checklist 24); no id is MXMandatoryAttributeMissingException', async () => {
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=00000000-0000-0000-0000-000000000000`))).toEqual([]);
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${ada.toUpperCase()}`))[0].ProspectID).toBe(ada);
    expectMx(await s.call('GET', `${LM}/Leads.GetById`), 500, 'MXMandatoryAttributeMissingException', /id/);
  });

  it('Leads.GetByEmailaddress matches case-insensitively, under either spelling of the path', async () => {
    for (const path of ['Leads.GetByEmailaddress', 'Leads.GetByEmailAddress']) {
      const r = expectOk(await s.call('GET', `${LM}/${path}?emailaddress=ADA%40Example.com`));
      expect(r.map((l: any) => l.ProspectID)).toEqual([ada]);
    }
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=nobody@example.com`))).toEqual([]);
    expectMx(await s.call('GET', `${LM}/Leads.GetByEmailaddress`), 500, 'MXMandatoryAttributeMissingException', /emailaddress/);
  });

  it('RetrieveLeadByPhoneNumber matches Phone or Mobile, with or without the country code', async () => {
    for (const phone of ['9988776655', '919988776655', '%2B91-9988776655', '9123400000']) {
      const r = expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=${phone}`));
      expect(r.map((l: any) => l.ProspectID), phone).toEqual([ada]);
    }
    expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=1112223334`))).toEqual([]);
    expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=abc`))).toEqual([]);
    expectMx(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber`), 500, 'MXMandatoryAttributeMissingException', /phone/);
  });

  it('a separated country code is ignored for short national numbers too (+65-91234567 = 91234567)', async () => {
    const sg = await createLead(s, { FirstName: 'Sg', Phone: '+65-91234567' });
    for (const phone of ['91234567', '%2B65%209123%204567']) {
      expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=${phone}`)).map((l: any) => l.ProspectID), phone).toEqual([sg]);
    }
    expectMx(await s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'SgCopy', Phone: '9123 4567' })), 500, 'MXDuplicateEntryException', /Phone/);
  });

  it('RetrieveLeadByPhoneNumber with several matches answers the lead with the most recent activity', async () => {
    const older = await createLead(s, { FirstName: 'Older', Phone: '9700000001' });
    const newer = await createLead(s, { FirstName: 'Newer', Mobile: '9700000001' });
    const code = await createType(s);
    const post = (id: string, at: string) => s.call('POST', `${PA}/Create`, { RelatedProspectId: id, ActivityEvent: code, ActivityDateTime: at });
    expectOk(await post(older, '2024-02-02 00:00:00'));
    expectOk(await post(newer, '2024-01-01 00:00:00'));
    expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=9700000001`))[0].ProspectID).toBe(older);
    // A back-dated post is not the lead's latest activity; it changed the lead, though, so ModifiedOn
    // is the time of the post (never earlier than before, never the activity's 2020 date).
    const modified = (await getLead(s, older))!.ModifiedOn!;
    expectOk(await post(older, '2020-01-01 00:00:00'));
    expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=9700000001`))[0].ProspectID).toBe(older);
    const after = (await getLead(s, older))!;
    expect(after.ProspectActivityDate_Max).toBe('2024-02-02 00:00:00.000');
    expect(after.ModifiedOn! >= modified).toBe(true);
  });

  it('LeadsMetaData.Get lists the lead fields (checklist 27), filtered by schemaName, with options unless excluded', async () => {
    const all = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`));
    const names = all.map((f: any) => f.SchemaName);
    expect(names).toEqual(expect.arrayContaining(['EmailAddress', 'Phone', 'FirstName', 'Mobile']));
    expect(all.find((f: any) => f.SchemaName === 'EmailAddress')).toMatchObject({ DisplayName: expect.any(String), DataType: expect.any(String), IsMandatory: false, IsUnique: true });
    expect(all.find((f: any) => f.SchemaName === 'FirstName').MaxLength).toBe('200');
    const one = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=phone`));
    expect(one.map((f: any) => f.SchemaName)).toEqual(['Phone']);
    await createLead(s, { FirstName: 'Meta', mx_Shoe_Size: '44' });
    expect(expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=mx_Shoe_Size`))).toMatchObject([{ SchemaName: 'mx_Shoe_Size', IsCustom: true }]);
  });
});

describe('Lead.Create', () => {
  it('creates from an attribute list (or one wrapped in LeadDetails) and answers Message.Id', async () => {
    const r = expectOk(await s.call('POST', `${LM}/Lead.Create`, list({ EmailAddress: 'new@example.com', FirstName: 'New', LastName: 'Lead', Phone: '8000000001', mx_City: 'Pune' })));
    expect(r).toMatchObject({ Status: 'Success', Message: { Id: expect.any(String) } });
    expect(await getLead(s, r.Message.Id)).toMatchObject({ EmailAddress: 'new@example.com', mx_City: 'Pune' });
    const wrapped = expectOk(await s.call('POST', `${LM}/Lead.Create`, { LeadDetails: list({ FirstName: 'Wrapped' }) }));
    expect(await getLead(s, wrapped.Message.Id)).toMatchObject({ FirstName: 'Wrapped' });
  });

  it('unknown mx_ attributes are added as fields, two in one call; writes side by side see every field added', async () => {
    const two = expectOk(await s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'Two', mx_Hat_Size: '7', mx_Glove_Size: 'M' })));
    // Sent together, these may share a write batch: each sees the fields of the ones before it.
    const [a, b, c] = await Promise.all([
      s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'A', mx_Hat_Size: '8', mx_Belt_Size: '32' })),
      s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'B', mx_Glove_Size: 'L', mx_Belt_Size: '34' })),
      s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'C', mx_Belt_Size: '36', mx_Sock_Size: '9' })),
    ].map(async (p) => expectOk(await p)));
    expect(await getLead(s, two.Message.Id)).toMatchObject({ mx_Hat_Size: '7', mx_Glove_Size: 'M' });
    expect(await getLead(s, a.Message.Id)).toMatchObject({ mx_Hat_Size: '8', mx_Belt_Size: '32' });
    expect(await getLead(s, b.Message.Id)).toMatchObject({ mx_Glove_Size: 'L', mx_Belt_Size: '34' });
    expect(await getLead(s, c.Message.Id)).toMatchObject({ mx_Belt_Size: '36', mx_Sock_Size: '9' });
    const names = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`)).map((f: any) => f.SchemaName);
    expect(names).toEqual(expect.arrayContaining(['mx_Hat_Size', 'mx_Glove_Size', 'mx_Belt_Size', 'mx_Sock_Size']));
    // A field is added once, however many calls named it.
    expect(names.filter((n: string) => n === 'mx_Belt_Size')).toHaveLength(1);
  });

  it('stores boolean fields as LeadSquared reads them back: "1" or "0", whatever spelling was sent', async () => {
    const id = await createLead(s, { FirstName: 'Bits', DoNotEmail: 'true', DoNotCall: 'False' });
    expect(await getLead(s, id)).toMatchObject({ DoNotEmail: '1', DoNotCall: '0' });
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ DoNotEmail: 'no', DoNotCall: 'yes' })));
    expect(await getLead(s, id)).toMatchObject({ DoNotEmail: '0', DoNotCall: '1' });
    expectMx(await s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'Bad', DoNotEmail: 'maybe' })), 500, 'MXInvalidInputException', 'DoNotEmail');
  });

  it('twice with the same EmailAddress: the second is MXDuplicateEntryException (checklist 26)', async () => {
    await expectNoChange(s, [ada], async () => {
      expectMx(await s.call('POST', `${LM}/Lead.Create`, list({ EmailAddress: 'Ada@Example.com' })), 500, 'MXDuplicateEntryException', 'A Lead with same Email already exists.');
      expectMx(await s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'X', Phone: '9988776655' })), 500, 'MXDuplicateEntryException', 'A Lead with same Phone Number already exists.');
    });
  });

  it('every property a read returns can be sent back in an update, or is refused as read-only, never as unknown', async () => {
    // StatusCode, IsLead and the last activity's properties had been "unknown attribute … does not
    // start with mx_" although every read lists them (a fresh-eyes run).
    const id = await createLead(s, { FirstName: 'Round', LastName: 'Trip', EmailAddress: 'round.trip@example.com' });
    const lead = (await getLead(s, id))!;
    const readOnly: string[] = [];
    for (const [name, value] of Object.entries(lead)) {
      const r = await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: name, Value: value }]);
      if (r.status === 200) continue;
      expectMx(r, 500, 'MXInvalidInputException', `Lead attribute '${name}' is read-only.`);
      readOnly.push(name);
    }
    expect(readOnly.sort()).toEqual(
      ['CreatedBy', 'CreatedOn', 'EngagementScore', 'IsLead', 'LeadLastModifiedOn', 'ModifiedBy', 'ModifiedOn', 'ProspectActivityDate_Max', 'ProspectActivityId_Max', 'ProspectActivityName_Max', 'ProspectAutoId', 'Score', 'StatusCode'].sort(),
    );
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Round', LastName: 'Trip', EmailAddress: 'round.trip@example.com' });
  });

  it('an update whose body names another lead by ProspectID is refused and changes neither', async () => {
    // It had answered 200 and updated the lead of the query's id (a fresh-eyes run).
    const a = await createLead(s, { FirstName: 'PidA', EmailAddress: 'pid.a@example.com' });
    const b = await createLead(s, { FirstName: 'PidB', EmailAddress: 'pid.b@example.com' });
    await expectNoChange(s, [a, b], async () => {
      expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${a}`, [{ Attribute: 'ProspectID', Value: b }, { Attribute: 'LastName', Value: 'x' }]), 500, 'MXInvalidInputException', /ProspectID .* is another lead/);
      const bulk = expectOk(await s.call('POST', `${LM}/Lead/Bulk/Update`, { LeadIds: [a], LeadFields: [{ Attribute: 'ProspectID', Value: b }, { Attribute: 'LastName', Value: 'x' }] }));
      expect(JSON.stringify(bulk)).toMatch(/is another lead/);
    });
    await expectNoChange(s, [a, b], async () => {
      expectMx(await s.call('POST', `${LM}/Lead.Convert?leadId=${a}`, [{ Attribute: 'ProspectID', Value: b }, { Attribute: 'LastName', Value: 'x' }]), 500, 'MXInvalidInputException', /ProspectID .* is another lead/);
    });
    // Its own id (any case), as a read sends it back, is taken.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${a}`, [{ Attribute: 'ProspectID', Value: ` ${a.toUpperCase()} ` }, { Attribute: 'LastName', Value: 'Own' }]));
    expect(await getLead(s, a)).toMatchObject({ LastName: 'Own' });
  });

  const refused: [string, Record<string, string>, number, string, RegExp][] = [
    ['no name, email or phone', { Company: 'Nameless' }, 500, 'MXMandatoryAttributeMissingException', /FirstName/],
    ['an unknown attribute', { FirstName: 'X', Shoesize: '1' }, 500, 'MXUnknownAttributeException', /Shoesize/],
    ['a read-only attribute', { FirstName: 'X', ProspectAutoId: '5' }, 500, 'MXInvalidInputException', /ProspectAutoId/],
    ['a value too long', { FirstName: 'x'.repeat(201) }, 500, 'MXInvalidInputException', /FirstName.*200/],
    ['an email that is not one', { EmailAddress: 'nope' }, 500, 'MXInvalidInputException', /EmailAddress/],
    ['a number field with text', { FirstName: 'X', Revenue: 'lots' }, 500, 'MXInvalidInputException', /Revenue/],
    ['a phone without digits', { FirstName: 'X', Phone: '---' }, 500, 'MXInvalidInputException', /Phone/],
  ];
  for (const [what, attrs, status, type, message] of refused) {
    it(`refuses ${what} and creates nothing`, async () => {
      await expectNoChange(s, [], async () => {
        expectMx(await s.call('POST', `${LM}/Lead.Create`, list(attrs)), status, type, message);
      });
    });
  }

  it('wrong structure is 400', async () => {
    await expectNoChange(s, [], async () => {
      expectMx(await s.call('POST', `${LM}/Lead.Create`, { EmailAddress: 'x@example.com' }), 400, 'MXInvalidInputException');
      expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: ['a'] }]), 400, 'MXInvalidInputException', /Value/);
      expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Value: 'a' }]), 400, 'MXInvalidInputException', /Attribute/);
    });
  });
});

describe('Lead.Update', () => {
  it('updates the lead and answers AffectedRows 1', async () => {
    const id = await createLead(s, { FirstName: 'Up', EmailAddress: 'up@example.com' });
    const r = expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ LastName: 'Dated', mx_City: 'Delhi' })));
    expect(r).toEqual({ Status: 'Success', Message: { AffectedRows: 1 } });
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Up', LastName: 'Dated', mx_City: 'Delhi' });
  });

  it("without leadId is MXMandatoryAttributeMissingException \"'leadId' is mandatory for updating lead\"", async () => {
    expectMx(await s.call('POST', `${LM}/Lead.Update`, list({ FirstName: 'X' })), 500, 'MXMandatoryAttributeMissingException', "'leadId' is mandatory for updating lead");
  });

  it('an unknown lead is MXInvalidEntityException', async () => {
    expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=00000000-0000-0000-0000-0000000000ff`, list({ FirstName: 'X' })), 500, 'MXInvalidEntityException', /Lead does not exist/);
  });

  it('a duplicate or invalid value changes nothing', async () => {
    const id = await createLead(s, { FirstName: 'Keep', EmailAddress: 'keep-up@example.com' });
    await expectNoChange(s, [id, ada], async () => {
      expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ FirstName: 'Changed', EmailAddress: 'ada@example.com' })), 500, 'MXDuplicateEntryException', /Email/);
      expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ FirstName: 'Changed', Revenue: 'x' })), 500, 'MXInvalidInputException', /Revenue/);
      expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, { FirstName: 'Changed' }), 400, 'MXInvalidInputException');
    });
  });

  it('an empty value clears the field: it reads back null (it used to read "")', async () => {
    const id = await createLead(s, { FirstName: 'Clear', LastName: 'Me', EmailAddress: 'clear-me@example.com', Company: 'Acme' });
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ LastName: '', Company: '   ' })));
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'FirstName', Value: null }]));
    expect(await getLead(s, id)).toMatchObject({ FirstName: null, LastName: null, Company: null, EmailAddress: 'clear-me@example.com' });
  });

  it('an update that would leave the lead with no name or contact is refused and changes nothing', async () => {
    const id = await createLead(s, { FirstName: 'Only', EmailAddress: 'only-contact@example.com' });
    await expectNoChange(s, [id], async () => {
      expectMx(
        await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ FirstName: '', EmailAddress: '' })),
        500,
        'MXMandatoryAttributeMissingException',
        'A lead needs at least one of FirstName, LastName, EmailAddress, Phone or Mobile.',
      );
    });
    // Clearing one while another stays is fine.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, list({ FirstName: '' })));
    expect(await getLead(s, id)).toMatchObject({ FirstName: null, EmailAddress: 'only-contact@example.com' });
  });
});

describe('Lead.Capture', () => {
  const capture = (attrs: Record<string, string>, query = '') => s.call('POST', `${LM}/Lead.Capture${query}`, list(attrs));

  it('creates a lead when nothing matches, then updates it by email, phone or ProspectID', async () => {
    const made = expectOk(await capture({ EmailAddress: 'cap@example.com', FirstName: 'Cap', Phone: '8100000001' }));
    expect(made.Message).toMatchObject({ Id: expect.any(String), IsCreated: true });
    const id = made.Message.Id;
    expect(expectOk(await capture({ EmailAddress: 'CAP@example.com', LastName: 'ByEmail' })).Message).toMatchObject({ Id: id, IsCreated: false });
    expect(expectOk(await capture({ Phone: '+91 8100000001', Company: 'ByPhone' })).Message.Id).toBe(id);
    expect(expectOk(await capture({ ProspectID: id.toUpperCase(), JobTitle: 'ById' })).Message.Id).toBe(id);
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Cap', LastName: 'ByEmail', Company: 'ByPhone', JobTitle: 'ById' });
  });

  it('takes the attribute list wrapped in LeadDetails too, as Lead.Create does', async () => {
    const made = expectOk(await s.call('POST', `${LM}/Lead.Capture`, { LeadDetails: list({ EmailAddress: 'wrapped-cap@example.com', FirstName: 'Wrap' }) }));
    expect(made.Message).toMatchObject({ IsCreated: true });
    expect(await getLead(s, made.Message.Id)).toMatchObject({ EmailAddress: 'wrapped-cap@example.com', FirstName: 'Wrap' });
  });

  it('parallel captures of one new lead all succeed and make one lead', async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => capture({ EmailAddress: 'cap-race@example.com', FirstName: `R${i}` })));
    for (const r of rs) expect(r.status, r.text).toBe(200);
    expect(rs.filter((r) => r.body.Message.IsCreated)).toHaveLength(1);
    expect(new Set(rs.map((r) => r.body.Message.Id)).size).toBe(1);
  });

  it('a ProspectID whose lead has another email captures a new lead', async () => {
    const r = expectOk(await capture({ ProspectID: ada, EmailAddress: 'someone-else@example.com' }));
    expect(r.Message.IsCreated).toBe(true);
    expect(r.Message.Id).not.toBe(ada);
  });

  it('SearchBy picks the lookup field', async () => {
    const id = await createLead(s, { FirstName: 'Mob', Mobile: '9555500000' });
    expect(expectOk(await capture({ Mobile: '9555500000', LastName: 'Found', SearchBy: 'Mobile' })).Message.Id).toBe(id);
  });

  it('SearchBy is ignored when ProspectID, EmailAddress and Phone are all passed', async () => {
    const l1 = await createLead(s, { FirstName: 'L1', EmailAddress: 'l1@example.com', Phone: '8400000001' });
    await createLead(s, { FirstName: 'L2', Mobile: '8400000002' });
    const r = expectOk(await capture({ ProspectID: l1, EmailAddress: 'l1@example.com', Phone: '8400000001', Mobile: '8400000002', SearchBy: 'Mobile' }));
    expect(r.Message.Id).toBe(l1);
  });

  it('LeadUpdateBehavior: DoNotUpdate, UpdateOnlyEmptyFields, DoNotUpdateUniqueFields (lowercase query names as in the docs)', async () => {
    const id = await createLead(s, { FirstName: 'Beh', EmailAddress: 'beh@example.com', Phone: '8200000001' });
    expectOk(await capture({ EmailAddress: 'beh@example.com', FirstName: 'No' }, '?leadupdatebehavior=DoNotUpdate'));
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Beh' });
    expectOk(await capture({ EmailAddress: 'beh@example.com', FirstName: 'No', LastName: 'Filled' }, '?LeadUpdateBehavior=updateonlyemptyfields'));
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Beh', LastName: 'Filled' });
    expectOk(await capture({ EmailAddress: 'beh@example.com', Phone: '8200000002', FirstName: 'Yes' }, '?LeadUpdateBehavior=DoNotUpdateUniqueFields'));
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Yes', Phone: '8200000001' });
  });

  it("a lead captured again keeps its Source; one without a Source takes the capture's", async () => {
    // "Re-capturing the same details doesn't update Lead Source" (fact sheet §6): first-touch
    // attribution had been overwritten at every capture (a fresh-eyes run).
    const first = expectOk(await capture({ EmailAddress: 'src@example.com', FirstName: 'Src', Source: 'Web' })).Message.Id;
    expectOk(await capture({ EmailAddress: 'SRC@example.com', LastName: 'Two', Source: 'Other' }));
    expectOk(await s.call('POST', `${LM}/Lead.Capture`, [{ Attribute: 'emailaddress', Value: 'src@example.com' }, { Attribute: 'source', Value: 'Third' }]));
    expect(await getLead(s, first)).toMatchObject({ Source: 'Web', LastName: 'Two' });
    const bare = await createLead(s, { FirstName: 'NoSource', EmailAddress: 'nosrc@example.com' });
    expectOk(await capture({ EmailAddress: 'nosrc@example.com', Source: 'Referral' }));
    expect(await getLead(s, bare)).toMatchObject({ Source: 'Referral' });
    // Lead.Update is not a capture: it changes the source as asked.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${first}`, [{ Attribute: 'Source', Value: 'Changed' }]));
    expect(await getLead(s, first)).toMatchObject({ Source: 'Changed' });
  });

  it('an unknown LeadUpdateBehavior, a bad value or a duplicate changes nothing', async () => {
    const other = await createLead(s, { FirstName: 'Other', Phone: '8300000001' });
    await expectNoChange(s, [ada, other], async () => {
      expectMx(await capture({ EmailAddress: 'ada@example.com', FirstName: 'X' }, '?LeadUpdateBehavior=Sometimes'), 500, 'MXInvalidInputException', /LeadUpdateBehavior/);
      expectMx(await capture({ EmailAddress: 'ada@example.com', FirstName: 'x'.repeat(300) }), 500, 'MXInvalidInputException', /FirstName/);
      // Matched by email, then the new Phone belongs to another lead.
      expectMx(await capture({ EmailAddress: 'ada@example.com', Phone: '8300000001' }), 500, 'MXDuplicateEntryException', /Phone/);
      expectMx(await capture({ EmailAddress: 'fresh@example.com', FirstName: 'F', Revenue: 'lots' }), 500, 'MXInvalidInputException', /Revenue/);
      expectMx(await s.call('POST', `${LM}/Lead.Capture`, { EmailAddress: 'x@example.com' }), 400, 'MXInvalidInputException');
    });
    expect(await leadByEmail(s, 'fresh@example.com')).toBeNull();
  });
});
