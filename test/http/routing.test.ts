/** Transport: 404, 405, 413, malformed bodies, and paths / query names in any case. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf, counts, createLead, createType, expectMx, expectOk } from '../helpers/lsq.js';
import { KEYS, started, tempDir, type TestServer } from '../helpers/server.js';

let s: TestServer;
let lead: string;
let code: number;

beforeAll(async () => {
  s = await started({ LEADTRAIL_BODY_LIMIT: '4kb' });
  lead = await createLead(s, { FirstName: 'Route', EmailAddress: 'route@example.com' });
  code = await createType(s);
});

describe('unknown paths and methods', () => {
  it('GET /v2/ProspectActivity.svc/NoSuchOp is 404 with the envelope (checklist 11)', async () => {
    const msg = expectMx(await s.call('GET', `${PA}/NoSuchOp`), 404, 'MXAPINotFoundException', /API signature/);
    expect(msg).toContain('/v2/ProspectActivity.svc/NoSuchOp');
    expect(msg).not.toMatch(/secret/i);
    expectMx(await s.call('POST', '/v2/NoSuch.svc/Create', {}), 404, 'MXAPINotFoundException');
    expectMx(await s.call('GET', '/'), 404, 'MXAPINotFoundException');
  });

  it('an unknown path is 404 even without keys', async () => {
    expectMx(await s.call('GET', `${LM}/Leads.GetEverything`, undefined, { noAuth: true }), 404, 'MXAPINotFoundException');
  });

  it('GET on a POST-only operation is 405 with an Allow header (checklist 11)', async () => {
    const r = await s.call('GET', `${PA}/Create`);
    expectMx(r, 405, 'MXMethodNotAllowedException', /GET.*POST/);
    expect(r.headers.get('allow')).toBe('POST');
  });

  it('POST on a GET-only operation, and PUT/DELETE anywhere, are 405', async () => {
    expectMx(await s.call('POST', `${LM}/Leads.GetById?id=${lead}`, {}), 405, 'MXMethodNotAllowedException');
    expectMx(await s.call('PUT', `${PA}/Create`, {}), 405, 'MXMethodNotAllowedException');
    expectMx(await s.call('DELETE', `${LM}/Leads.GetById?id=${lead}`), 405, 'MXMethodNotAllowedException');
  });

  it('an unknown path or method is answered as such whatever the body: empty, malformed, of another type or too large', async () => {
    const bodies: [string, { raw: string; headers?: Record<string, string> }][] = [
      ['empty JSON', { raw: '', headers: { 'content-type': 'application/json' } }],
      ['malformed JSON', { raw: '{not json', headers: { 'content-type': 'application/json' } }],
      ['XML', { raw: '<a/>', headers: { 'content-type': 'application/xml' } }],
      ['over the body limit', { raw: JSON.stringify({ x: 'y'.repeat(5000) }), headers: { 'content-type': 'application/json' } }],
    ];
    for (const [what, init] of bodies) {
      expectMx(await s.call('POST', '/v2/Nope.svc/X', undefined, init), 404, 'MXAPINotFoundException');
      expectMx(await s.call('POST', `${PA}/NoSuchOp`, undefined, { ...init, noAuth: true }), 404, 'MXAPINotFoundException');
      const r = await s.call('POST', `${LM}/Leads.GetById?id=${lead}`, undefined, init);
      expect(r.status, `${what}: ${r.text}`).toBe(405);
      expect(r.body.ExceptionType).toBe('MXMethodNotAllowedException');
    }
  });

  it('405 is decided on the path in any case', async () => {
    expect((await s.call('GET', '/v2/prospectactivity.svc/CREATE')).status).toBe(405);
  });

  it('a path with percent-encoded letters, digits or . - _ ~ is the path they spell (RFC 3986; IIS decodes them)', async () => {
    // Was 404: the path was lower-cased before the router decoded `%4C` into an upper-case L.
    const byId = await s.call('GET', `/v2/%4CeadManagement.svc/%4Ceads.GetById?id=${lead}`);
    expect(byId.status, byId.text).toBe(200);
    expect(byId.body[0].ProspectID).toBe(lead);
    expect((await s.call('GET', `/%76%32/LeadManagement.svc/Leads%2EGetById?id=${lead}`)).body[0].ProspectID).toBe(lead);
    // The 405 for another method is decided on the decoded path too (was 404).
    const del = await s.call('DELETE', `${LM}/%4Ceads.GetById?id=${lead}`);
    expectMx(del, 405, 'MXMethodNotAllowedException');
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    expectMx(await s.call('GET', `${PA}/%43reate`), 405, 'MXMethodNotAllowedException');
    // Other escapes are not the characters they encode: an encoded slash is no separator, and
    // `%254C` is `%4C` as text, not an L.
    expectMx(await s.call('GET', `/v2/LeadManagement.svc%2FLeads.GetById?id=${lead}`), 404, 'MXAPINotFoundException');
    expectMx(await s.call('GET', `${LM}/%254Ceads.GetById?id=${lead}`), 404, 'MXAPINotFoundException');
    // Nor is an escape made by decoding: `%%34%43` is not `%4C`, decoded again into an L (it was a 405).
    expectMx(await s.call('GET', `${LM}/%%34%43eads.GetById?id=${lead}`), 400, 'MXInvalidInputException');
  });
});

describe('bodies', () => {
  it('a body over LEADTRAIL_BODY_LIMIT is 413 with the envelope and writes nothing', async () => {
    const accountId = await accountIdOf(s);
    const before = await counts(s, accountId);
    const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'x'.repeat(5000) });
    expectMx(r, 413, 'MXRequestTooLargeException', /4096 bytes/);
    expect(await counts(s, accountId)).toEqual(before);
  });

  it('a body over the limit sent with Expect: 100-continue (as curl sends big bodies) gets the 413 alone, or the 401 for bad keys', async () => {
    // Node invited every such body with "100 Continue", then the 413 came: curl printed 100.
    const file = path.join(tempDir(), 'body.json');
    const run = async (query: string, body: string) => {
      fs.writeFileSync(file, body);
      const args = ['-sv', '-w', '\n%{http_code}', '-X', 'POST', `${s.url}${PA}/Create?${query}`, '-H', 'content-type: application/json', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`];
      const { stdout, stderr } = await promisify(execFile)('curl', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const lines = stdout.split('\n');
      const status = Number(lines.pop());
      // Whether the server invited the body (curl -v shows the interim answer).
      return { status, invited: /< HTTP\/1\.1 100 Continue/.test(stderr), body: lines.join('\n') === '' ? null : JSON.parse(lines.join('\n')) };
    };
    const big = JSON.stringify({ RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'x'.repeat(3_000_000) });
    const good = `accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;
    expect(await run(good, big)).toMatchObject({ status: 413, invited: false, body: { ExceptionType: 'MXRequestTooLargeException' } });
    expect(await run(`accessKey=${KEYS.accessKey}&secretKey=wrong`, big)).toMatchObject({ status: 401, invited: false, body: { ExceptionType: 'MXUnAuthorizedAccessException' } });
    // A body within the limit is invited and taken.
    const small = JSON.stringify({ RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'expect' });
    expect(await run(good, small)).toMatchObject({ status: 200, invited: true, body: { Status: 'Success' } });
  });

  it('a body just under the limit is accepted', async () => {
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'x'.repeat(3500) }));
  });

  it('malformed JSON is 400 with a Newtonsoft-like message, on every POST endpoint', async () => {
    for (const path of [`${PA}/Create`, `${PA}/CreateCustom`, `${PA}/Bulk/CustomActivity/Add/ByLeadId`, `${PA}/CreateType`, `${PA}/Retrieve?leadId=${lead}`, `${LM}/Lead.Create`, `${LM}/Lead.Update?leadId=${lead}`, `${LM}/Lead.Capture`]) {
      const r = await s.call('POST', path, undefined, { raw: '{not json' });
      expectMx(r, 400, 'MXInvalidJsonException', /Unexpected character encountered while parsing value/);
    }
  });

  it('a body that is not JSON gets one message on every Node version: the first bad character, its path, line and column, and no more of the body', async () => {
    // Node's own JSON.parse text was passed on: Node 24 adds "(line 1 column 9)" where Node 20 does
    // not, and some of its messages quote the body's first ten characters (here, a pasted key).
    const cases: [string, string][] = [
      ['sk-live-0123456789abcdef', "Unexpected character encountered while parsing value: s. Path '', line 1, position 1."],
      ['[{"Attribute":"EmailAddress" "Value":"a@b.example"}]', "Unexpected character encountered while parsing value: \". Path '[0].Value', line 1, position 30."],
      ['{"RelatedProspectId": "x",}', "Unexpected character encountered while parsing value: }. Path '', line 1, position 27."],
      ['{"Paging":', "Unexpected end when parsing JSON. Path 'Paging', line 1, position 11."],
      ['{\n  "ActivityNote": "tab\there"\n}', "Unexpected character encountered while parsing value: \\u0009. Path 'ActivityNote', line 2, position 23."],
      ['{"ActivityEvent": 1}trailing', "Unexpected character encountered while parsing value: t. Path '', line 1, position 21."],
    ];
    for (const [raw, message] of cases) {
      const r = await s.call('POST', `${PA}/Create`, undefined, { raw });
      expect(expectMx(r, 400, 'MXInvalidJsonException'), raw).toBe(message);
    }
    expect(JSON.stringify((await s.call('POST', `${LM}/Lead.Create`, undefined, { raw: 'sk-live-0123456789abcdef' })).body)).not.toContain('sk-live');
  });

  it('the body is read as JSON whatever the Content-Type says', async () => {
    const body = JSON.stringify({ RelatedProspectId: lead, ActivityEvent: code });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8']) {
      const r = await s.call('POST', `${PA}/Create`, undefined, { raw: body, headers: { 'content-type': ct } });
      expect(r.status, `${ct}: ${r.text}`).toBe(200);
    }
  });

  it('an empty body on an operation that needs one is 400', async () => {
    expectMx(await s.call('POST', `${PA}/Create`, undefined, { raw: '' }), 400, 'MXInvalidInputException', /JSON object/);
    expectMx(await s.call('POST', `${LM}/Lead.Create`, undefined, { raw: '   ' }), 400, 'MXInvalidInputException', /JSON array/);
  });

  it('JSON of the wrong shape (null, a string, a number) is 400', async () => {
    for (const raw of ['null', '"text"', '42', 'true']) {
      expectMx(await s.call('POST', `${PA}/Create`, undefined, { raw }), 400, 'MXInvalidInputException');
    }
  });

  it('property names match in any case', async () => {
    const r = await s.call('POST', `${PA}/Create`, { relatedprospectid: lead, ACTIVITYEVENT: code, activityNote: 'lower', fields: [] });
    const id = expectOk(r).Message.Id;
    expect(expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`)).ActivityNote).toBe('lower');
  });
});

describe('paths and query names in odd case', () => {
  it('paths match case-insensitively, with a trailing or doubled slash', async () => {
    for (const path of [`/V2/LEADMANAGEMENT.SVC/LEADS.GETBYID?id=${lead}`, `/v2/leadmanagement.svc/leads.getbyid/?id=${lead}`, `/v2//LeadManagement.svc/Leads.GetById?id=${lead}`]) {
      const r = await s.call('GET', path);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      expect(r.body[0].ProspectID).toBe(lead);
    }
  });

  it('query names match case-insensitively on every read', async () => {
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?ID=${lead}`))).toHaveLength(1);
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?EmailAddress=route@example.com`))).toHaveLength(1);
    expect(expectOk(await s.call('POST', `${PA}/Retrieve?LeadID=${lead}`, {})).RecordCount).toBeGreaterThan(0);
    expect(expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?CODE=${code}`)).ID).toBe(code);
    const act = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code })).Message.Id;
    expect(expectOk(await s.call('GET', `${PA}/GetActivityDetails?ActivityID=${act}`)).ID).toBe(act);
    expectOk(await s.call('POST', `${LM}/Lead.Update?LEADID=${lead}`, [{ Attribute: 'LastName', Value: 'Q' }]));
  });

  it('the first of a repeated query name wins', async () => {
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${lead}&Id=nothing`))).toHaveLength(1);
  });
});
