/**
 * The request journal (issue 15) through a real server: every keyed call is recorded with its query
 * redacted and no key stored anywhere, bodies capped, links to the lead, activity and async request
 * it touched; filters and paging; one account never sees another's entries; the off switch; the
 * count and age limits; reset empties it. On SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_HEADER, accept, settled } from '../async/helpers.js';
import { LM, PA, accountIdOf, createLead, createType, expectMx, expectOk, secondAccount } from '../helpers/lsq.js';
import { KEYS, request, started, type CallInit, type TestServer } from '../helpers/server.js';

const J = '/_leadtrail/journal';

/** The account's journal as the API lists it (bodies included). */
async function journal(s: TestServer, query = '', init?: CallInit): Promise<any[]> {
  const r = await s.call('GET', `${J}?bodies=true${query ? `&${query}` : ''}`, undefined, init);
  expect(r.status, r.text).toBe(200);
  return r.body.entries;
}

const SECRETS = [KEYS.accessKey, KEYS.secretKey, KEYS.apiKey];

/** Every stored text of the account's entries, as the database holds them. */
async function storedText(s: TestServer, accountId: string): Promise<string> {
  return JSON.stringify(await s.services.store.journal.list(accountId, { limit: 10_000 }));
}

/** Makes a webhook that sends `headers` (its CustomHeaders, as Webhook.svc/Create takes them), then reads the webhooks back (Retrieve answers the headers). */
async function hookWithHeaders(s: TestServer, headers: Record<string, string>): Promise<void> {
  const hook = await s.call('POST', '/v2/Webhook.svc/Create', {
    URL: 'http://127.0.0.1:9/hook',
    Method: 'POST',
    ContentType: 'application/json',
    WebhookEvent: '3',
    CustomHeaders: Object.entries(headers).map(([Key, Value]) => ({ Key, Value })),
  });
  expect(hook.status, hook.text).toBe(200);
  expect((await s.call('POST', '/v2/Webhook.svc/Retrieve', {})).status).toBe(200);
}

describe('request journal', () => {
  let s: TestServer;
  let accountId: string;
  let code: number;
  beforeAll(async () => {
    s = await started();
    accountId = await accountIdOf(s);
    code = await createType(s, { ActivityEventName: 'Journaled' });
  });

  it('records a Create: method, path, redacted query, status, latency, bodies, and the lead and activity it touched', async () => {
    const lead = await createLead(s, { EmailAddress: 'journal@example.com' });
    // The secret key also appears in the body: it is masked there too.
    const body = { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: `pasted ${KEYS.secretKey} by mistake`, accessKey: 'not-a-real-one' };
    const r = await s.call('POST', `${PA}/Create?keep=yes&token=abc123`, body);
    const activityId = expectOk(r).Message.Id;
    const before = Date.now();

    const [e] = (await journal(s, 'path=ProspectActivity.svc/Create')).filter((x) => x.status === 200);
    expect(e).toMatchObject({
      method: 'POST',
      path: `${PA}/Create`,
      query: 'keep=yes&token=***&accessKey=***&secretKey=***',
      status: 200,
      leadId: lead,
      activityId,
      requestId: null,
    });
    expect(e.latencyMs).toBeGreaterThan(0);
    expect(e.at).toBeLessThanOrEqual(before);
    expect(e.at).toBeGreaterThan(before - 10_000);
    expect(new Date(e.time).getTime()).toBe(e.at);
    expect(JSON.parse(e.requestBody)).toEqual({ ...body, ActivityNote: 'pasted *** by mistake', accessKey: '***' });
    expect(JSON.parse(e.responseBody)).toEqual(r.body);
    expect(e.requestSize).toBe(Buffer.byteLength(JSON.stringify(body)));
    // The entry's id is the request id of the call (also in its log lines).
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);

    // Nothing of the keys anywhere in what is stored.
    const all = await storedText(s, accountId);
    for (const secret of SECRETS) expect(all).not.toContain(secret);
    expect(all).not.toContain('abc123');
  });

  it('keys sent in headers are not stored either, and the query stays empty', async () => {
    const r = await request(s.url, 'GET', `${LM}/LeadsMetaData.Get`, undefined, {
      noAuth: true,
      headers: { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey },
    });
    expect(r.status).toBe(200);
    const [e] = await journal(s, 'path=LeadsMetaData.Get');
    expect(e).toMatchObject({ method: 'GET', query: '', status: 200, requestBody: null, requestSize: null });
    const all = await storedText(s, accountId);
    for (const secret of SECRETS) expect(all).not.toContain(secret);
  });

  it('one entry links to the lead and activity it touched, as URLs that read them', async () => {
    const lead = await createLead(s, { EmailAddress: 'linked@example.com', FirstName: 'Linked' });
    const activityId = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code })).Message.Id;
    const [listed] = await journal(s, `leadId=${lead}&path=/create`);
    expect(listed.activityId).toBe(activityId);
    const r = await s.call('GET', `${J}/${listed.id}`);
    expect(r.status, r.text).toBe(200);
    // The id in any case, as every GUID leadtrail takes.
    expect((await s.call('GET', `${J}/${listed.id.toUpperCase()}`)).body).toEqual(r.body);
    const { entry } = r.body;
    expect(entry).toMatchObject({ id: listed.id, leadId: lead, activityId, requestBody: listed.requestBody, responseBody: listed.responseBody });
    expect(entry.links).toEqual({
      lead: `${LM}/Leads.GetById?id=${lead}`,
      activity: `${PA}/GetActivityDetails?activityId=${activityId}`,
      request: null,
    });
    expect(expectOk(await s.call('GET', entry.links.lead))[0].FirstName).toBe('Linked');
    expect(expectOk(await s.call('GET', entry.links.activity)).ID).toBe(activityId);
    // Everything that touched the lead: its creation, the post, and the two reads just made.
    const touched = (await journal(s, `leadId=${lead}`)).map((e) => e.path);
    expect(touched).toEqual([`${PA}/GetActivityDetails`, `${LM}/Leads.GetById`, `${PA}/Create`, `${LM}/Lead.Create`]);
  });

  it('a call that found or changed nothing links nothing: an unknown id read, a failed update', async () => {
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=zz-no-such-lead`))).toEqual([]);
    expect((await s.call('POST', `${LM}/Lead.Update?leadId=zz-no-such-lead`, [{ Attribute: 'FirstName', Value: 'X' }])).status).toBe(500);
    expect(await journal(s, 'leadId=zz-no-such-lead')).toEqual([]);
    // Newest first: the update, then the read.
    const [update, read] = await journal(s);
    expect(update).toMatchObject({ path: `${LM}/Lead.Update`, leadId: null });
    expect(read).toMatchObject({ path: `${LM}/Leads.GetById`, leadId: null });
  });

  it('async calls link their request: the accept, then the status call with the activity it made', async () => {
    const rid = await accept(s.url, '/activity/create', { EmailAddress: 'async-journal@example.com', ActivityEvent: code });
    const done = await settled(s.url, rid);
    const made = JSON.parse(done.TaskStatus.Message).Message;
    const entries = await journal(s, `path=/activity/`);
    const acceptEntry = entries.find((e) => e.path === '/activity/create');
    const statusEntry = entries.find((e) => e.path === '/activity/status' && e.activityId);
    expect(acceptEntry).toMatchObject({ method: 'POST', requestId: rid, status: 200 });
    expect(statusEntry).toMatchObject({ method: 'GET', requestId: rid, activityId: made.Id, leadId: made.RelatedId, query: `RequestID=${rid}` });
    const { entry } = (await s.call('GET', `${J}/${acceptEntry.id}`)).body;
    expect(entry.links.request).toBe(`/activity/status?RequestID=${rid}`);
    const followed = await request(s.url, 'GET', entry.links.request, undefined, { noAuth: true, headers: API_KEY_HEADER });
    expect(followed.body.TaskStatus.Status).toBe('Success');
    // x-api-key is a key too: never stored.
    expect(await storedText(s, accountId)).not.toContain(KEYS.apiKey);
  });

  it("masks a secret-named property of an accepted body also where the status answer repeats that body (found by a fresh-eyes run)", async () => {
    const rid = await accept(s.url, '/activity/create', { EmailAddress: 'async-echo@example.com', ActivityEvent: code, apiKey: 'ECHO-LEAK-1', token: { v: 'ECHO-LEAK-2' } });
    await settled(s.url, rid);
    const entries = await journal(s, `path=/activity/status`);
    const statusEntry = entries.find((e) => e.requestId === rid && e.responseBody?.includes('async-echo@example.com'));
    expect(statusEntry, 'a status answer that repeats the accepted body').toBeDefined();
    expect(await storedText(s, accountId)).not.toMatch(/ECHO-LEAK/);
  });

  it('masks the Value of a lead field or webhook header named like a credential, where the call sends it and where an answer repeats it (found by a fresh-eyes run)', async () => {
    expectOk(await s.call('POST', `${LM}/CreateLeadField`, { DisplayName: 'Portal Password', SchemaName: 'mx_Portal_Password', DataType: 'String' }));
    const lead = expectOk(
      await s.call('POST', `${LM}/Lead.Create`, [
        { Attribute: 'EmailAddress', Value: 'pair-secret@example.com' },
        { Attribute: 'mx_Portal_Password', Value: 'PAIR-LEAK-1' },
      ]),
    ).Message.Id;
    expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${lead}`));
    await hookWithHeaders(s, { Authorization: 'Bearer PAIR-LEAK-2', 'x-api-key': 'PAIR-LEAK-3', 'X-Trace': 'pair-kept' });
    await journal(s, 'limit=1'); // a read flushes what is buffered
    const stored = await storedText(s, accountId);
    expect(stored).toContain('pair-secret@example.com');
    expect(stored).toContain('pair-kept');
    expect(stored).not.toMatch(/PAIR-LEAK/);
  });

  it('masks credentials whose names have `-`, `_`, `.` or spaces inside the words: a lead field mx_Pass_Word, "Access Key", "api key"', async () => {
    expectOk(await s.call('POST', `${LM}/CreateLeadField`, { DisplayName: 'Pass Word', SchemaName: 'mx_Pass_Word', DataType: 'String' }));
    const lead = expectOk(
      await s.call('POST', `${LM}/Lead.Create`, [
        { Attribute: 'EmailAddress', Value: 'broken-words@example.com' },
        { Attribute: 'mx_Pass_Word', Value: 'WORD-LEAK-1' },
      ]),
    ).Message.Id;
    // The answer that repeats it is masked too.
    expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${lead}`));
    // Properties the call does not read are journaled as sent, masked all the same.
    const posted = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, 'Access Key': 'WORD-LEAK-2', 'x api key': 'WORD-LEAK-3', Pass_Word: 'WORD-LEAK-4' });
    expect(posted.status, posted.text).toBe(200);
    await journal(s, 'limit=1'); // a read flushes what is buffered
    const stored = await storedText(s, accountId);
    expect(stored).toContain('broken-words@example.com');
    expect(stored).not.toMatch(/WORD-LEAK/);
  });

  // Found by a fresh-eyes run: each of these was stored in clear.
  it('masks a masked value where an error quotes it, a lead search by a credential field, and webhook headers named like X-Authorization', async () => {
    expectOk(await s.call('POST', `${LM}/CreateLeadField`, { DisplayName: 'Secret Pin', SchemaName: 'mx_Secret_Pin', DataType: 'Number' }));
    // The answer quotes the value the request body's masking took out.
    const refused = await s.call('POST', `${LM}/Lead.Create`, [
      { Attribute: 'EmailAddress', Value: 'quoted-secret@example.com' },
      { Attribute: 'mx_Secret_Pin', Value: 'QUOTE-LEAK-1' },
    ]);
    expect(refused.status, refused.text).not.toBe(200);
    expect(refused.text).toContain('QUOTE-LEAK-1');
    // A lead search by a credential field, and by a field of the wrong type (its error quotes the value).
    await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'mx_Portal_Password', LookupValue: 'LOOKUP-LEAK-2', SqlOperator: '=' }, Paging: { PageIndex: 1, PageSize: 10 } });
    await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'mx_Secret_Pin', LookupValue: 'LOOKUP-LEAK-3', SqlOperator: '=' }, Paging: { PageIndex: 1, PageSize: 10 } });
    await hookWithHeaders(s, { 'X-Authorization': 'HEADER-LEAK-4', 'Ocp-Apim-Subscription-Key': 'HEADER-LEAK-5', 'X-Trace': 'header-kept' });
    await journal(s, 'limit=1'); // a read flushes what is buffered
    const stored = await storedText(s, accountId);
    expect(stored).toContain('quoted-secret@example.com');
    expect(stored).toContain('header-kept');
    expect(stored).not.toMatch(/(QUOTE|LOOKUP|HEADER)-LEAK/);
  });

  // Found by a fresh-eyes run of the broadened masking: each of these was journaled as `***`.
  it('leaves ordinary data readable: a short masked value that is also part of a word, and lead fields such as cookie consent or a secretary', async () => {
    const lead = expectOk(
      await s.call('POST', `${LM}/Lead.Create`, [
        { Attribute: 'EmailAddress', Value: 'frank-over@example.com' },
        { Attribute: 'mx_Web_Token', Value: 'Email' },
        { Attribute: 'mx_Cookie_Consent', Value: 'Accepted' },
        { Attribute: 'mx_Secretary_Name', Value: 'Maria' },
        { Attribute: 'mx_Is_Authenticated', Value: 'Yes' },
      ]),
    ).Message.Id;
    expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${lead}`));
    const entries = await journal(s, 'limit=5');
    const create = entries.find((e) => e.path.endsWith('Lead.Create') && e.requestBody?.includes('frank-over@'));
    const read = entries.find((e) => e.path.endsWith('Leads.GetById') && e.leadId === lead);
    expect(JSON.parse(create.requestBody)).toEqual([
      { Attribute: 'EmailAddress', Value: 'frank-over@example.com' },
      { Attribute: 'mx_Web_Token', Value: '***' },
      { Attribute: 'mx_Cookie_Consent', Value: 'Accepted' },
      { Attribute: 'mx_Secretary_Name', Value: 'Maria' },
      { Attribute: 'mx_Is_Authenticated', Value: 'Yes' },
    ]);
    const [answered] = JSON.parse(read.responseBody);
    expect(answered).toMatchObject({ EmailAddress: 'frank-over@example.com', mx_Web_Token: '***', mx_Cookie_Consent: 'Accepted', mx_Secretary_Name: 'Maria', mx_Is_Authenticated: 'Yes' });
  });

  it("keeps LeadSquared's quick-search `key` and other non-credential parameters, and masks refused form-encoded bodies", async () => {
    expectOk(await s.call('GET', `${LM}/Leads.GetByQuickSearch?key=journal-search&mx_Keyword=spring`));
    const [q] = await journal(s, 'path=GetByQuickSearch');
    expect(q.query).toBe('key=journal-search&mx_Keyword=spring&accessKey=***&secretKey=***');
    const form = await s.call('POST', `${PA}/Create`, undefined, { raw: 'EmailAddress=f%40example.com&password=FORM-LEAK-1&token=FORM-LEAK-2', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(400);
    const [f] = await journal(s, 'status=400');
    expect(f.requestBody).toBe('EmailAddress=f%40example.com&password=***&token=***');
    expect(await storedText(s, accountId)).not.toMatch(/FORM-LEAK/);
  });

  it("masks a credential-named `;name=value` inside another parameter's value, which the server does not split (found by a fresh-eyes run)", async () => {
    expectOk(await s.call('GET', `${LM}/Leads.GetByQuickSearch?key=semi;token=SEMI-LEAK-1;x=2&y=1;Password=SEMI-LEAK-2`));
    const [q] = await journal(s, 'path=GetByQuickSearch');
    expect(q.query).toBe('key=semi;token=***;x=2&y=1;Password=***&accessKey=***&secretKey=***');
    expect(await storedText(s, accountId)).not.toMatch(/SEMI-LEAK/);
  });

  it('records a keyed HEAD call, which reads as its GET does, without a response body (found by a fresh-eyes run)', async () => {
    const lead = await createLead(s, { EmailAddress: 'head-call@example.com' });
    const r = await s.call('HEAD', `${LM}/Leads.GetById?id=${lead}&probe=head`);
    expect(r.status).toBe(200);
    const [e] = await journal(s, 'path=Leads.GetById&limit=1');
    expect(e).toMatchObject({ method: 'HEAD', status: 200, query: `id=${lead}&probe=head&accessKey=***&secretKey=***`, leadId: lead, responseBody: null });
  });

  it('calls whose keys failed, health checks and journal reads are not recorded', async () => {
    const before = (await journal(s, 'limit=500')).length;
    expect((await s.call('POST', `${PA}/Create`, { ActivityEvent: code }, { keys: { accessKey: KEYS.accessKey, secretKey: 'wrong' } })).status).toBe(401);
    expect((await s.call('GET', '/health', undefined, { noAuth: true })).status).toBe(200);
    expect((await s.call('GET', `${J}?limit=1`)).status).toBe(200);
    const after = await journal(s, 'limit=500');
    expect(after.length).toBe(before);
    expect(after.some((e) => e.status === 401)).toBe(false);
  });

  it('records refused calls too: a 400 for bad JSON keeps the text that was sent', async () => {
    const r = await s.call('POST', `${PA}/Create`, undefined, { raw: '{"ActivityEvent": oops' });
    expectMx(r, 400, 'MXInvalidJsonException');
    const [e] = await journal(s, 'status=400');
    expect(e).toMatchObject({ path: `${PA}/Create`, status: 400, requestBody: '{"ActivityEvent": oops', leadId: null });
    expect(JSON.parse(e.responseBody).ExceptionType).toBe('MXInvalidJsonException');
    // A NUL character (which PostgreSQL cannot store in text) does not cost the entry, nor the others of its batch.
    const nul = await s.call('POST', `${PA}/Create?x=1`, undefined, { raw: '{"ActivityNote": "a\u0000b"' });
    expect(nul.status).toBe(400);
    const [n] = await journal(s, 'status=400');
    expect(n.requestBody).toBe('{"ActivityNote": "a\uFFFDb"');
  });

  it('filters by path, status, lead and time, pages newest first, and tails after a seq', async () => {
    const lead = await createLead(s, { EmailAddress: 'filters@example.com' });
    for (let i = 0; i < 3; i++) expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: `n${i}` }));
    expect((await s.call('GET', `${LM}/Leads.GetById?id=${randomUUID()}`)).status).toBe(200);

    const byLead = await journal(s, `leadId=${lead.toUpperCase()}`);
    expect(byLead.map((e) => e.path)).toEqual([`${PA}/Create`, `${PA}/Create`, `${PA}/Create`, `${LM}/Lead.Create`]);
    expect(byLead.map((e) => JSON.parse(e.requestBody).ActivityNote ?? null)).toEqual(['n2', 'n1', 'n0', null]);
    for (let i = 1; i < byLead.length; i++) expect(byLead[i].seq).toBeLessThan(byLead[i - 1].seq);
    expect((await journal(s, 'path=LEADS.GETBYID')).every((e) => e.path === `${LM}/Leads.GetById`)).toBe(true);
    expect((await journal(s, 'status=400')).every((e) => e.status === 400)).toBe(true);

    // Time: the window of the three activity posts only.
    const [newest, , oldest] = byLead;
    const window = await journal(s, `from=${oldest.at}&to=${newest.at}&leadId=${lead}`);
    expect(window.map((e) => e.id)).toEqual(byLead.slice(0, 3).map((e) => e.id).filter((id) => window.some((w) => w.id === id)));
    expect(window.length).toBeGreaterThanOrEqual(3);
    expect(await journal(s, `from=${new Date(newest.at + 60_000).toISOString()}`)).toEqual([]);
    // An inclusive `to` takes in the whole day, minute or second it names (a date alone was its midnight).
    const iso = new Date(newest.at).toISOString();
    for (const to of [iso.slice(0, 10), iso.slice(0, 16), iso.slice(0, 19)]) {
      expect((await journal(s, `to=${to}&leadId=${lead}`)).map((e) => e.id), to).toContain(newest.id);
    }
    expect((await journal(s, `to=${iso.slice(0, 10)}T00:00:00.000Z&leadId=${lead}`)).map((e) => e.id)).not.toContain(newest.id);

    // Paging: two at a time, following nextBeforeSeq, gives the same entries as one page.
    const page1 = await s.call('GET', `${J}?leadId=${lead}&limit=2`);
    expect(page1.body.entries).toHaveLength(2);
    expect(page1.body.entries[0].requestBody).toBeUndefined();
    const page2 = await s.call('GET', `${J}?leadId=${lead}&limit=2&beforeSeq=${page1.body.nextBeforeSeq}`);
    expect([...page1.body.entries, ...page2.body.entries].map((e: any) => e.id)).toEqual(byLead.map((e) => e.id));
    const page3 = await s.call('GET', `${J}?leadId=${lead}&limit=2&beforeSeq=${page2.body.nextBeforeSeq}`);
    expect(page3.body).toMatchObject({ entries: [], nextBeforeSeq: null });
    // Tailing: after the oldest, oldest first.
    const tail = await journal(s, `leadId=${lead}&afterSeq=${oldest.seq}`);
    expect(tail.map((e) => e.id)).toEqual([byLead[1].id, byLead[0].id]);

    // Days that are not in the calendar are refused, not rolled over into the next month.
    for (const bad of ['status=abc', 'limit=0', 'limit=501', 'from=yesterday', 'beforeSeq=1&afterSeq=2', 'from=2026-02-30', 'to=2025-02-29', 'from=2026-04-31T10:00:00Z', 'to=2026-00-10', 'from=2026-13-01']) {
      expectMx(await s.call('GET', `${J}?${bad}`), 400, 'MXInvalidInputException');
    }
    expectMx(await s.call('GET', `${J}/${randomUUID()}`), 404, 'MXInvalidEntityException');
    // An id holding U+0000 names nothing, on PostgreSQL (which refuses it in a query: it was a 500) as on SQLite.
    expectMx(await s.call('GET', `${J}/a%00b`), 404, 'MXInvalidEntityException');
    // The journal needs the account's keys.
    expect((await s.call('GET', J, undefined, { noAuth: true })).status).toBe(401);
  });

  it("one account never sees another's entries, by list or by id", async () => {
    const other = await secondAccount(s);
    const theirLead = await createLead(s, { EmailAddress: 'theirs@example.com' }, { keys: other.keys });
    const theirs = await journal(s, '', { keys: other.keys });
    expect(theirs.map((e) => e.leadId)).toEqual([theirLead]);
    const mine = await journal(s, 'limit=500');
    expect(mine.some((e) => e.id === theirs[0].id)).toBe(false);
    expect(await journal(s, `leadId=${theirLead}`)).toEqual([]);
    expectMx(await s.call('GET', `${J}/${theirs[0].id}`), 404, 'MXInvalidEntityException');
    expect((await s.call('GET', `${J}/${theirs[0].id}`, undefined, { keys: other.keys })).status).toBe(200);
    expect(await storedText(s, other.accountId)).not.toContain(other.keys.secretKey);
  });
});

describe('request journal limits and switches', () => {
  it('caps bodies at LEADTRAIL_JOURNAL_MAX_BODY_BYTES and keeps their full size', async () => {
    const s = await started({ LEADTRAIL_JOURNAL_MAX_BODY_BYTES: '1kb' });
    const code = await createType(s, { ActivityEventName: 'Long' });
    const note = 'é'.repeat(3000);
    const lead = await createLead(s, { EmailAddress: 'long@example.com', mx_Long: 'x'.repeat(3000) });
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: note }));
    expect((await s.call('GET', `${LM}/Leads.GetById?id=${lead}`)).status).toBe(200);
    const [read, post] = await journal(s, 'limit=2');
    expect(Buffer.byteLength(post.requestBody)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(post.requestBody)).toBeGreaterThan(1000);
    // Cut between characters, never inside one.
    expect(post.requestBody).not.toContain('\uFFFD');
    expect(post.requestSize).toBeGreaterThan(6000);
    expect(post.leadId).toBe(lead);
    expect(Buffer.byteLength(read.responseBody)).toBeLessThanOrEqual(1024);
    expect(read.responseSize).toBeGreaterThan(3000);
    expect(read.leadId).toBe(lead);
  });

  it('masks a body whole before cutting it: no part of a key or of a long token is kept, and the cut is at the cap (found by a fresh-eyes run)', async () => {
    const s = await started({ LEADTRAIL_JOURNAL_MAX_BODY_BYTES: '1kb' });
    const code = await createType(s, { ActivityEventName: 'Masked' });
    const lead = await createLead(s, { EmailAddress: 'masked@example.com' });
    // A token-named property whose value runs past the cap.
    const token = `eyJhbGciOiJIUzI1NiJ9.${'SECRETJWT'.repeat(200)}`;
    await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'n'.repeat(700), token });
    // The caller's own secret key, again and again past the cap (masking shortens what comes before
    // the cut), then 4-byte characters.
    await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: `${KEYS.secretKey.repeat(200)}${'😀'.repeat(400)}` });
    const [keyed, tokened] = await journal(s, 'limit=2&path=ProspectActivity.svc/Create');
    expect(tokened.requestBody).toContain('"token":"***"');
    expect(tokened.requestBody).not.toMatch(/SECRETJWT|eyJhbGci/);
    for (let i = 0; i + 5 <= KEYS.secretKey.length; i++) expect(keyed.requestBody).not.toContain(KEYS.secretKey.slice(i, i + 5));
    expect(Buffer.byteLength(keyed.requestBody)).toBeGreaterThan(1020);
    expect(keyed.requestBody).not.toContain('\uFFFD');
  });

  it("records a request body's size in bytes as sent, before its charset was decoded", async () => {
    const s = await started();
    const code = await createType(s, { ActivityEventName: 'Latin' });
    const lead = await createLead(s, { EmailAddress: 'latin@example.com' });
    const bytes = Buffer.from(JSON.stringify({ RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'José Ñandú' }), 'latin1');
    const res = await fetch(`${s.url}${PA}/Create?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      body: bytes,
    });
    expect(res.status).toBe(200);
    const [e] = await journal(s, 'limit=1');
    expect(e.requestBody).toContain('José Ñandú');
    expect(e.requestSize).toBe(bytes.length);
  });

  it('LEADTRAIL_JOURNAL=off records nothing, and the list says so', async () => {
    const s = await started({ LEADTRAIL_JOURNAL: 'off' });
    const accountId = await accountIdOf(s);
    await createLead(s, { EmailAddress: 'off@example.com' });
    const r = await s.call('GET', J);
    expect(r.body).toEqual({ recording: false, entries: [], nextBeforeSeq: null });
    expect(await s.services.store.journal.list(accountId, { limit: 10 })).toEqual([]);
  });

  it('keeps the newest LEADTRAIL_JOURNAL_MAX_ENTRIES per account', async () => {
    const s = await started({ LEADTRAIL_JOURNAL_MAX_ENTRIES: '5' });
    const other = await secondAccount(s);
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get?n=theirs`, undefined, { keys: other.keys })).status).toBe(200);
    for (let i = 0; i < 12; i++) expect((await s.call('GET', `${LM}/LeadsMetaData.Get?n=${i}`)).status).toBe(200);
    const kept = await journal(s, 'limit=100');
    expect(kept.map((e) => e.query.split('&')[0])).toEqual(['n=11', 'n=10', 'n=9', 'n=8', 'n=7']);
    // The other account's one entry is untouched by this account's limit.
    expect((await journal(s, '', { keys: other.keys })).map((e) => e.query.split('&')[0])).toEqual(['n=theirs']);
  });

  it('a read applies LEADTRAIL_JOURNAL_MAX_ENTRIES to entries this process did not write: after a restart with a lower limit (found by a fresh-eyes run)', async () => {
    const first = await started({ LEADTRAIL_JOURNAL_MAX_ENTRIES: '100' });
    for (let i = 0; i < 12; i++) expect((await first.call('GET', `${LM}/LeadsMetaData.Get?n=${i}`)).status).toBe(200);
    expect(await journal(first, 'limit=100')).toHaveLength(12);
    await first.close();
    const again = await started({ LEADTRAIL_JOURNAL_MAX_ENTRIES: '5', LEADTRAIL_DB: first.dbPath });
    // No call made yet by this process: the read itself trims, keeping the newest.
    expect((await journal(again, 'limit=100')).map((e) => e.query.split('&')[0])).toEqual(['n=11', 'n=10', 'n=9', 'n=8', 'n=7']);
  });

  it('deletes entries older than LEADTRAIL_JOURNAL_MAX_AGE', async () => {
    let now = Date.UTC(2026, 0, 1);
    const s = await started({ LEADTRAIL_JOURNAL_MAX_AGE: '1h' }, { ctx: { now: () => now, newId: () => randomUUID() } });
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get?n=old`)).status).toBe(200);
    expect((await journal(s)).map((e) => e.query.split('&')[0])).toEqual(['n=old']);
    now += 30 * 60_000;
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get?n=mid`)).status).toBe(200);
    expect((await journal(s)).map((e) => e.query.split('&')[0])).toEqual(['n=mid', 'n=old']);
    now += 45 * 60_000;
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get?n=new`)).status).toBe(200);
    expect((await journal(s)).map((e) => e.query.split('&')[0])).toEqual(['n=new', 'n=mid']);
  });

  it('POST /_leadtrail/reset empties the journal of the account, and only of it', async () => {
    const s = await started({ LEADTRAIL_SANDBOX: 'true' });
    const other = await secondAccount(s);
    await createLead(s, { EmailAddress: 'before-reset@example.com' });
    await createLead(s, { EmailAddress: 'theirs@example.com' }, { keys: other.keys });
    expect(await journal(s)).toHaveLength(1);
    expect((await s.call('POST', '/_leadtrail/reset')).status).toBe(200);
    // Only the reset call itself is left.
    expect((await journal(s)).map((e) => `${e.method} ${e.path}`)).toEqual(['POST /_leadtrail/reset']);
    expect(await journal(s, '', { keys: other.keys })).toHaveLength(1);
  });

  it('a call made before a reset and answered after it is not left in the emptied journal', async () => {
    // Its entry is recorded as it is answered, after the reset had emptied the journal: it had
    // been listed before the reset's own entry (a fresh-eyes run, with captures racing a reset).
    const s = await started({ LEADTRAIL_SANDBOX: 'true', LEADTRAIL_FAULTS: 'true' });
    const other = await secondAccount(s);
    const slow = { path: `${LM}/LeadsMetaData.Get`, latencyMs: 1500, times: 1 };
    expect((await s.call('POST', '/_leadtrail/faults', slow)).status).toBe(200);
    expect((await s.call('POST', '/_leadtrail/faults', slow, { keys: other.keys })).status).toBe(200);
    const ours = s.call('GET', `${LM}/LeadsMetaData.Get?n=before`);
    const theirs = s.call('GET', `${LM}/LeadsMetaData.Get?n=theirs`, undefined, { keys: other.keys });
    // Both are received (and held by their latency) before the reset is sent: each has taken its
    // rule's one use, which then leaves the list.
    for (const keys of [undefined, other.keys]) {
      for (let i = 0; (await s.call('GET', '/_leadtrail/faults', undefined, keys ? { keys } : undefined)).body.faults.length > 0; i++) {
        expect(i, 'the slow call never reached the server').toBeLessThan(500);
        await new Promise((ok) => setTimeout(ok, 10));
      }
    }
    expect((await s.call('POST', '/_leadtrail/reset')).status).toBe(200);
    expect((await ours).status).toBe(200);
    expect((await theirs).status).toBe(200);
    expect((await journal(s)).map((e) => `${e.method} ${e.path}`)).toEqual(['POST /_leadtrail/reset']);
    // Another account's call is its own, and stays.
    expect((await journal(s, '', { keys: other.keys })).map((e) => e.query.split('&')[0])).toContain('n=theirs');
  });
});
