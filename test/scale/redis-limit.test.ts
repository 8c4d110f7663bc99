/**
 * The Redis-backed sync rate limit, in-process: API processes with the same key prefix share one
 * count, different prefixes (deployments) do not meet, and when Redis goes away mid-run each
 * process keeps serving and keeps limiting on its own count (no 500s, no unlimited traffic), also
 * when Redis stops answering without closing the connection, and the count is shared again once
 * Redis is back.
 * Needs Redis (127.0.0.1:6379 or LEADTRAIL_TEST_REDIS_URL); an unreachable Redis fails the run.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { fakeRedis } from '../helpers/fake-redis.js';
import { REDIS_TEST_URL } from '../helpers/pg.js';
import { KEYS, started, startServer, type TestServer } from '../helpers/server.js';
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

  it('when Redis stops answering (connection open, no reply), calls are answered at once, counted alone, and shared again once it answers', async () => {
    const redisUrl = new URL(REDIS_TEST_URL);
    const proxy = await tcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    const p = prefix();
    // A minute's window: while Redis is away, only Redis coming back can let this key call again.
    const env = { LEADTRAIL_REDIS_PREFIX: p, LEADTRAIL_RATE_LIMIT: '25/1m', LEADTRAIL_ROLE: 'api' };
    const s = await started({ REDIS_URL: `redis://127.0.0.1:${proxy.port()}`, ...env });
    // The same database: the shared count is per key id, and key ids are the database's.
    const direct = await started({ LEADTRAIL_DB: s.dbPath, REDIS_URL: REDIS_TEST_URL, ...env });
    proxy.stall();
    const t0 = Date.now();
    // Before, each call waited for Redis's answer for ever: bound them so that the test says so.
    const during = await Promise.all(
      Array.from({ length: 30 }, () =>
        s.call('GET', TYPES).then(
          (r) => r.status,
          () => 0,
        ),
      ).map((c) => Promise.race([c, new Promise<number>((r) => setTimeout(() => r(-1), 5_000))])),
    );
    expect(count(during, -1), 'calls still unanswered after 5 s').toBe(0);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(count(during, 200)).toBe(25);
    expect(count(during, 429)).toBe(5);
    // Later calls do not wait for Redis at all: the connection it stopped answering on was dropped.
    const t1 = Date.now();
    expect((await s.call('GET', TYPES)).status).toBe(429);
    expect(Date.now() - t1).toBeLessThan(400);

    proxy.resume();
    // Back: the process counts in Redis again, a fresh count its own in-process one cannot give.
    const deadline = Date.now() + 15_000;
    let back = false;
    while (!back && Date.now() < deadline) {
      back = (await s.call('GET', TYPES)).status === 200;
      if (!back) await new Promise((r) => setTimeout(r, 100));
    }
    expect(back, 'the count is shared again once Redis answers').toBe(true);
    // One count with the process that never lost Redis: 1 used above, 24 left between them.
    const shared = await burst([s, direct], 30);
    expect(count(shared, 200)).toBe(24);
    expect(count(shared, 429)).toBe(6);
  });

  it('a start against a Redis that accepts the connection but does not answer stops with one clear error', async () => {
    const redisUrl = new URL(REDIS_TEST_URL);
    const proxy = await tcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    proxy.stall();
    const t0 = Date.now();
    const start = startServer({ REDIS_URL: `redis://127.0.0.1:${proxy.port()}`, LEADTRAIL_ROLE: 'api', LEADTRAIL_ACCESS_KEY: KEYS.accessKey });
    const outcome = await Promise.race([start.then((x) => x.close().then(() => 'started'), (e: Error) => e.message), new Promise((r) => setTimeout(() => r('still starting after 10 s'), 10_000))]);
    expect(outcome).toMatch(/^Cannot reach Redis at 127\.0\.0\.1:\d+ \(no answer within 500 ms\)\. .*REDIS_URL/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    proxy.resume();
  });

  it('a Redis that answers errors on a live connection (a replica after a failover), or keeps failing and recovering, is one warning and one line when it is back', async () => {
    const fake = await fakeRedis();
    const lines: { msg: string; err?: string }[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    let now = Date.parse('2026-01-01T00:00:00Z');
    const s = await started(
      { REDIS_URL: `redis://127.0.0.1:${fake.port}`, LEADTRAIL_REDIS_PREFIX: prefix(), LEADTRAIL_RATE_LIMIT: '25/1m', LEADTRAIL_ROLE: 'api' },
      { log: createLogger('info', sink), ctx: { now: () => now, newId: () => crypto.randomUUID() } },
    );
    const said = () => lines.filter((l) => /^Redis /.test(l.msg)).map((l) => l.msg);
    const calls = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await s.call('GET', TYPES)).status).toBe(200);
    };
    const READONLY = "READONLY You can't write against a read only replica.";
    const unavailable = 'Redis unavailable; each process counts the rate limit alone until it is back';
    const back = 'Redis is back; the rate limit is shared again';
    try {
      for (let round = 1; round <= 2; round++) {
        const before = Array.from({ length: round - 1 }, () => [unavailable, back]).flat();
        fake.failWith = READONLY;
        await calls(2);
        // Answering again, then failing again within 10 s: the same outage, no new line.
        fake.failWith = null;
        await calls(2);
        now += 5_000;
        fake.failWith = READONLY;
        await calls(2);
        fake.failWith = null;
        await calls(2);
        now += 9_000;
        await calls(1);
        expect(said()).toEqual([...before, unavailable]);
        // Answering for 10 s: the outage is over, and the next one is warned about again. Before,
        // the connection never dropped, so no line ever said it was back, and a second outage
        // went unlogged.
        now += 1_000;
        await calls(1);
        expect(said()).toEqual([...before, unavailable, back]);
        now += 60_000;
      }
      expect(lines.find((l) => l.msg === unavailable)?.err).toBe(READONLY);
    } finally {
      await fake.close();
    }
  });
});
