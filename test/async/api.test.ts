/**
 * The async host's doors: query-name spellings, the status paths and which requests each one
 * knows (and, for a request of another kind, where its status is read), 404 for unknown and
 * foreign RequestIDs, 403/401/400 with nothing stored, the second port, and lead capture with its
 * own status path.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/domain/accounts.js';
import { freePort } from '../helpers/ports.js';
import { KEYS, request, started, type TestServer } from '../helpers/server.js';
import { accept, asyncCall, countRequests, createType, settled, statusOf } from './helpers.js';

let s: TestServer;
let code: number;
let createId: string;
let customId: string;

beforeAll(async () => {
  s = await started();
  code = await createType(s, 'Api Door');
  createId = await accept(s.url, '/activity/create', { EmailAddress: 'door@example.com', ActivityEvent: code });
  customId = await accept(s.url, '/activity/createcustom', {
    LeadDetails: [{ Attribute: 'EmailAddress', Value: 'door-c@example.com' }],
    Activity: { ActivityEvent: code },
  });
  await settled(s.url, createId);
  await settled(s.url, customId);
});

const NOT_FOUND = { Status: 'Error', ExceptionType: 'MXInvalidEntityException', ExceptionMessage: expect.stringContaining('was not found') };

describe('status query names', () => {
  it.each(['RequestID', 'RequestId', 'requestid', 'REQUESTID'])('accepts %s', async (name) => {
    const r = await asyncCall(s.url, 'GET', `/activity/status?${name}=${createId}`, undefined, { noAuth: true });
    expect(r.status, r.text).toBe(200);
    expect(r.body.RequestId).toBe(createId);
  });

  it('answers a missing RequestID with the mandatory-parameter envelope', async () => {
    const r = await asyncCall(s.url, 'GET', '/activity/status', undefined, { noAuth: true });
    expect(r.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXMandatoryAttributeMissingException' });
  });
});

describe('status paths', () => {
  it('/activity/status knows both activity kinds; each kind path knows only its own', async () => {
    expect((await statusOf(s.url, createId, '/activity/status')).body.TaskStatus.TaskType).toBe('Activity Create');
    expect((await statusOf(s.url, customId, '/activity/status')).body.TaskStatus.TaskType).toBe('Activity Create Custom');
    expect((await statusOf(s.url, createId, '/activity/create/status')).status).toBe(200);
    expect((await statusOf(s.url, customId, '/activity/createcustom/status')).status).toBe(200);
    const wrong = await statusOf(s.url, customId, '/activity/create/status');
    expect(wrong.status).toBe(404);
    expect(wrong.body).toEqual({
      Status: 'Error',
      ExceptionType: 'MXInvalidEntityException',
      ExceptionMessage: `Request '${customId}' is an Activity Create Custom request (/activity/createcustom): read its status at /activity/status or /activity/createcustom/status.`,
    });
    expect((await statusOf(s.url, createId, '/activity/createcustom/status')).status).toBe(404);
    expect((await statusOf(s.url, createId, '/lead/status')).status).toBe(404);
  });

  it('a request asked for at a path that does not answer for its kind: 404 saying where its status is read, for every path and kind', async () => {
    const lead = await s.call('POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'kinds@example.com' }]);
    expect(lead.status, lead.text).toBe(200);
    const captureId = await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'kinds-c@example.com' }]);
    const updateId = await accept(s.url, `/lead/update?leadId=${lead.body.Message.Id}`, [{ Attribute: 'FirstName', Value: 'Kinds' }]);
    const requests = [
      { id: createId, what: 'an Activity Create request (/activity/create)', at: ['/activity/status', '/activity/create/status'] },
      { id: customId, what: 'an Activity Create Custom request (/activity/createcustom)', at: ['/activity/status', '/activity/createcustom/status'] },
      { id: captureId, what: 'a Lead Capture request (/lead/capture)', at: ['/lead/status'] },
      { id: updateId, what: 'a Lead Update request (/lead/update)', at: ['/lead/status', '/lead/update/status'] },
    ];
    const paths = ['/activity/status', '/activity/create/status', '/activity/createcustom/status', '/lead/status', '/lead/update/status'];
    for (const { id, what, at } of requests) {
      for (const path of paths) {
        const r = await statusOf(s.url, id, path);
        if (at.includes(path)) {
          expect(r.status, `${what} at ${path}: ${r.text}`).toBe(200);
          expect(r.body.RequestId).toBe(id);
        } else {
          expect(r.status, `${what} at ${path}`).toBe(404);
          expect(r.body, `${what} at ${path}`).toEqual({
            Status: 'Error',
            ExceptionType: 'MXInvalidEntityException',
            ExceptionMessage: `Request '${id}' is ${what}: read its status at ${at.join(' or ')}.`,
          });
        }
      }
    }
    // An id the account does not have is still "not found" on every path.
    for (const path of paths) expect((await statusOf(s.url, '00000000-0000-0000-0000-000000000000', path)).body, path).toEqual(NOT_FOUND);
  });

  it('paths match in any case, as LeadSquared\'s do', async () => {
    const r = await statusOf(s.url, createId, '/Activity/Create/Status');
    expect(r.status).toBe(200);
  });

  it('404 with the error envelope for an unknown RequestID', async () => {
    const r = await statusOf(s.url, '00000000-0000-0000-0000-000000000000');
    expect(r.status).toBe(404);
    expect(r.body).toEqual(NOT_FOUND);
  });

  it("404 for another account's RequestID, which its own account sees", async () => {
    const other = { accessKey: 'other-access', secretKey: 'other-secret', apiKey: 'other-api-key' };
    await s.services.store.transaction((tx) => createAccount(tx, s.services.ctx, { name: 'other', ...other }));
    const theirs = await accept(s.url, '/activity/create', { EmailAddress: 'x@other.example', ActivityEvent: 'whatever' }, {
      keys: other,
      headers: { 'x-api-key': other.apiKey },
    });
    const mine = await statusOf(s.url, theirs);
    expect(mine.status).toBe(404);
    expect(mine.body).toEqual(NOT_FOUND);
    const own = await asyncCall(s.url, 'GET', `/activity/status?RequestID=${theirs}`, undefined, { noAuth: true, headers: { 'x-api-key': other.apiKey } });
    expect(own.status, own.text).toBe(200);
    // And mixing one account's x-api-key with another's access key is refused, storing nothing.
    const before = await countRequests(s);
    const mixed = await asyncCall(s.url, 'POST', '/activity/create', { EmailAddress: 'm@example.com', ActivityEvent: code }, { keys: other });
    expect(mixed.status).toBe(401);
    // Valid keys of the wrong account are told apart from wrong keys.
    expect(mixed.body).toEqual({ Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException', ExceptionMessage: 'Invalid User Details: the accessKey and secretKey belong to another account than the x-api-key.' });
    expect(await countRequests(s)).toBe(before);
  });
});

describe('refusals store nothing', () => {
  const body = () => ({ EmailAddress: 'refused@example.com', ActivityEvent: code });

  it.each([
    ['missing', {}],
    ['empty', { 'x-api-key': '' }],
    ['wrong', { 'x-api-key': 'not-the-key' }],
  ])('403 {"message":"Forbidden"} with a %s x-api-key, on accept, status and metrics', async (_, headers) => {
    const before = await countRequests(s);
    // `request` (not `asyncCall`) so that no x-api-key is added.
    for (const path of ['/activity/create', '/activity/createcustom', '/lead/capture']) {
      const r = await request(s.url, 'POST', path, body(), { headers });
      expect(r.status, path).toBe(403);
      expect(r.body).toEqual({ message: 'Forbidden' });
    }
    const st = await request(s.url, 'GET', `/activity/status?RequestID=${createId}`, undefined, { noAuth: true, headers });
    expect(st.status).toBe(403);
    expect(st.body).toEqual({ message: 'Forbidden' });
    const m = await request(s.url, 'GET', '/activity/create/metrics', undefined, { noAuth: true, headers });
    expect(m.status).toBe(403);
    expect(m.body).toEqual({ message: 'Forbidden' });
    expect(await countRequests(s)).toBe(before);
  });

  it('401 with a wrong access key or secret key, or none', async () => {
    const before = await countRequests(s);
    for (const keys of [
      { accessKey: 'nope', secretKey: KEYS.secretKey },
      { accessKey: KEYS.accessKey, secretKey: 'nope' },
    ]) {
      const r = await asyncCall(s.url, 'POST', '/activity/create', body(), { keys });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException' });
    }
    expect((await asyncCall(s.url, 'POST', '/activity/create', body(), { noAuth: true })).status).toBe(401);
    expect(await countRequests(s)).toBe(before);
  });

  it('keys are checked before the body: 403 and 401 even when the JSON is malformed', async () => {
    const before = await countRequests(s);
    const forbidden = await request(s.url, 'POST', '/activity/create', undefined, { raw: '{oops' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({ message: 'Forbidden' });
    const unauthorized = await asyncCall(s.url, 'POST', '/activity/create', undefined, { raw: '{oops', keys: { accessKey: 'nope', secretKey: 'nope' } });
    expect(unauthorized.status).toBe(401);
    expect(await countRequests(s)).toBe(before);
  });

  it('400 for malformed JSON or an empty body', async () => {
    const before = await countRequests(s);
    for (const raw of ['{"EmailAddress": ', '{bad json}', '', '   ']) {
      const r = await asyncCall(s.url, 'POST', '/activity/createcustom', undefined, { raw });
      expect(r.status, JSON.stringify(raw)).toBe(400);
      expect(r.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXInvalidJsonException' });
    }
    expect(await countRequests(s)).toBe(before);
  });
});

describe('lead capture', () => {
  it('/lead/capture is answered on /lead/status with the sync Lead.Capture message', async () => {
    const id = await accept(s.url, '/lead/capture?LeadUpdateBehavior=DoNotUpdate', [
      { Attribute: 'EmailAddress', Value: 'captured@example.com' },
      { Attribute: 'FirstName', Value: 'Cap' },
    ]);
    // The trial's case: a capture's id at the activity status path says where to read it.
    const elsewhere = await statusOf(s.url, id, '/activity/status');
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.ExceptionMessage).toBe(`Request '${id}' is a Lead Capture request (/lead/capture): read its status at /lead/status.`);
    const st = await settled(s.url, id, undefined, '/lead/status');
    expect(st.TaskStatus).toMatchObject({ TaskType: 'Lead Capture', Status: 'Success' });
    const msg = JSON.parse(st.TaskStatus.Message);
    expect(msg.Status).toBe('Success');
    const lead = await s.call('GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=captured@example.com');
    expect(lead.body[0].ProspectID).toBe(msg.Message.Id);
    expect(lead.body[0].FirstName).toBe('Cap');
  });
});


describe('second port', () => {
  it('LEADTRAIL_ASYNC_PORT serves the same API: accepted on one port, status on the other', async () => {
    const port = await freePort();
    const two = await started({ LEADTRAIL_ASYNC_PORT: String(port) });
    expect(two.asyncUrl).toBe(`http://127.0.0.1:${port}`);
    const c = await createType(two, 'Two Ports');
    const id = await accept(two.asyncUrl!, '/activity/create', { EmailAddress: 'port@example.com', ActivityEvent: c });
    const st = await settled(two.url, id);
    expect(st.TaskStatus.Status).toBe('Success');
    const back = await statusOf(two.asyncUrl!, id);
    expect(back.body.TaskStatus.Status).toBe('Success');
    // leadtrail's own pages stay on PORT (README): the second port answers them as LeadSquared's
    // unknown paths, while PORT serves them.
    for (const page of ['/openapi.json', '/docs', '/console']) {
      expect((await fetch(`${two.url}${page}`, { redirect: 'manual' })).status, page).toBeLessThan(400);
      const other = await fetch(`${two.asyncUrl}${page}`, { redirect: 'manual' });
      expect(other.status, page).toBe(404);
      expect(((await other.json()) as { ExceptionType: string }).ExceptionType, page).toBe('MXAPINotFoundException');
    }
  });
});
