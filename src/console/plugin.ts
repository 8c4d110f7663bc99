/**
 * The console, served at /console: leadtrail's own pages for looking at one account's data in a
 * browser. Its own encapsulated Fastify scope (see http/pages.ts): form bodies only, HTML error and
 * not-found pages, paths exactly as written. LeadSquared's quirks (MX envelopes, JSON under any
 * content type, case-insensitive paths) do not reach it. Query names arrive lower-cased (the
 * instance-wide query parser), so every console query name is lower-case.
 *
 * Rendering: Eta templates (src/console/views), escaping every `<%= %>` by default; htmx for
 * partial updates and server-sent events; Chart.js for the activity charts. All scripts and styles
 * are served from node_modules and src/console/assets by this scope: no request leaves the machine.
 * Sessions: session.ts (signed cookie, no table). CSRF: @fastify/csrf-protection on every POST.
 * The Requests page and the request charts read the request journal (`store.journal`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { abandoned, clientGone, isAbandoned } from '../client-gone.js';
import { authenticate } from '../domain/accounts.js';
import { WEBHOOK_EVENTS } from '../domain/webhooks.js';
import type { RequestKind, RequestStatus } from '../domain/types.js';
import { TASK_TYPES, WIRE_STATUS, requestStatus } from '../queue/status.js';
import type { Services } from '../services.js';
import * as fmt from './format.js';
import { ignoredInBody } from '../schemas/ignored.js';
import { flushJournal } from '../journal/recorder.js';
import { journalOf, type ConsoleJournalEntry, type ConsoleJournalFilter } from './journal.js';
import { SESSION_COOKIE, end as endSession, issue, verify, type Session } from './session.js';
import { signInThrottle, type SignInRefusal } from './sign-in-throttle.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: Session | null;
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** src/console or dist/console: templates and assets stay in src/console either way. */
const ROOT = path.resolve(here, '..', '..', 'src', 'console');
const require = createRequire(import.meta.url);

/** Files the console serves, by public name: ours and the libraries', from node_modules. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'console.css': { file: path.join(ROOT, 'assets', 'console.css'), type: 'text/css; charset=utf-8' },
  'console.js': { file: path.join(ROOT, 'assets', 'console.js'), type: 'text/javascript; charset=utf-8' },
  'activity.js': { file: path.join(ROOT, 'assets', 'activity.js'), type: 'text/javascript; charset=utf-8' },
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'sse.js': { file: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: 'text/javascript; charset=utf-8' },
  'chart.umd.min.js': { file: path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

/** Scripts only from this origin; no inline script; no frames. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE = 50;
const STATUSES: RequestStatus[] = ['queued', 'running', 'succeeded', 'failed', 'errored'];
const KINDS = Object.keys(TASK_TYPES) as RequestKind[];
/** How often a live journal stream looks for new entries (any process may have recorded them). */
const STREAM_POLL_MS = 1_000;
/** Largest form body the console reads, in bytes (413 past it); its forms send a few hundred. */
const FORM_LIMIT = 64 * 1024;
const GUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** One id, whole (GUID finds them in a text). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}
const notFound = (what: string) => new HttpError(404, `${what} was not found in this account.`);

const int = (v: unknown, min: number, fallback: number) => {
  const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n >= min ? n : fallback;
};
const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** The scope: register under the /console prefix. */
export function consoleScope(s: Services) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(async (c) => consoleRoutes(c, s), { prefix: '/console' });
  };
}

async function consoleRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const eta = new Eta({ views: path.join(ROOT, 'views'), cache: true, autoEscape: true, autoTrim: false });
  const journal = journalOf(s.store);
  const assetCache = new Map<string, Buffer>();
  const streams = new Set<() => void>();
  s.metrics.readConsoleStreams(() => streams.size);

  // Forms only: the console reads no JSON or text bodies (415 for those).
  app.removeAllContentTypeParsers();
  await app.register(fastifyFormbody, { bodyLimit: FORM_LIMIT });
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    cookieKey: 'leadtrail_csrf',
    // `secure` is set per answer (csrfOf), as for the session cookie: 'auto' looks only at Node's
    // own protocol, always http, so behind a proxy that terminates TLS the cookie went without it.
    cookieOpts: { path: '/console', httpOnly: true, sameSite: 'strict' },
    getToken: (req) => (req.body as Record<string, string> | undefined)?._csrf ?? (req.headers['x-csrf-token'] as string | undefined),
  });
  app.decorateRequest('consoleSession', null);

  /**
   * Whether the browser reached us over https: our own socket (never TLS), a trusted proxy's
   * X-Forwarded-Proto (req.protocol, under LEADTRAIL_TRUST_PROXY), or any peer's first
   * X-Forwarded-Proto saying https. Not limited to trusted proxies, unlike the client's address:
   * a Secure flag can only be added this way, and a spoofed one costs only the spoofer its own
   * cookie over plain HTTP; limited, every deployment behind a TLS proxy that had not set
   * LEADTRAIL_TRUST_PROXY would have lost Secure on its cookies without a word.
   */
  const secure = (req: FastifyRequest) => req.protocol === 'https' || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() === 'https';
  /** A CSRF token for a form, its secret's cookie (when new) `Secure` exactly when the session cookie is. */
  const csrfOf = (req: FastifyRequest, reply: FastifyReply) => reply.generateCsrf({ secure: secure(req) });

  // Every page names itself: the layout's <title> reads `title` (a missing one showed "undefined").
  const render = (req: FastifyRequest, reply: FastifyReply, view: string, data: { title: string } & Record<string, unknown>, status = 200) => {
    const html = eta.render(view, {
      ...data,
      fmt,
      session: req.consoleSession,
      csrf: csrfOf(req, reply),
      path: req.url.split('?')[0],
      journalOn: s.config.journal,
      // This process applies no async requests and sends no webhooks (`--no-worker`, `--role api`):
      // the pages that wait on a worker say so. On SQLite no other process can be that worker.
      workerOff: s.config.role === 'api' || !s.config.worker ? { sqlite: s.store.engine === 'sqlite' } : null,
    });
    return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };
  const fragment = (reply: FastifyReply, view: string, data: Record<string, unknown>) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(eta.render(view, { ...data, fmt }));

  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
  });

  // Every page but sign-in and the assets needs a session; without one, a page redirects to sign-in
  // and a fragment or stream answers 401.
  app.addHook('onRequest', async (req, reply) => {
    const p = req.url.split('?')[0];
    if (p === '/console/sign-in' || p.startsWith('/console/assets/')) return;
    req.consoleSession = await verify(s.store, req.cookies[SESSION_COOKIE], Date.now());
    if (req.consoleSession) return;
    if (req.method === 'GET' && !req.headers['hx-request'] && !p.endsWith('/stream') && !p.endsWith('.json')) return reply.redirect('/console/sign-in', 303);
    // A page's htmx poll (the async list every 2 s) takes the page to sign-in: htmx follows
    // HX-Redirect whatever the status, where it left a 401 unseen and the page silently stale.
    if (req.headers['hx-request']) reply.header('hx-redirect', '/console/sign-in');
    return reply.code(401).header('content-type', 'text/plain; charset=utf-8').send('Signed out: sign in again at /console/sign-in');
  });

  // U+0000 (`%00`) in an id of the address or a filter of the query can name nothing stored (no
  // engine stores it), and PostgreSQL refuses it in a query with a system error: the page had
  // answered 500 there and 404 or an empty list on SQLite. Not found, on both.
  app.addHook('preValidation', (req, _reply, done) => {
    const values = [...Object.values((req.params ?? {}) as Record<string, unknown>), ...Object.values((req.query ?? {}) as Record<string, unknown>)];
    done(values.some((v) => typeof v === 'string' && v.includes('\u0000')) ? new HttpError(404, 'Nothing in this account matches this address.') : undefined);
  });

  app.setNotFoundHandler((req, reply) => render(req, reply, 'error', { title: 'Not found', message: 'There is no console page at this address.' }, 404));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (isAbandoned(err) && reply.raw.destroyed) return abandoned(req, reply);
    const status = err instanceof HttpError ? err.statusCode : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'console page failed');
    const message =
      err instanceof HttpError
        ? err.message
        : err.code?.startsWith('FST_CSRF')
          ? 'This form has expired or did not come from the console. Go back, reload the page and try again.'
          : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? `This form is larger than the console accepts (${FORM_LIMIT / 1024} KB).`
            : status >= 500
              ? 'Something went wrong showing this page; the server log has the details.'
              : 'The request could not be understood.';
    if (reply.sent) return;
    return render(req, reply, 'error', { title: status === 404 ? 'Not found' : status === 403 ? 'Forbidden' : 'Error', message }, status);
  });

  const sessionOf = (req: FastifyRequest): Session => req.consoleSession as Session;
  /**
   * A page number past the last page (`?page=9999`, a list that shrank): the address of the last
   * page, with the rest of the query kept; null when `page` is within them. It had shown an empty
   * table under "3009 leads" and "Page 9999 of 61" (found by a fresh-eyes run).
   */
  const lastPageOf = (req: FastifyRequest, page: number, total: number): string | null => {
    const pages = Math.max(1, Math.ceil(total / PAGE));
    if (page <= pages) return null;
    const [path, query = ''] = req.url.split('?');
    const q = new URLSearchParams(query);
    q.set('page', String(pages));
    return `${path}?${q}`;
  };
  // A preHandler: the token is read from the form body, which is parsed after onRequest.
  const protect = { preHandler: app.csrfProtection };

  // --- assets -------------------------------------------------------------------------------
  app.get('/assets/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    const a = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!a) throw new HttpError(404, 'No such file.');
    let body = assetCache.get(name);
    if (!body) assetCache.set(name, (body = fs.readFileSync(a.file)));
    return reply.header('content-type', a.type).header('cache-control', 'no-cache').send(body);
  });

  // --- sign in / out ------------------------------------------------------------------------
  app.get('/sign-in', async (req, reply) => render(req, reply, 'sign-in', { title: 'Sign in', error: null, accessKey: '' }));
  // Failed sign-ins per client address and per access key (LEADTRAIL_CONSOLE_SIGNIN_LIMIT): past the
  // limit the keys are not even checked, so guessing a secret key here goes at a few tries a minute.
  // The address is `req.ip`: the peer's, or under LEADTRAIL_TRUST_PROXY the one its trusted proxies
  // forwarded (X-Forwarded-For), so that clients behind a proxy are not all counted as the proxy.
  const limit = s.config.consoleSignInLimit;
  const throttle = signInThrottle(limit);
  const refusal = (r: SignInRefusal) =>
    `Too many failed sign-ins ${r.by === 'address' ? 'from your address' : 'with this access key'}: ${limit.points} within ${fmt.duration(limit.seconds)}. ` +
    `Try again in ${fmt.duration(r.retryAfterSeconds)}.`;
  app.post('/sign-in', protect, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const accessKey = str(body.accessKey);
    const refused = throttle.check(req.ip, accessKey, s.ctx.now());
    if (refused) {
      reply.header('retry-after', String(refused.retryAfterSeconds));
      return render(req, reply, 'sign-in', { title: 'Sign in', error: refusal(refused), accessKey }, 429);
    }
    try {
      const cred = await authenticate(s.store, accessKey || null, str(body.secretKey) || null);
      throttle.succeeded(req.ip, accessKey);
      reply.setCookie(SESSION_COOKIE, issue(cred, Date.now()), { path: '/console', httpOnly: true, sameSite: 'strict', secure: secure(req) });
      return reply.redirect('/console', 303);
    } catch {
      throttle.failed(req.ip, accessKey, s.ctx.now());
      return render(req, reply, 'sign-in', { title: 'Sign in', error: 'That access key and secret key do not match an account.', accessKey }, 401);
    }
  });
  app.post('/sign-out', protect, async (req, reply) => {
    // For every copy of the cookie and every open page, not only this browser's.
    await endSession(s.store, sessionOf(req), Date.now());
    reply.clearCookie(SESSION_COOKIE, { path: '/console' });
    return reply.redirect('/console/sign-in', 303);
  });
  app.get('/', async (_req, reply) => reply.redirect('/console/requests', 303));

  // --- requests (journal) -------------------------------------------------------------------
  /**
   * The requests page's filter. A status that is not an HTTP status (100–599, the journal API's
   * rule) is not applied, and `statusError` says so on the page: listing every status without a
   * word made "abc" or "20" look like a filter that matched everything.
   */
  const journalFilter = (q: Record<string, string>) => {
    const f: Omit<ConsoleJournalFilter, 'limit'> = {};
    const p = str(q.path);
    if (p) f.path = p;
    const typed = str(q.status);
    const st = /^\d{3}$/.test(typed) ? Number(typed) : NaN;
    let statusError: string | null = null;
    if (st >= 100 && st <= 599) f.status = st;
    else if (typed) statusError = `Status must be an HTTP status code from 100 to 599, not "${typed.slice(0, 40)}": requests of every status are shown.`;
    const lead = str(q.lead).toLowerCase();
    if (lead) f.leadId = lead;
    return { f, statusError, typedStatus: typed };
  };
  app.get('/requests', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const { f: filter, statusError, typedStatus } = journalFilter(q);
    const before = int(q.before, 1, 0);
    // The newest page lists this process's calls answered a moment ago too, as the journal API does.
    if (!before) await flushJournal(s, sessionOf(req).accountId);
    // One more than a page: "Older requests" only when there are some (a page of exactly 50 linked to an empty one).
    const read: ConsoleJournalEntry[] = await journal.list(sessionOf(req).accountId, { ...filter, ...(before ? { beforeSeq: before } : {}), limit: PAGE + 1, signal: clientGone(reply) });
    const entries = read.slice(0, PAGE);
    const newest = entries.length > 0 ? entries[0].seq : 0;
    const params = new URLSearchParams({ ...(filter.path ? { path: filter.path } : {}), ...(filter.status ? { status: String(filter.status) } : {}), ...(filter.leadId ? { lead: filter.leadId } : {}) });
    return render(req, reply, 'requests', {
      title: 'Requests',
      entries,
      q: { path: filter.path ?? '', status: filter.status ?? typedStatus.slice(0, 40), lead: filter.leadId ?? '' },
      statusError,
      live: !before,
      streamUrl: `/console/requests/stream?${new URLSearchParams({ ...Object.fromEntries(params), after: String(newest) })}`,
      older: read.length > PAGE ? `/console/requests?${new URLSearchParams({ ...Object.fromEntries(params), before: String(entries[entries.length - 1].seq) })}` : null,
    });
  });
  // Live tail: server-sent events, one `entry` event per new journal entry (a rendered table row).
  // Polls the journal by seq, so entries recorded by any process on the database show up.
  app.get('/requests/stream', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const { f: filter } = journalFilter(q);
    const accountId = sessionOf(req).accountId;
    const resumeFrom = Number(req.headers['last-event-id']);
    let after = Number.isSafeInteger(resumeFrom) && resumeFrom > 0 ? resumeFrom : int(q.after, 0, 0);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'content-security-policy': CSP, 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    // A read in flight stops when the page goes: with a path filter it waits its turn among the
    // searches that read a whole account (storage/sql/seq-ranges.ts), and leaves that queue at once.
    const gone = new AbortController();
    const stop = () => {
      if (closed) return;
      closed = true;
      gone.abort();
      if (timer) clearTimeout(timer);
      streams.delete(stop);
      res.end();
    };
    streams.add(stop);
    req.raw.on('close', stop);
    // A browser that left while its session was being checked (onRequest: a database read) closed
    // the request before this listener was there: its stream had polled the journal until the
    // server stopped.
    if (req.raw.destroyed || res.destroyed) return stop();
    const cookie = req.cookies[SESSION_COOKIE];
    const tick = async () => {
      try {
        // The session is checked at every poll, not only when the page connected: a sign-out
        // (here or in another tab), a revoked key or the session's expiry ends the stream, with a
        // row that says so; the stream closes on it (sse-close), so the page does not reconnect.
        if (!(await verify(s.store, cookie, Date.now()))) {
          res.write(`event: signed-out\ndata: ${eta.render('signed-out-row', {}).replace(/\r?\n\s*/g, ' ').trim()}\n\n`);
          stop();
          return;
        }
        const fresh = await journal.list(accountId, { ...filter, afterSeq: after, limit: 100, signal: gone.signal });
        for (const e of fresh) {
          if (closed) return;
          const html = eta.render('request-row', { e, fmt }).replace(/\r?\n\s*/g, ' ').trim();
          res.write(`id: ${e.seq}\nevent: entry\ndata: ${html}\n\n`);
          after = e.seq;
        }
        if (fresh.length === 0) res.write(': keep-alive\n\n');
      } catch (err) {
        // Stopped because the page went (an AbortError): nothing to report.
        if (!closed) req.log.warn({ err }, 'console journal stream read failed');
      }
      if (!closed) timer = setTimeout(() => void tick(), STREAM_POLL_MS);
    };
    void tick();
  });
  app.get('/requests/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const e = await journal.get(sessionOf(req).accountId, id);
    if (!e) throw notFound('That request');
    // X-Forwarded-Host counts only from a trusted proxy (Fastify's `host`, LEADTRAIL_TRUST_PROXY).
    const origin = `${secure(req) ? 'https' : 'http'}://${req.host || 'localhost'}`;
    const limit = s.config.journalMaxBodyBytes;
    const requestCut = fmt.cutBody(e, limit);
    return render(req, reply, 'request', { title: `${e.method} ${e.path}`, e, curl: fmt.curl(origin, e, limit), requestCut, limit, ignored: requestCut ? null : ignoredInBody(e.method, e.path, e.requestBody) });
  });

  // --- leads --------------------------------------------------------------------------------
  app.get('/leads', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const search = str(q.q);
    const page = int(q.page, 1, 1);
    const { total, leads } = await s.store.leads.list(sessionOf(req).accountId, { offset: (page - 1) * PAGE, limit: PAGE, ...(search ? { search, signal: clientGone(reply) } : {}) });
    const last = lastPageOf(req, page, total);
    if (last) return reply.redirect(last, 303);
    return render(req, reply, 'leads', { title: 'Leads', leads, total, page, pages: Math.max(1, Math.ceil(total / PAGE)), search });
  });
  app.get('/leads/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const accountId = sessionOf(req).accountId;
    const page = int((req.query as Record<string, string>).page, 1, 1);
    const lead = await s.store.leads.get(accountId, id);
    if (!lead) throw notFound('That lead');
    const [{ total, activities }, types] = await Promise.all([
      s.store.activities.listForLead(accountId, { leadId: lead.id, offset: (page - 1) * PAGE, limit: PAGE }),
      s.store.activityTypes.list(accountId),
    ]);
    const last = lastPageOf(req, page, total);
    if (last) return reply.redirect(last, 303);
    const byCode = new Map(types.map((t) => [t.code, t]));
    return render(req, reply, 'lead', {
      title: fmt.leadName(lead.fields, lead.autoId),
      lead,
      activities: activities.map((a) => {
        const t = byCode.get(a.eventCode);
        return { ...a, typeName: t ? t.displayName || t.name : `Activity ${a.eventCode}`, labels: fmt.fieldLabels(t?.fields ?? []) };
      }),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE)),
    });
  });
  app.get('/activities/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const a = await s.store.activities.get(sessionOf(req).accountId, id);
    if (!a) throw notFound('That activity');
    return reply.redirect(`/console/leads/${encodeURIComponent(a.leadId)}#activity-${encodeURIComponent(a.id)}`, 303);
  });

  // --- async requests -----------------------------------------------------------------------
  const asyncList = async (req: FastifyRequest) => {
    const q = req.query as Record<string, string>;
    const status = STATUSES.includes(q.status as RequestStatus) ? (q.status as RequestStatus) : undefined;
    const kind = KINDS.includes(q.type as RequestKind) ? (q.type as RequestKind) : undefined;
    const page = int(q.page, 1, 1);
    const { total, requests } = await s.store.requests.list(sessionOf(req).accountId, { offset: (page - 1) * PAGE, limit: PAGE, ...(status ? { status } : {}), ...(kind ? { kind } : {}) });
    // What the table shows, fingerprinted: a poll that would show the same answers 204 and htmx
    // leaves the table (and the keyboard focus in it) alone.
    const version = createHash('sha1').update(JSON.stringify([total, requests.map((r) => [r.id, r.status, r.attempts, r.runAt])])).digest('base64url').slice(0, 16);
    const params = new URLSearchParams({ ...(status ? { status } : {}), ...(kind ? { type: kind } : {}), ...(page > 1 ? { page: String(page) } : {}), v: version });
    return {
      version,
      requests: requests.map((r) => ({ ...r, wire: requestStatus(r).TaskStatus, typeName: TASK_TYPES[r.kind] })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE)),
      q: { status: status ?? '', type: kind ?? '' },
      statuses: STATUSES.map((st) => ({ value: st, label: st === 'running' ? 'In-Queue (running)' : WIRE_STATUS[st] })),
      kinds: KINDS.map((k) => ({ value: k, label: TASK_TYPES[k] })),
      tableUrl: `/console/async/table?${params}`,
      pageUrl: (n: number) => `/console/async?${new URLSearchParams({ ...(status ? { status } : {}), ...(kind ? { type: kind } : {}), page: String(n) })}`,
    };
  };
  app.get('/async', async (req, reply) => {
    const list = await asyncList(req);
    const last = lastPageOf(req, list.page, list.total);
    if (last) return reply.redirect(last, 303);
    return render(req, reply, 'async', { title: 'Async requests', ...list });
  });
  app.get('/async/table', async (req, reply) => {
    const list = await asyncList(req);
    if ((req.query as Record<string, string>).v === list.version) return reply.code(204).send();
    return fragment(reply, 'async-table', list);
  });
  const asyncDetail = async (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    const accountId = sessionOf(req).accountId;
    const r = await s.store.requests.get(accountId, id.toLowerCase());
    if (!r) throw notFound('That async request');
    // The resulting activity or lead: the ids named in the stored answer that are this account's.
    const results: { kind: 'activity' | 'lead'; id: string; href: string }[] = [];
    // A lead update's answer names no lead ({"AffectedRows":1}): the lead is the one it was sent for.
    const named = r.kind === 'lead.update' && r.status === 'succeeded' ? Object.entries(r.params).find(([k]) => k.toLowerCase() === 'leadid')?.[1] : undefined;
    const ids = [...((r.message ?? '').match(GUID) ?? []), ...(typeof named === 'string' ? [named] : [])];
    for (const found of new Set(ids.map((x) => x.toLowerCase()))) {
      const gid = found.toLowerCase();
      const act = await s.store.activities.get(accountId, gid);
      if (act) results.push({ kind: 'activity', id: act.id, href: `/console/leads/${act.leadId}#activity-${act.id}` });
      else if (await s.store.leads.get(accountId, gid)) results.push({ kind: 'lead', id: gid, href: `/console/leads/${gid}` });
    }
    return { r, wire: requestStatus(r).TaskStatus, typeName: TASK_TYPES[r.kind], results, version: statusVersion(r) };
  };
  app.get('/async/:id', async (req, reply) => {
    const d = await asyncDetail(req);
    return render(req, reply, 'async-request', { title: `Async request ${d.r.id}`, ...d, retried: (req.query as Record<string, string>).retried === '1' });
  });
  app.get('/async/:id/status', async (req, reply) => {
    const d = await asyncDetail(req);
    // Unchanged since the page's copy: 204, and htmx keeps what is shown.
    if ((req.query as Record<string, string>).v === statusVersion(d.r)) return reply.code(204).send();
    return fragment(reply, 'async-status', { ...d, csrf: csrfOf(req, reply) });
  });
  app.post('/async/:id/retry', protect, async (req, reply) => {
    const { id } = req.params as { id: string };
    const accountId = sessionOf(req).accountId;
    const ok = await s.store.requests.requeue(accountId, id.toLowerCase(), Date.now());
    if (!ok) {
      // Not this account's (or no such id) is not found, as its page says; one that exists is in the wrong state.
      if (!(await s.store.requests.get(accountId, id.toLowerCase()))) throw notFound('That async request');
      throw new HttpError(409, 'Only a request in ERROR (system errors, retries used up) can be retried, and this one is not.');
    }
    s.enqueuer.events.emit('accepted'); // wake this process's worker
    return reply.redirect(`/console/async/${encodeURIComponent(id)}?retried=1`, 303);
  });

  // --- webhooks -----------------------------------------------------------------------------
  // The account's webhooks and their delivery attempts (the records of
  // GET /_leadtrail/webhooks/deliveries), newest first, with "Send again" (its resend).
  const eventLabel = (code: number) => (WEBHOOK_EVENTS as Record<number, { name: string; label: string }>)[code]?.label ?? `Event ${code}`;
  const fingerprint = (v: unknown) => createHash('sha1').update(JSON.stringify(v)).digest('base64url').slice(0, 16);
  /** The account's webhooks, and the one the page is filtered to (an id of another account, or none, filters nothing). */
  const webhooksOf = async (req: FastifyRequest) => {
    const accountId = sessionOf(req).accountId;
    const { webhooks } = await s.store.webhooks.list(accountId, { orderBy: 'createdOn', descending: false, offset: 0, limit: 1000 });
    const webhook = webhooks.find((w) => w.id === str((req.query as Record<string, string>).webhook).toLowerCase()) ?? null;
    const keep: Record<string, string> = webhook ? { webhook: webhook.id } : {};
    return { accountId, webhooks, webhook, keep };
  };
  type Hooks = Awaited<ReturnType<typeof webhooksOf>>;
  // Each polled part (the list, the attempts table) has its own fingerprint, of what it shows, and
  // reads only that: the table's had also counted the webhooks' status, failures and waiting
  // events, so their every change replaced the unchanged table (and dropped the keyboard focus in
  // it), while the list showing them stayed stale.
  const webhookList = async (h: Hooks) => {
    const pending = await s.store.webhooks.pendingCounts(h.accountId);
    const listVersion = fingerprint([pending, h.webhooks.map((w) => [w.id, w.status, w.consecutiveFailures, w.modifiedOn])]);
    return {
      webhook: h.webhook,
      webhooks: h.webhooks.map((w) => ({ ...w, eventLabel: eventLabel(w.eventCode), pending: pending[w.id] ?? 0 })),
      listVersion,
      listUrl: `/console/webhooks/list?${new URLSearchParams({ ...h.keep, v: listVersion })}`,
    };
  };
  const webhookTable = async (req: FastifyRequest, h: Hooks) => {
    const page = int((req.query as Record<string, string>).page, 1, 1);
    const { total, deliveries } = await s.store.webhooks.listDeliveries(h.accountId, { offset: (page - 1) * PAGE, limit: PAGE, ...(h.webhook ? { webhookId: h.webhook.id } : {}) });
    const version = fingerprint([total, deliveries.map((d) => d.id)]);
    return {
      webhook: h.webhook,
      deliveries: deliveries.map((d) => ({ ...d, eventLabel: eventLabel(d.eventCode) })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE)),
      version,
      tableUrl: `/console/webhooks/table?${new URLSearchParams({ ...h.keep, ...(page > 1 ? { page: String(page) } : {}), v: version })}`,
      pageUrl: (n: number) => `/console/webhooks?${new URLSearchParams({ ...h.keep, page: String(n) })}`,
    };
  };
  app.get('/webhooks', async (req, reply) => {
    const h = await webhooksOf(req);
    const table = await webhookTable(req, h);
    const last = lastPageOf(req, table.page, table.total);
    if (last) return reply.redirect(last, 303);
    const q = req.query as Record<string, string>;
    const resent = UUID.test(str(q.resent)) ? str(q.resent) : null;
    return render(req, reply, 'webhooks', { title: 'Webhooks', ...(await webhookList(h)), ...table, resent, held: q.held === '1' });
  });
  app.get('/webhooks/table', async (req, reply) => {
    const table = await webhookTable(req, await webhooksOf(req));
    if ((req.query as Record<string, string>).v === table.version) return reply.code(204).send();
    return fragment(reply, 'webhook-table', { ...table, csrf: csrfOf(req, reply) });
  });
  app.get('/webhooks/list', async (req, reply) => {
    const list = await webhookList(await webhooksOf(req));
    if ((req.query as Record<string, string>).v === list.listVersion) return reply.code(204).send();
    return fragment(reply, 'webhook-list', list);
  });
  app.post('/webhooks/deliveries/:id/resend', protect, async (req, reply) => {
    const { id } = req.params as { id: string };
    const r = await s.store.transaction((tx) => tx.webhooks.resend(sessionOf(req).accountId, id, Date.now()));
    // Not this account's, no such delivery, or its event purged after the retention period.
    if (!r) throw notFound('That delivery, or its event,');
    // Back to the list it was sent from: a page filtered to this webhook stays filtered (it had
    // come back showing every webhook's attempts).
    const from = str(((req.body ?? {}) as Record<string, unknown>).webhook).toLowerCase();
    // A disabled webhook takes the event back but sends nothing until it is saved again: say so.
    const held = (await s.store.webhooks.get(sessionOf(req).accountId, r.webhookId))?.status !== 0;
    return reply.redirect(`/console/webhooks?${new URLSearchParams({ ...(from === r.webhookId ? { webhook: r.webhookId } : {}), resent: r.eventId, ...(held ? { held: '1' } : {}) })}`, 303);
  });

  // --- activity types and lead fields -------------------------------------------------------
  app.get('/activity-types', async (req, reply) => {
    const types = await s.store.activityTypes.list(sessionOf(req).accountId);
    return render(req, reply, 'activity-types', { title: 'Activity types', types: types.sort((a, b) => a.code - b.code) });
  });
  app.get('/lead-fields', async (req, reply) => {
    const fields = await s.store.leadFields.list(sessionOf(req).accountId);
    return render(req, reply, 'lead-fields', { title: 'Lead fields', fields: [...fields].sort((a, b) => a.schemaName.localeCompare(b.schemaName)) });
  });

  // --- activity charts ----------------------------------------------------------------------
  app.get('/activity', async (req, reply) => render(req, reply, 'activity', { title: 'Activity', charts: true }));
  app.get('/activity/data.json', async (req, reply) => {
    const accountId = sessionOf(req).accountId;
    const now = Date.now();
    const thisMinute = now - (now % 60_000);
    const since = thisMinute - 29 * 60_000;
    const [perMinute, counts, entries] = await Promise.all([
      s.store.requests.perMinute(accountId, since),
      s.store.requests.countByStatus(accountId),
      journal.list(accountId, { from: since, limit: JOURNAL_CHART_CAP }),
    ]);
    const minutes = Array.from({ length: 30 }, (_, i) => since + i * 60_000);
    const index = new Map(minutes.map((m, i) => [m, i]));
    const series = { requests: minutes.map(() => 0), limited: minutes.map(() => 0), accepted: minutes.map(() => 0), processed: minutes.map(() => 0), failed: minutes.map(() => 0) };
    for (const e of entries) {
      const i = index.get(e.at - (e.at % 60_000));
      if (i === undefined) continue;
      series.requests[i]++;
      if (e.status === 429) series.limited[i]++;
    }
    for (const m of perMinute) {
      const i = index.get(m.minute);
      if (i === undefined) continue;
      series.accepted[i] = m.accepted;
      series.processed[i] = m.processed;
      series.failed[i] = m.failed;
    }
    return reply.header('cache-control', 'no-store').send({
      at: now,
      minutes,
      ...series,
      journal: s.config.journal,
      journalCapped: entries.length >= JOURNAL_CHART_CAP,
      queue: { queued: counts.queued, running: counts.running },
    });
  });

  // Open streams end when the server closes, so close() does not wait for browsers to hang up.
  app.addHook('preClose', async () => {
    for (const stop of [...streams]) stop();
  });
}

const statusVersion = (r: { status: string; attempts: number; runAt: number }) => `${r.status}-${r.attempts}-${r.runAt}`;

/** The requests/429 charts count at most this many journal entries of the last 30 minutes. */
const JOURNAL_CHART_CAP = 20_000;
