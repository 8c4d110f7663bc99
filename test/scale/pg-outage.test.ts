/**
 * A PostgreSQL outage while running (played by cutting a TCP pass-through): the process stays up,
 * answers in LeadSquared's envelope, never says "accepted" for a request it could not store, fails
 * its health check, and recovers by itself (pool and worker) once the database is back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { accept, createType, settled, waitFor } from '../async/helpers.js';
import { dropSchemas, freshSchema, PG_BASE_URL, pgAvailable } from '../helpers/pg.js';
import { request, started } from '../helpers/server.js';
import { tcpProxy } from '../helpers/tcp-proxy.js';

await pgAvailable();
const schema = freshSchema();
afterAll(() => dropSchemas([schema.name]));

describe('PostgreSQL outage while running', () => {
  it('errors in the envelope, accepts nothing it cannot store, fails /health, then recovers', { timeout: 60_000 }, async () => {
    const pgUrl = new URL(PG_BASE_URL);
    const p = await tcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    const url = new URL(schema.url);
    url.host = `127.0.0.1:${p.port()}`;
    const s = await started({ DATABASE_URL: url.toString(), LEADTRAIL_PG_POOL: '3' });
    const code = await createType(s, 'Outage Call');
    const body = { EmailAddress: 'outage@example.com', ActivityEvent: code };
    expect((await s.call('POST', '/v2/ProspectActivity.svc/Create', body)).status).toBe(200);

    await p.cut();
    const sync = await s.call('POST', '/v2/ProspectActivity.svc/Create', body);
    expect(sync.status).toBe(500);
    expect(sync.body).toMatchObject({ Status: 'Error', ExceptionType: expect.any(String) });
    expect(sync.text).not.toMatch(/\n\s+at /);
    const acc = await request(s.url, 'POST', '/activity/create', body, { headers: { 'x-api-key': 'test-api-key' } });
    expect(acc.status).not.toBe(200);
    expect(acc.text).not.toContain('Request accepted');
    // In plain JSON, as /health/ready says it, not a LeadSquared envelope (found by a fresh-eyes run).
    const health = await request(s.url, 'GET', '/health', undefined, { noAuth: true });
    expect(health.status, health.text).toBe(503);
    expect(health.body).toEqual({ status: 'unavailable', reason: 'database unreachable', role: 'all', store: 'postgres' });
    expect(health.headers.get('retry-after')).toBe('1');

    await p.restore();
    await waitFor(() => request(s.url, 'GET', '/health', undefined, { noAuth: true }), (r) => r.status === 200, 20_000, 200);
    expect((await s.call('POST', '/v2/ProspectActivity.svc/Create', body)).status).toBe(200);
    const id = await accept(s.url, '/activity/create', body);
    expect((await settled(s.url, id, ['Success', 'FAILURE', 'ERROR'], '/activity/status', 20_000)).TaskStatus.Status).toBe('Success');
    await s.close();
    await p.cut();
  });
});
