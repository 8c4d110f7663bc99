/**
 * The async host's paths: accept (store durably, answer a RequestID), status and metrics.
 * Everything but authentication and JSON syntax is judged later, by the worker, as LeadSquared does.
 */
import { mx } from '../../domain/errors.js';
import { requestStatus, requestMetrics } from '../../queue/status.js';
import type { RequestKind } from '../../domain/types.js';
import { orderKeyOf } from '../../wire/operations.js';
import { query } from '../auth.js';
import type { Handler } from '../handler.js';
import { readQuery } from '../../schemas/endpoint.js';
import { asyncActivityStatus } from '../../schemas/async.js';

export const ACCEPTED = 'Request accepted. Please use below request id to check the status';

/** Query parameters kept with the request because they change what it does. */
const KEPT_PARAMS = ['leadupdatebehavior', 'postupdatedlead', 'leadid'];

export function accept(kind: RequestKind): Handler {
  return async (s, req, reply) => {
    if (req.body === undefined) throw mx.badJson('Unexpected character encountered while parsing value: the request body is empty');
    const id = s.ctx.newId();
    const q = query(req);
    const params: Record<string, string> = {};
    for (const k of KEPT_PARAMS) if (q[k] !== undefined) params[k] = q[k];
    await s.enqueuer.enqueue({
      id,
      accountId: req.principal.accountId,
      kind,
      body: req.rawBody ?? JSON.stringify(req.body),
      params,
      orderKey: orderKeyOf(kind, req.body, id, params),
      createdAt: s.ctx.now(),
      userId: req.principal.credential?.userId ?? null,
    });
    reply.code(200);
    return { Status: ACCEPTED, RequestID: id };
  };
}

export function status(kinds: RequestKind[] | null): Handler {
  return async (s, req) => {
    const { RequestID: id } = readQuery(asyncActivityStatus, query(req));
    const r = await s.store.requests.getStatus(req.principal.accountId, id.trim());
    if (!r || (kinds && !kinds.includes(r.kind))) {
      throw mx.requestNotFound(id);
    }
    return requestStatus(r);
  };
}

export function metrics(kind: RequestKind): Handler {
  return async (s, req) => requestMetrics(s.store, req.principal.accountId, kind, s.ctx.now());
}
