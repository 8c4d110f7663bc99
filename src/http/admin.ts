/**
 * leadtrail's own endpoints (not LeadSquared's): health for orchestrators and load balancers, and
 * the forced-faults API (routed only when `LEADTRAIL_FAULTS` is on; otherwise those paths are 404).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { MxError, mx } from '../domain/errors.js';
import type { RequestKind } from '../domain/types.js';
import { normalizeFaultPath, type FaultRule } from '../queue/faults.js';
import { flushJournal, journalRecorder } from '../journal/recorder.js';
import { TASK_TYPES } from '../queue/status.js';
import { decodeUnreserved, readBody, readQuery } from '../schemas/endpoint.js';
import { FAULT_MAX_LATENCY_MS, faultAdd, faultWhole, faultsClear } from '../schemas/admin.js';
import { ENDPOINTS } from '../schemas/index.js';
import type { Store } from '../storage/store.js';
import { query } from './auth.js';
import type { Services } from '../services.js';
import type { Handler } from './handler.js';

/**
 * 503 `starting` before the start is done, 503 `stopping` (and the connection closed) once closing
 * has begun; null while the server serves. For /health and /health/ready.
 */
function notServing(s: Services, reply: FastifyReply): { status: string; role: string; store: string } | null {
  const base = { role: s.config.role, store: s.store.engine };
  if (!s.ready) {
    reply.code(503).header('retry-after', '1');
    return { status: 'starting', ...base };
  }
  if (s.stopping) {
    reply.code(503).header('retry-after', '1').header('connection', 'close');
    return { status: 'stopping', ...base };
  }
  return null;
}

/**
 * `okStatus` once the start is done and the database answers a read now; else the 503 of
 * notServing, or 503 `unavailable` with Retry-After: plain JSON, as every health answer, never the
 * MX envelope of an API error (README, health paths). For /health and /health/ready.
 */
async function servingAnswer(s: Services, reply: FastifyReply, okStatus: string): Promise<{ status: string; role: string; store: string; reason?: string }> {
  const not = notServing(s, reply);
  if (not) return not;
  const base = { role: s.config.role, store: s.store.engine };
  try {
    await s.store.accounts.count();
  } catch {
    reply.code(503).header('retry-after', '1');
    return { status: 'unavailable', reason: 'database unreachable', ...base };
  }
  return { status: okStatus, ...base };
}

// OK only once the server will serve its keys (migrated, first account made): a probe that sees
// 200 may send keyed calls at once.
export const health: Handler = (s, _req, reply) => servingAnswer(s, reply, 'ok');

/**
 * The process answers and its store has not failed for good (for a liveness probe, which restarts a
 * process that fails it): 503 `failed` once only a restart can help (Store.failed).
 */
export const live: Handler = async (s, _req, reply) => {
  // A store that failed for good (Store.failed) recovers only by a restart: say so to the probe.
  if (s.storeFailed) {
    reply.code(503);
    return { status: 'failed', reason: s.storeFailed.message, role: s.config.role };
  }
  return { status: 'ok', role: s.config.role };
};

/**
 * Ready for traffic: migrations applied and the first account made (the start is done), and the
 * database answers now. 503 otherwise (starting, stopping, database unreachable), in plain JSON with the reason.
 */
export const ready: Handler = (s, _req, reply) => servingAnswer(s, reply, 'ready');

function bearer(value: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return m ? m[1] : null;
}

/** Compared as SHA-256 digests, so that neither the bytes nor the length of the token show in the time taken. */
function sameText(a: string, b: string): boolean {
  const digest = (t: string) => createHash('sha256').update(t).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Prometheus text exposition of this process's registry; with `LEADTRAIL_METRICS_TOKEN`, only for its bearer. */
export const metrics: Handler = async (s, req, reply) => {
  const token = s.config.metricsToken;
  if (token !== null) {
    const given = bearer(req.headers.authorization);
    if (given === null || !sameText(given, token)) {
      reply.code(401).header('www-authenticate', 'Bearer realm="leadtrail metrics"');
      return { error: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <LEADTRAIL_METRICS_TOKEN>' };
    }
  }
  const { contentType, text } = await s.metrics.scrape();
  reply.header('content-type', contentType);
  return text;
};

const OPERATIONS = [...(Object.keys(TASK_TYPES) as RequestKind[]), '*'] as const;
const DEFAULT_MESSAGE = 'Forced system fault (leadtrail faults API)';
/** Statuses an http rule may force, and the default message of each. */
const FORCED_STATUS: Record<number, string> = {
  429: 'API calls exceeded the limit (forced by the leadtrail faults API)',
  500: DEFAULT_MESSAGE,
  503: 'The service is unavailable (forced by the leadtrail faults API)',
};

const view = (r: FaultRule) =>
  r.target === 'async'
    ? { id: r.id, target: r.target, operation: r.operation, match: r.match, remaining: r.remaining, percent: r.percent, message: r.message }
    : {
        id: r.id,
        target: r.target,
        path: r.path,
        match: r.match,
        status: r.status,
        retryAfter: r.retryAfter,
        latencyMs: r.latencyMs,
        drop: r.drop,
        remaining: r.remaining,
        percent: r.percent,
        message: r.message,
      };

/**
 * A rule from a POST body read by the faultAdd schema (property names in any case; percent, times,
 * match and message checked there). With `path` it is an http rule, otherwise an async one
 * (`operation`, default any). `times` (default 1, or no count when `percent` is given) and
 * `percent` bound how often it applies.
 */
export function parseRule(body: unknown): Omit<FaultRule, 'id' | 'accountId' | 'createdAt'> {
  const o = readBody(faultAdd, body);
  const { path, percent } = o;
  const remaining = o.times === null ? (percent === null ? 1 : null) : o.times;
  const messageRaw = o.message;
  const common = { match: o.match, remaining, percent };

  if (path === undefined || path === null) {
    for (const name of ['status', 'retryAfter', 'latencyMs', 'drop'] as const) {
      if (o[name] !== undefined) throw mx.badStructure(`'${name}' needs 'path' (a rule for API requests); without it the rule fails async attempts`);
    }
    const operation = o.operation ?? '*';
    if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation.toLowerCase())) {
      throw mx.badStructure(`'operation' must be one of ${OPERATIONS.join(', ')}`);
    }
    return {
      target: 'async', operation: operation.toLowerCase(), path: null, status: null, retryAfter: null, latencyMs: null, drop: false,
      message: (messageRaw ?? DEFAULT_MESSAGE).slice(0, 500), ...common,
    };
  }

  if (typeof path !== 'string' || path.trim() === '' || (path !== '*' && !path.startsWith('/'))) {
    throw mx.badStructure("'path' must be '*', a path such as /v2/LeadManagement.svc/Lead.Create, or a prefix ending in * such as /v2/*");
  }
  if (o.operation !== undefined) throw mx.badStructure("give 'operation' (async attempts) or 'path' (API requests), not both");
  const statusRaw = o.status ?? null;
  if (statusRaw !== null && (typeof statusRaw !== 'number' || !(statusRaw in FORCED_STATUS))) {
    throw mx.badStructure(`'status' must be one of ${Object.keys(FORCED_STATUS).join(', ')}`);
  }
  const status = statusRaw as number | null;
  const latencyRaw = o.latencyMs ?? null;
  const latencyMs = latencyRaw === null ? null : faultWhole(latencyRaw, 'latencyMs', 1, FAULT_MAX_LATENCY_MS);
  const dropRaw = o.drop ?? false;
  if (typeof dropRaw !== 'boolean') throw mx.badStructure("'drop' must be true or false");
  if (dropRaw && status !== null) throw mx.badStructure("'drop' closes the connection without an answer: it cannot be given with 'status'");
  if (status === null && latencyMs === null && !dropRaw) throw mx.badStructure("a rule with 'path' needs 'status', 'latencyMs' or 'drop'");
  const retryRaw = o.retryAfter ?? null;
  if (retryRaw !== null && status !== 429 && status !== 503) throw mx.badStructure("'retryAfter' goes with status 429 or 503");
  const retryAfter = status === 429 || status === 503 ? (retryRaw === null ? 1 : faultWhole(retryRaw, 'retryAfter', 0, 3600)) : null;
  // A prefix is kept as written (lower case, unreserved escapes decoded, doubled slashes made one, as
  // request paths are: pathKey): `/v2/*` must not also match `/v2x`.
  const normalized = path === '*' ? '*' : path.endsWith('*') ? decodeUnreserved(path).replace(/\/{2,}/g, '/').toLowerCase() : normalizeFaultPath(path);
  checkRulePath(path, normalized);
  return {
    target: 'http', operation: null, path: normalized, status, retryAfter, latencyMs, drop: dropRaw,
    message: (messageRaw ?? (status !== null ? FORCED_STATUS[status] : DEFAULT_MESSAGE)).slice(0, 500), ...common,
  };
}

/** leadtrail's own paths (the faults API, health, Prometheus metrics): the fault hook never applies to them. */
const OWN_PATH = /^\/(_leadtrail|health|metrics)(\/|$)/i;
let ruledPaths: string[] | undefined;
/** Every path a rule with `path` can apply to, as the fault hook compares them (normalizeFaultPath). */
const faultablePaths = () => (ruledPaths ??= [...new Set(ENDPOINTS.map((e) => e.path).filter((p) => !OWN_PATH.test(p)).map(normalizeFaultPath))]);

/**
 * A rule's `path` must be one some request can match: `*`, an API path, or a prefix of one ending
 * in `*`. A `*` inside a path (`/v2/` then `*` then `/Lead.Create`), a space, a typo (`Lead.Creat`) or leadtrail's own paths
 * had been taken with 200 and then never applied, so a test rehearsing a failure believed it armed
 * (a fresh-eyes run). 400 naming the property otherwise.
 */
function checkRulePath(path: string, normalized: string): void {
  if (normalized === '*') return;
  if (path.slice(0, -1).includes('*')) throw mx.badStructure("'path' may hold * only at its end (a prefix such as /v2/ProspectActivity.svc/*), or be * alone");
  if (/[\s\u0000-\u001f]/.test(path)) throw mx.badStructure("'path' must not contain spaces or control characters");
  if (OWN_PATH.test(normalized)) throw mx.badStructure("'path': rules do not apply to leadtrail's own /_leadtrail, /health and /metrics paths");
  const known = faultablePaths();
  const ok = normalized.endsWith('*') ? known.some((p) => p.startsWith(normalized.slice(0, -1))) : known.includes(normalized);
  if (!ok) {
    throw mx.badStructure(
      `'path' ${path.slice(0, 200)} is not ${normalized.endsWith('*') ? 'the start of ' : ''}a path leadtrail serves (such as /v2/LeadManagement.svc/Lead.Create; the OpenAPI document at /openapi.json lists them)`,
    );
  }
}

/**
 * POST `/_leadtrail/faults`: adds a rule (see parseRule and src/queue/faults.ts) for the calling
 * account, stored in the database so every process applies it. Answers `{"fault": rule}`.
 */
export const addFault: Handler = async (s, req) => {
  const rule: FaultRule = { id: s.ctx.newId(), accountId: req.principal.accountId, createdAt: s.ctx.now(), ...parseRule(req.body) };
  await s.faults.add(rule);
  s.log.info({ faultId: rule.id, target: rule.target, operation: rule.operation, path: rule.path, times: rule.remaining, percent: rule.percent }, 'forced fault added');
  return { fault: view(rule) };
};

export const listFaults: Handler = async (s, req) => ({ faults: (await s.faults.list(req.principal.accountId)).map(view) });

/**
 * DELETE: every rule of the account, or with `id` (query, else body) only that one. Answers
 * `{"cleared": n}`. A blank `id` (`?id=` from an unset shell variable) is a 400: it had removed
 * every rule, as had an id sent in the body, which was not read (a fresh-eyes run).
 */
export const clearFaults: Handler = async (s, req) => {
  let id = readQuery(faultsClear, query(req)).id;
  if (id === undefined) {
    // Only a body that is not there means every rule: a JSON null or "" (what `JSON.stringify(rule?.id
    // ?? null)` sends) had been read as none (a review).
    const sent = req.rawBody !== undefined && req.rawBody.trim() !== '';
    if (sent && (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))) {
      throw new MxError('MXInvalidInputException', 'Invalid request body: request body must be a JSON object such as {"id":"<rule id>"}, or be left out to remove every rule', 400);
    }
    id = readBody(faultsClear, req.body).id ?? undefined;
  }
  if (id !== undefined && id.trim() === '') {
    throw new MxError('MXInvalidInputException', "'id' is blank: give a rule's id (GET /_leadtrail/faults lists them), or leave 'id' out to remove every rule.", 400);
  }
  return { cleared: await s.faults.clear(req.principal.accountId, id?.trim()) };
};

/**
 * POST `/_leadtrail/retries/run-now` (with the forced-faults switch): every request of the calling
 * account that waits for its next retry becomes due now, so a test of retry handling takes
 * milliseconds instead of LeadSquared's 30 s … 3 h back-off. Answers `{"due": n}`.
 */
export const runRetriesNow: Handler = async (s, req) => {
  const due = await s.store.requests.makeDue(req.principal.accountId, s.ctx.now());
  // The worker in this process looks at once; workers in other processes at their next poll.
  if (due > 0) s.enqueuer.events.emit('accepted', due);
  s.log.info({ due }, 'waiting retries made due now');
  return { due };
};

/**
 * POST `/_leadtrail/reset` (with `LEADTRAIL_SANDBOX`): empties the calling account (its leads,
 * activities, async requests, request journal, webhook events and delivery records, forced-fault
 * rules; ProspectAutoId starts again at 1) and keeps its users, keys, lead fields, activity types and
 * webhooks (their failures in a row back at 0, one disabled after failures enabled again), so a test
 * suite can start each run from the same state. Answers how many of each were deleted.
 */
export const reset: Handler = async (s, req, reply) => {
  // When this call was received, as its journal entry's `at` (journal-hook.ts): calls received
  // before it go with the reset, and its own entry, 1 ms of rounding aside, is the first one left.
  const received = Math.round(s.ctx.now() - reply.elapsedTime) - 1;
  const deleted = await resetServedAccount(s, req.principal.accountId, received);
  s.log.info(deleted, 'account reset');
  return { deleted };
};

/**
 * resetAccount in a serving process (`POST /_leadtrail/reset`, `startLeadtrail()`'s `reset()`): the
 * journal entries of calls this process received before `since` (epoch ms; default now) go with
 * the rest instead of landing in the emptied journal: those still buffered are written first (an
 * embedded reset skipped this, and a test read the previous test's calls: found by a fresh-eyes
 * run), and those answered later are not recorded (a call made just before the reset and answered
 * after it: another fresh-eyes run). Another process's calls are its own recorder's: docs/journal.md.
 */
export async function resetServedAccount(s: Services, accountId: string, since = s.ctx.now()): Promise<{ leads: number; activities: number; requests: number }> {
  journalRecorder(s)?.forgetBefore(accountId, since);
  await flushJournal(s);
  return resetAccount(s.store, accountId);
}

/**
 * What `POST /_leadtrail/reset` and `leadtrail reset` do, in one transaction; returns how many of
 * each were deleted. It runs in a write batch of its own (`exclusive`): the reset sets the account's
 * ProspectAutoId counter, and on PostgreSQL a lead created later in the same batch would wait for
 * that row lock on another connection (the counter is taken outside the batch) until time-out.
 */
export function resetAccount(store: Store, accountId: string) {
  return store.exclusive(async (tx) => {
    // First, holding nothing else yet: every write transaction in flight, in any process, ends
    // before anything is deleted, and the ones that begin meanwhile wait at their start. Locking
    // the tables (deleteData) waited only for transactions that had written: one that had read a
    // lead and wrote after the reset deleted it failed (a sync Create by email answered 500 "Lead
    // does not exist"), and one that had written one table and then wanted another deadlocked
    // with it (PostgreSQL aborted one after a second). Found by a scale-out trial.
    await tx.accounts.holdWrites();
    // The account's webhooks before their events (deleteData locks the event tables, clearEvents
    // then writes the webhooks): a Delete or Update of a webhook holds its row and then writes its
    // events, and the two deadlocked on PostgreSQL when the reset came between.
    await tx.webhooks.lockAll(accountId);
    const deleted = await tx.accounts.deleteData(accountId);
    // Webhook events of the deleted leads are not sent; the webhooks themselves stay, their failure
    // accounting started again (a webhook disabled after failures is enabled; by hand stays disabled).
    await tx.webhooks.clearEvents(accountId);
    // Forced faults are a test's own setup: left, their remaining uses failed the next test.
    await tx.faultRules.clear(accountId);
    return deleted;
  });
}
