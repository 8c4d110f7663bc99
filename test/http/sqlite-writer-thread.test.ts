/**
 * LEADTRAIL_SQLITE_WRITER=thread (the default) answers exactly as `loop`: the same calls, sent to a
 * server of each kind, get the same statuses and bodies (ids and times aside). Then what only works if every
 * kind of write crosses to the writer thread: a named operation (sync Create), a transaction whose
 * function runs on the event loop (CreateType, webhooks, lead fields, the async worker), a write
 * outside a transaction (the async accept, the request journal), and a restart on the same file.
 * SQLite only: the setting does nothing on PostgreSQL.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { waitFor } from '../async/helpers.js';
import { LM, PA } from '../helpers/lsq.js';
import { KEYS, request, started, startServer, type TestServer } from '../helpers/server.js';

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIME = /\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?/g;
/** A body with its ids and times masked, so that two servers' answers compare. */
const masked = (text: string) => text.replace(GUID, '<id>').replace(TIME, '<time>');

/** The same conversation, on one server; returns each answer as status + masked body. */
async function conversation(s: TestServer): Promise<string[]> {
  const out: string[] = [];
  const say = async (method: string, p: string, body?: unknown) => {
    const r = await s.call(method, p, body);
    out.push(masked(`${method} ${p} → ${r.status} ${r.text}`));
    return r;
  };
  const type = await say('POST', `${PA}/CreateType`, { ActivityEventName: 'Thread check', Score: 3 });
  const code = type.body.Message.Id as number;
  const created = await say('POST', `${PA}/Create`, { EmailAddress: 'ana@thread.example', ActivityEvent: code, ActivityNote: 'new lead', FirstName: 'Ana' });
  const leadId = created.body.Message.RelatedId as string;
  await say('POST', `${PA}/Create?includeScore=true`, { RelatedProspectId: leadId, ActivityEvent: code, ActivityNote: 'by id' });
  await say('POST', `${PA}/Create`, { RelatedProspectId: '00000000-0000-4000-8000-000000000000', ActivityEvent: code, ActivityNote: 'unknown lead' });
  await say('POST', `${PA}/Create`, { EmailAddress: 'ana@thread.example', ActivityEvent: 99_999, ActivityNote: 'unknown type' });
  await say('POST', `${PA}/Create`, {});
  await say('POST', `${PA}/CreateCustom`, { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'bo@thread.example' }, { Attribute: 'SearchBy', Value: 'EmailAddress' }], Activity: { ActivityEvent: code, ActivityNote: 'custom' } });
  await say('POST', `${LM}/Lead.Capture`, [{ Attribute: 'EmailAddress', Value: 'cy@thread.example' }, { Attribute: 'FirstName', Value: 'Cy' }]);
  await say('POST', `${LM}/Lead.Capture`, [{ Attribute: 'EmailAddress', Value: 'ana@thread.example' }, { Attribute: 'LastName', Value: 'Twice' }]);
  await say('POST', `${LM}/Lead.Update?leadId=${leadId}`, [{ Attribute: 'Phone', Value: '+91-9876500001' }]);
  await say('POST', `${LM}/Lead.Update?leadId=00000000-0000-4000-8000-000000000000`, [{ Attribute: 'Phone', Value: '1' }]);
  await say('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'ana@thread.example' }]);
  await say('GET', `${LM}/Leads.GetById?id=${leadId}`);
  await say('POST', `${PA}/Retrieve?leadId=${leadId}`, { Paging: { Offset: 0, RowCount: 10 } });
  return out;
}

describe('LEADTRAIL_SQLITE_WRITER=thread', () => {
  it('answers every call of a conversation exactly as the event-loop writer does', async () => {
    const loop = await started({ LEADTRAIL_SQLITE_WRITER: 'loop' });
    const thread = await started({ LEADTRAIL_SQLITE_WRITER: 'thread' });
    expect(thread.services.store.operate, 'the thread store runs named operations').toBeTypeOf('function');
    expect(loop.services.store.operate).toBeUndefined();
    const a = await conversation(loop);
    const b = await conversation(thread);
    expect(b).toEqual(a);
    // Not a conversation of errors: the lead was made, scored and updated.
    expect(a.filter((l) => l.includes('→ 200'))).toHaveLength(9);
  });

  it('carries every kind of write: async accept and worker, webhooks, lead fields, the journal; all of it survives a restart', async () => {
    const s = await startServer({ LEADTRAIL_SQLITE_WRITER: 'thread' });
    let reopened: TestServer | null = null;
    try {
      const code = (await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Async thread', Score: 1 })).body.Message.Id as number;
      const async = async (body: unknown) =>
        request(s.url, 'POST', '/activity/create', body, { noAuth: true, headers: { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey, 'x-api-key': KEYS.apiKey } });
      const accepted = await Promise.all(Array.from({ length: 20 }, (_, i) => async({ EmailAddress: `async${i % 5}@thread.example`, ActivityEvent: code, ActivityNote: `async ${i}` })));
      for (const r of accepted) expect(r.status, r.text).toBe(200);
      const ids = accepted.map((r) => r.body.RequestID as string);
      const status = (id: string) => request(s.url, 'GET', `/activity/status?requestId=${id}`, undefined, { noAuth: true, headers: { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey, 'x-api-key': KEYS.apiKey } });
      for (const id of ids) {
        const st = await waitFor(() => status(id), (r) => r.body?.TaskStatus?.Status === 'Success' || r.body?.TaskStatus?.Status === 'Failure');
        expect(st.body.TaskStatus.Status, st.text).toBe('Success');
      }
      const field = await s.call('POST', `${LM}/CreateLeadField`, { DisplayName: 'Thread Note', DataType: 'String' });
      expect(field.status, field.text).toBe(200);
      const hook = await s.call('POST', '/v2/Webhook.svc/Create', { URL: 'http://127.0.0.1:9/hook', WebhookEvent: 3, ContentType: 'application/json' });
      expect(hook.status, hook.text).toBe(200);
      const journal = await request(s.url, 'GET', '/_leadtrail/journal?limit=500', undefined);
      expect(journal.status, journal.text).toBe(200);
      expect(JSON.stringify(journal.body)).toContain('/activity/create');
      const leads = (await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=async3@thread.example`)).body as { ProspectID: string }[];
      expect(leads).toHaveLength(1);
      const before = (await s.call('POST', `${PA}/Retrieve?leadId=${leads[0].ProspectID}`, { Paging: { Offset: 0, RowCount: 50 } })).body.RecordCount;
      expect(before).toBe(4);

      await s.close();
      reopened = await startServer({ LEADTRAIL_SQLITE_WRITER: 'thread', LEADTRAIL_DB: s.dbPath });
      expect((await reopened.call('POST', `${PA}/Retrieve?leadId=${leads[0].ProspectID}`, { Paging: { Offset: 0, RowCount: 50 } })).body.RecordCount).toBe(before);
      const fields = await reopened.call('GET', `${LM}/LeadsMetaData.Get`);
      expect(JSON.stringify(fields.body)).toContain('Thread Note');
      expect((await status(ids[0]).catch(() => null))?.status ?? 0).toBe(0); // the first server is gone
      const st = await request(reopened.url, 'GET', `/activity/status?requestId=${ids[0]}`, undefined, { noAuth: true, headers: { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey, 'x-api-key': KEYS.apiKey } });
      expect(st.body.TaskStatus.Status).toBe('Success');
    } finally {
      await reopened?.close();
    }
  });

  it('when the writer thread dies: the failure is logged once, /health/live says failed (503), calls get 500 in the envelope, and the embedder is told', async () => {
    const told: Error[] = [];
    const lines: { level: number; msg: string; err?: { message: string } }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').trim().split('\n').map((l) => JSON.parse(l)));
        done();
      },
    });
    const s = await startServer(
      { LEADTRAIL_SQLITE_WRITER: 'thread' },
      { writerOperations: new URL('../helpers/writer-crash-real-ops.mjs', import.meta.url), onStoreFailed: (e) => told.push(e), log: createLogger('error', sink) },
    );
    try {
      const code = (await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Before the crash', Score: 1 })).body.Message.Id as number;
      expect((await s.call('POST', `${PA}/Create`, { EmailAddress: 'before@thread.example', ActivityEvent: code })).status).toBe(200);
      expect((await s.call('GET', '/health/live', undefined, { noAuth: true })).status).toBe(200);

      await expect(s.services.store.operate!('crash', { now: 0, userId: null }, null)).rejects.toThrow(/boom/);
      await waitFor(
        async () => told.length,
        (n) => n > 0,
      );
      expect(told.map((e) => e.message)).toEqual([expect.stringMatching(/boom: the writer thread crashed/)]);
      const failures = lines.filter((l) => /store has failed/.test(l.msg));
      expect(failures).toEqual([expect.objectContaining({ level: 50, err: expect.objectContaining({ message: expect.stringMatching(/boom/) }) })]);

      const live = await s.call('GET', '/health/live', undefined, { noAuth: true });
      expect(live.status).toBe(503);
      expect(live.body).toMatchObject({ status: 'failed', reason: expect.stringMatching(/boom/) });
      const ready = await s.call('GET', '/health/ready', undefined, { noAuth: true });
      expect(ready.status).toBe(503);
      const create = await s.call('POST', `${PA}/Create`, { EmailAddress: 'after@thread.example', ActivityEvent: code });
      expect(create.status).toBe(500);
      expect(create.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXSystemException' });
      expect(create.text).not.toMatch(/boom|at .*\.js/);
    } finally {
      await s.close();
    }
  });
});
