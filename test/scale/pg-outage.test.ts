/**
 * A PostgreSQL outage while running (played by cutting a TCP pass-through): the process stays up,
 * answers in LeadSquared's envelope, never says "accepted" for a request it could not store, fails
 * its health check, and recovers by itself (pool and worker) once the database is back.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
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
    const lines: { msg: string; retryInMs?: number; time: number }[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const s = await started({ DATABASE_URL: url.toString(), LEADTRAIL_PG_POOL: '3' }, { log: createLogger('info', sink) });
    const code = await createType(s, 'Outage Call');
    const body = { EmailAddress: 'outage@example.com', ActivityEvent: code };
    expect((await s.call('POST', '/v2/ProspectActivity.svc/Create', body)).status).toBe(200);

    const cutAt = Date.now();
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
    // /metrics still answers, and says the database does not: the gauges read from it keep their last values.
    const cutScrape = await request(s.url, 'GET', '/metrics', undefined, { noAuth: true });
    expect(cutScrape.status).toBe(200);
    expect(cutScrape.text).toMatch(/^leadtrail_db_up 0$/m);

    // The workers back off while the database is away: each failure in a row waits twice as long as
    // the one before (up to 5 s), so an outage gives a handful of error lines, not one per poll
    // (four a second at the default poll; found by a fresh-eyes run).
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 5_000 - Date.now())));
    const during = lines.filter((l) => l.time >= cutAt && l.time < cutAt + 5_000);
    const shown = JSON.stringify(during.map((l) => [l.msg, l.time - cutAt, l.retryInMs]));
    for (const msg of ['webhook claim failed; backing off', 'worker loop error; backing off']) {
      const failed = during.filter((l) => l.msg === msg);
      expect(failed.length, shown).toBeGreaterThan(0);
      expect(failed.length, shown).toBeLessThanOrEqual(8);
      const first = failed[0].retryInMs!;
      expect(failed.map((l) => l.retryInMs), shown).toEqual(failed.map((_, i) => Math.min(5_000, first * 2 ** i)));
      for (let i = 1; i < failed.length; i++) expect(failed[i].time - failed[i - 1].time, shown).toBeGreaterThanOrEqual(failed[i - 1].retryInMs! - 5);
    }

    await p.restore();
    await waitFor(() => request(s.url, 'GET', '/health', undefined, { noAuth: true }), (r) => r.status === 200, 20_000, 200);
    expect((await request(s.url, 'GET', '/metrics', undefined, { noAuth: true })).text).toMatch(/^leadtrail_db_up 1$/m);
    expect((await s.call('POST', '/v2/ProspectActivity.svc/Create', body)).status).toBe(200);
    const id = await accept(s.url, '/activity/create', body);
    expect((await settled(s.url, id, ['Success', 'FAILURE', 'ERROR'], '/activity/status', 20_000)).TaskStatus.Status).toBe('Success');
    await s.close();
    await p.cut();
  });
});
