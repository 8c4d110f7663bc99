/**
 * `GET Lead/Delete/ById?leadId=` (LeadSquared's "Delete a Lead"; leadtrail also takes a POST): the
 * lead and everything stored for it go for good, every read stops finding them, its unique values
 * are free again, other leads and accounts are untouched, and what records the past (async
 * requests, journal entries) stays. On SQLite and PostgreSQL; deletes racing activity posts on the
 * same lead leave no activity behind (PostgreSQL runs them side by side).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accept, settled } from '../async/helpers.js';
import { LM, PA, SYNC_ENDPOINTS, accountIdOf, activitiesOf, counts, createLead, createType, expectKeysRequired, expectMx, expectOk, getLead, leadByEmail, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

const DELETE = `${LM}/Lead/Delete/ById`;
const FROM = '2000-01-01 00:00:00';

let s: TestServer;
let accountId: string;
let code: number;

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
  code = await createType(s, { ActivityEventName: 'Deleted with its lead', Score: 5 });
});

const del = (id: string, init?: CallInit) => s.call('GET', `${DELETE}?leadId=${encodeURIComponent(id)}`, undefined, init);

async function postActivity(lead: string, note: string, init?: CallInit): Promise<string> {
  // Another account (init.keys) has its own activity types: a system one there.
  return expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: init?.keys ? 21 : code, ActivityNote: note }, init)).Message.Id;
}

/** The ProspectIDs a POST lead read (Leads.Get, RecentlyModified, ByIds) or a list answer names. */
const idsOf = (leads: Record<string, string | null>[]) => leads.map((l) => l.ProspectID);

async function everyLeadRead(lead: { id: string; email: string; phone: string }): Promise<Record<string, unknown>> {
  const byIds = expectOk(await s.call('POST', `${LM}/Leads/Retrieve/ByIds`, { SearchParameters: { LeadIds: [lead.id] } }));
  return {
    getById: expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${lead.id}`)),
    byEmail: expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=${encodeURIComponent(lead.email)}`)),
    byPhone: expectOk(await s.call('GET', `${LM}/RetrieveLeadByPhoneNumber?phone=${lead.phone}`)),
    quickSearch: idsOf(expectOk(await s.call('GET', `${LM}/Leads.GetByQuickSearch?key=${encodeURIComponent(lead.email)}`))),
    leadsGet: idsOf(expectOk(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'EmailAddress', LookupValue: lead.email } }))),
    recentlyModified: expectOk(await s.call('POST', `${LM}/Leads.RecentlyModified`, { Parameter: { FromDate: FROM } }))
      .Leads.map((l: { LeadPropertyList: { Attribute: string; Value: string }[] }) => l.LeadPropertyList.find((p) => p.Attribute === 'ProspectID')?.Value)
      .filter((id: string) => id === lead.id),
    byIds: [byIds.RecordCount, idsOf(byIds.Leads)],
  };
}

async function everyActivityRead(lead: string, activities: string[]): Promise<Record<string, unknown>> {
  const byEvent = expectOk(await s.call('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: code }, Paging: { PageSize: 1000 } }));
  const modified = expectOk(await s.call('POST', `${PA}/RetrieveRecentlyModified`, { Parameter: { FromDate: FROM }, Paging: { PageSize: 1000 } }));
  const details = await Promise.all(activities.map((a) => s.call('GET', `${PA}/GetActivityDetails?activityId=${a}`)));
  return {
    retrieve: (await activitiesOf(s, lead)).RecordCount,
    byEvent: byEvent.List.filter((a: { RelatedProspectId: string }) => a.RelatedProspectId === lead).length,
    recentlyModified: modified.ProspectActivities.filter((a: { RelatedProspectId: string }) => a.RelatedProspectId === lead).length,
    details: details.map((r) => r.status),
  };
}

let leadSeq = 0;
async function leadWithActivities(n: number, init?: CallInit): Promise<{ id: string; email: string; phone: string; activities: string[] }> {
  const k = ++leadSeq;
  const email = `gone-${k}@delete.example`;
  const phone = `98765${String(k).padStart(5, '0')}`;
  const id = await createLead(s, { EmailAddress: email, Phone: phone, FirstName: `Gone${k}` }, init);
  const activities = [];
  for (let i = 0; i < n; i++) activities.push(await postActivity(id, `note ${i}`, init));
  return { id, email, phone, activities };
}

describe('Lead/Delete/ById', () => {
  it('answers {"Status":"Success"} and every lead and activity read stops finding the lead and its activities', async () => {
    const lead = await leadWithActivities(2);
    const before = await everyLeadRead(lead);
    expect(before.getById).toHaveLength(1);
    expect(before.byIds).toEqual([1, [lead.id]]);
    expect(await everyActivityRead(lead.id, lead.activities)).toEqual({ retrieve: 2, byEvent: 2, recentlyModified: 2, details: [200, 200] });

    const r = await del(lead.id);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ Status: 'Success' });

    expect(await everyLeadRead(lead)).toEqual({ getById: [], byEmail: [], byPhone: [], quickSearch: [], leadsGet: [], recentlyModified: [], byIds: [0, []] });
    expect(await everyActivityRead(lead.id, lead.activities)).toEqual({ retrieve: 0, byEvent: 0, recentlyModified: 0, details: [500, 500] });
  });

  it('the lead is gone for writes too: a second delete, an activity post, an update all find no lead', async () => {
    const lead = await leadWithActivities(1);
    expectOk(await del(lead.id));
    expectMx(await del(lead.id), 500, 'MXInvalidEntityException', `Lead does not exist in the system: ${lead.id}`);
    expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead.id, ActivityEvent: code }), 500, 'MXInvalidEntityException');
    expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${lead.id}`, [{ Attribute: 'FirstName', Value: 'Back' }]), 500, 'MXInvalidEntityException');
    expect(await getLead(s, lead.id)).toBeNull();
  });

  it('its unique values are free again: Lead.Create takes the email, with a new id and a ProspectAutoId never given before', async () => {
    const lead = await leadWithActivities(0);
    const oldAutoId = Number((await getLead(s, lead.id))!.ProspectAutoId);
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: lead.email }]), 500, 'MXDuplicateEntryException');
    expectOk(await del(lead.id));
    const again = await createLead(s, { EmailAddress: lead.email.toUpperCase(), Phone: lead.phone });
    expect(again).not.toBe(lead.id);
    const read = (await leadByEmail(s, lead.email))!;
    expect(read.ProspectID).toBe(again);
    expect(Number(read.ProspectAutoId)).toBeGreaterThan(oldAutoId);
    expect((await activitiesOf(s, again)).RecordCount).toBe(0);
  });

  it("other leads, their activities and another account's leads are untouched", async () => {
    const gone = await leadWithActivities(2);
    const kept = await leadWithActivities(3);
    const b = await secondAccount(s);
    const theirs = await leadWithActivities(1, { keys: b.keys });
    const keptBefore = [await getLead(s, kept.id), await activitiesOf(s, kept.id)];
    const theirsBefore = [await getLead(s, theirs.id, { keys: b.keys }), await activitiesOf(s, theirs.id, {}, { keys: b.keys })];
    const countsBefore = await counts(s, accountId);
    const theirCounts = await counts(s, b.accountId);

    expectOk(await del(gone.id));
    expect([await getLead(s, kept.id), await activitiesOf(s, kept.id)]).toEqual(keptBefore);
    expect([await getLead(s, theirs.id, { keys: b.keys }), await activitiesOf(s, theirs.id, {}, { keys: b.keys })]).toEqual(theirsBefore);
    expect(await counts(s, accountId)).toEqual({ leads: countsBefore.leads - 1, activities: countsBefore.activities - 2 });
    expect(await counts(s, b.accountId)).toEqual(theirCounts);
  });

  it("another account's lead is unknown (accounts are isolated), and stays", async () => {
    const b = await secondAccount(s);
    const theirs = await leadWithActivities(1, { keys: b.keys });
    const before = await counts(s, b.accountId);
    expectMx(await del(theirs.id), 500, 'MXInvalidEntityException', theirs.id);
    expect(await counts(s, b.accountId)).toEqual(before);
    expect((await getLead(s, theirs.id, { keys: b.keys }))!.ProspectID).toBe(theirs.id);
    // Its own account can delete it.
    expectOk(await del(theirs.id, { keys: b.keys }));
    expect(await counts(s, b.accountId)).toEqual({ leads: before.leads - 1, activities: before.activities - 1 });
  });

  it('a missing or blank leadId is MXMandatoryAttributeMissingException, an unknown one MXInvalidEntityException; none deletes', async () => {
    const kept = await leadWithActivities(1);
    const before = await counts(s, accountId);
    expectMx(await s.call('GET', DELETE), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await s.call('GET', `${DELETE}?leadId=`), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await s.call('GET', `${DELETE}?leadId=%20%20`), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await s.call('POST', DELETE), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await s.call('POST', DELETE, { LeadId: ' ' }), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await s.call('POST', DELETE, [kept.id]), 500, 'MXMandatoryAttributeMissingException', /leadId/);
    expectMx(await del('11111111-2222-3333-4444-555555555555'), 500, 'MXInvalidEntityException', 'Lead does not exist in the system: 11111111-2222-3333-4444-555555555555');
    expectMx(await del('not a lead id'), 500, 'MXInvalidEntityException');
    expectMx(await s.call('GET', `${DELETE}?leadId=a%00b`), 400, 'MXInvalidInputException', /NUL/);
    expect(await counts(s, accountId)).toEqual(before);
    expect(await getLead(s, kept.id)).not.toBeNull();
  });

  it('path and query name in any case; the id in any case; trimmed', async () => {
    const a = await leadWithActivities(1);
    expect((await s.call('GET', `${LM.toLowerCase()}/lead/delete/byid?LEADID=${a.id.toUpperCase()}`)).body).toEqual({ Status: 'Success' });
    expect(await getLead(s, a.id)).toBeNull();
    expect((await activitiesOf(s, a.id)).RecordCount).toBe(0);
    const b = await leadWithActivities(0);
    expect((await s.call('GET', `/V2/LEADMANAGEMENT.SVC/LEAD/DELETE/BYID/?leadid=%20${b.id}%20`)).body).toEqual({ Status: 'Success' });
    expect(await getLead(s, b.id)).toBeNull();
  });

  it("POST (leadtrail's): leadId in the query, else LeadId in a JSON body (any case); the query wins", async () => {
    const a = await leadWithActivities(1);
    expect(expectOk(await s.call('POST', `${DELETE}?leadId=${a.id}`))).toEqual({ Status: 'Success' });
    expect(await getLead(s, a.id)).toBeNull();
    const b = await leadWithActivities(1);
    expect(expectOk(await s.call('POST', DELETE, { leadid: b.id }))).toEqual({ Status: 'Success' });
    expect(await getLead(s, b.id)).toBeNull();
    // The journal links the lead a body named.
    expect(expectOk(await s.call('GET', `/_leadtrail/journal?leadId=${b.id}`)).entries.map((e: { method: string; path: string }) => `${e.method} ${e.path}`)).toContain(`POST ${DELETE}`);
    const c = await leadWithActivities(0);
    const d = await leadWithActivities(0);
    expectOk(await s.call('POST', `${DELETE}?leadId=${c.id}`, { LeadId: d.id }));
    expect(await getLead(s, c.id)).toBeNull();
    expect(await getLead(s, d.id)).not.toBeNull();
  });

  it('async requests and journal entries that name the lead stay; the delete is journaled, linked to the lead', async () => {
    const lead = await leadWithActivities(0);
    const requestId = await accept(s.url, '/activity/create', { RelatedProspectId: lead.id, ActivityEvent: code });
    expect((await settled(s.url, requestId)).TaskStatus.Status).toBe('Success');
    expectOk(await del(lead.id));
    expect((await settled(s.url, requestId)).TaskStatus.Status).toBe('Success');
    const journal = expectOk(await s.call('GET', `/_leadtrail/journal?leadId=${lead.id}`)).entries.map((e: { method: string; path: string }) => `${e.method} ${e.path}`);
    expect(journal).toContain(`GET ${DELETE}`);
    expect(journal).toContain(`POST ${LM}/Lead.Create`);
    expect(journal).toContain('POST /activity/create');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.includes('Lead/Delete/ById'))!, KEYS);
  });
});

describe('Lead/Delete/ById beside activity posts on the same lead', () => {
  it('20 activity posts racing a delete: each post succeeds or finds no lead, and no activity outlives its lead', async () => {
    for (let round = 0; round < 5; round++) {
      const lead = await createLead(s, { FirstName: `Race${round}` });
      const before = await counts(s, accountId);
      const posts = Array.from({ length: 20 }, (_, i) => s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: `race ${i}` }));
      const deleted = (async () => {
        await new Promise((r) => setImmediate(r));
        return del(lead);
      })();
      const results = await Promise.all(posts);
      expect((await deleted).body).toEqual({ Status: 'Success' });
      for (const r of results) {
        if (r.status !== 200) expectMx(r, 500, 'MXInvalidEntityException');
      }
      expect(await counts(s, accountId)).toEqual({ leads: before.leads - 1, activities: before.activities });
      expect((await activitiesOf(s, lead)).RecordCount).toBe(0);
    }
  });
});

describe('Lead/Delete/ById and the sync rate limit', () => {
  it('counts against the sync limit like every LeadManagement call; a refused delete deletes nothing', async () => {
    const limited = await started({ LEADTRAIL_RATE_LIMIT: '2/60s' });
    const other = await secondAccount(limited);
    const lead = await createLead(limited, { FirstName: 'Limited' }, { keys: other.keys });
    expectOk(await limited.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: other.keys }));
    expectMx(await limited.call('GET', `${DELETE}?leadId=${lead}`, undefined, { keys: other.keys }), 429, 'MXAPIRateLimitExceededException');
    expect(await limited.services.store.leads.get(other.accountId, lead)).not.toBeNull();
  });
});
