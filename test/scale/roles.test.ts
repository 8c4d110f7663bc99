/**
 * Roles on one PostgreSQL schema, in-process: an `api` process accepts but never processes, a
 * `worker` process serves only GET /health and processes what the api accepted, and a worker that
 * starts while another worker holds a live lease leaves that request alone until the lease expires
 * (no release-everything at start on PostgreSQL), then takes it over.
 */
import { describe, expect, it } from 'vitest';
import { accept, accountIdOf, createType, settled, sleep, statusOf } from '../async/helpers.js';
import { request, started } from '../helpers/server.js';

describe('roles on PostgreSQL', () => {
  it('api accepts without processing; worker serves only /health and processes the queue', async () => {
    const api = await started({ LEADTRAIL_ROLE: 'api' });
    expect(api.services.store.engine).toBe('postgres');
    expect(api.worker).toBeNull();
    const code = await createType(api, 'Role Call');
    const id = await accept(api.url, '/activity/create', { EmailAddress: 'role@example.com', ActivityEvent: code, ActivityNote: 'by role' });
    await sleep(300);
    expect((await statusOf(api.url, id)).body.TaskStatus.Status).toBe('In-Queue');

    const worker = await started({ LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: api.dbPath });
    expect(worker.worker).not.toBeNull();
    const health = await request(worker.url, 'GET', '/health', undefined, { noAuth: true });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', role: 'worker', store: 'postgres' });
    // The API belongs to the api processes: a worker answers LeadSquared paths with 404.
    expect((await request(worker.url, 'GET', `/activity/status?RequestID=${id}`, undefined, { noAuth: true })).status).toBe(404);
    expect((await worker.call('POST', '/v2/ProspectActivity.svc/Create', { EmailAddress: 'x@example.com', ActivityEvent: code })).status).toBe(404);

    const done = await settled(api.url, id);
    expect(done.TaskStatus.Status).toBe('Success');
    expect(await api.services.store.activities.countForRequest(await accountIdOf(api), id)).toBe(1);
  });

  it('a starting worker leaves a live lease alone and takes the request over once it expires', async () => {
    const api = await started({ LEADTRAIL_ROLE: 'api' });
    const code = await createType(api, 'Lease Call');
    const id = await accept(api.url, '/activity/create', { EmailAddress: 'lease@example.com', ActivityEvent: code });
    const leaseUntil = Date.now() + 4_000;
    const [held] = await api.services.store.requests.claim('worker-that-died', 10, Date.now(), leaseUntil);
    expect(held.id).toBe(id);

    const worker = await started({ LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: api.dbPath, LEADTRAIL_LEASE_SECONDS: '1' });
    const accountId = await accountIdOf(api);
    const during = await api.services.store.requests.get(accountId, id);
    if (Date.now() < leaseUntil) expect(during).toMatchObject({ status: 'running', lockedBy: 'worker-that-died' });

    const done = await settled(api.url, id, ['Success', 'FAILURE', 'ERROR'], '/activity/status', 20_000);
    expect(done.TaskStatus.Status).toBe('Success');
    const after = await api.services.store.requests.get(accountId, id);
    expect(after?.attempts).toBe(1);
    expect(after?.finishedAt).toBeGreaterThanOrEqual(leaseUntil);
    expect(await api.services.store.activities.countForRequest(accountId, id)).toBe(1);
    expect(worker.worker).not.toBeNull();
  });

  it('a separate worker wakes on another process\'s accept (LISTEN/NOTIFY), long before its next poll', async () => {
    const api = await started({ LEADTRAIL_ROLE: 'api' });
    const code = await createType(api, 'Notify Call');
    // Polling once a minute: only the notification can bring the request in within the wait below.
    await started({ LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: api.dbPath, LEADTRAIL_POLL_MS: '60000' });
    await sleep(500); // the worker has looked once, found nothing, and sleeps for its poll period
    const id = await accept(api.url, '/activity/create', { EmailAddress: 'notify@example.com', ActivityEvent: code });
    const done = await settled(api.url, id, ['Success', 'FAILURE', 'ERROR'], '/activity/status', 20_000);
    expect(done.TaskStatus.Status).toBe('Success');
  });
});
