/**
 * The only place that formats errors: any thrown value becomes LeadSquared's envelope and a status
 * code. Unknown errors become a generic 500, are logged with the request id, and never show a stack.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { abandoned, isAbandoned } from '../client-gone.js';
import { MxError, isMxError, mx } from '../domain/errors.js';
import { isStoreBusy } from '../storage/store.js';
import { isDraining } from './drain.js';
import { routeLabel } from './route-label.js';

export interface ErrorEnvelope {
  Status: 'Error';
  ExceptionType: string;
  ExceptionMessage: string;
}

export const envelope = (e: MxError): ErrorEnvelope => ({ Status: 'Error', ExceptionType: e.type, ExceptionMessage: e.message });

/** Fastify's own errors (body parsing, limits) in LeadSquared's words. */
function fromFramework(err: { code?: string; statusCode?: number; message?: string }, limit: number): MxError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MxError('MXRequestTooLargeException', `Request body is larger than the limit of ${limit} bytes.`, 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // Any well-formed Content-Type is read as JSON; only a malformed header gets here.
      return mx.unsupportedMedia('The Content-Type header is not a valid media type.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MxError('MXInvalidJsonException', err.message ?? 'Invalid JSON body', 400);
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new MxError('MXInvalidInputException', err.message ?? 'Bad request', err.statusCode);
  }
  return null;
}

export function toMxError(err: unknown, bodyLimit: number): MxError | null {
  if (isMxError(err)) return err;
  if (isStoreBusy(err)) return mx.storeBusy();
  if (typeof err === 'object' && err !== null) return fromFramework(err as { code?: string }, bodyLimit);
  return null;
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown, bodyLimit: number): FastifyReply {
  if (isAbandoned(err) && reply.raw.destroyed) return abandoned(req, reply);
  const mxErr = toMxError(err, bodyLimit);
  if (mxErr) {
    for (const [k, v] of Object.entries(mxErr.headers)) reply.header(k, v);
    // The route as the metrics name it (no ids or keys) and the method: which call failed, at a glance.
    if (mxErr.status >= 500) req.log.warn({ route: routeLabel(req), method: req.method, exceptionType: mxErr.type }, 'application error');
    return reply.code(mxErr.status).send(envelope(mxErr));
  }
  req.log.error({ route: routeLabel(req), method: req.method, err }, 'unexpected error');
  return reply.code(500).send({
    Status: 'Error',
    ExceptionType: 'MXSystemException',
    ExceptionMessage: `There was an error processing the request. Reference: ${req.id}`,
  } satisfies ErrorEnvelope);
}

/**
 * A request that arrives while the server is starting (ports bound, first account not made yet):
 * 503, not the 401 its keys would get from a database without the account yet.
 */
export function sendStarting(reply: FastifyReply): FastifyReply {
  return sendUnavailable(reply, mx.starting());
}

/** 503 once the server has begun to shut down (MXServiceUnavailableException, `Connection: close`). */
export function sendStopping(reply: FastifyReply): FastifyReply {
  return sendUnavailable(reply, mx.stopping());
}

function sendUnavailable(reply: FastifyReply, e: ReturnType<typeof mx.starting>): FastifyReply {
  return reply.code(e.status).headers(e.headers).send(envelope(e));
}

/**
 * Requests Node's HTTP parser refuses (headers or URL over its limit, broken HTTP) never reach
 * Fastify: answer them on the raw socket, still in the envelope, then close. Returns the status
 * answered (for the request metrics), or null when nothing was.
 */
export function clientError(err: Error & { code?: string }, socket: Socket): number | null {
  if (err.code === 'ECONNRESET' || socket.destroyed) return null;
  // A response already begun on this socket (an answer given before the body arrived, then the
  // request timed out), or written while the rest of the body is read and dropped (drain.ts), must
  // not get a second one written into it: just close.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent || isDraining(socket)) {
    socket.destroy();
    return null;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW' ? mx.headersTooLarge()
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new MxError('MXInvalidInputException', 'The request was not received in time.', 408)
    : mx.badHttp();
  const body = JSON.stringify(envelope(e));
  const answered = socket.writable;
  if (answered) {
    socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
  return answered ? e.status : null;
}
