/**
 * Forced faults on the API itself (http rules of `/_leadtrail/faults`, src/queue/faults.ts): with
 * `LEADTRAIL_FAULTS`, a request to any LeadSquared path (sync, bulk or async API; never the admin,
 * health or metrics paths) that a rule of its account matches is delayed, answered with the forced
 * status in LeadSquared's envelope (429 with Retry-After, 500 MXSystemException, 503), or has its
 * connection closed without an answer. Runs once keys are checked and the body is read, before the
 * rate limit, so a forced answer costs no token.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { Principal } from './auth.js';
import { CLIENT_LEFT } from '../client-gone.js';
import { routeLabel } from './route-label.js';

const EXCEPTION: Record<number, string> = {
  429: 'MXAPIRateLimitExceededException',
  500: 'MXSystemException',
  503: 'MXServiceUnavailableException',
};

/** The status a dropped call is counted and journaled with: nginx's "closed without a response". */
export const DROPPED = 444;

/** Adds the hook to `app` (before its routes are declared, so it runs ahead of their own hooks); nothing without `LEADTRAIL_FAULTS`. */
export function registerSyncFaults(app: FastifyInstance, s: Services): void {
  if (!s.config.faults) return;
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = (req as { principal?: Principal }).principal;
    if (!principal) return; // a path without keys: health, metrics
    const [path, query = ''] = req.url.split(/\?(.*)/s);
    if (/^\/+_leadtrail(\/|$)/i.test(path)) return; // the faults API itself must stay reachable
    const text = req.rawBody !== undefined && req.rawBody !== '' ? req.rawBody : query;
    const rule = await s.faults.forRequest(principal.accountId, path, text);
    if (!rule) return;
    req.log.info({ faultId: rule.id, status: rule.status, latencyMs: rule.latencyMs, drop: rule.drop }, 'forced fault applied');
    if (rule.latencyMs !== null) await sleep(rule.latencyMs);
    if (rule.drop) {
      // No answer at all: the client sees its connection reset, as behind a failing proxy. A client
      // that left during the latency is already counted (499, server.ts).
      const left = req.raw.socket.destroyed;
      reply.hijack();
      req.raw.socket.destroy();
      if (left) {
        // Its journal entry (499, held for the handler's end) is written now: no answer will come.
        if (req.journalLeft) req.server.journalUnanswered?.(req, reply, CLIENT_LEFT);
        return reply;
      }
      // Without an answer no onResponse hook runs: the call is counted and journaled here, with
      // status 444 (nginx's code for a connection closed without a response), so that whoever
      // rehearses failures sees which calls were dropped.
      s.metrics.observeRequest(routeLabel(req), req.method, DROPPED, reply.elapsedTime / 1000);
      req.server.journalUnanswered?.(req, reply, DROPPED);
      return reply;
    }
    if (rule.status === null) return; // latency only: the request goes on
    if (rule.retryAfter !== null) reply.header('retry-after', String(rule.retryAfter));
    return reply.code(rule.status).send({ Status: 'Error', ExceptionType: EXCEPTION[rule.status] ?? 'MXSystemException', ExceptionMessage: rule.message });
  });
}
