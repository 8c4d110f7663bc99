/**
 * leadtrail's own endpoints (not LeadSquared's): health for orchestrators and load balancers, and
 * the forced-faults API (routed only when `LEADTRAIL_FAULTS` is on; otherwise those paths are 404).
 */
import { timingSafeEqual } from 'node:crypto';
import { mx } from '../domain/errors.js';
import type { RequestKind } from '../domain/types.js';
import type { FaultRule } from '../queue/faults.js';
import { TASK_TYPES } from '../queue/status.js';
import { asObject, prop } from '../wire/parse.js';
import type { Handler } from './handler.js';

export const health: Handler = async (s, _req, reply) => {
  // OK only once the server will serve its keys (migrated, first account made): a probe that sees
  // 200 may send keyed calls at once.
  if (!s.ready) {
    reply.code(503).header('retry-after', '1');
    return { status: 'starting', role: s.config.role, store: s.store.engine };
  }
  await s.store.accounts.count();
  return { status: 'ok', role: s.config.role, store: s.store.engine };
};

/** The process answers: nothing more (for a liveness probe, which restarts a process that stops answering). */
export const live: Handler = async (s) => ({ status: 'ok', role: s.config.role });

/**
 * Ready for traffic: migrations applied and the first account made (the start is done), and the
 * database answers now. 503 otherwise, in plain JSON with the reason.
 */
export const ready: Handler = async (s, _req, reply) => {
  const base = { role: s.config.role, store: s.store.engine };
  if (!s.ready) {
    reply.code(503).header('retry-after', '1');
    return { status: 'starting', ...base };
  }
  try {
    await s.store.accounts.count();
  } catch {
    reply.code(503).header('retry-after', '1');
    return { status: 'unavailable', reason: 'database unreachable', ...base };
  }
  return { status: 'ready', ...base };
};

function bearer(value: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value ?? '');
  return m ? m[1] : null;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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
  const text = await s.metrics.registry.metrics();
  reply.header('content-type', s.metrics.registry.contentType);
  return text;
};

const OPERATIONS = [...(Object.keys(TASK_TYPES) as RequestKind[]), '*'] as const;
const MAX_TIMES = 1000;
const DEFAULT_MESSAGE = 'Forced system fault (leadtrail faults API)';

const view = (r: FaultRule) => ({ id: r.id, operation: r.operation, match: r.match, remaining: r.remaining, message: r.message });

function parseRule(body: unknown): Omit<FaultRule, 'id' | 'accountId'> {
  const o = asObject(body ?? null);
  const operation = prop(o, 'operation') ?? '*';
  if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation.toLowerCase())) {
    throw mx.badStructure(`'operation' must be one of ${OPERATIONS.join(', ')}`);
  }
  const times = prop(o, 'times') ?? 1;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 1 || times > MAX_TIMES) {
    throw mx.badStructure(`'times' must be a whole number from 1 to ${MAX_TIMES}`);
  }
  const message = prop(o, 'message') ?? DEFAULT_MESSAGE;
  if (typeof message !== 'string' || message.trim() === '') throw mx.badStructure("'message' must be a non-empty string");
  const match = prop(o, 'match') ?? null;
  if (match !== null && (typeof match !== 'string' || match === '')) throw mx.badStructure("'match' must be a non-empty string");
  return { operation: operation.toLowerCase() as FaultRule['operation'], remaining: times, message: message.slice(0, 500), match };
}

/** POST: the next `times` attempts of `operation` (optionally only bodies containing `match`) fail. */
export const addFault: Handler = async (s, req) => {
  const rule: FaultRule = { id: s.ctx.newId(), accountId: req.principal.accountId, ...parseRule(req.body) };
  s.faults.add(rule);
  s.log.info({ faultId: rule.id, operation: rule.operation, times: rule.remaining }, 'forced fault added');
  return { fault: view(rule) };
};

export const listFaults: Handler = async (s, req) => ({ faults: s.faults.list(req.principal.accountId).map(view) });

export const clearFaults: Handler = async (s, req) => ({ cleared: s.faults.clear(req.principal.accountId) });

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
 * activities, async requests, webhook events and delivery records; ProspectAutoId starts again at 1)
 * and keeps its users, keys, lead fields, activity types and webhooks, so a test suite can start each run from the same state. Answers how
 * many of each were deleted.
 */
export const reset: Handler = async (s, req) => {
  const deleted = await s.store.transaction(async (tx) => {
    const out = await tx.accounts.deleteData(req.principal.accountId);
    // Webhook events of the deleted leads are not sent; the webhooks themselves stay.
    await tx.webhooks.clearEvents(req.principal.accountId);
    return out;
  });
  s.log.info(deleted, 'account reset');
  return { deleted };
};
