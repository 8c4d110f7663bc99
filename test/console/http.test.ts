/**
 * The console over plain HTTP: sessions that cannot be forged or outlive their key, "retry now" for
 * a request in ERROR, and the console's own answers (HTML error pages, no MX envelope, security
 * headers). On SQLite and PostgreSQL.
 */
import net from 'node:net';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { addAccessKey } from '../../src/domain/accounts.js';
import { MAX_RETRIES } from '../../src/queue/retry-policy.js';
import { accept, settled, waitFor } from '../async/helpers.js';
import { PG_BASE_URL, lockWaitersIn } from '../helpers/pg.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';
import { consoleClient } from './session.js';

let s: TestServer;
beforeAll(async () => {
  s = await started({ LEADTRAIL_FAULTS: 'true' });
});

describe('sessions', () => {
  it('a tampered or made-up session cookie is not a session', async () => {
    const c = await consoleClient(s.url);
    expect((await c.get('/console/leads')).status).toBe(200);
    const value = /leadtrail_console=([^;]+)/.exec(c.cookie)![1];
    const [account, cred, exp, id, mac] = value.split('.');
    const forged = [
      `${account}.${cred}.${Number(exp) + 1_000_000}.${id}.${mac}`, // longer life, same mac
      `${account}.${cred}.${exp}.${id}.${mac.slice(0, -2)}AA`,
      `${account}.${cred}.${exp}.other-session.${mac}`,
      `${account}.${cred}.${exp}.${mac}`, // the old four parts
      'garbage',
    ];
    for (const f of forged) {
      const r = await fetch(`${s.url}/console/leads`, { headers: { cookie: `leadtrail_console=${f}` }, redirect: 'manual' });
      expect(r.status, f).toBe(303);
      expect(r.headers.get('location')).toBe('/console/sign-in');
    }
  });

  it("revoking the access key ends the sessions signed in with it", async () => {
    const [account] = await s.services.store.accounts.list();
    const keys = await s.services.store.transaction((tx) => addAccessKey(tx, s.services.ctx, account.id, null, 'second-access', 'second-secret'));
    const c = await consoleClient(s.url, keys);
    expect((await c.get('/console/leads')).status).toBe(200);
    expect(await s.services.store.accounts.revokeCredential(account.id, keys.accessKey, Date.now())).toBe(true);
    expect((await c.get('/console/leads')).status).toBe(303);
  });
});

describe('cookies', () => {
  const cookiesOf = (h: Headers) => new Map(h.getSetCookie().map((c) => [c.split('=')[0], c]));
  /** The Set-Cookie headers of a sign-in made with `headers` on both the form and the post. */
  async function signInCookies(headers: Record<string, string>): Promise<Map<string, string>> {
    const form = await fetch(`${s.url}/console/sign-in`, { headers });
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
    const first = cookiesOf(form.headers);
    const res = await fetch(`${s.url}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', cookie: [...first.values()].map((c) => c.split(';')[0]).join('; ') },
      body: new URLSearchParams({ _csrf: token, ...KEYS }),
    });
    expect(res.status).toBe(303);
    return new Map([...first, ...cookiesOf(res.headers)]);
  }

  it('behind a proxy that terminates TLS, the CSRF cookie is Secure as the session cookie is; over plain HTTP neither is', async () => {
    const proxied = await signInCookies({ 'x-forwarded-proto': 'https' });
    expect([...proxied.keys()].sort()).toEqual(['leadtrail_console', 'leadtrail_csrf']);
    for (const [name, c] of proxied) expect(c, name).toMatch(/; Secure/i);
    const plain = await signInCookies({});
    for (const [name, c] of plain) {
      expect(c, name).not.toMatch(/; Secure/i);
      expect(c, name).toMatch(/; HttpOnly/i);
      expect(c, name).toMatch(/; SameSite=Strict/i);
    }
  });
});

describe('sign-out (found by a fresh-eyes run: it only cleared the browser cookie)', () => {
  it('ends the session for a copy of its cookie too, and for the page of another tab', async () => {
    const c = await consoleClient(s.url);
    const copy = c.cookie;
    const other = await consoleClient(s.url);
    expect((await c.post('/console/sign-out', '/console/leads')).status).toBe(303);
    const r = await fetch(`${s.url}/console/leads`, { headers: { cookie: copy }, redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/console/sign-in');
    // Another sign-in of the same key is a session of its own, still on.
    expect((await other.get('/console/leads')).status).toBe(200);
  });

  it("an htmx poll of a page whose session ended is sent to sign-in (HX-Redirect), not left with a 401 it ignores", async () => {
    const c = await consoleClient(s.url);
    expect((await c.post('/console/sign-out', '/console/async')).status).toBe(303);
    const r = await fetch(`${s.url}/console/async/table`, { headers: { cookie: c.cookie, 'hx-request': 'true' }, redirect: 'manual' });
    expect(r.status).toBe(401);
    expect(r.headers.get('hx-redirect')).toBe('/console/sign-in');
  });

  it('the live Requests stream ends with a signed-out row once the session ends, wherever it ended', async () => {
    const c = await consoleClient(s.url);
    const ac = new AbortController();
    const res = await fetch(`${s.url}/console/requests/stream?after=0`, { headers: { cookie: c.cookie }, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (want: RegExp, ms: number) => {
      const until = Date.now() + ms;
      while (!want.test(text) && Date.now() < until) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), until - Date.now()))]);
        if (chunk === null || chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      return want.test(text);
    };
    expect(await readUntil(/retry: 2000/, 5_000)).toBe(true);
    await c.post('/console/sign-out', '/console/leads');
    expect(await readUntil(/event: signed-out\ndata: <tr id="signed-out"/, 10_000)).toBe(true);
    // And the server closed it.
    const last = await Promise.race([reader.read(), new Promise<{ done: boolean }>((r) => setTimeout(() => r({ done: false }), 5_000))]);
    expect(last.done).toBe(true);
    ac.abort();
  });
});

describe('async request pages', () => {
  it('a lead update that succeeded links the lead it updated (its answer names none) (found by a fresh-eyes run)', async () => {
    const lead = await s.call('POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'async-update@example.com' }]);
    expect(lead.status, lead.text).toBe(200);
    const leadId = lead.body.Message.Id as string;
    const id = await accept(s.url, `/lead/update?leadId=${leadId}`, [{ Attribute: 'FirstName', Value: 'Updated' }]);
    expect((await settled(s.url, id, ['Success', 'FAILURE', 'ERROR'], '/lead/update/status')).TaskStatus.Status).toBe('Success');
    const c = await consoleClient(s.url);
    const page = await c.get(`/console/async/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="/console/leads/${leadId}"`);
  });
});

describe('paging (found by a fresh-eyes run)', () => {
  it('a page past the last goes to the last page, keeping the search', async () => {
    const c = await consoleClient(s.url);
    const r = await c.get('/console/leads?q=nobody-has-this&page=9999');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/console/leads?q=nobody-has-this&page=1');
    const a = await c.get('/console/async?page=500');
    expect(a.status).toBe(303);
    expect(a.headers.get('location')).toMatch(/^\/console\/async\?page=\d+$/);
  });

  it('"Older requests" is offered only when there are older ones: not under a page of exactly 50', async () => {
    const c = await consoleClient(s.url);
    for (let i = 0; i < 50; i++) expect((await s.call('GET', `/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=555000${i}`)).status).toBe(200);
    const fifty = await c.get('/console/requests?path=RetrieveLeadByPhoneNumber');
    expect(fifty.text.match(/<tr id="entry-/g)).toHaveLength(50);
    expect(fifty.text).not.toContain('Older requests');
    expect((await s.call('GET', '/v2/LeadManagement.svc/RetrieveLeadByPhoneNumber?phone=5550050')).status).toBe(200);
    const more = await c.get('/console/requests?path=RetrieveLeadByPhoneNumber');
    expect(more.text.match(/<tr id="entry-/g)).toHaveLength(50);
    expect(more.text).toContain('Older requests');
  });
});

describe('retry now', () => {
  it('puts a request in ERROR back in the queue, where it succeeds; any other request cannot be retried', async () => {
    const lead = await s.call('POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'retry@example.com' }]);
    expect(lead.status, lead.text).toBe(200);
    expect((await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: MAX_RETRIES + 1 })).status).toBe(200);
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'retry@example.com', ActivityEvent: 21, ActivityNote: 'retried' });
    // Each run-now makes the waiting retry due; after the last one the request ends in ERROR.
    let status = '';
    for (let i = 0; i < MAX_RETRIES + 5 && status !== 'ERROR'; i++) {
      await s.call('POST', '/_leadtrail/retries/run-now');
      await new Promise((r) => setTimeout(r, 150));
      status = (await settled(s.url, id, ['In-Queue', 'ERROR'])).TaskStatus.Status;
    }
    expect(status).toBe('ERROR');

    const c = await consoleClient(s.url);
    const page = await c.get(`/console/async/${id}`);
    expect(page.text).toContain('Retry now');
    expect(page.text).toContain(`System error after ${MAX_RETRIES} retries`);
    // The first attempt and each of its retries failed: one more than the retries.
    expect(page.text).toMatch(new RegExp(`<dt>Failed attempts</dt><dd>${MAX_RETRIES + 1}</dd>`));
    const r = await c.post(`/console/async/${id}/retry`, `/console/async/${id}`);
    expect(r.status).toBe(303);
    const done = await settled(s.url, id);
    expect(done.TaskStatus.Status).toBe('Success');
    const after = await c.get(`/console/async/${id}`);
    expect(after.text).not.toContain('Retry now');
    expect(after.text).toMatch(/Resulting activity/);
    // The error shown is from before the retry, and the page says so (found by a fresh-eyes run).
    expect(after.text).toMatch(/<dt>Failed attempts<\/dt><dd>0 since it was put back in the queue \(the error below is from before\)<\/dd>/);

    // Now Success: no second retry; and without the form's token, nothing happens at all.
    expect((await c.post(`/console/async/${id}/retry`, `/console/async/${id}`)).status).toBe(409);
    // An id that is no request of this account's is not found, as its page says, not "in the wrong state".
    for (const unknown of ['garbage', '00000000-0000-0000-0000-000000000000']) {
      expect((await c.get(`/console/async/${unknown}`)).status).toBe(404);
      const gone = await c.post(`/console/async/${unknown}/retry`, `/console/async/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.text).toContain('That async request was not found in this account.');
    }
    const noToken = await fetch(`${s.url}/console/async/${id}/retry`, { method: 'POST', headers: { cookie: c.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(noToken.status).toBe(403);
  });
});

describe("the console's own answers", () => {
  it('an address of the console that cannot be routed (broken percent-encoding, too long) is an HTML page, not an MX envelope (found by a fresh-eyes run)', async () => {
    for (const [path, status] of [['/console/leads/%zz', 400], [`/console/leads/${'a'.repeat(5000)}`, 414]] as const) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status, path.slice(0, 30)).toBe(status);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).not.toContain('ExceptionType');
    }
    // The API keeps LeadSquared's envelope.
    const api = await fetch(`${s.url}/v2/LeadManagement.svc/%zz`);
    expect((await api.json()).ExceptionType).toBe('MXInvalidInputException');
  });

  it('an id or filter holding U+0000 (%00) matches nothing: an HTML 404 on either engine (PostgreSQL had answered 500)', async () => {
    const c = await consoleClient(s.url);
    for (const path of ['/console/leads/a%00b', '/console/activities/a%00b', '/console/async/a%00b', '/console/async/a%00b/status', '/console/requests/a%00b', '/console/requests?lead=a%00b', '/console/requests?path=a%00b', '/console/requests/stream?lead=a%00b', '/console/leads?q=a%00b']) {
      const r = await c.get(path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(r.text, path).toContain('Nothing in this account matches this address.');
    }
  });

  it('unknown console pages are HTML 404s, not MX envelopes; pages carry a strict CSP', async () => {
    const c = await consoleClient(s.url);
    const r = await c.get('/console/no-such-page');
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).not.toContain('ExceptionType');
    const leads = await c.get('/console/leads?q=%3Cscript%3E');
    expect(leads.status).toBe(200);
    expect(leads.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(leads.text).not.toContain('<script>');
    expect(leads.text).toContain('&lt;script&gt;');
    // The async list polls its table; while nothing changed the answer is empty (204), so the
    // browser keeps the table and the keyboard focus in it.
    const list = await c.get('/console/async');
    const poll = /hx-get="([^"]+)"/.exec(list.text)![1].replace(/&amp;/g, '&');
    expect((await c.get(poll)).status).toBe(204);
    await accept(s.url, '/activity/create', { EmailAddress: 'nobody@example.com', ActivityEvent: 21 });
    const changed = await c.get(poll);
    expect(changed.status).toBe(200);
    expect(changed.text).toContain('id="async-table"');
    const missing = await c.get('/console/leads/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    // A JSON body is not read by the console (its scope parses forms only).
    const json = await fetch(`${s.url}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(KEYS) });
    expect(json.status).toBe(415);
    expect(await json.text()).not.toContain('ExceptionType');
  });
});

describe('journal off', () => {
  it('the Requests page says new calls are not recorded, and records none', async () => {
    const off = await started({ LEADTRAIL_JOURNAL: 'false' });
    await off.call('POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'off@example.com' }]);
    const c = await consoleClient(off.url);
    const page = await c.get('/console/requests');
    expect(page.status).toBe(200);
    expect(page.text).toContain('The request journal is off on this server');
    expect(page.text).toContain('No requests recorded yet');
    // A page of older requests past the journal's end says so, and describes no live list it lacks
    // (it said "No requests recorded yet" with newer ones there, its table pointing at a missing
    // #live-status: a fresh-eyes run).
    const older = await c.get('/console/requests?before=1');
    expect(older.text).toContain('No older requests');
    expect(older.text).not.toContain('No requests recorded yet');
    expect(older.text).not.toContain('aria-describedby="live-status"');
  });
});

describe('page titles', () => {
  const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? null;
  const named = (title: string | null) => title !== null && !title.includes('undefined') && /^\S.* · leadtrail console$/.test(title);

  it('every page names itself, signed in or not, including the sign-in form after wrong keys', async () => {
    const form = await fetch(`${s.url}/console/sign-in`);
    const formHtml = await form.text();
    expect(titleOf(formHtml)).toBe('Sign in · leadtrail console');
    const token = /name="_csrf" value="([^"]+)"/.exec(formHtml)![1];
    const wrong = await fetch(`${s.url}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') },
      body: new URLSearchParams({ _csrf: token, accessKey: KEYS.accessKey, secretKey: 'not-the-secret' }),
    });
    expect(wrong.status).toBe(401);
    expect(titleOf(await wrong.text())).toBe('Sign in · leadtrail console');

    const c = await consoleClient(s.url);
    for (const path of ['/console/requests', '/console/leads', '/console/async', '/console/activity-types', '/console/lead-fields', '/console/activity', '/console/no-such-page']) {
      const page = await c.get(path);
      expect(named(titleOf(page.text)), `${path}: ${titleOf(page.text)}`).toBe(true);
    }
  });
});

describe('the requests filter', () => {
  it('a status that is not an HTTP status is said to be so, and not applied; a valid one filters', async () => {
    // A 200 and a 500 (an MX error, as LeadSquared answers it) in the journal of this account.
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get')).status).toBe(200);
    expect((await s.call('GET', '/v2/ProspectActivity.svc/GetActivityDetails?activityId=no-such-activity-for-filter')).status).toBe(500);
    const c = await consoleClient(s.url);
    for (const bad of ['abc', '20', '999', '4040']) {
      const page = await c.get(`/console/requests?status=${bad}`);
      expect(page.status).toBe(200);
      expect(page.text, bad).toContain(`Status must be an HTTP status code from 100 to 599, not &quot;${bad}&quot;`);
      // What was typed stays in the field, and every status is listed.
      expect(page.text).toContain(`name="status" inputmode="numeric" size="4" value="${bad}"`);
      expect(page.text).toContain('ActivityTypes.Get');
      expect(page.text).toContain('GetActivityDetails');
    }
    const only500 = await c.get('/console/requests?status=500');
    expect(only500.text).not.toContain('id="filter-error"');
    expect(only500.text).toContain('GetActivityDetails');
    expect(only500.text).not.toContain('ActivityTypes.Get');
    expect((await c.get('/console/requests?status=')).text).not.toContain('id="filter-error"');
  });
});

describe('the live Requests stream', () => {
  /** leadtrail_console_streams from /metrics: the console's live tails open in the server. */
  const streamsOpen = async () => Number(/^leadtrail_console_streams (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);
  /** The stream calls counted with status 499 (the browser left before an answer). */
  const left = async () => Number(/^leadtrail_http_requests_total\{[^}]*route="\/console\/requests\/stream"[^}]*status="499"[^}]*\} (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);

  it('is counted in leadtrail_console_streams while its page is open', async () => {
    const c = await consoleClient(s.url);
    const ac = new AbortController();
    const res = await fetch(`${s.url}/console/requests/stream?after=0`, { headers: { cookie: c.cookie }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(await streamsOpen()).toBe(1);
    ac.abort();
    await waitFor(streamsOpen, (n) => n === 0);
  });

  // On PostgreSQL the session check (onRequest) is a round trip: a browser that left during it had
  // closed the request before the stream listened for its close, and the stream then polled the
  // journal until the server stopped. Made certain with the session table locked meanwhile. (On
  // SQLite the check reads without waiting for the event loop: nothing can come between.)
  it.runIf(process.env.LEADTRAIL_TEST_STORE === 'postgres')('ends when its browser left while the session was being checked', async () => {
    const c = await consoleClient(s.url);
    const schema = s.dbPath.slice(3);
    const locker = new pg.Client({ connectionString: PG_BASE_URL });
    await locker.connect();
    try {
      const before = await left();
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".console_sign_outs IN ACCESS EXCLUSIVE MODE`);
      const { port } = new URL(s.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise((ok) => socket.once('connect', ok));
      socket.write(`GET /console/requests/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${c.cookie}\r\n\r\n`);
      await waitFor(() => lockWaitersIn(schema), (n) => n > 0);
      socket.destroy();
      await waitFor(left, (n) => n === before + 1);
      await locker.query('COMMIT');
      // A page loaded after it has had its session checked after the stream's: the stream's
      // handler has run by the time this answers.
      expect((await c.get('/console/leads')).status).toBe(200);
      expect(await streamsOpen()).toBe(0);
    } finally {
      await locker.end();
    }
  });
});
