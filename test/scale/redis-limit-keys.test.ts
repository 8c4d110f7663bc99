/**
 * What the Redis rate limit writes to Redis: anyone who can list Redis's keys (`redis-cli --scan`)
 * must not learn an access key from them. Two `serve --role api` processes (the built CLI) on one
 * PostgreSQL schema still share one count per access key, and two keys of the deployment count apart.
 * Needs Redis (127.0.0.1:6379 or LEADTRAIL_TEST_REDIS_URL) and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, http, serve } from '../cli/cli-runner.js';
import { dropSchemas, freshSchema, pgAvailable, REDIS_TEST_URL } from '../helpers/pg.js';

await pgAvailable();

const TYPES = '/v2/ProspectActivity.svc/ActivityTypes.Get';
const FIRST = { accessKey: `first-access-${randomBytes(4).toString('hex')}`, secretKey: 'first-secret-key' };
const schema = freshSchema();
const prefix = `lt-test-${randomBytes(4).toString('hex')}`;
const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true });
afterAll(async () => {
  const keys = await scan(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await dropSchemas([schema.name]);
});

async function scan(match: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

describe('Redis rate-limit keys', () => {
  it('name no access key, and still count per key across two API processes', { timeout: 90_000 }, async () => {
    const env = {
      DATABASE_URL: schema.url,
      REDIS_URL: REDIS_TEST_URL,
      LEADTRAIL_REDIS_PREFIX: prefix,
      LEADTRAIL_ACCESS_KEY: FIRST.accessKey,
      LEADTRAIL_SECRET_KEY: FIRST.secretKey,
      // A window long enough that no burst below straddles two of them.
      LEADTRAIL_RATE_LIMIT: '10/1m',
      LEADTRAIL_BULK_RATE_LIMIT: '10/1m',
      LEADTRAIL_ASYNC_RATE_LIMIT: '10/1m',
      LEADTRAIL_PG_POOL: '4',
    };
    const [a, b] = await Promise.all([serve(['--port', '0', '--role', 'api'], env), serve(['--port', '0', '--role', 'api'], env)]);
    try {
      const accounts = await cliJson(['account', 'list'], { DATABASE_URL: schema.url });
      const second = await cliJson(['keys', 'create', '--account', accounts[0].id], { DATABASE_URL: schema.url });
      const SECOND = { accessKey: second.accessKey as string, secretKey: second.secretKey as string };

      // 12 calls with the first key, alternating between the processes: one count of 10 for both.
      const firstBurst = await Promise.all(Array.from({ length: 12 }, (_, i) => http([a, b][i % 2].url, 'GET', TYPES, { keys: FIRST }).then((r) => r.status)));
      expect(firstBurst.filter((s) => s === 200)).toHaveLength(10);
      expect(firstBurst.filter((s) => s === 429)).toHaveLength(2);
      // The other key of the same account has a count of its own.
      const secondBurst = await Promise.all(Array.from({ length: 4 }, (_, i) => http([a, b][i % 2].url, 'GET', TYPES, { keys: SECOND }).then((r) => r.status)));
      expect(secondBurst).toEqual([200, 200, 200, 200]);

      await redis.connect();
      const keys = await scan(`${prefix}:*`);
      // The scan sees the limiter's keys (one per access key here)…
      expect(keys.length).toBeGreaterThanOrEqual(2);
      // …and none of them names an access key or a secret, whole or in part.
      for (const k of keys) {
        for (const secret of [FIRST.accessKey, FIRST.secretKey, SECOND.accessKey, SECOND.secretKey]) expect(k).not.toContain(secret);
        expect(k).not.toContain('first-access');
        expect(k).not.toContain(SECOND.accessKey.slice(3, 19));
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
