/**
 * Records API calls in the request journal (issue 15): one `installJournal(app, s)` call from
 * buildApp. Every keyed call of a route in the route table is recorded once its answer is sent
 * (`onResponse`): LeadSquared's routes, the async routes and leadtrail's own `/_leadtrail/` routes,
 * but not the health paths, `/metrics` (no keys) nor reading the journal itself. A call whose keys
 * failed (401/403) belongs to no account and is not recorded: nobody can see it.
 *
 * Nothing of the call's keys is kept: the query is redacted, headers are not stored, and the key
 * values are masked wherever else they appear (src/journal/redact.ts). Bodies are capped. That work
 * is not done here: the hook hands the call as made to the recorder, and the entry is built at the
 * flush, with the rest of its batch (src/journal/entry.ts, recorder.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { linksOf, routeHasLinks, type JournalLinks } from '../journal/links.js';
import { journalRecorder, type RecordedCall } from '../journal/recorder.js';
import type { Services } from '../services.js';
import { ROUTES } from './routes.js';
import { callKeyValues } from './call-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What this call touched, stated by its handler (optional): wins over what the journal reads
     * from the route's query, body and answer (src/journal/links.ts).
     */
    journalLinks?: Partial<JournalLinks>;
    /** The answer as sent (text) and as returned by the handler (object), kept for the journal. */
    journalPayload?: unknown;
    journalAnswer?: unknown;
    /**
     * Set when the client left before the answer (journalLeft): the status to record and the time
     * it waited (ms). The entry is recorded when the handler's work ends, with what it touched.
     */
    journalLeft?: { status: number; latencyMs: number };
  }
  interface FastifyInstance {
    /**
     * Records a call although no answer will be sent (a forced fault dropped its connection: no
     * onResponse hook runs), with `status` as its status (src/http/faults.ts). Present while the
     * journal is on; records only calls of recorded routes, as onResponse does.
     */
    journalUnanswered?: (req: FastifyRequest, reply: FastifyReply, status: number) => void;
    /**
     * The client of a call being handled left before its answer (http/server.ts): the call is
     * recorded with `status` (499) and the time it waited, once its handler ends (its answer, sent
     * to no one, names the lead or activity it wrote), or by journalUnanswered if the handler gives
     * no answer (it stopped its work, a forced fault dropped it), or at the server's close.
     */
    journalLeft?: (req: FastifyRequest, reply: FastifyReply, status: number) => void;
  }
}

/** Paths whose calls are not recorded: reading the journal (the console tails it; it would record itself). */
export const JOURNAL_PATH = '/_leadtrail/journal';
const UNRECORDED = (path: string) => path.toLowerCase().startsWith(JOURNAL_PATH);

/**
 * `METHOD path` (lower-cased) of every keyed route: the calls that are recorded. A GET route's HEAD
 * too (Fastify answers it with the GET's handler: the same read, keyed, answered without a body).
 */
const recordedRoutes = () =>
  new Set(
    ROUTES.filter((r) => r.auth !== 'none' && !UNRECORDED(r.path)).flatMap((r) => {
      const path = r.path.toLowerCase();
      return r.method === 'GET' && !r.changes ? [`GET ${path}`, `HEAD ${path}`] : [`${r.method} ${path}`];
    }),
  );

function text(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return null;
}

/**
 * Installs the journal's hooks on `app` (nothing when LEADTRAIL_JOURNAL is off: no cost at all).
 * Call it before the routes are added: the hooks are attached to each recorded route as it is.
 */
export function installJournal(app: FastifyInstance, s: Services): void {
  const recorder = journalRecorder(s);
  if (!recorder) return;
  const RECORDED = recordedRoutes();

  const keyed = (req: FastifyRequest) => req.principal !== undefined;
  // The hooks go on the recorded routes only (chosen once, as each route is added): other routes
  // (health, metrics, the journal itself, a console's pages) pay nothing.
  const preSerialization = (req: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => {
    // The handler's answer object, for the links (free: no parsing of the text sent).
    if (keyed(req)) req.journalAnswer = payload;
    done(null, payload);
  };
  const onSend = (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => {
    // A HEAD call's answer has no body: none is recorded.
    if (keyed(req)) req.journalPayload = req.method === 'HEAD' ? null : payload;
    // Its client left meanwhile: no onResponse hook will run (the answer goes nowhere).
    if (req.journalLeft) safely(req, () => recordLeft(req, reply));
    done(null, payload);
  };
  /** Runs `record`; a failure to record is logged, never the call's failure. */
  const safely = (req: FastifyRequest, record: () => void) => {
    try {
      record();
    } catch (err) {
      req.log.warn({ err }, 'request journal: call not recorded');
    }
  };
  const recordable = (req: FastifyRequest) => keyed(req) && RECORDED.has(`${req.method} ${(req.routeOptions.url ?? '').toLowerCase()}`);
  /**
   * Calls whose client left and whose entry is not written yet (their handler still runs): written
   * once, by whichever comes first of the handler's answer, journalUnanswered and the close.
   */
  const leftOpen = new Map<FastifyRequest, FastifyReply>();
  const recordLeft = (req: FastifyRequest, reply: FastifyReply) => {
    if (!leftOpen.delete(req)) return;
    const left = req.journalLeft!;
    // No answer reached the client: none is recorded, whatever the handler returned.
    req.journalPayload = null;
    recorder.record(callOf(req, reply, left.status, left.latencyMs));
  };
  app.decorate('journalUnanswered', (req: FastifyRequest, reply: FastifyReply, status: number) => {
    if (!recordable(req)) return;
    safely(req, () => (req.journalLeft ? recordLeft(req, reply) : recorder.record(callOf(req, reply, status))));
  });
  app.decorate('journalLeft', (req: FastifyRequest, reply: FastifyReply, status: number) => {
    if (!recordable(req) || req.journalLeft) return;
    req.journalLeft = { status, latencyMs: reply.elapsedTime };
    leftOpen.set(req, reply);
  });
  const onResponse = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (keyed(req) && !req.journalLeft) safely(req, () => recorder.record(callOf(req, reply)));
    done();
  };
  const append = <T>(existing: T | T[] | undefined, hook: T): T[] => (existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook]);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => RECORDED.has(`${m} ${route.url.toLowerCase()}`))) return;
    route.preSerialization = append(route.preSerialization, preSerialization) as typeof route.preSerialization;
    route.onSend = append(route.onSend, onSend) as typeof route.onSend;
    route.onResponse = append(route.onResponse, onResponse) as typeof route.onResponse;
  });
  // Entries still buffered are written before the store closes (main closes the apps first).
  app.addHook('onClose', async () => {
    // Calls whose client left and whose handler has not ended: recorded as they stand.
    for (const [req, reply] of [...leftOpen]) safely(req, () => recordLeft(req, reply));
    await recorder.flush();
  });

  /**
   * The call as made (RecordedCall): nothing is masked or measured here; the entry is built at the
   * flush (journal/entry.ts). `status`: the status to record (default: the reply's); `latency`:
   * the time to record in ms (default: the reply's so far).
   */
  function callOf(req: FastifyRequest, reply: FastifyReply, status = reply.statusCode, latency = reply.elapsedTime): RecordedCall {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const keys = callKeyValues(q, req.headers);
    const ok = reply.statusCode >= 200 && reply.statusCode < 300;
    const route = req.routeOptions.url ?? '';
    const found = routeHasLinks(route) ? linksOf(route, { query: q as Record<string, string>, body: req.body, answer: req.journalAnswer, ok }) : null;
    const stated = req.journalLinks;
    return {
      id: req.id,
      accountId: req.principal.accountId,
      // When the request arrived (the entry of a call whose client left is written later).
      at: Math.round(s.ctx.now() - reply.elapsedTime),
      method: req.method,
      // The URL as sent: req.url is the routing URL (path lower-cased by server.ts's routingUrl).
      url: req.originalUrl,
      keys,
      requestBody: req.rawBody ?? null,
      // The size as sent, when known (before its charset was decoded).
      requestSize: req.rawBodyBytes ?? null,
      responseBody: text(req.journalPayload),
      status,
      latencyMs: Math.round(latency * 100) / 100,
      leadId: stated?.leadId ?? found?.leadId ?? null,
      activityId: stated?.activityId ?? found?.activityId ?? null,
      requestId: stated?.requestId ?? found?.requestId ?? null,
    };
  }
}
