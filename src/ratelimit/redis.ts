/**
 * Cross-process rate limit through Redis: every API process counts against the same windows, so
 * 25 calls per 5 s means 25 across the deployment, not 25 per process. Keys carry a per-deployment
 * prefix so several deployments can share one Redis.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { ConfigError } from '../config.js';
import { flexibleLimiter, type Limiter } from './limiter.js';

export class RedisUnreachableError extends Error {}

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * `host:port` of a REDIS_URL, and the database it names (null: none, so 0). A value that is not a
 * `redis://` or `rediss://` URL, or whose path is not a database number, is a ConfigError naming
 * REDIS_URL (the CLI exits 2), never a "cannot reach" (an `http://` URL used to be reported as
 * Redis not answering). The URL itself is not echoed: it may hold a password.
 */
function target(url: string): { at: string; db: number | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('REDIS_URL is not a valid URL (expected redis://host:6379)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new ConfigError(`REDIS_URL's path must be a database number (redis://host:6379/0), not "/${path.slice(0, 40)}"`);
  return { at: `${u.hostname || '127.0.0.1'}:${u.port || '6379'}`, db: path === '' ? null : Number(path) };
}

/**
 * Connects (failing fast with a clear message when Redis is not there) and returns the limiter.
 * Once running, a Redis outage does not take the API down: each process falls back to counting
 * alone (the insurance limiter) until Redis answers again, and says so in the log.
 */
export async function redisLimiter(url: string, prefix: string, log?: Logger): Promise<Limiter> {
  const { at, db } = target(url);
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: CONNECT_TIMEOUT_MS });
  let warned = false;
  // Until the first connection the start itself says what went wrong (one line, below), with the
  // socket's own reason (ECONNREFUSED) rather than ioredis' "Connection is closed.".
  let started = false;
  let firstError: (Error & { code?: string }) | null = null;
  client.on('error', (e: Error) => {
    if (!started) {
      firstError ??= e;
      return;
    }
    if (warned) return;
    warned = true;
    log?.warn({ err: e.message, redis: at }, 'Redis unavailable; each process counts the rate limit alone until it is back');
  });
  client.on('ready', () => {
    if (warned) log?.info({ redis: at }, 'Redis is back; the rate limit is shared again');
    warned = false;
  });
  try {
    await client.connect();
    await client.ping();
    // ioredis carries on in database 0 when the SELECT of the URL's database fails: ask again, so
    // that a database this Redis does not have stops the start instead of sharing database 0.
    if (db !== null) {
      try {
        await client.select(db);
      } catch (e) {
        client.disconnect();
        throw new ConfigError(`REDIS_URL names database ${db}, which the Redis at ${at} does not have (${(e as Error).message})`);
      }
    }
    started = true;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    client.disconnect();
    const cause = firstError ?? (e as Error & { code?: string });
    const reason = cause.code ?? cause.message;
    throw new RedisUnreachableError(`Cannot reach Redis at ${at} (${reason}). Check that Redis is running and REDIS_URL, or unset REDIS_URL to count the rate limit per process.`);
  }
  return flexibleLimiter(
    (spec, keyPrefix) =>
      new RateLimiterRedis({
        storeClient: client,
        points: spec.points,
        duration: spec.seconds,
        keyPrefix: `${prefix}:${keyPrefix}`,
        insuranceLimiter: new RateLimiterMemory({ points: spec.points, duration: spec.seconds, keyPrefix }),
      }),
    async () => {
      await client.quit().catch(() => client.disconnect());
    },
  );
}
