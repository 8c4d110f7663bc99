/**
 * Every status value and transition of an async request, over real HTTP: In-Queue while no worker
 * runs, then Success once one does; FAILURE for an application error (no retry); a system error
 * that is retried and then succeeds; ERROR once the retries are used up.
 */
import { describe, expect, it } from 'vitest';
import { startServer, started } from '../helpers/server.js';
import { accept, asyncCall, createType, settled, stored, statusOf, waitFor } from './helpers.js';

const PA = '/v2/ProspectActivity.svc';

describe('In-Queue, then Success', () => {
  it('stays In-Queue while no worker runs and succeeds once a worker starts on the same database', async () => {
    const off = await startServer({ LEADTRAIL_WORKER: 'false' });
    const dbPath = off.dbPath;
    try {
      const code = await createType(off, 'Queued Call');
      const raw = JSON.stringify({ EmailAddress: 'queued@example.com', ActivityEvent: code, ActivityNote: 'first' });
      const id = await accept(off.url, '/activity/create', undefined, { raw });
      const q = await statusOf(off.url, id);
      expect(q.status, q.text).toBe(200);
      // The RequestID in any case (some clients upper-case GUIDs), as lead and activity ids.
      const upper = await statusOf(off.url, id.toUpperCase());
      expect(upper.status, upper.text).toBe(200);
      expect(upper.body).toEqual(q.body);
      expect(q.body).toEqual({
        RequestId: id,
        TaskStatus: {
          TaskType: 'Activity Create',
          Status: 'In-Queue',
          StatusReason: expect.any(String),
          TaskCurrentStep: 'In-Process-Queue',
          TaskLastStep: 'In-Request-Queue',
          RequestBody: raw,
          Message: null,
        },
      });
    } finally {
      await off.close();
    }

    const on = await started({ LEADTRAIL_DB: dbPath });
    const [req] = (await on.services.store.requests.list((await on.services.store.accounts.list())[0].id, { offset: 0, limit: 10 })).requests;
    const done = await settled(on.url, req.id);
    expect(done.TaskStatus).toMatchObject({
      TaskType: 'Activity Create',
      Status: 'Success',
      StatusReason: 'Request was successfully completed',
      TaskCurrentStep: null,
      TaskLastStep: 'In-Process-Queue',
    });
    const message = JSON.parse(done.TaskStatus.Message);
    expect(message.Status).toBe('Success');
    const act = await on.services.store.activities.get(req.accountId, message.Message.Id);
    expect(act?.note).toBe('first');
    expect(act?.requestId).toBe(req.id);
  });
});

describe('Message is the sync answer', () => {
  it('Create: the async Message has exactly the shape the sync call answers', async () => {
    const s = await started();
    const code = await createType(s, 'Same Shape');
    const body = (email: string) => ({ EmailAddress: email, ActivityEvent: code, IncludeLeadScore: true });
    const sync = await s.call('POST', `${PA}/Create`, body('sync@example.com'));
    expect(sync.status, sync.text).toBe(200);
    const id = await accept(s.url, '/activity/create', body('async@example.com'));
    const msg = JSON.parse((await settled(s.url, id)).TaskStatus.Message);
    const shape = (o: any): unknown => (o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shape(v)])) : typeof o);
    expect(shape(msg)).toEqual(shape(sync.body));
    expect(msg.Message.LeadScore).toBe(sync.body.Message.LeadScore);
  });

  it('CreateCustom: same shape, and IsLeadCreated as the sync call would say', async () => {
    const s = await started();
    const code = await createType(s, 'Same Shape Custom');
    const body = (email: string) => ({ LeadDetails: [{ Attribute: 'EmailAddress', Value: email }], Activity: { ActivityEvent: code, ActivityNote: 'n' } });
    const sync = await s.call('POST', `${PA}/CreateCustom`, body('sync-c@example.com'));
    expect(sync.status, sync.text).toBe(200);
    const id = await accept(s.url, '/activity/createcustom', body('async-c@example.com'));
    const st = await settled(s.url, id, undefined, '/activity/createcustom/status');
    expect(st.TaskStatus.TaskType).toBe('Activity Create Custom');
    const msg = JSON.parse(st.TaskStatus.Message);
    expect(Object.keys(msg.Message).sort()).toEqual(Object.keys(sync.body.Message).sort());
    expect(msg.Message.IsLeadCreated).toBe(true);
  });
});

describe('FAILURE: application errors are final', () => {
  it('an unknown ActivityEvent ends FAILURE with the MX error of the sync call, after one attempt', async () => {
    const s = await started({ LEADTRAIL_RETRY_SCALE: '0.0001' });
    const body = { EmailAddress: 'fail@example.com', ActivityEvent: 987654 };
    const sync = await s.call('POST', `${PA}/Create`, body);
    expect(sync.body.Status).toBe('Error');
    const id = await accept(s.url, '/activity/create', body);
    const st = await settled(s.url, id);
    expect(st.TaskStatus.Status).toBe('FAILURE');
    expect(st.TaskStatus.StatusReason).toContain(sync.body.ExceptionType);
    expect(st.TaskStatus.StatusReason).toContain(sync.body.ExceptionMessage);
    expect(st.TaskStatus.Message).toBeNull();
    expect(st.TaskStatus.TaskCurrentStep).toBeNull();
    const r = await stored(s, id);
    expect(r?.attempts).toBe(0);
    expect(await s.services.store.activities.countForRequest(r!.accountId, id)).toBe(0);
  });

  it('a body that is valid JSON but not an object is accepted, then FAILS with the MX message', async () => {
    const s = await started();
    const id = await accept(s.url, '/activity/createcustom', undefined, { raw: '[1,2]' });
    const st = await settled(s.url, id);
    expect(st.TaskStatus.Status).toBe('FAILURE');
    expect(st.TaskStatus.StatusReason).toMatch(/^MX\w+Exception: /);
    expect(st.TaskStatus.RequestBody).toBe('[1,2]');
  });
});

describe('one bad request among many', () => {
  it('fails alone: the requests processed with it succeed once each', async () => {
    // Queued with no worker, so that a worker starting later takes them all in one batch.
    const off = await startServer({ LEADTRAIL_WORKER: 'false' });
    const ids: string[] = [];
    let bad = '';
    const dbPath = off.dbPath;
    try {
      const code = await createType(off, 'Batch');
      for (let i = 0; i < 9; i++) {
        const body = i === 4 ? { EmailAddress: 'bad-in-batch@example.com', ActivityEvent: 123456 } : { EmailAddress: `ok${i}@example.com`, ActivityEvent: code };
        const id = await accept(off.url, '/activity/create', body);
        if (i === 4) bad = id;
        ids.push(id);
      }
    } finally {
      await off.close();
    }
    const on = await started({ LEADTRAIL_DB: dbPath });
    for (const id of ids) {
      const st = await settled(on.url, id);
      const r = await stored(on, id);
      const activities = await on.services.store.activities.countForRequest(r!.accountId, id);
      if (id === bad) expect([st.TaskStatus.Status, activities]).toEqual(['FAILURE', 0]);
      else expect([st.TaskStatus.Status, activities, r!.attempts]).toEqual(['Success', 1, 0]);
    }
  });
});

describe('system errors: retried, then Success or ERROR', () => {
  it('two forced system faults, then Success: the status shows the wait and the attempts count', async () => {
    // 0.01 puts the first retry 300 ms out: long enough to see the waiting status.
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.01' });
    const code = await createType(s, 'Flaky');
    const f = await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: 2, message: 'Unable to Connect to DB' });
    expect(f.status, f.text).toBe(200);
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'flaky@example.com', ActivityEvent: code });
    const waiting = await waitFor(
      () => statusOf(s.url, id),
      (r) => /Waiting to retry/.test(r.body?.TaskStatus?.StatusReason ?? ''),
    );
    expect(waiting.body.TaskStatus.Status).toBe('In-Queue');
    expect(waiting.body.TaskStatus.StatusReason).toContain('Unable to Connect to DB');
    expect(waiting.body.TaskStatus.Message).toBeNull();
    const st = await settled(s.url, id);
    expect(st.TaskStatus.Status).toBe('Success');
    const r = await stored(s, id);
    expect(r?.attempts).toBe(2);
    expect(r?.lastError).toBe('Unable to Connect to DB');
    expect(await s.services.store.activities.countForRequest(r!.accountId, id)).toBe(1);
  });

  it('ERROR after 1 attempt + 10 retries, never applied', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.0001' });
    const code = await createType(s, 'Broken');
    await s.call('POST', '/_leadtrail/faults', { operation: '*', times: 20, message: 'disk I/O error' });
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'broken@example.com', ActivityEvent: code });
    const st = await settled(s.url, id, ['Success', 'FAILURE', 'ERROR'], '/activity/status', 20_000);
    expect(st.TaskStatus.Status).toBe('ERROR');
    expect(st.TaskStatus.StatusReason).toContain('disk I/O error');
    expect(st.TaskStatus.Message).toBeNull();
    // 11 attempts were made: 20 - 11 faults are left.
    const left = await s.call('GET', '/_leadtrail/faults');
    expect(left.body.faults.map((x: any) => x.remaining)).toEqual([9]);
    const r = await stored(s, id);
    expect(await s.services.store.activities.countForRequest(r!.accountId, id)).toBe(0);
    // Final: nothing more happens to it.
    const again = await asyncCall(s.url, 'GET', `/activity/create/status?requestid=${id}`, undefined, { noAuth: true });
    expect(again.body.TaskStatus.Status).toBe('ERROR');
  });
});
