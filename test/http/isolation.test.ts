/** Accounts are isolated: no read or write on any /v2 endpoint crosses from one account to another. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTH, LM, PA, accountIdOf, activitiesOf, createLead, createType, defineLeadField, expectMx, expectNoChange, expectOk, getLead, secondAccount } from '../helpers/lsq.js';
import { started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;
let other: CallInit; // keys of account B
let otherId: string;
let mine: { accountId: string; lead: string; code: number; activity: string };

beforeAll(async () => {
  s = await started();
  const accountId = await accountIdOf(s);
  await defineLeadField(s, accountId, { schemaName: 'mx_Member_No', isUnique: true });
  const code = await createType(s, { ActivityEventName: 'Secret Meeting', Score: 9 });
  const lead = await createLead(s, { FirstName: 'Alice', EmailAddress: 'alice@a.example', Phone: '9811100000', Mobile: '9811100001', mx_Member_No: 'M-1', mx_Secret_Field: 'hush' });
  const activity = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'private' })).Message.Id;
  mine = { accountId, lead, code, activity };
  const b = await secondAccount(s);
  other = { keys: b.keys };
  otherId = b.accountId;
});

describe('reads never see another account', () => {
  it('UserByAccessKey.Get names the caller’s own account', async () => {
    const r = expectOk(await s.call('GET', `${AUTH}/UserByAccessKey.Get`, undefined, other));
    expect(r.OrgId).toBe(otherId);
    expect(r.OrgId).not.toBe(mine.accountId);
  });

  it('Leads.GetById, GetByEmailaddress, RetrieveLeadByPhoneNumber', async () => {
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${mine.lead}`, undefined, other))).toEqual([]);
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=alice@a.example`, undefined, other))).toEqual([]);
    expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=9811100000`, undefined, other))).toEqual([]);
    expect(expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=9811100001`, undefined, other))).toEqual([]);
  });

  it('LeadsMetaData.Get lists only the account’s own fields', async () => {
    const names = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, other)).map((f: any) => f.SchemaName);
    expect(names).toContain('EmailAddress');
    expect(names).not.toContain('mx_Secret_Field');
    expect(names).not.toContain('mx_Member_No');
  });

  it('ActivityTypes.Get and GetActivitySetting', async () => {
    const types = expectOk(await s.call('GET', `${PA}/ActivityTypes.Get`, undefined, other));
    expect(types.map((t: any) => t.ActivityEventName)).not.toContain('Secret Meeting');
    expect(types.map((t: any) => t.ActivityEvent)).toContain(21);
    expectMx(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${mine.code}`, undefined, other), 500, 'MXInvalidActivityException');
  });

  it('Retrieve and GetActivityDetails', async () => {
    expect(await activitiesOf(s, mine.lead, {}, other)).toEqual({ RecordCount: 0, ProspectActivities: [] });
    expectMx(await s.call('GET', `${PA}/GetActivityDetails?activityId=${mine.activity}`, undefined, other), 500, 'MXUnknownProspectActivityException');
  });
});

describe('writes never touch another account', () => {
  it('Create on another account’s lead id or event code fails and changes nothing there', async () => {
    await expectNoChange(s, [mine.lead], async () => {
      expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: mine.lead, ActivityEvent: 21 }, other), 500, 'MXInvalidEntityException');
    });
    const own = await createLead(s, { FirstName: 'Bob' }, other);
    expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: own, ActivityEvent: mine.code }, other), 500, 'MXInvalidActivityException');
  });

  it('Create by another account’s lead email makes a new lead in the caller’s account', async () => {
    await expectNoChange(s, [mine.lead], async () => {
      const r = expectOk(await s.call('POST', `${PA}/Create`, { EmailAddress: 'alice@a.example', ActivityEvent: 21 }, other));
      expect(r.Message.RelatedId).not.toBe(mine.lead);
      expect(await getLead(s, r.Message.RelatedId, other)).toMatchObject({ EmailAddress: 'alice@a.example' });
    });
  });

  it('CreateCustom SearchBy email or phone finds only the caller’s leads; the same values may exist in both', async () => {
    await expectNoChange(s, [mine.lead], async () => {
      const body = { LeadDetails: [{ Attribute: 'Phone', Value: '9811100000' }, { Attribute: 'FirstName', Value: 'Bea' }, { Attribute: 'SearchBy', Value: 'Phone' }], Activity: { ActivityEvent: 22 } };
      const r = expectOk(await s.call('POST', `${PA}/CreateCustom`, body, other));
      expect(r.Message).toMatchObject({ IsLeadCreated: true });
      expect(r.Message.RelatedId).not.toBe(mine.lead);
    });
  });

  it('a field marked unique in one account is not unique in another', async () => {
    const body = { LeadDetails: [{ Attribute: 'mx_Member_No', Value: 'M-1' }, { Attribute: 'FirstName', Value: 'X' }, { Attribute: 'SearchBy', Value: 'mx_Member_No' }], Activity: { ActivityEvent: 22 } };
    await expectNoChange(s, [mine.lead], async () => {
      expectMx(await s.call('POST', `${PA}/CreateCustom`, body, other), 500, 'MXInvalidInputException', /mx_Member_No/);
    });
  });

  it('Bulk posts by id or by field do not reach another account’s leads', async () => {
    await expectNoChange(s, [mine.lead], async () => {
      const byId = expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [{ RelatedProspectId: mine.lead, ActivityEvent: 21 }], other));
      expect(byId.Response[0]).toMatchObject({ ActivityCreated: false, ExceptionType: 'MXInvalidEntityException' });
      const byField = expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress`, [{ SearchByValue: 'alice@a.example', ActivityEvent: 21 }], other));
      // B has its own alice@a.example by now (see above) or none; either way A's lead is untouched.
      expect(byField.Response[0].RelatedProspectId ?? null).not.toBe(mine.lead);
    });
  });

  it('Lead.Update and Lead.Capture cannot reach another account’s lead', async () => {
    await expectNoChange(s, [mine.lead], async () => {
      expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${mine.lead}`, [{ Attribute: 'FirstName', Value: 'Hacked' }], other), 500, 'MXInvalidEntityException');
      const r = expectOk(await s.call('POST', `${LM}/Lead.Capture`, [{ Attribute: 'ProspectID', Value: mine.lead }, { Attribute: 'FirstName', Value: 'Hacked' }], other));
      expect(r.Message.Id).not.toBe(mine.lead);
      expect(r.Message.IsCreated).toBe(true);
    });
  });

  it('Lead.Create in one account is not a duplicate of a lead in another', async () => {
    const id = await createLead(s, { EmailAddress: 'shared@a.example' });
    const theirs = await createLead(s, { EmailAddress: 'shared@a.example' }, other);
    expect(theirs).not.toBe(id);
  });

  it('CreateType codes are per account: B’s first custom type may reuse A’s code without touching A’s', async () => {
    const before = expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${mine.code}`));
    const theirs = expectOk(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Secret Meeting', Score: 1 }, other)).Message.Id;
    expect(expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${theirs}`, undefined, other))).toMatchObject({ Score: 1 });
    expect(expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${mine.code}`))).toEqual(before);
  });

  it('account B’s activity posts never change account A’s scores', async () => {
    const lead = await getLead(s, mine.lead);
    expect(lead).toMatchObject({ Score: '9', FirstName: 'Alice' });
  });
});
