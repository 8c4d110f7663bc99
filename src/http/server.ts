/**
 * The HTTP app. LeadSquared's quirks live in one encapsulated Fastify scope holding its routes
 * (`leadSquaredScope`): paths matched in any case, JSON bodies under any Content-Type with
 * LeadSquared's 400, MX envelopes for every error, 503 while starting and once closing. The root keeps what every
 * page shares: request ids, body limits (413), request timeouts (408), JSON logs with keys
 * redacted, request metrics. leadtrail's own pages (console, API docs) register their own scopes
 * under OWN_PAGE_PREFIXES and keep their paths exactly as written. Transport only: handlers call
 * the domain.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { uuidv7 } from '../domain/context.js';
import { MxError, mx } from '../domain/errors.js';
import type { Services } from '../services.js';
import { authHook, bulkThrottleHook, syncThrottleHook } from './auth.js';
import { bodyText } from './body-text.js';
import { jsonSyntaxMessage, parseJsonBody } from '../wire/json-body.js';
import { clientError, sendError, sendStarting, sendStopping } from './envelope.js';
import { drainThenClose } from './drain.js';
import { installJournal } from './journal-hook.js';
import { isCredentialName, maskLiterals, maskSemicolonParameters, secretValues } from '../journal/redact.js';
import type { PageScope } from './pages.js';
import { ROUTES, SWITCHES, type Route } from './routes.js';
import { registerSyncFaults } from './faults.js';
import { CLIENT_LEFT } from '../client-gone.js';
import { routeLabel } from './route-label.js';
import { trackLeftCalls } from './left-calls.js';
import { IGNORED_HEADER, ignoredFinderFor, ignoredHeaderValue } from '../schemas/ignored.js';
import { decodeUnreserved, pathKey } from '../schemas/endpoint.js';

/** Query parameters that carry keys (authHook reads them by their decoded, lower-cased names). */

/** Marks a query whose percent-encoding is broken (URLSearchParams would quietly decode it to U+FFFD). */
const BROKEN_QUERY = Symbol('brokenQuery');

/**
 * Query names lower-cased (LeadSquared matches them in any case); the first of repeated names wins.
 * A query with broken percent-encoding (`%zz`, a cut `%E0%A4%A`, bytes that are not UTF-8) is marked
 * BROKEN_QUERY, and the LeadSquared routes answer it 400 as they do a broken path.
 */
function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(qs)) {
    const key = k.toLowerCase();
    // Own properties: `?constructor=x` is a parameter too (not a name every object has), and
    // `?__proto__=x` one to define, as assigning it would set the prototype. Plain assignment for
    // the rest: this runs for every parameter of every call.
    if (Object.hasOwn(out, key)) continue;
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  if (qs.includes('%')) {
    try {
      decodeURIComponent(qs);
    } catch {
      Object.defineProperty(out, BROKEN_QUERY, { value: true });
    }
  }
  return out;
}

/** 400 for a query parseQuery marked broken: its values cannot be read as sent. */
// Hooks that need not wait are written callback-style, here and below: an async hook costs a
// promise and a microtask turn per call, on every API call (issue 11).
const rejectBrokenQuery = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
  done((req.query as Record<symbol, unknown>)[BROKEN_QUERY] ? mx.badUrl() : undefined);
};


/**
 * Path prefixes of leadtrail's own pages (console, API docs). Their paths match exactly as written;
 * every other path is lower-cased before routing, since LeadSquared's WCF services match paths in
 * any case and the route table registers them lower-cased. (Fastify's router options are
 * instance-wide, so case-insensitivity is done here rather than with `caseSensitive: false`.)
 */
export const OWN_PAGE_PREFIXES = ['/console', '/docs', '/openapi.json'];

/** Whether `url` is one of leadtrail's own pages (OWN_PAGE_PREFIXES). */
function ownPage(url: string): boolean {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return OWN_PAGE_PREFIXES.some((p) => path === p || path.startsWith(p + '/'));
}

/** A plain HTML error page for an address of leadtrail's own pages that could not even be routed. */
function sendPageError(reply: FastifyReply, status: number): FastifyReply {
  const what = status === 414 ? 'This address is too long.' : 'This address is not valid: check its percent-encoding.';
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'")
    .send(`<!doctype html><html lang="en"><meta charset="utf-8"><title>Bad address · leadtrail</title><p>${what} <a href="/console">Go to the console</a>.</p></html>`);
}

/**
 * The URL Fastify routes: the path lower-cased, its percent-encoded unreserved characters decoded
 * first (`%4Ceads.GetById` is `Leads.GetById`: decodeUnreserved), unless it is one of leadtrail's
 * own pages; the query kept.
 */
export function routingUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (OWN_PAGE_PREFIXES.some((p) => path === p || path.startsWith(p + '/') || path.startsWith(p + '?'))) return url;
  const lower = decodeUnreserved(path).toLowerCase();
  return lower === path ? url : q === -1 ? lower : lower + url.slice(q);
}

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
  /**
   * Scopes of leadtrail's own pages (console, API docs), each registered as an encapsulated Fastify
   * plugin beside the LeadSquared scope, with its own body parsers and error pages. Their paths
   * must start with one of OWN_PAGE_PREFIXES.
   */
  pages?: PageScope[];
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
    // LEADTRAIL_TRUST_PROXY: whose X-Forwarded-For `req.ip` believes (false: nobody's, req.ip is the
    // peer). `req.ip` is read by the console's sign-in throttle; `req.protocol` by its Secure cookies.
    trustProxy: s.config.trustProxy,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, querystringParser: parseQuery },
    // A request's reads may share the SQLite reader's snapshot with the requests handled in the same
    // turn of the event loop, never one begun over a millisecond before they read (read-turns.ts):
    // ending it as each request arrived cost status and lead reads 10–15% of their event loop.
    rewriteUrl: (req) => routingUrl(req.url ?? '/'),
    // Time-ordered like every id the server makes: the journal's index on it grows at its end.
    genReqId: () => uuidv7(),
    // Fastify logs two info lines per request; at thousands of requests a second that is most of
    // the log and a measurable cost. One line per request, at debug, instead.
    logController: new DebugRequestLog(),
    // Fastify's own 503 while closing is its plain JSON, not LeadSquared's envelope: the routes'
    // hooks answer it instead (s.stopping), in the envelope on API routes.
    return503OnClosing: false,
    // A path with broken percent-encoding, and requests Node refuses before Fastify sees them
    // (headers or URL over Node's limit), answer in the envelope too, not Fastify's own JSON.
    // leadtrail's own pages (the console, the API docs) answer in a page of their own, not
    // LeadSquared's envelope (`/console/leads/%zz` had answered MXInvalidInputException JSON).
    frameworkErrors: (err, req, reply) => {
      if (ownPage(req.url ?? '/')) return sendPageError(reply, err.code === 'FST_ERR_BAD_URL' ? 400 : (err.statusCode ?? 400));
      return sendError(req, reply, err.code === 'FST_ERR_BAD_URL' ? mx.badUrl() : err, s.config.bodyLimitBytes);
    },
    // Answered before any route (no onResponse hook): counted here, so 408s show in the metrics.
    clientErrorHandler: (err, socket) => {
      const status = clientError(err, socket);
      if (status !== null) s.metrics.clientError(status);
    },
  });

  // `Expect: 100-continue` (curl sends it with bodies over 1 MB): Node answered "100 Continue" to
  // every such request, so a body over the limit was invited, then refused with a 413 that curl
  // reported as "100". A body announced larger than the limit gets no invitation: the request goes
  // on without it, its keys are checked as usual (401), and the 413 is the only answer.
  // Such a request's body is not coming: its answer (413, 401, …) closes the connection at once (no drain).
  const notInvited = new WeakSet<IncomingMessage>();
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const length = Number(req.headers['content-length']);
    if (!(Number.isFinite(length) && length > s.config.bodyLimitBytes)) res.writeContinue();
    else notInvited.add(req);
    app.server.emit('request', req, res);
  });

  // Every answer is counted by the route table's path (never the raw URL: no ids or keys in labels).
  app.addHook('onResponse', (req, reply, done) => {
    s.metrics.observeRequest(routeLabel(req), req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  // A client that leaves before its answer is written (it timed out, closed its tab) gets none, so
  // no onResponse hook runs: the call is counted here, and journaled, with status 499 and the time
  // it waited (the entry is written once its handler ends, so that a Create held by a slow write
  // names the lead it made; written here, it named none). What it changed stays changed. Only a
  // call whose request arrived in full: one cut short is not a call (and a 408 for one too slow is
  // counted by clientError). A reply taken over (hijacked: a live stream, a dropped fault) counts itself.
  trackLeftCalls(app, s.config.txTimeoutMs);
  app.addHook('onRequest', (req, reply, done) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished || reply.sent || !req.raw.complete) return;
      s.metrics.observeRequest(routeLabel(req), req.method, CLIENT_LEFT, reply.elapsedTime / 1000);
      // A stop waits for its work to end (left-calls.ts).
      req.server.leftCallRunning(req, reply);
      // Journaled when its handler ends, with the lead or activity its work wrote (journal-hook.ts).
      req.server.journalLeft?.(req, reply, CLIENT_LEFT);
    });
    done();
  });

  // An answer given before the body has arrived closes the connection, once the rest of the body
  // has been read and thrown away, within caps (drain.ts: 64 MB, 5 s). That is every such answer,
  // from any scope (LeadSquared's, the console's, the API docs', the root's 404/405): a 413 for a
  // body over the limit, found once that much of it has come; a 401/403 for keys, checked before
  // the body is read; a 404/405 for an unknown path or method, found once the body passes the
  // limit; a 503 while starting; a console page without a session. Closed at once, the socket was
  // reset under a client still sending its body, which mostly failed with EPIPE before it read the
  // answer (found by a new-user trial for the 413; a client with wrong keys posting a bulk body
  // got EPIPE instead of its 401). A client that stalls or sends an endless body is cut off at a
  // cap; a client without keys can thus make the server read up to 64 MB for 5 s per connection.
  // Not drained, closed at once:
  // - a body announced over the limit with `Expect: 100-continue`, which was not invited: nothing
  //   is coming;
  // - any answer once closing has begun: a stop waits for no client's body (the client may then
  //   see a reset rather than its 503, as before), and drains under way are cut off (preClose
  //   below), or they would hold the stop for up to 5 s.
  // A request whose body has arrived (every ordinary one) is answered as before.
  // Once closing has begun, every answer closes its connection too: a keep-alive client told nothing
  // sent its next call on a connection that the close then shut under it (ECONNRESET on a POST,
  // which clients do not retry; found by a fresh-eyes run). Told `Connection: close`, it opens a new
  // connection, which a stopped listener refuses before anything is sent.
  const drains = new Set<() => void>();
  let closing = false; // also app.close() without s.stopping (a start that failed)
  app.addHook('onSend', (req, reply, payload, done) => {
    if (!req.raw.complete) {
      reply.header('connection', 'close');
      const cut = notInvited.has(req.raw) || s.stopping || closing ? null : drainThenClose(req.raw);
      if (cut) {
        drains.add(cut);
        req.raw.socket.once('close', () => drains.delete(cut));
      }
    } else if (s.stopping) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', (done) => {
    closing = true;
    for (const cut of drains) cut();
    done();
  });

  const chosen = ROUTES.filter((r) => (opts.routes ?? (() => true))(r));
  const routes = chosen.filter((r) => !r.needs || s.config[r.needs]);
  // Routes whose switch is off, by path: a call to one is told which setting turns it on.
  const switchedOff = new Map(chosen.filter((r) => r.needs && !s.config[r.needs]).map((r) => [r.path.toLowerCase(), SWITCHES[r.needs!]]));
  const methodsByPath = new Map<string, string[]>();
  for (const r of routes) {
    const key = r.path.toLowerCase();
    // Fastify answers HEAD on every GET route (exposeHeadRoutes) but one that changes data, so the
    // Allow header names it too.
    methodsByPath.set(key, [...(methodsByPath.get(key) ?? []), ...(r.method === 'GET' && !r.changes ? ['GET', 'HEAD'] : [r.method])]);
  }

  void app.register(async (scope) => leadSquaredScope(scope, s, routes));
  for (const page of opts.pages ?? []) void app.register(page);

  // Unknown paths outside the pages' own scopes are answered as LeadSquared does: 404, or 405 for a
  // known path with another method, in the envelope.
  const unknownRoute = (req: FastifyRequest) => {
    const path = req.originalUrl.split('?')[0];
    const allowed = methodsByPath.get(pathKey(req.url));
    if (allowed) return mx.methodNotAllowed(req.method, path, allowed);
    const off = switchedOff.get(pathKey(req.url));
    return off ? mx.switchedOff(path, off) : mx.notFound(path);
  };
  app.setNotFoundHandler((req, reply) => sendError(req, reply, unknownRoute(req), s.config.bodyLimitBytes));
  // Fastify reads the body of a call to an unknown path before the not-found handler runs, with its
  // default parsers: an empty or malformed JSON body, another content type or an oversized body
  // failed there, and the caller got 400/413/415 for a path that does not exist. What is wrong
  // first is the path (or the method): that is the answer.
  app.setErrorHandler((err, req, reply) => sendError(req, reply, req.is404 ? unknownRoute(req) : err, s.config.bodyLimitBytes));

  return app;
}

/**
 * Redacts keys from URLs before they reach a log line: the value of every parameter whose name, once
 * decoded as the server decodes it (parseQuery: percent-encoding, `+`, any case), is named like a
 * credential, as the journal judges it (isCredentialName: `accessKey`, `secretKey`, `x-api-key`,
 * `token`, `password`…), and the call's own key values (`keys`: callKeyValues) wherever else the URL
 * holds them, as sent or percent-encoded, as the journal masks them (a key repeated under another
 * name, `?debug=<secret key>`, or in the path of a mistyped URL had reached the debug log). A name
 * matched only as written let `access%4Bey=…&secret%4Bey=…`, which authenticates like
 * `accessKey=…&secretKey=…`, reach the debug log in clear; a name other than the two keys
 * (`?token=` for `/metrics`, an `x-api-key` put in the query) was logged in clear. A `;name=value`
 * that names a credential, in the path or in a parameter's value, is masked too
 * (maskSemicolonParameters: a 404 path `/x;secretKey=…` had reached the debug log).
 */
export function redactUrl(url: string, keys: readonly string[] = []): string {
  const literal = keys.length > 0 ? maskLiterals(url, secretValues([...keys])) : url;
  const at = literal.indexOf('?');
  const masked = at === -1 ? maskSemicolonParameters(literal, 'path') : `${maskSemicolonParameters(literal.slice(0, at), 'path')}?${maskSemicolonParameters(literal.slice(at + 1), 'query')}`;
  const q = masked.indexOf('?');
  if (q === -1) return masked;
  const parts = masked.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq === -1) continue;
    const name = parts[i].slice(0, eq);
    // URLSearchParams decodes a name as parseQuery reads it, and never throws on broken encoding.
    const decoded = name.includes('%') || name.includes('+') ? (new URLSearchParams(`${name}=`).keys().next().value ?? name) : name;
    if (isCredentialName(decoded)) {
      parts[i] = `${name}=***`;
      changed = true;
    }
  }
  return changed ? `${masked.slice(0, q + 1)}${parts.join('&')}` : masked;
}

/** An onSend hook that names the body's ignored properties (`find`) in IGNORED_HEADER, when there are any. */
function ignoredHeader(find: (body: unknown) => string[]) {
  return (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => {
    const names = find(req.body);
    if (names.length > 0) reply.header(IGNORED_HEADER, ignoredHeaderValue(names));
    done(null, payload);
  };
}

/**
 * LeadSquared's scope: the route table's routes, registered lower-cased (routingUrl lower-cases
 * incoming paths), bodies read as JSON whatever their Content-Type (in the charset it declares;
 * compressed bodies are refused), every error in the MX envelope.
 * Encapsulated: leadtrail's own pages never see these parsers or this error handler.
 */
async function leadSquaredScope(app: FastifyInstance, s: Services, routes: Route[]): Promise<void> {
  app.removeAllContentTypeParsers();
  // Every body is read as JSON whatever its Content-Type: LeadSquared clients do not all set it.
  // Only its charset parameter counts, and a Content-Encoding other than identity is 415 before
  // anything is decoded (body-text.ts).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: s.config.bodyLimitBytes }, (req, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    req.rawBodyBytes = bytes.length;
    if (bytes.length === 0) {
      req.rawBody = '';
      return done(null, undefined);
    }
    // In the charset the Content-Type declares (UTF-8 without one); compressed bodies are refused.
    const text = bodyText(bytes, req.headers);
    if (text instanceof MxError) return done(text, undefined);
    req.rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, parseJsonBody(text));
    } catch {
      // Our own words, the same on every Node version, quoting one character of the body at most.
      done(mx.badJson(jsonSyntaxMessage(text)), undefined);
    }
  });

  // The request journal's hooks (none when LEADTRAIL_JOURNAL is off), attached to each recorded
  // route as it is registered below.
  installJournal(app, s);

  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, s.config.bodyLimitBytes));

  // Between binding the ports and making the first account, keys cannot be checked yet: answer 503
  // rather than a misleading 401. Once closing has begun, 503 too, and the connection closes.
  // /health says so itself (admin.ts).
  // Callback-style: having answered, it does not call `done`, so no later hook or handler runs.
  const unlessServing = (_req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!s.ready) sendStarting(reply);
    else if (s.stopping) sendStopping(reply);
    else done();
  };

  // Forced faults on API paths (LEADTRAIL_FAULTS); before the routes, so it runs ahead of their hooks.
  registerSyncFaults(app, s);

  for (const r of routes) {
    // Body properties the route does not read are named in a response header (schemas/ignored.ts):
    // the call is answered as if they were absent, and a misspelt name otherwise goes unseen.
    const findIgnored = ignoredFinderFor(r.method, r.path);
    app.route({
      method: r.method,
      url: r.path.toLowerCase(),
      config: { label: r.path },
      // A HEAD runs the GET's handler and drops its body: not on a GET that changes data (routes.ts).
      ...(r.changes ? { exposeHeadRoute: false } : {}),
      ...(findIgnored ? { onSend: [ignoredHeader(findIgnored)] } : {}),
      // Keys are checked before any body is read, on every route: without valid keys a caller
      // gets 401/403 at once, so it cannot make the server wait for or buffer a body.
      onRequest: r.auth === 'none' ? [rejectBrokenQuery] : [rejectBrokenQuery, unlessServing, authHook(s, r.auth)],
      // Rate limits are taken once the body is read: a call refused for its body costs no token.
      preHandler: r.auth === 'sync' ? [syncThrottleHook(s)] : r.auth === 'bulk' ? [bulkThrottleHook(s)] : [],
      handler: (req, reply) => r.handler(s, req, reply),
    });
  }
}
