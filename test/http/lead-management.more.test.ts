/** `Lead.CreateOrUpdate` and `Leads.GetByQuickSearch`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, SYNC_ENDPOINTS, createLead, expectKeysRequired, expectMx, expectNoChange, expectOk, getLead, leadByEmail, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;
let other: CallInit;

const list = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));
const upsert = (attrs: Record<string, string>, init?: CallInit, qs = '') => s.call('POST', `${LM}/Lead.CreateOrUpdate${qs}`, list(attrs), init);
const search = (key: string, init?: CallInit) => s.call('GET', `${LM}/Leads.GetByQuickSearch?key=${encodeURIComponent(key)}`, undefined, init);
const ids = (r: any[]) => r.map((l) => l.ProspectID);

beforeAll(async () => {
  s = await started();
  other = { keys: (await secondAccount(s)).keys };
});

describe('Lead.CreateOrUpdate', () => {
  it('creates a lead by email (IsCreated true), then updates that same lead (IsCreated false)', async () => {
    const first = expectOk(await upsert({ EmailAddress: 'cou@example.com', FirstName: 'Cou' }));
    expect(first).toEqual({ Status: 'Success', Message: { Id: expect.any(String), AffectedRows: 1, IsCreated: true } });
    const again = expectOk(await upsert({ EmailAddress: 'COU@example.com', LastName: 'Later', SearchBy: 'EmailAddress' }, undefined, '?postUpdatedLead=true'));
    expect(again.Message).toEqual({ Id: first.Message.Id, AffectedRows: 1, IsCreated: false });
    // The values sent are written, as on CreateCustom: the email now reads as sent the second time.
    expect(await getLead(s, first.Message.Id)).toMatchObject({ FirstName: 'Cou', LastName: 'Later', EmailAddress: 'COU@example.com' });
  });

  it('takes the LeadDetails wrapper and another SearchBy field (Phone)', async () => {
    const id = await createLead(s, { FirstName: 'Phoned', Phone: '+91-9000011111' });
    const r = expectOk(await s.call('POST', `${LM}/Lead.CreateOrUpdate`, { LeadDetails: list({ SearchBy: 'Phone', Phone: '9000011111', Company: 'Acme' }) }));
    expect(r.Message).toEqual({ Id: id, AffectedRows: 1, IsCreated: false });
    expect((await getLead(s, id))?.Company).toBe('Acme');
  });

  it('refuses a missing SearchBy value, a value owned by another lead, an unknown ProspectID, and writes nothing', async () => {
    const a = await createLead(s, { EmailAddress: 'owner-a@example.com', Phone: '+91-9000022222' });
    const b = await createLead(s, { EmailAddress: 'owner-b@example.com' });
    await expectNoChange(s, [a, b], async () => {
      expectMx(await upsert({ FirstName: 'No email' }), 500, 'MXMandatoryAttributeMissingException', /EmailAddress/);
      expectMx(await upsert({ SearchBy: 'Phone', EmailAddress: 'x@example.com' }), 500, 'MXMandatoryAttributeMissingException', /Phone/);
      expectMx(await upsert({ EmailAddress: 'owner-b@example.com', Phone: '9000022222' }), 500, 'MXDuplicateEntryException');
      expectMx(await upsert({ SearchBy: 'ProspectID', ProspectID: '00000000-0000-0000-0000-000000000000', FirstName: 'X' }), 500, 'MXInvalidEntityException');
      expectMx(await upsert({ EmailAddress: 'new@example.com', Nonsense: 'x' }), 500, 'MXUnknownAttributeException');
      expectMx(await s.call('POST', `${LM}/Lead.CreateOrUpdate`, { EmailAddress: 'obj@example.com' }), 400, 'MXInvalidInputException');
      expectMx(await s.call('POST', `${LM}/Lead.CreateOrUpdate`, [{ Attribute: 'EmailAddress', Value: ['a'] }]), 400, 'MXInvalidInputException');
    });
  });

  it('parallel calls for one new lead all succeed and make one lead', async () => {
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => upsert({ EmailAddress: 'cou-race@example.com', mx_Try: String(i) })));
    for (const r of rs) expect(r.status, r.text).toBe(200);
    expect(rs.filter((r) => r.body.Message.IsCreated)).toHaveLength(1);
    expect(new Set(rs.map((r) => r.body.Message.Id)).size).toBe(1);
  });

  it('works per account: the same email in another account is another lead', async () => {
    const mine = expectOk(await upsert({ EmailAddress: 'shared-cou@example.com', FirstName: 'Mine' })).Message.Id;
    const theirs = expectOk(await upsert({ EmailAddress: 'shared-cou@example.com', FirstName: 'Theirs' }, other)).Message;
    expect(theirs.IsCreated).toBe(true);
    expect(theirs.Id).not.toBe(mine);
    expect((await leadByEmail(s, 'shared-cou@example.com'))?.FirstName).toBe('Mine');
    expect((await leadByEmail(s, 'shared-cou@example.com', other))?.FirstName).toBe('Theirs');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('Lead.CreateOrUpdate'))!, KEYS);
  });
});

describe('Leads.GetByQuickSearch', () => {
  let people: Record<string, string>;
  beforeAll(async () => {
    people = {
      first: await createLead(s, { FirstName: 'Quinton', EmailAddress: 'q1@example.com' }),
      last: await createLead(s, { LastName: 'Quixote', EmailAddress: 'q2@example.com' }),
      email: await createLead(s, { FirstName: 'E', EmailAddress: 'quasar.mail@example.com' }),
      phone: await createLead(s, { FirstName: 'P', Phone: '+91-9812345670' }),
      mobile: await createLead(s, { FirstName: 'M', Mobile: '9898989898' }),
      company: await createLead(s, { FirstName: 'C', Company: 'Quokka Labs' }),
      city: await createLead(s, { FirstName: 'Ci', mx_City: 'Quetta' }),
      country: await createLead(s, { FirstName: 'Co', mx_Country: 'Qatar' }),
      notes: await createLead(s, { FirstName: 'N', Notes: 'quiet', Source: 'quora' }),
    };
  });

  it('finds leads by name, email, phone, mobile, company, city or country, in any case', async () => {
    const cases: [string, string][] = [
      ['QUINTON', 'first'], ['quix', 'last'], ['QUASAR.mail', 'email'], ['9812345', 'phone'], ['98989', 'mobile'], ['quokka', 'company'], ['QUETTA', 'city'], ['qatar', 'country'],
    ];
    for (const [key, who] of cases) expect(ids(expectOk(await search(key))), key).toEqual([people[who]]);
  });

  it('answers leads in the Leads.GetById shape, newest first, and ignores other fields', async () => {
    const r = expectOk(await search('qu'));
    // Notes and Source are not searched; the rest with "qu" match, newest first (Qatar has none).
    expect(ids(r)).toEqual(['city', 'company', 'email', 'last', 'first'].map((k) => people[k]));
    expect(r[0]).toEqual(await getLead(s, people.city));
    expect(expectOk(await search('quiet'))).toEqual([]);
  });

  it('treats % and _ as plain text, not wildcards', async () => {
    const id = await createLead(s, { FirstName: '50%_off' });
    expect(ids(expectOk(await search('%')))).toEqual([id]);
    expect(ids(expectOk(await search('0%_')))).toEqual([id]);
    expect(expectOk(await search("' OR '1'='1"))).toEqual([]);
  });

  it('answers at most 25 leads', async () => {
    for (let i = 0; i < 30; i++) await createLead(s, { FirstName: `Capped${i}` });
    const r = expectOk(await search('capped'));
    expect(r).toHaveLength(25);
    expect(r[0].FirstName).toBe('Capped29');
  });

  it('needs a key: missing or blank is MXMandatoryAttributeMissingException; over 200 characters MXInvalidInputException', async () => {
    expectMx(await s.call('GET', `${LM}/Leads.GetByQuickSearch`), 500, 'MXMandatoryAttributeMissingException', /key/);
    expectMx(await search('   '), 500, 'MXMandatoryAttributeMissingException', /key/);
    expectMx(await search('q'.repeat(201)), 500, 'MXInvalidInputException', /200/);
  });

  it('never finds another account’s leads', async () => {
    expect(expectOk(await search('quinton', other))).toEqual([]);
    const theirs = await createLead(s, { FirstName: 'Quinton' }, other);
    expect(ids(expectOk(await search('quinton', other)))).toEqual([theirs]);
    expect(ids(expectOk(await search('quinton')))).toEqual([people.first]);
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.includes('Leads.GetByQuickSearch'))!, KEYS);
  });
});

describe('a malformed attribute list', () => {
  it('names the entry by its place in the list as sent, bare or wrapped in LeadDetails, and writes nothing', async () => {
    const m = (r: { body?: { ExceptionMessage?: string } }) => r.body?.ExceptionMessage;
    const bare = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'shape@example.com' }, { Attribute: 'FirstName', Value: { a: 1 } }]);
    expectMx(bare, 400, 'MXInvalidInputException');
    expect(m(bare)).toBe("Invalid request body: '[1].Value' must be a string, number or boolean");
    const unnamed = await s.call('POST', `${LM}/Lead.Create`, [{ Value: 'x' }]);
    expect(m(unnamed)).toBe("Invalid request body: '[0]' needs a 'SchemaName' or 'Attribute' string");
    expect(m(await s.call('POST', `${LM}/Lead.Create`, [{ SchemaName: '', Attribute: '', Value: 'x' }]))).toBe(
      "Invalid request body: '[0]' needs a 'SchemaName' or 'Attribute' string",
    );
    const wrapped = await s.call('POST', `${LM}/Lead.Create`, { LeadDetails: [{ Attribute: 'EmailAddress', Value: [] }] });
    expect(m(wrapped)).toBe("Invalid request body: 'LeadDetails[0].Value' must be a string, number or boolean");
    const notList = await s.call('POST', `${LM}/Lead.Create`, { LeadDetails: 'x' });
    expect(m(notList)).toBe("Invalid request body: 'LeadDetails' must be a JSON array");
    expect(await leadByEmail(s, 'shape@example.com')).toBeNull();
  });

  it('takes the field from Attribute when SchemaName is there but empty (a client that fills both properties of its class)', async () => {
    const r = await s.call('POST', `${LM}/Lead.Create`, [
      { SchemaName: '', Attribute: 'EmailAddress', Value: 'both-props@example.com' },
      { SchemaName: 'FirstName', Attribute: '', Value: 'Both' },
    ]);
    expectOk(r);
    const lead = await leadByEmail(s, 'both-props@example.com');
    expect(lead).not.toBeNull();
    expect(lead!.FirstName).toBe('Both');
  });
});
