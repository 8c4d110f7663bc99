/**
 * The async host's paths: accept (store durably, answer a RequestID), status and metrics.
 * Everything but authentication and JSON syntax is judged later, by the worker, as LeadSquared does.
 */
import { mx } from '../../domain/errors.js';
import { TASK_TYPES, requestStatus, requestMetrics } from '../../queue/status.js';
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

/** The path each kind of request is submitted to. */
const SUBMIT_PATHS: Record<RequestKind, string> = {
  'activity.create': '/activity/create',
  'activity.createcustom': '/activity/createcustom',
  'lead.capture': '/lead/capture',
  'lead.update': '/lead/update',
};

/**
 * The async status paths and the kinds of request each answers for (docs/compatibility.md, "the
 * activity status paths": LeadSquared's are unknown, so every candidate is served). The route table
 * serves each with `status(path)`.
 */
export const STATUS_PATHS: Readonly<Record<string, readonly RequestKind[]>> = {
  '/activity/status': ['activity.create', 'activity.createcustom'],
  '/activity/create/status': ['activity.create'],
  '/activity/createcustom/status': ['activity.createcustom'],
  '/lead/status': ['lead.capture', 'lead.update'],
  '/lead/update/status': ['lead.update'],
};

/**
 * `GET <path>?RequestID=`: the request's status, when the account has it and it is of a kind this
 * path answers for. Otherwise 404 `MXInvalidEntityException` (leadtrail's choice): "was not found"
 * for an id the account does not have; for a request of another kind, where its status is read.
 */
export function status(path: string): Handler {
  const kinds = STATUS_PATHS[path];
  if (!kinds) throw new Error(`${path} is not an async status path`);
  return async (s, req) => {
    const { RequestID: id } = readQuery(asyncActivityStatus, query(req));
    const r = await s.store.requests.getStatus(req.principal.accountId, id.trim());
    if (!r) throw mx.requestNotFound(id);
    if (!kinds.includes(r.kind)) {
      const at = Object.keys(STATUS_PATHS).filter((p) => STATUS_PATHS[p].includes(r.kind));
      throw mx.requestOfOtherKind(r.id, `${TASK_TYPES[r.kind]} request (${SUBMIT_PATHS[r.kind]})`, at);
    }
    return requestStatus(r);
  };
}

export function metrics(kind: RequestKind): Handler {
  return async (s, req) => requestMetrics(s.store, req.principal.accountId, kind, s.ctx.now());
}
