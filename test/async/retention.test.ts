/**
 * Retention: a finished request's status is kept LEADTRAIL_RETENTION_DAYS after it finished, then
 * the worker's housekeeping purges it and its RequestID answers 404. Unfinished requests are never
 * purged, however old, and the activities a request made stay.
 */
import { describe, expect, it } from 'vitest';
import { started } from '../helpers/server.js';
import { accept, accountIdOf, createType, settled, sleep, statusOf, stored, waitFor } from './helpers.js';

const RETENTION_DAYS = 0.00002; // 1.7 s: room to read the Success before it goes, even on a busy machine

describe('retention', () => {
  it('purges finished statuses past retention, keeps waiting ones and the activities', async () => {
    const s = await started({
      LEADTRAIL_RETENTION_DAYS: String(RETENTION_DAYS),
      LEADTRAIL_HOUSEKEEPING_SECONDS: '0.1',
      LEADTRAIL_FAULTS: 'true',
      // One fault puts the retried request 6 s out: older than retention while still unfinished.
      LEADTRAIL_RETRY_SCALE: '0.2',
    });
    const code = await createType(s, 'Short Lived');
    await s.call('POST', '/_leadtrail/faults', { operation: '*', times: 1, match: 'waiting@', message: 'temporary' });
    const waiting = await accept(s.url, '/activity/create', { EmailAddress: 'waiting@example.com', ActivityEvent: code });
    const done = await accept(s.url, '/activity/create', { EmailAddress: 'done@example.com', ActivityEvent: code });
    const ok = await settled(s.url, done);
    expect(ok.TaskStatus.Status).toBe('Success');
    const activityId = JSON.parse(ok.TaskStatus.Message).Message.Id;

    const gone = await waitFor(() => statusOf(s.url, done), (r) => r.status === 404, 10_000);
    expect(gone.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXInvalidEntityException' });
    expect(await s.services.store.activities.get(await accountIdOf(s), activityId)).not.toBeNull();

    // The retried one is past retention by age but still waiting: it is kept and then succeeds.
    const w = await stored(s, waiting);
    expect(Date.now() - w!.createdAt).toBeGreaterThan(RETENTION_DAYS * 86_400_000);
    expect(w!.status).toBe('queued');
    expect((await settled(s.url, waiting)).TaskStatus.Status).toBe('Success');
    // …and is purged in turn once it has been finished for longer than the retention.
    await sleep(RETENTION_DAYS * 86_400_000);
    await waitFor(() => statusOf(s.url, waiting), (r) => r.status === 404, 10_000);
  });

  it('keeps statuses by default (30 days)', async () => {
    const s = await started({ LEADTRAIL_HOUSEKEEPING_SECONDS: '0.05' });
    const code = await createType(s, 'Long Lived');
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'kept@example.com', ActivityEvent: code });
    await settled(s.url, id);
    await sleep(300);
    expect((await statusOf(s.url, id)).status).toBe(200);
  });
});
