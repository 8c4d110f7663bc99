/**
 * Body properties a call does not read are answered as if absent (docs/compatibility.md) and named
 * in `X-LeadTrail-Ignored-Properties`, and on the console's page of the call: a misspelt
 * `ActivityNotes` had been answered 200 with the note gone and nothing to say why (found by a
 * fresh-eyes run). On SQLite and PostgreSQL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleClient } from '../console/session.js';
import { LM, PA, SYNC_ENDPOINTS, createLead, createType, expectOk, getLead } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;
let leadId: string;
beforeAll(async () => {
  s = await started();
  code = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'String' }] });
  leadId = await createLead(s, { EmailAddress: 'ignored@example.com' });
});

const HEADER = 'x-leadtrail-ignored-properties';

describe('X-LeadTrail-Ignored-Properties', () => {
  it('names a misspelt property of a Create that otherwise succeeds, whose value went nowhere', async () => {
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNotes: 'lost', Feilds: [] });
    const id = expectOk(r).Message.Id;
    expect(r.headers.get(HEADER)).toBe('ActivityNotes, Feilds');
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
    expect(details.ActivityNote).toBe('');
  });

  it('is absent when every property was read, in any case', async () => {
    const r = await s.call('POST', `${PA}/Create`, { relatedprospectid: leadId, ACTIVITYEVENT: code, ActivityNote: 'kept' });
    expectOk(r);
    expect(r.headers.get(HEADER)).toBeNull();
  });

  it('is absent for the sample call of every endpoint (no property it documents is named)', async () => {
    for (const e of SYNC_ENDPOINTS) {
      const r = await s.call(e.method, e.path, e.body);
      expect(r.headers.get(HEADER), `${e.method} ${e.path}: ${r.text.slice(0, 200)}`).toBeNull();
    }
  });

  it('names a second spelling of a property already read: the exact name wins', async () => {
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, activitynote: 'second', ActivityNote: 'exact' });
    const id = expectOk(r).Message.Id;
    expect(r.headers.get(HEADER)).toBe('activitynote');
    expect(expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`)).ActivityNote).toBe('exact');
  });

  it('names properties inside objects and list entries by their path', async () => {
    const search = await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'EmailAddress', LookupValue: 'ignored@example.com', LookupValu: 'x' }, Paging: { PageIndex: 1, PageSiz: 5 } });
    expect(expectOk(search)).toHaveLength(1);
    expect(search.headers.get(HEADER)).toBe('Parameter.LookupValu, Paging.PageSiz');

    // An attribute entry with `Valeu` sets nothing: the lead keeps its name, and the header says why.
    const update = await s.call('POST', `${LM}/Lead.Update?leadId=${leadId}`, [{ Attribute: 'FirstName', Value: 'Ada' }, { Attribute: 'LastName', Valeu: 'Lovelace' }]);
    expectOk(update);
    expect(update.headers.get(HEADER)).toBe('[1].Valeu');
    expect(await getLead(s, leadId)).toMatchObject({ FirstName: 'Ada', LastName: null });

    const wrapped = await s.call('POST', `${LM}/Lead.Update?leadId=${leadId}`, { LeadDetails: [{ Attribute: 'FirstName', Value: 'Ada', Note: 'x' }] });
    expectOk(wrapped);
    expect(wrapped.headers.get(HEADER)).toBe('LeadDetails[0].Note');

    const custom = await s.call('POST', `${PA}/CreateCustom`, {
      LeadDetails: [{ Attribute: 'EmailAddress', Value: 'ignored@example.com' }],
      Activity: { ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Valu: 'x' }], ActivityNotes: 'n' },
    });
    expectOk(custom);
    expect(custom.headers.get(HEADER)).toBe('Activity.Fields[0].Valu, Activity.ActivityNotes');

    // LeadDetails under a description of its own, and a type's field definitions, are looked into too.
    const details = await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: [{ Attribute: 'EmailAddress', Valeu: 'x' }], Activity: { ActivityEvent: code } });
    expect(details.headers.get(HEADER)).toBe('LeadDetails[0].Valeu');
    const typeUpdate = await s.call('POST', `${PA}/CustomActivityType/Update`, { ID: code, Fields: [{ SchemaName: 'mx_Custom_2', Optoins: 'a' }] });
    expect(typeUpdate.headers.get(HEADER)).toBe('Fields[0].Optoins');

    const bulk = await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [{ RelatedProspectId: leadId, ActivityEvent: code }, { RelatedProspectId: leadId, ActivityEvent: code, Note: 'x' }]);
    expect(bulk.status, bulk.text).toBe(200);
    expect(bulk.headers.get(HEADER)).toBe('[1].Note');
  });

  it('does not name what a field list reads: SchemaName, and a nested Fields of null', async () => {
    // Lead/Bulk/Update's LeadFields is read as every field list is (SchemaName or Attribute, Value,
    // Fields): its SchemaName entries had been named as ignored while they were written (a review).
    const bulk = await s.call('POST', `${LM}/Lead/Bulk/Update`, { LeadIds: [leadId], LeadFields: [{ SchemaName: 'FirstName', Value: 'Grace' }] });
    expectOk(bulk);
    expect(bulk.headers.get(HEADER)).toBeNull();
    expect((await getLead(s, leadId))?.FirstName).toBe('Grace');
    const nested = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: 'v', Fields: null }] });
    expectOk(nested);
    expect(nested.headers.get(HEADER)).toBeNull();
  });

  it('is sent with an error answer too, and on the async API', async () => {
    // Lead.Create's wrapped form misspelt: a 400 that says what it lacks, and the header what it did not read.
    const bad = await s.call('POST', `${LM}/Lead.Create`, { Leaddetail: [] });
    expect(bad.status).toBe(400);
    expect(bad.headers.get(HEADER)).toBe('Leaddetail');

    const r = await s.call('POST', '/activity/create', { RelatedProspectId: leadId, ActivityEvent: code, ActivityNotes: 'x' }, { headers: { 'x-api-key': KEYS.apiKey } });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get(HEADER)).toBe('ActivityNotes');
  });

  it('writes names outside printable ASCII and commas as \\uXXXX, and names at most 20', async () => {
    const odd = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, 'Nöte': 1, 'a,b': 2, 'c\\d': 3 });
    expectOk(odd);
    expect(odd.headers.get(HEADER)).toBe('N\\u00f6te, a\\u002cb, c\\u005cd');

    // Long names that escape to six characters each stay within about 1,000 characters in all: a
    // proxy with a small header buffer would have turned the answer into a 502 (a review measured 12 KB).
    const wide = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`${'漢'.repeat(100)}${i}`, i]));
    const capped = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ...wide });
    expectOk(capped);
    const value = capped.headers.get(HEADER)!;
    expect(value.length).toBeLessThanOrEqual(1_000);
    expect(value.startsWith('\\u6f22')).toBe(true);
    expect(value.endsWith(', ...')).toBe(true);

    // An empty name shows as "", and a name cut at 100 characters ends with an escaped …, so that
    // `...` only ever says that names were left out.
    const blank = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, '': 1, ['L'.repeat(150)]: 2 });
    expect(blank.headers.get(HEADER)).toBe(`"", ${'L'.repeat(100)}\\u2026`);

    const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Extra${i}`, i]));
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ...many });
    expectOk(r);
    const names = r.headers.get(HEADER)!.split(', ');
    expect(names).toHaveLength(21);
    expect(names.slice(0, 2)).toEqual(['Extra0', 'Extra1']);
    expect(names[20]).toBe('...');
    // The journal's entry says the same: 20 names, then "...".
    const [entry] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&bodies=true&path=ProspectActivity.svc/Create`)).entries;
    expect(entry.ignoredProperties).toEqual([...Array.from({ length: 20 }, (_, i) => `Extra${i}`), '...']);
  });
});

describe('the request journal', () => {
  it('gives each entry read with its bodies the properties its call did not read', async () => {
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNotes: 'journal' }));
    const [entry] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&bodies=true&path=ProspectActivity.svc/Create`)).entries;
    expect(entry.ignoredProperties).toEqual(['ActivityNotes']);
    expect(expectOk(await s.call('GET', `/_leadtrail/journal/${entry.id}`)).entry.ignoredProperties).toEqual(['ActivityNotes']);
    // Without bodies, none; a call whose body was all read, []; a route without a body, null.
    expect(expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=ProspectActivity.svc/Create`)).entries[0]).not.toHaveProperty('ignoredProperties');
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNote: 'journal' }));
    expect(expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&bodies=true&path=ProspectActivity.svc/Create`)).entries[0].ignoredProperties).toEqual([]);
    expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${leadId}`));
    expect(expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&bodies=true&path=Leads.GetById`)).entries[0].ignoredProperties).toBeNull();
    // A path sent with percent-encoded letters or dots (stored as sent) is still its route's: was
    // null, the stored path looked up without decoding them.
    const spelt = await s.call('POST', `/v2/ProspectActivity.svc/%43reate`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNotes: 'spelt' });
    expect(spelt.headers.get(HEADER)).toBe('ActivityNotes');
    const [stored] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&bodies=true&path=%2543reate`)).entries;
    expect(stored.path).toBe('/v2/ProspectActivity.svc/%43reate');
    expect(stored.ignoredProperties).toEqual(['ActivityNotes']);
  });
});

describe("the console's page of a call", () => {
  it('lists the properties the call did not read', async () => {
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNotes: 'console' }));
    const [entry] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=ProspectActivity.svc/Create`)).entries as { id: string }[];
    const c = await consoleClient(s.url);
    const page = await c.get(`/console/requests/${entry.id}`);
    expect(page.text).toMatch(/Properties this call did not read \(ignored\): <code>ActivityNotes<\/code>\./);

    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNote: 'clean' }));
    const [clean] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=ProspectActivity.svc/Create`)).entries as { id: string }[];
    expect((await c.get(`/console/requests/${clean.id}`)).text).not.toContain('did not read');

    // A body the journal cut cannot be read again: the page says where the names are.
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNote: 'N'.repeat(20_000), ActivityNotes: 'x' }));
    const [cut] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=ProspectActivity.svc/Create`)).entries as { id: string }[];
    expect((await c.get(`/console/requests/${cut.id}`)).text).toMatch(/cannot be listed from part of a body: its answer named them in <code>X-LeadTrail-Ignored-Properties<\/code>/);
  });
});
