/**
 * The HTTP app: case-insensitive routing, JSON bodies with LeadSquared's 400, body limits (413),
 * request timeouts (408), 503 while starting, 404 vs 405, request ids, and JSON logs with keys
 * redacted. Transport only: handlers call the domain.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { mx } from '../domain/errors.js';
import type { Services } from '../services.js';
import { authHook, bulkThrottleHook, syncThrottleHook } from './auth.js';
import { clientError, sendError, sendStarting } from './envelope.js';
import { ROUTES, type Route } from './routes.js';
import { registerSyncFaults } from './faults.js';

const SECRET_PARAMS = /([?&](?:accesskey|secretkey)=)[^&]*/gi;

/** Query names lower-cased (LeadSquared matches them in any case); the first of repeated names wins. */
function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const key = k.toLowerCase();
    if (!(key in out)) out[key] = v;
  }
  return out;
}

const normalizePath = (url: string) => url.split('?')[0].replace(/\/+$/, '').replace(/\/{2,}/g, '/').toLowerCase();

/** Fastify's request log lines: none when a request arrives, one at debug when it is answered (errors keep Fastify's levels). */
class DebugRequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply, {});
    reply.log.debug({ req: request, statusCode: reply.statusCode, responseTimeMs: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  }
}

export interface AppOptions {
  /** Which routes to serve (all by default); a worker-only process serves just `/health`. */
  routes?: (r: Route) => boolean;
}

/**
 * How often Node looks for requests past their timeout. Its default (30 s) would let a request
 * overstay by that much; a tenth of the timeout, from 25 ms to 1 s, keeps the overstay small.
 */
const checkEveryMs = (timeoutMs: number) => Math.min(1_000, Math.max(25, Math.floor(timeoutMs / 10)));

export function buildApp(s: Services, opts: AppOptions = {}): FastifyInstance {
  const requestTimeout = s.config.requestTimeoutMs;
  const app = Fastify({
    // The whole request (headers and body) must arrive within this, counted from its first byte;
    // Node then raises ERR_HTTP_REQUEST_TIMEOUT, which clientError answers with a 408 envelope
    // before closing. (Node's headers timeout is the smaller of 60 s and this.)
    requestTimeout,
    http: { requestTimeout, connectionsCheckingInterval: checkEveryMs(requestTimeout) },
    loggerInstance: s.log as unknown as FastifyBaseLogger,
    bodyLimit: s.config.bodyLimitBytes,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, querystringParser: parseQuery },
    genReqId: () => randomUUID(),
    // Fastify logs two info lines per request; at thousands of requests a second that is most of
    // the log and a measurable cost. One line per request, at debug, instead.
    logController: new DebugRequestLog(),
    return503OnClosing: true,
    // A path with broken percent-encoding, and requests Node refuses before Fastify sees them
    // (headers or URL over Node's limit), answer in the envelope too, not Fastify's own JSON.
    frameworkErrors: (err, req, reply) => sendError(req, reply, err.code === 'FST_ERR_BAD_URL' ? mx.badUrl() : err, s.config.bodyLimitBytes),
    // Answered before any route (no onResponse hook): counted here, so 408s show in the metrics.
    clientErrorHandler: (err, socket) => {
      const status = clientError(err, socket);
      if (status !== null) s.metrics.clientError(status);
    },
  });

  app.removeAllContentTypeParsers();
  // Every body is read as JSON whatever its Content-Type: LeadSquared clients do not all set it.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: s.config.bodyLimitBytes }, (req, body, done) => {
    // .NET writers often start UTF-8 with a byte-order mark; LeadSquared's JSON reader skips it.
    const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
    req.rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(mx.badJson((e as Error).message), undefined);
    }
  });

  // Every answer is counted by the route table's path (never the raw URL: no ids or keys in labels).
  app.addHook('onResponse', async (req, reply) => {
    s.metrics.observeRequest(req.routeOptions.url, req.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, s.config.bodyLimitBytes));

  // An answer given before the body has arrived (bad keys, still starting) closes the connection:
  // the rest of the body is never read, and a client that stalls it holds nothing afterwards.
  app.addHook('onSend', async (req, reply) => {
    if (!req.raw.complete) reply.header('connection', 'close');
  });

  // Between binding the ports and making the first account, keys cannot be checked yet: answer 503
  // rather than a misleading 401. /health says so itself (admin.ts).
  const whileStarting = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (!s.ready) return sendStarting(reply);
  };

  // Forced faults on API paths (LEADTRAIL_FAULTS); before the routes, so it runs ahead of their hooks.
  registerSyncFaults(app, s);

  const methodsByPath = new Map<string, string[]>();
  for (const r of ROUTES.filter(opts.routes ?? (() => true))) {
    if (r.when && !r.when(s.config)) continue;
    const key = r.path.toLowerCase();
    methodsByPath.set(key, [...(methodsByPath.get(key) ?? []), r.method]);
    app.route({
      method: r.method,
      url: r.path,
      // Keys are checked before any body is read, on every route: without valid keys a caller
      // gets 401/403 at once, so it cannot make the server wait for or buffer a body. The sync
      // rate limit is taken after the body is read, so a 400 or 413 costs no token.
      onRequest: r.auth === 'none' ? [] : [whileStarting, authHook(s, r.auth)],
      // Rate limits are taken once the body is read: a call refused for its body costs no token.
      preHandler: r.auth === 'sync' ? [syncThrottleHook(s)] : r.auth === 'bulk' ? [bulkThrottleHook(s)] : [],
      handler: (req, reply) => r.handler(s, req, reply),
    });
  }

  app.setNotFoundHandler((req, reply) => {
    const allowed = methodsByPath.get(normalizePath(req.url));
    const err = allowed ? mx.methodNotAllowed(req.method, req.url.split('?')[0], allowed) : mx.notFound(req.url.split('?')[0]);
    return sendError(req, reply, err, s.config.bodyLimitBytes);
  });

  return app;
}

/** Redacts keys from URLs before they reach a log line. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1***');
}
