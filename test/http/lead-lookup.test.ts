/**
 * Finding a lead: LeadSquared's default lookup (email, then phone numbers, when no SearchBy is given)
 * in every operation that finds or creates a lead, and the one phone-matching rule (src/domain/phone.ts)
 * wherever phone numbers are compared. Runs on SQLite and PostgreSQL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accept, asyncCall, settled } from '../async/helpers.js';
import { LM, PA, accountIdOf, activitiesOf, createLead, createType, expectMx, expectOk, getLead, leadByEmail, secondAccount } from '../helpers/lsq.js';
import { started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;

const list = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));
const upsert = (attrs: Record<string, string>, init?: CallInit) => s.call('POST', `${LM}/Lead.CreateOrUpdate`, list(attrs), init);
const byPhone = async (phone: string, init?: CallInit) => expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=${encodeURIComponent(phone)}`, undefined, init)) as any[];
const search = async (key: string) => expectOk(await s.call('GET', `${LM}/Leads.GetByQuickSearch?key=${encodeURIComponent(key)}`)) as any[];
let n = 0;
/** A fresh national number per test, so that tests do not find each other's leads. */
const fresh = (len = 10) => `9${String(Date.now() % 1e6).padStart(6, '0')}${String(++n).padStart(len - 7, '0')}`.slice(0, len);

beforeAll(async () => {
  s = await started();
  code = await createType(s, { ActivityEventName: 'Lookup test', Score: 1 });
});

describe('default lookup: email, then phone numbers, when no SearchBy is given', () => {
  it('Lead.CreateOrUpdate with only a Mobile creates the lead, and the same number written differently finds it', async () => {
    const nat = fresh();
    const first = expectOk(await upsert({ FirstName: 'Asha', Mobile: `+91-${nat}` }));
    expect(first.Message).toMatchObject({ IsCreated: true });
    const again = expectOk(await upsert({ FirstName: 'Asha', LastName: 'K', Mobile: `91${nat}` }));
    expect(again.Message).toEqual({ Id: first.Message.Id, AffectedRows: 1, IsCreated: false });
    expect(await getLead(s, first.Message.Id)).toMatchObject({ LastName: 'K', Mobile: `91${nat}` });
  });

  it('the issue example: Asha by Mobile +91-9876500001, then 919876500001, is one lead', async () => {
    const first = expectOk(await upsert({ FirstName: 'Asha', Mobile: '+91-9876500001' }));
    const again = expectOk(await upsert({ FirstName: 'Asha', Mobile: '919876500001' }));
    expect(again.Message.Id).toBe(first.Message.Id);
  });

  it('a Phone passed finds a lead by its Mobile too, and email wins over phone', async () => {
    const nat = fresh();
    const byMobile = await createLead(s, { FirstName: 'M', Mobile: `+91 ${nat}` });
    expect(expectOk(await upsert({ Phone: nat, Company: 'Found' })).Message).toMatchObject({ Id: byMobile, IsCreated: false });
    const byEmail = await createLead(s, { EmailAddress: `win-${nat}@example.com` });
    expect(expectOk(await upsert({ EmailAddress: `WIN-${nat}@example.com`, Mobile: `0${nat}` })).Message.Id).toBe(byEmail);
  });

  it('an email not found falls back to the phone number: the lead found gets the email', async () => {
    const nat = fresh();
    const id = await createLead(s, { FirstName: 'P', Phone: `+91-${nat}` });
    expect(expectOk(await upsert({ EmailAddress: `later-${nat}@example.com`, Phone: `91${nat}` })).Message).toMatchObject({ Id: id, IsCreated: false });
    expect((await leadByEmail(s, `later-${nat}@example.com`))?.ProspectID).toBe(id);
  });

  it('CreateCustom without SearchBy finds the lead by phone', async () => {
    const nat = fresh();
    const id = await createLead(s, { FirstName: 'C', Mobile: `+91-${nat}` });
    const r = expectOk(await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: list({ Mobile: `91${nat}`, Company: 'Cust' }), Activity: { ActivityEvent: code } }));
    expect(r.Message).toMatchObject({ RelatedId: id, IsLeadCreated: false });
    expect((await activitiesOf(s, id)).RecordCount).toBe(1);
  });

  it('Lead.Capture with only a Mobile matches its lead (ProspectID → email → phone order)', async () => {
    const nat = fresh();
    const first = expectOk(await s.call('POST', `${LM}/Lead.Capture`, list({ FirstName: 'Cap', Mobile: `+91-${nat}` })));
    expect(first.Message).toMatchObject({ IsCreated: true });
    const again = expectOk(await s.call('POST', `${LM}/Lead.Capture`, list({ Mobile: nat, Company: 'Again' })));
    expect(again.Message).toMatchObject({ Id: first.Message.Id, IsCreated: false });
  });

  it('Create by email: a new email with a known Phone posts on the phone\'s lead instead of failing on a duplicate', async () => {
    const nat = fresh();
    const id = await createLead(s, { FirstName: 'E', Phone: `+91-${nat}` });
    const r = expectOk(await s.call('POST', `${PA}/Create`, { EmailAddress: `new-${nat}@example.com`, Phone: `91${nat}`, ActivityEvent: code }));
    expect(r.Message.RelatedId).toBe(id);
    expect(await leadByEmail(s, `new-${nat}@example.com`)).toBeNull();
  });

  it('bulk by lead field with searchBy=Phone finds the lead however the number is written', async () => {
    const nat = fresh();
    const id = await createLead(s, { FirstName: 'B', Phone: `+91-${nat}` });
    const r = expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadField?searchBy=Phone`, [{ SearchByValue: `91${nat}`, ActivityEvent: code }, { SearchByValue: `+91 ${nat}`, ActivityEvent: code }]));
    expect(r.Response.map((x: any) => [x.ActivityCreated, x.RelatedProspectId])).toEqual([[true, id], [true, id]]);
  });

  it('async twins: /lead/capture and /activity/createcustom by phone only land on one lead', async () => {
    const nat = fresh();
    const c = await accept(s.url, '/lead/capture', list({ FirstName: 'Async', Mobile: `+91-${nat}` }));
    const cc = await accept(s.url, '/activity/createcustom', { LeadDetails: list({ Mobile: `91${nat}` }), Activity: { ActivityEvent: code } });
    const st1 = await settled(s.url, c, undefined, '/lead/status');
    const st2 = await settled(s.url, cc);
    expect(st1.TaskStatus.Status).toBe('Success');
    expect(st2.TaskStatus.Status).toBe('Success');
    const leadId = JSON.parse(st1.TaskStatus.Message).Message.Id;
    expect(JSON.parse(st2.TaskStatus.Message).Message).toMatchObject({ RelatedId: leadId, IsLeadCreated: false });
  });

  it('nothing to look up by: MXMandatoryAttributeMissingException naming what to pass', async () => {
    expectMx(await upsert({ FirstName: 'Nobody' }), 500, 'MXMandatoryAttributeMissingException', /EmailAddress, Phone, a field marked unique, or Mobile, which is not unique/);
  });
});

describe('phone numbers match with or without the country code', () => {
  let sg: string;
  beforeAll(async () => {
    sg = await createLead(s, { FirstName: 'Singapore', Phone: '+65-81234567' });
  });

  it.each(['6581234567', '+6581234567', '+65 8123 4567', '0065 8123 4567', '81234567', '+65-81234567'])('RetrieveLeadByPhoneNumber finds +65-81234567 as %s', async (q) => {
    expect((await byPhone(q)).map((l) => l.ProspectID)).toEqual([sg]);
  });

  it('the same national number in another country is another number', async () => {
    expect(await byPhone('+91-81234567')).toEqual([]);
    expect(await byPhone('+1 8123 4567')).toEqual([]);
  });

  it('quick search by the number written another way finds the lead', async () => {
    expect((await search('6581234567')).map((l) => l.ProspectID)).toContain(sg);
    expect((await search('+65 8123 4567')).map((l) => l.ProspectID)).toContain(sg);
  });

  it('SearchBy Phone finds it written with the country code and without', async () => {
    // Its own lead: the values sent are written, so each call rewrites the number as sent.
    const id = await createLead(s, { FirstName: 'SearchBy', Phone: '+65-81239999' });
    for (const v of ['+6581239999', '81239999', '0065-8123-9999']) {
      const r = expectOk(await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: list({ Phone: v, SearchBy: 'Phone' }), Activity: { ActivityEvent: code } }));
      expect(r.Message, v).toMatchObject({ RelatedId: id, IsLeadCreated: false });
    }
  });

  it('uniqueness uses the same rule: the number written another way is a duplicate, another country is not', async () => {
    const before = await s.services.store.leads.count(await accountIdOf(s));
    for (const v of ['6581234567', '+6581234567', '81234567']) {
      expectMx(await s.call('POST', `${LM}/Lead.Create`, list({ FirstName: 'Dup', Phone: v })), 500, 'MXDuplicateEntryException', 'A Lead with same Phone Number already exists.');
    }
    expect(await s.services.store.leads.count(await accountIdOf(s))).toBe(before);
    await createLead(s, { FirstName: 'India', Phone: '+91-81234567' });
  });

  it('an Indian 10-digit mobile is found with 91 in front, +91, or bare', async () => {
    const nat = fresh();
    const id = await createLead(s, { FirstName: 'In', Mobile: nat });
    for (const q of [`91${nat}`, `+91${nat}`, `+91-${nat}`, nat, `0${nat}`]) expect((await byPhone(q)).map((l) => l.ProspectID), q).toEqual([id]);
  });

  it('another account never finds this account\'s number', async () => {
    const other = { keys: (await secondAccount(s)).keys };
    expect(await byPhone('6581234567', other)).toEqual([]);
  });

  it('bodies to the async door order by the number however written (one order key)', async () => {
    const { orderKeyOf } = await import('../../src/wire/operations.js');
    const keys = [
      orderKeyOf('lead.capture', list({ Mobile: '+91-9876500001' }), 'a'),
      orderKeyOf('lead.capture', list({ Phone: '919876500001' }), 'b'),
      orderKeyOf('activity.createcustom', { LeadDetails: list({ Mobile: '9876500001' }) }, 'c'),
      orderKeyOf('activity.createcustom', { LeadDetails: list({ Phone: '+91 98765 00001', SearchBy: 'Phone' }) }, 'd'),
    ];
    expect(new Set(keys).size).toBe(1);
    expect(orderKeyOf('lead.capture', list({ Phone: '+65-81234567' }), 'e')).not.toBe(keys[0]);
  });
});

describe('phone keys written by the old rule are re-keyed at start', () => {
  it('a lead keyed by its last 10 digits before the upgrade is found by the new rule after a restart', async () => {
    const t = await started();
    const accountId = await accountIdOf(t);
    const id = await createLead(t, { FirstName: 'Old', Phone: '+65-81234567' });
    // What the old rule stored: the last 10 digits after a separated country code ("81234567"), one key.
    const lead = (await t.services.store.leads.get(accountId, id))!;
    await t.services.store.transaction(async (tx) => {
      await tx.leads.update(accountId, id, lead.fields, [{ field: 'Phone', value: '81234567', unique: true }], lead.modifiedOn);
      await tx.leads.setKeysVersion(accountId, 1);
    });
    await t.close();
    const again = await started({ LEADTRAIL_DB: t.dbPath });
    const r = expectOk(await again.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=6581234567`));
    expect(r.map((l: any) => l.ProspectID)).toEqual([id]);
    expect(await again.services.store.leads.accountsKeyedBefore(2)).toEqual([]);
  });

  it('two old leads that are one number by the new rule both stay, the start does not fail, and a third is refused', async () => {
    const t = await started();
    const accountId = await accountIdOf(t);
    const a = await createLead(t, { FirstName: 'A', Phone: '+6581230000' });
    const b = await createLead(t, { FirstName: 'B', Phone: '+91-81230000' });
    // Under the old rule B's number was its last 10 digits after the separated code: 81230000, distinct from A's 6581230000.
    const lb = (await t.services.store.leads.get(accountId, b))!;
    await t.services.store.transaction(async (tx) => {
      await tx.leads.update(accountId, b, { ...lb.fields, Phone: '81230000' }, [{ field: 'Phone', value: '81230000', unique: true }], lb.modifiedOn);
      await tx.leads.setKeysVersion(accountId, 1);
    });
    await t.close();
    const again = await started({ LEADTRAIL_DB: t.dbPath });
    const found = expectOk(await again.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=%2B6581230000`)).map((l: any) => l.ProspectID);
    expect([a, b]).toContain(found[0]);
    expect((await getLead(again, a))?.Phone).toBe('+6581230000');
    expect((await getLead(again, b))?.Phone).toBe('81230000');
    expectMx(await again.call('POST', `${LM}/Lead.Create`, list({ Phone: '6581230000' })), 500, 'MXDuplicateEntryException', 'A Lead with same Phone Number already exists.');
  });
});

describe('async requests act through the same lookups', () => {
  it('the status of a phone-only /lead/capture names the lead found by a differently written number', async () => {
    const nat = fresh();
    const id = await createLead(s, { FirstName: 'Pre', Phone: `+91-${nat}` });
    const r = await asyncCall(s.url, 'POST', '/lead/capture', list({ Phone: `0091 ${nat}`, Company: 'Z' }));
    const st = await settled(s.url, r.body.RequestID, undefined, '/lead/status');
    expect(JSON.parse(st.TaskStatus.Message).Message).toMatchObject({ Id: id, IsCreated: false });
  });
});
