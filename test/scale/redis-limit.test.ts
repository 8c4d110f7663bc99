/**
 * The Redis-backed sync rate limit, in-process: API processes with the same key prefix share one
 * count, different prefixes (deployments) do not meet, and when Redis goes away mid-run each
 * process keeps serving and keeps limiting on its own count (no 500s, no unlimited traffic).
 * Needs Redis (127.0.0.1:6379 or LEADTRAIL_TEST_REDIS_URL); an unreachable Redis fails the run.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDIS_TEST_URL } from '../helpers/pg.js';
import { started, type TestServer } from '../helpers/server.js';
import { tcpProxy } from '../helpers/tcp-proxy.js';

const TYPES = '/v2/ProspectActivity.svc/ActivityTypes.Get';
const prefix = () => `lt-test-${randomBytes(4).toString('hex')}`;

async function burst(servers: TestServer[], n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => servers[i % servers.length].call('GET', TYPES).then((r) => r.status)));
}
const count = (statuses: number[], code: number) => statuses.filter((s) => s === code).length;

describe('sync rate limit through Redis', () => {
  it('two API processes with one prefix share 25 per 5 s; another prefix counts apart', async () => {
    const p = prefix();
    const a = await started({ REDIS_URL: REDIS_TEST_URL, LEADTRAIL_REDIS_PREFIX: p, LEADTRAIL_RATE_LIMIT: '25/5s', LEADTRAIL_ROLE: 'api' });
    // The processes of one deployment share its database: the count is per key (its id there).
    const b = await started({ LEADTRAIL_DB: a.dbPath, REDIS_URL: REDIS_TEST_URL, LEADTRAIL_REDIS_PREFIX: p, LEADTRAIL_RATE_LIMIT: '25/5s', LEADTRAIL_ROLE: 'api' });
    const other = await started({ LEADTRAIL_DB: a.dbPath, REDIS_URL: REDIS_TEST_URL, LEADTRAIL_REDIS_PREFIX: prefix(), LEADTRAIL_RATE_LIMIT: '25/5s', LEADTRAIL_ROLE: 'api' });
    const shared = await burst([a, b], 30);
    expect(count(shared, 200)).toBe(25);
    expect(count(shared, 429)).toBe(5);
    const limited = await a.call('GET', TYPES);
    expect(limited.status).toBe(429);
    expect(limited.body.ExceptionType).toBe('MXAPIRateLimitExceededException');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Same keys, another deployment's prefix: a count of its own.
    expect(count(await burst([other], 25), 200)).toBe(25);
  });

  it('when Redis goes away mid-run, each process keeps answering and limits on its own count', async () => {
    const redisUrl = new URL(REDIS_TEST_URL);
    const proxy = await tcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    const s = await started({ REDIS_URL: `redis://127.0.0.1:${proxy.port()}`, LEADTRAIL_REDIS_PREFIX: prefix(), LEADTRAIL_RATE_LIMIT: '25/5s', LEADTRAIL_ROLE: 'api' });
    expect((await s.call('GET', TYPES)).status).toBe(200);
    await proxy.cut();
    const during = await burst([s], 30);
    expect(count(during, 500)).toBe(0);
    expect(count(during, 429)).toBeGreaterThan(0);
    expect(count(during, 200)).toBeLessThanOrEqual(25);
    expect(count(during, 200) + count(during, 429)).toBe(30);
  });
});
