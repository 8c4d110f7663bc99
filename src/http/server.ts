/**
 * The HTTP app: case-insensitive routing, JSON bodies with LeadSquared's 400, body limits (413),
 * 404 vs 405, request ids, and JSON logs with keys redacted. Transport only: handlers call the domain.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { mx } from '../domain/errors.js';
import type { Services } from '../services.js';
import { authHook } from './auth.js';
import { clientError, sendError } from './envelope.js';
import { ROUTES, type Route } from './routes.js';

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

export interface AppOptions {
  /** Which routes to serve (all by default); a worker-only process serves just `/health`. */
  routes?: (r: Route) => boolean;
}

export function buildApp(s: Services, opts: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: s.log as unknown as FastifyBaseLogger,
    bodyLimit: s.config.bodyLimitBytes,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, querystringParser: parseQuery },
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // A path with broken percent-encoding, and requests Node refuses before Fastify sees them
    // (headers or URL over Node's limit), answer in the envelope too, not Fastify's own JSON.
    frameworkErrors: (err, req, reply) => sendError(req, reply, err.code === 'FST_ERR_BAD_URL' ? mx.badUrl() : err, s.config.bodyLimitBytes),
    clientErrorHandler: clientError,
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

  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, s.config.bodyLimitBytes));

  const methodsByPath = new Map<string, string[]>();
  for (const r of ROUTES.filter(opts.routes ?? (() => true))) {
    if (r.when && !r.when(s.config)) continue;
    const key = r.path.toLowerCase();
    methodsByPath.set(key, [...(methodsByPath.get(key) ?? []), r.method]);
    app.route({
      method: r.method,
      url: r.path,
      // The async gateway checks keys before it reads the body (a bad x-api-key is 403 even when
      // the JSON is malformed too); the sync API parses first, as before.
      ...(r.auth.startsWith('async') ? { onRequest: authHook(s, r.auth) } : { preHandler: authHook(s, r.auth) }),
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
