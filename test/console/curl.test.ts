/**
 * The console's "Copy as curl" runs once its placeholders are filled in: for a sync call, an async
 * submit (which needs the x-api-key as well as the keys: it was left out, and the command got 403)
 * and an async status read (the x-api-key alone). Run with the shell and curl, as a user would.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { accept } from '../async/helpers.js';
import { LM, createType, expectOk } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';
import { consoleClient, type ConsoleClient } from './session.js';

let s: TestServer;
let c: ConsoleClient;

beforeAll(async () => {
  s = await started();
  c = await consoleClient(s.url);
});

const unescape = (html: string) => html.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The newest journal entry whose path contains `path`, its console page's curl, filled in, run. */
async function rerun(path: string): Promise<{ command: string; status: number; body: any }> {
  const entries = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=${encodeURIComponent(path)}`)).entries as { id: string }[];
  expect(entries.length, path).toBe(1);
  const page = await c.get(`/console/requests/${entries[0].id}`);
  const command = unescape(/<code id="curl">([\s\S]*?)<\/code>/.exec(page.text)![1])
    .replace('YOUR_ACCESS_KEY', KEYS.accessKey)
    .replace('YOUR_SECRET_KEY', KEYS.secretKey)
    .replace('YOUR_API_KEY', KEYS.apiKey);
  // Not execFileSync: the server runs in this process, and would not answer while it blocks.
  const { stdout: out } = await promisify(execFile)('sh', ['-c', `${command} -s -w '\\n%{http_code}'`], { encoding: 'utf8' });
  const lines = out.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { command, status, body: JSON.parse(lines.join('\n')) };
}

describe('Copy as curl', () => {
  it('a sync call, an async submit and an async status read each run as copied', async () => {
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'curl@console.example' }]));
    // A copy of Lead.Create would be a duplicate: a body-less read and a write with a body.
    expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=curl@console.example`));
    const read0 = await rerun('Leads.GetByEmailaddress');
    expect(read0.status, read0.command).toBe(200);
    expect(read0.body[0].EmailAddress).toBe('curl@console.example');
    const lead = read0.body[0].ProspectID as string;
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, [{ Attribute: 'FirstName', Value: "O'Curl" }]));
    const sync = await rerun('Lead.Update');
    expect(sync.status, sync.command).toBe(200);
    expect(sync.body.Status).toBe('Success');

    const code = await createType(s);
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'curl@console.example', ActivityEvent: code });
    const submit = await rerun('/activity/create');
    expect(submit.command).toContain("-H 'x-api-key: YOUR_API_KEY'".replace('YOUR_API_KEY', KEYS.apiKey));
    expect(submit.status, submit.command).toBe(200);
    expect(submit.body.RequestID).toEqual(expect.any(String));

    const st = await s.call('GET', `/activity/status?RequestID=${id}`, undefined, { noAuth: true, headers: { 'x-api-key': KEYS.apiKey } });
    expect(st.status).toBe(200);
    const read = await rerun('/activity/status');
    expect(read.command).not.toContain('accessKey');
    expect(read.status, read.command).toBe(200);
    expect(read.body).toMatchObject({ TaskStatus: { Status: expect.any(String) } });
  });

  it('a body cut at the journal limit is said to be cut, and the command leaves a place for it instead of sending broken JSON (found by a fresh-eyes run)', async () => {
    const note = 'N'.repeat(20_000);
    const lead = expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'cut@console.example' }])).Message.Id;
    const code = await createType(s);
    expectOk(await s.call('POST', '/v2/ProspectActivity.svc/Create', { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: note }));
    const [entry] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=ProspectActivity.svc/Create`)).entries as { id: string }[];
    const page = await c.get(`/console/requests/${entry.id}`);
    expect(page.text).toMatch(/Cut: the journal keeps the first 16384 bytes of each body .* this one was 2\d{4} bytes/);
    const command = unescape(/<code id="curl">([\s\S]*?)<\/code>/.exec(page.text)![1]);
    expect(command).toContain("--data-raw 'PASTE_THE_WHOLE_BODY_HERE'");
    expect(command).not.toContain('NNNN');
    // A body that was not cut (masked shorter than it was sent) is sent as it is.
    expectOk(await s.call('POST', '/v2/ProspectActivity.svc/Create', { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'short', password: 'a-long-password-here' }));
    const [short] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=ProspectActivity.svc/Create`)).entries as { id: string }[];
    const shortPage = await c.get(`/console/requests/${short.id}`);
    expect(shortPage.text).not.toContain('Cut: the journal keeps');
    expect(unescape(/<code id="curl">([\s\S]*?)<\/code>/.exec(shortPage.text)![1])).toContain('"ActivityNote":"short"');
  });

  it('a form-encoded body is copied as a form', async () => {
    const r = await s.call('POST', `${LM}/Lead.Capture`, undefined, { raw: 'EmailAddress=form%40console.example&FirstName=Form', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status, r.text).toBeLessThan(500);
    const [entry] = expectOk(await s.call('GET', `/_leadtrail/journal?limit=1&path=Lead.Capture`)).entries as { id: string }[];
    const page = await c.get(`/console/requests/${entry.id}`);
    expect(unescape(/<code id="curl">([\s\S]*?)<\/code>/.exec(page.text)![1])).toContain("-H 'Content-Type: application/x-www-form-urlencoded'");
  });
});
