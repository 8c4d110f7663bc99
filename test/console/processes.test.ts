/**
 * Several API processes on one PostgreSQL database: a console session signed in on one is accepted
 * by another (no session table, nothing in memory), and the Requests page's live stream on one
 * shows calls answered by another (it polls the shared journal). PostgreSQL only in effect: on the
 * sqlite project the second server opens its own file, so the file is skipped there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { consoleClient } from './session.js';

const PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  if (!PG) return;
  a = await startServer();
  b = await startServer({ LEADTRAIL_DB: a.dbPath, LEADTRAIL_ROLE: 'api' });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe.runIf(PG)('two API processes, one database', () => {
  it('a session from one process is accepted by the other', async () => {
    const c = await consoleClient(a.url);
    const res = await fetch(`${b.url}/console/leads`, { headers: { cookie: c.cookie }, redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<h1>Leads</h1>');
  });

  it('the live Requests stream on one process shows a call answered by the other', async () => {
    const c = await consoleClient(b.url);
    const ac = new AbortController();
    const res = await fetch(`${b.url}/console/requests/stream?after=0`, { headers: { cookie: c.cookie }, signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const made = await a.call('POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'across@example.com' }]);
    expect(made.status, made.text).toBe(200);
    let text = '';
    const until = Date.now() + 15_000;
    while (!/event: entry\ndata: .*lead\.create/i.test(text) && Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    expect(text).toMatch(/event: entry\ndata: .*lead\.create/i);
    expect(text).toContain(made.body.Message.Id);
  });
});
