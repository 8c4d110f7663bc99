/**
 * Cross-process rate limit through Redis: every API process counts against the same windows, so
 * 25 calls per 5 s means 25 across the deployment, not 25 per process. Keys carry a per-deployment
 * prefix so several deployments can share one Redis.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { flexibleLimiter, type Limiter } from './limiter.js';

export class RedisUnreachableError extends Error {}

const CONNECT_TIMEOUT_MS = 5_000;

function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}`;
  } catch {
    throw new RedisUnreachableError('REDIS_URL is not a valid URL (expected redis://host:6379)');
  }
}

/**
 * Connects (failing fast with a clear message when Redis is not there) and returns the limiter.
 * Once running, a Redis outage does not take the API down: each process falls back to counting
 * alone (the insurance limiter) until Redis answers again, and says so in the log.
 */
export async function redisLimiter(url: string, prefix: string, log?: Logger): Promise<Limiter> {
  const at = where(url);
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
    started = true;
  } catch (e) {
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
