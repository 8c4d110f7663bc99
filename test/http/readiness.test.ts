/**
 * Ready means ready (issue 10, item 9). The ports are bound before the first account is made (a
 * start that cannot listen must not print keys), so for a moment the server listens without keys
 * that work. In that window /health is 503 and the API is 503 MXServiceUnavailableException, never
 * a 401 for keys that are about to be valid; the first 200 from /health means keyed calls work.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { KEYS, request, startServer, type CallResult } from '../helpers/server.js';

const TYPES = '/v2/ProspectActivity.svc/ActivityTypes.Get';

describe('readiness', () => {
  it('while the start is held after listening, /health and the API answer 503, then 200 once it is done', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const seen: Record<string, CallResult> = {};
    // The keys are announced after the account is made and before the server calls itself ready;
    // an announce that takes its time holds the start right there, with the ports already bound.
    const server = await startServer(
      { PORT: String(port) },
      {
        announce: async () => {
          seen.health = await request(base, 'GET', '/health', undefined, { noAuth: true });
          seen.sync = await request(base, 'GET', TYPES);
          seen.syncPost = await request(base, 'POST', '/v2/LeadManagement.svc/Lead.Capture', [{ Attribute: 'FirstName', Value: 'Ada' }]);
          seen.asyncStatus = await request(base, 'GET', '/activity/status?RequestID=x', undefined, { noAuth: true, headers: { 'x-api-key': KEYS.apiKey } });
          seen.unknown = await request(base, 'GET', '/no/such/path', undefined, { noAuth: true });
        },
      },
    );
    try {
      expect(seen.health.status).toBe(503);
      expect(seen.health.body).toMatchObject({ status: 'starting' });
      expect(seen.health.headers.get('retry-after')).toBe('1');
      for (const r of [seen.sync, seen.syncPost, seen.asyncStatus]) {
        expect(r.status, r.text).toBe(503);
        expect(r.body).toEqual({
          Status: 'Error',
          ExceptionType: 'MXServiceUnavailableException',
          ExceptionMessage: 'The server is starting and cannot serve requests yet. Retry shortly.',
        });
        expect(r.headers.get('retry-after')).toBe('1');
      }
      // Nothing was written by the refused Lead.Capture, and unknown paths stay 404.
      expect(seen.unknown.status).toBe(404);

      const health = await server.call('GET', '/health', undefined, { noAuth: true });
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok' });
      const types = await server.call('GET', TYPES);
      expect(types.status, types.text).toBe(200);
      const lead = await server.call('GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=nobody@example.com');
      expect(lead.body).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('a client that waits for the first 200 from /health can call with its keys at once (3 cold starts)', async () => {
    for (let round = 0; round < 3; round++) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const unexpected: string[] = [];
      let stop = false;
      // A keyed caller hammering alongside the probe must never be told its keys are wrong.
      const keyed = (async () => {
        while (!stop) {
          const r = await request(base, 'GET', TYPES).catch(() => null);
          if (r && r.status !== 200 && r.status !== 503) unexpected.push(`${r.status} ${r.text}`);
          if (!r) await new Promise((res) => setTimeout(res, 2));
        }
      })();
      const probe = (async () => {
        for (;;) {
          const r = await request(base, 'GET', '/health', undefined, { noAuth: true }).catch(() => null);
          if (r?.status === 200) return request(base, 'GET', TYPES);
          if (r && r.status !== 503) unexpected.push(`/health ${r.status} ${r.text}`);
          if (!r) await new Promise((res) => setTimeout(res, 2)); // not listening yet
        }
      })();
      const server = await startServer({ PORT: String(port) });
      try {
        const first = await probe;
        expect(first.status, first.text).toBe(200);
      } finally {
        stop = true;
        await keyed;
        await server.close();
      }
      expect(unexpected).toEqual([]);
    }
  });
});
