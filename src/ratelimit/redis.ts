/**
 * Cross-process rate limit through Redis: every API process counts against the same windows, so
 * 25 calls per 5 s means 25 across the deployment, not 25 per process. Keys carry a per-deployment
 * prefix so several deployments can share one Redis.
 */
import { connect as tcpConnect } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ConfigError, type RateLimitSpec } from '../config.js';
import type { Limiter } from './limiter.js';

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Longest one Redis command may take, in ms, before it counts as failed: a Redis that holds the
 * connection open but does not answer (stopped, a network partition without a reset) would
 * otherwise hold every sync call, and the start, for ever.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500;
/**
 * How long Redis must keep answering, in ms, before an outage is said to be over: a Redis that
 * keeps stalling and recovering (slower than the command timeout now and then) is one outage in
 * the log, not a warning and a "back" line every second.
 */
export const REDIS_BACK_AFTER_MS = 10_000;

/**
 * `host:port` of a REDIS_URL, and the database it names (null: none, so 0). A value that is not a
 * `redis://` or `rediss://` URL, or whose path is not a database number, is a ConfigError naming
 * REDIS_URL (the CLI exits 2), never a "cannot reach" (an `http://` URL used to be reported as
 * Redis not answering). The URL itself is not echoed: it may hold a password.
 */
function target(url: string): { at: string; host: string; port: number; tls: boolean; db: number | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('REDIS_URL (--redis-url) is not a valid URL (expected redis://host:6379)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`REDIS_URL (--redis-url) must start with redis:// or rediss://, not ${u.protocol}//`);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new ConfigError(`REDIS_URL (--redis-url): its path must be a database number (redis://host:6379/0), not "/${path.slice(0, 40)}"`);
  const host = (u.hostname || '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || '6379');
  return { at: `${u.hostname || '127.0.0.1'}:${port}`, host, port, tls: u.protocol === 'rediss:', db: path === '' ? null : Number(path) };
}

/** How long acceptsTcp waits for a TCP connection, in ms. */
const TCP_PROBE_MS = 1_000;

/**
 * Whether `host:port` accepts a plain TCP connection within TCP_PROBE_MS (closed at once, nothing
 * sent). Asked only after a `rediss://` start failed before its TLS handshake completed: a port that
 * accepts TCP but never finished the handshake is most likely a Redis without TLS, which waits for a
 * command and reads the TLS hello as one (a bare ETIMEDOUT after 5 s, found by a fresh-eyes run).
 */
function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(TCP_PROBE_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Connects (failing fast with a clear message when Redis is not there, or does not answer within
 * `commandTimeoutMs`) and returns the limiter. Once running, a Redis outage does not take the API
 * down: each process falls back to counting alone (an in-process count per spec) until Redis
 * answers again, and says so in the log: one warning when an outage begins, one line once Redis has
 * answered for `REDIS_BACK_AFTER_MS` (a failure in that time is the same outage). A Redis that stops answering without
 * closing the connection costs the calls of at most `commandTimeoutMs`: the connection is then
 * dropped and made again, and until it is ready calls count alone without asking Redis.
 *
 * @param url REDIS_URL (`redis://` or `rediss://`, optional database number); a ConfigError if not.
 * @param prefix LEADTRAIL_REDIS_PREFIX, put in front of every key.
 * @param opts.commandTimeoutMs ms one command may take (default REDIS_COMMAND_TIMEOUT_MS).
 * @param opts.now the clock that times how long Redis has answered again (epoch ms; the server's ctx).
 * @throws RedisUnreachableError when Redis cannot be reached, or does not answer, at start; for a
 *   `rediss://` URL whose port accepts TCP but did not complete the TLS handshake, one that says so
 *   (a Redis without TLS, most likely) instead of the bare socket error.
 */
export async function redisLimiter(url: string, prefix: string, log?: Logger, opts: { commandTimeoutMs?: number; now?: () => number } = {}): Promise<Limiter> {
  const { at, host, port, tls, db } = target(url);
  const now = opts.now ?? Date.now;
  const commandTimeout = opts.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS;
  // Not autoResendUnfulfilledCommands: the counts a lost connection left unanswered were counted
  // alone already; sent again on the next connection they would count twice once Redis is back.
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout,
    autoResendUnfulfilledCommands: false,
  });
  /** An outage was logged and its end not yet; since when Redis has answered again (null: it has not). */
  let warned = false;
  let answeringSince: number | null = null;
  // Until the first connection the start itself says what went wrong (one line, below), with the
  // socket's own reason (ECONNREFUSED) rather than ioredis' "Connection is closed.".
  let started = false;
  let firstError: (Error & { code?: string }) | null = null;
  const unavailable = (reason: string) => {
    answeringSince = null;
    if (warned) return;
    warned = true;
    log?.warn({ err: reason, redis: at }, 'Redis unavailable; each process counts the rate limit alone until it is back');
  };
  const timedOut = (e: Error) => e.message === 'Command timed out';
  const reason = (e: Error) => (timedOut(e) ? `no answer within ${commandTimeout} ms` : e.message);
  client.on('error', (e: Error) => {
    if (!started) {
      firstError ??= e;
      return;
    }
    unavailable(e.message);
  });
  /** Redis answered (a connection ready, a count): the outage ends once it has for REDIS_BACK_AFTER_MS. */
  const back = () => {
    if (!warned) return;
    const t = now();
    answeringSince ??= t;
    if (t - answeringSince < REDIS_BACK_AFTER_MS) return;
    log?.info({ redis: at }, 'Redis is back; the rate limit is shared again');
    warned = false;
    answeringSince = null;
  };
  client.on('ready', back);
  // ioredis says 'connect' once the socket is up: for rediss://, once the TLS handshake is done.
  let connected = false;
  client.once('connect', () => {
    connected = true;
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
        if (timedOut(e as Error)) throw e;
        throw new ConfigError(`REDIS_URL (--redis-url) names database ${db}, which the Redis at ${at} does not have (${(e as Error).message})`);
      }
    }
    started = true;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    client.disconnect();
    const cause = firstError ?? (e as Error & { code?: string });
    const why = cause.code ?? reason(cause);
    if (tls && !connected && (await acceptsTcp(host, port))) {
      throw new RedisUnreachableError(
        `The TLS handshake with the Redis at ${at} did not complete (${why}), though it accepts connections. REDIS_URL (--redis-url) starts with rediss:// (TLS): is it a TLS Redis? If not, use redis://.`,
      );
    }
    throw new RedisUnreachableError(`Cannot reach Redis at ${at} (${why}). Check that Redis is running and REDIS_URL (--redis-url), or unset it to count the rate limit per process.`);
  }
  /** Per spec: the shared count in Redis, and the process's own count for while Redis is away. */
  const bySpec = new Map<string, { shared: RateLimiterRedis; alone: RateLimiterMemory }>();
  const limiters = (spec: RateLimitSpec) => {
    const id = `${spec.points}-${spec.seconds}`;
    let l = bySpec.get(id);
    if (!l) {
      const keyPrefix = `lt-rl-${id}`;
      l = {
        // Not ready (down, reconnecting): refused at once, without a command, and counted alone below.
        shared: new RateLimiterRedis({ storeClient: client, points: spec.points, duration: spec.seconds, keyPrefix: `${prefix}:${keyPrefix}`, rejectIfRedisNotReady: true }),
        alone: new RateLimiterMemory({ points: spec.points, duration: spec.seconds, keyPrefix }),
      };
      bySpec.set(id, l);
    }
    return l;
  };
  const refused = (e: RateLimiterRes) => ({ allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) });
  return {
    async take(key, spec) {
      if (spec.points <= 0) return { allowed: true, retryAfterSeconds: 0 };
      const l = limiters(spec);
      // Counted in Redis (allowed or refused): it answers, whether or not the connection was ever
      // lost. A Redis that answered errors on a live connection (a replica after a failover:
      // READONLY; out of memory) gives no 'ready' when it heals.
      try {
        await l.shared.consume(key, 1);
        back();
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (e) {
        if (e instanceof RateLimiterRes) {
          back();
          return refused(e);
        }
        unavailable(reason(e as Error));
        // A connection Redis no longer answers on: make a new one, so that the calls behind this
        // one count alone at once instead of each waiting out its timeout.
        if (timedOut(e as Error) && client.status === 'ready') client.disconnect(true);
      }
      try {
        await l.alone.consume(key, 1);
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (e) {
        if (e instanceof RateLimiterRes) return refused(e);
        throw e;
      }
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
