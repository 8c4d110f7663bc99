/**
 * `POST /lead/update?leadId=`: the async Lead.Update. Its status is on `/lead/update/status` (and
 * `/lead/status`), its Message is the sync answer, its metrics on `/lead/update/metrics`, and requests
 * for one lead are applied in order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, createLead, getLead, secondAccount } from '../helpers/lsq.js';
import { request, started, type TestServer } from '../helpers/server.js';
import { API_KEY_HEADER, accept, asyncCall, countRequests, settled, statusOf } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await started();
});

const body = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));

describe('/lead/update', () => {
  it("updates the lead; the status's Message is exactly the sync Lead.Update answer (docs example body)", async () => {
    const id = await createLead(s, { FirstName: 'Async', Phone: '9811100001' });
    const req = await accept(s.url, `/lead/update?leadId=${id}&postUpdatedLead=false`, body({ Phone: '9999999999', mx_City: 'London' }));
    const st = await settled(s.url, req, undefined, '/lead/update/status');
    expect(st.TaskStatus).toMatchObject({ TaskType: 'Lead Update', Status: 'Success', StatusReason: 'Request was successfully completed' });
    const sync = await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, body({ mx_City: 'London' }));
    expect(JSON.parse(st.TaskStatus.Message)).toEqual(sync.body);
    expect(sync.body).toEqual({ Status: 'Success', Message: { AffectedRows: 1 } });
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Async', Phone: '9999999999', mx_City: 'London' });
    // /lead/status knows it too; the activity status paths do not.
    expect((await statusOf(s.url, req, '/lead/status')).body.TaskStatus.TaskType).toBe('Lead Update');
    expect((await statusOf(s.url, req, '/activity/status')).status).toBe(404);
  });

  it('an unknown lead, a missing leadId or a bad value ends as FAILURE with the sync error; nothing changes', async () => {
    const id = await createLead(s, { FirstName: 'Keep', EmailAddress: 'keep@async-update.example' });
    const unknown = await accept(s.url, '/lead/update?leadId=12345678-0000-0000-0000-000000000000', body({ FirstName: 'X' }));
    const missing = await accept(s.url, '/lead/update', body({ FirstName: 'X' }));
    const bad = await accept(s.url, `/lead/update?leadId=${id}`, body({ EmailAddress: 'not-an-email' }));
    const u = await settled(s.url, unknown, undefined, '/lead/update/status');
    expect(u.TaskStatus).toMatchObject({ Status: 'FAILURE', StatusReason: expect.stringMatching(/^MXInvalidEntityException: Lead does not exist/), Message: null });
    expect((await settled(s.url, missing, undefined, '/lead/update/status')).TaskStatus.StatusReason).toMatch(/^MXMandatoryAttributeMissingException: 'leadId'/);
    expect((await settled(s.url, bad, undefined, '/lead/update/status')).TaskStatus.StatusReason).toMatch(/^MXInvalidInputException/);
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'Keep', EmailAddress: 'keep@async-update.example' });
  });

  it('requests for one lead are applied in the order accepted (ordered by leadId)', async () => {
    const id = await createLead(s, { FirstName: 'Order' });
    const ids: string[] = [];
    for (let i = 1; i <= 8; i++) ids.push(await accept(s.url, `/lead/update?LEADID=${id}`, body({ JobTitle: `step-${i}` })));
    for (const r of ids) await settled(s.url, r, undefined, '/lead/update/status');
    expect((await getLead(s, id))!.JobTitle).toBe('step-8');
  });

  it('paths and query names in any case; metrics on /lead/update/metrics', async () => {
    const id = await createLead(s, { FirstName: 'Case' });
    const req = await accept(s.url, `/Lead/Update?LeadId=${id}`, body({ Company: 'CaseCo' }));
    expect((await settled(s.url, req, undefined, '/LEAD/UPDATE/STATUS')).TaskStatus.Status).toBe('Success');
    const m = await asyncCall(s.url, 'GET', '/lead/update/metrics', undefined, { noAuth: true, headers: API_KEY_HEADER });
    expect(m.status, m.text).toBe(200);
    expect(m.body).toMatchObject({ PendingMessages: expect.any(Number), MaxDelayInSeconds: expect.any(Number) });
  });

  it('another account cannot update my lead, nor read my request', async () => {
    const mine = await createLead(s, { FirstName: 'Mine' });
    const b = await secondAccount(s);
    const init = { keys: b.keys, headers: { 'x-api-key': b.apiKey } };
    const r = await asyncCall(s.url, 'POST', `/lead/update?leadId=${mine}`, body({ FirstName: 'Theirs' }), init);
    expect(r.status, r.text).toBe(200);
    const st = await waitStatus(r.body.RequestID, init);
    expect(st.TaskStatus).toMatchObject({ Status: 'FAILURE', StatusReason: expect.stringMatching(/MXInvalidEntityException/) });
    expect((await getLead(s, mine))!.FirstName).toBe('Mine');
    expect((await statusOf(s.url, r.body.RequestID, '/lead/update/status')).status).toBe(404);
  });

  it('is refused without x-api-key (403) and stores nothing', async () => {
    const before = await countRequests(s);
    const r = await request(s.url, 'POST', '/lead/update?leadId=x', body({ FirstName: 'X' }));
    expect(r.status).toBe(403);
    expect(await countRequests(s)).toBe(before);
  });
});

async function waitStatus(id: string, init: { keys: { accessKey: string; secretKey: string }; headers: Record<string, string> }) {
  for (let i = 0; i < 500; i++) {
    const r = await asyncCall(s.url, 'GET', `/lead/update/status?RequestID=${id}`, undefined, { noAuth: true, headers: init.headers });
    if (r.body?.TaskStatus && r.body.TaskStatus.Status !== 'In-Queue') return r.body;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('request did not settle');
}
