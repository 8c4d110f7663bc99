/**
 * Health paths for orchestrators: /health/live (the process answers), /health/ready (started and the
 * database answers), /health as before; on every role, in plain JSON.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { request, started, startServer, type CallResult } from '../helpers/server.js';

const get = (base: string, path: string) => request(base, 'GET', path, undefined, { noAuth: true });

describe('health paths', () => {
  it('a started server is live and ready, and /health is unchanged', async () => {
    const s = await started();
    const live = await get(s.url, '/health/live');
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/^application\/json/);
    expect(live.body).toEqual({ status: 'ok', role: 'all' });
    const ready = await get(s.url, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', role: 'all', store: s.services.store.engine });
    const health = await get(s.url, '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', role: 'all', store: s.services.store.engine });
  });

  it('while starting: live 200, ready 503 "starting" with Retry-After', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const seen: Record<string, CallResult> = {};
    // The start is held at the keys' announcement, with the port already bound.
    const s = await startServer(
      { PORT: String(port) },
      {
        announce: async () => {
          seen.live = await get(base, '/health/live');
          seen.ready = await get(base, '/health/ready');
        },
      },
    );
    try {
      expect(seen.live.status).toBe(200);
      expect(seen.ready.status).toBe(503);
      expect(seen.ready.body).toMatchObject({ status: 'starting' });
      expect(seen.ready.headers.get('retry-after')).toBe('1');
      expect((await get(base, '/health/ready')).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  // A PostgreSQL server can go away under a running process; a SQLite file held open cannot, in
  // any way a test can bring about (even its closed store keeps answering from cached statements).
  it.skipIf(process.env.LEADTRAIL_TEST_STORE !== 'postgres')('when PostgreSQL stops answering: ready 503 "unavailable", live still 200', async () => {
    const s = await startServer();
    try {
      // The store closed under the server: every database call now fails.
      await s.services.store.close();
      const ready = await get(s.url, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', reason: 'database unreachable' });
      expect(ready.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await get(s.url, '/health/live')).status).toBe(200);
    } finally {
      await s.close().catch(() => {});
    }
  });

  it('a worker-only process serves the health paths and /metrics, and nothing of the API', async () => {
    const w = await started({ LEADTRAIL_ROLE: 'worker' });
    expect((await get(w.url, '/health/live')).body).toEqual({ status: 'ok', role: 'worker' });
    expect((await get(w.url, '/health/ready')).body).toMatchObject({ status: 'ready', role: 'worker' });
    expect((await get(w.url, '/health')).status).toBe(200);
    const metrics = await get(w.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('leadtrail_info{role="worker"');
    expect((await request(w.url, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get')).status).toBe(404);
  });

  it('health paths match in any case, as every route does', async () => {
    const s = await started();
    expect((await get(s.url, '/HEALTH/Ready')).status).toBe(200);
    expect((await get(s.url, '/health/live/')).status).toBe(200);
  });
});
