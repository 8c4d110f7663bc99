/**
 * Who is calling. Sync API: accessKey/secretKey in the query (any case) or x-LSQ-AccessKey /
 * x-LSQ-SecretKey headers. Async API: additionally the x-api-key header, which alone is enough for
 * the status and metrics calls. Rate limits are applied here too, per access key.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRateLimit, type RateLimitSpec } from '../config.js';
import { accountForApiKey, authenticate } from '../domain/accounts.js';
import { mx } from '../domain/errors.js';
import type { Credential } from '../domain/types.js';
import type { Services } from '../services.js';

export interface Principal {
  accountId: string;
  credential: Credential | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** The body as text, decoded by its declared charset (LeadSquared's routes). */
    rawBody: string | undefined;
    /** The body's size in bytes as sent (before decoding), for the request journal. */
    rawBodyBytes: number | undefined;
  }
}

/**
 * `admin`: the account's access/secret key like `sync`, but not counted against the rate limit.
 * `bulk`: keys like `sync`, counted against the bulk limit instead of the sync one (bulkThrottleHook).
 */
export type AuthKind = 'sync' | 'bulk' | 'admin' | 'async-submit' | 'async-read' | 'none';

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
}

/** Access and secret key: query parameters win; an empty one (a blank URL template) counts as absent. */
function keysOf(req: FastifyRequest): [string | null, string | null] {
  const q = query(req);
  return [q.accesskey || header(req, 'x-lsq-accesskey'), q.secretkey || header(req, 'x-lsq-secretkey')];
}

export function query(req: FastifyRequest): Record<string, string> {
  const q = (req.query ?? {}) as Record<string, string>;
  // %00 would reach the database as a lookup key, which PostgreSQL refuses with a system error.
  for (const [k, v] of Object.entries(q)) if (v.includes('\u0000')) throw mx.badQuery(k);
  return q;
}

const specCache = new Map<string, RateLimitSpec>();
function keySpec(cred: Credential, fallback: RateLimitSpec): RateLimitSpec {
  if (!cred.rateLimit) return fallback;
  let s = specCache.get(cred.rateLimit);
  if (!s) {
    s = parseRateLimit(cred.rateLimit, 'rate limit', true);
    specCache.set(cred.rateLimit, s);
  }
  return s;
}

/**
 * Counts one call of `cred` against `spec` in `scope` (`sync`, `bulk`, `async`). The count is named
 * by the key's id (the one `leadtrail keys list` shows), never by the access key itself: with
 * REDIS_URL the name is a Redis key, and anyone who can list Redis's keys must not learn access keys.
 */
async function throttle(s: Services, cred: Credential, spec: RateLimitSpec, scope: string): Promise<void> {
  if (spec.points <= 0) return;
  const d = await s.limiter.take(`${scope}:${cred.id}`, spec);
  if (!d.allowed) {
    s.metrics.rateLimited(scope === 'async' ? 'async' : 'sync');
    throw mx.rateLimited(spec.points, spec.seconds, d.retryAfterSeconds);
  }
}

class Forbidden extends Error {
  override name = 'Forbidden';
}

/**
 * Checks the keys. It runs as an `onRequest` hook, before any body is read, on every route: a caller
 * without valid keys gets 401 (or 403) at once and cannot make the server hold or buffer a body.
 */
export function authHook(s: Services, kind: AuthKind) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (kind === 'none') return;
    try {
      if (kind === 'sync' || kind === 'bulk' || kind === 'admin') {
        const cred = await authenticate(s.store, ...keysOf(req));
        req.principal = { accountId: cred.accountId, credential: cred };
        return;
      }
      const apiAccount = await accountForApiKey(s.store, header(req, 'x-api-key'));
      if (!apiAccount) throw new Forbidden();
      if (kind === 'async-read') {
        req.principal = { accountId: apiAccount, credential: null };
        return;
      }
      const cred = await authenticate(s.store, ...keysOf(req));
      if (cred.accountId !== apiAccount) throw mx.keysOfAnotherAccount();
      req.principal = { accountId: cred.accountId, credential: cred };
      await throttle(s, cred, s.config.asyncRateLimit, 'async');
    } catch (e) {
      // The async gateway answers a missing or wrong x-api-key the way AWS API Gateway does.
      if (e instanceof Forbidden) return reply.code(403).send({ message: 'Forbidden' });
      throw e;
    }
  };
}

/**
 * The sync rate limit, taken once the body has been read (a `preHandler` hook): as before keys were
 * checked ahead of the body, a call refused for its body (400, 413) does not use up a token.
 */
export function syncThrottleHook(s: Services) {
  // Callback-style, with no promise at all when the limit is off for the key (the usual sandbox).
  return (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const cred = req.principal.credential;
    if (!cred) return done();
    const spec = keySpec(cred, s.config.rateLimit);
    if (spec.points <= 0) return done();
    throttle(s, cred, spec, 'sync').then(() => done(), done);
  };
}

/**
 * The bulk APIs' own, stricter limit (LeadSquared's "Bulk APIs" class, fact sheet §4), counted per
 * access key apart from the sync limit. It is off whenever the key's sync limit is off (globally or
 * for that key). A `preHandler` hook like the sync limit: taken once the body has been read.
 */
export function bulkThrottleHook(s: Services) {
  return (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const cred = req.principal.credential;
    if (!cred || keySpec(cred, s.config.rateLimit).points <= 0 || s.config.bulkRateLimit.points <= 0) return done();
    throttle(s, cred, s.config.bulkRateLimit, 'bulk').then(() => done(), done);
  };
}
