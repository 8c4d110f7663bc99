/** leadtrail's own endpoints: health, metrics and the `/_leadtrail/…` testing APIs. */
import { z } from 'zod';
import { MxError, mx } from '../domain/errors.js';
import { wholeNumber } from '../domain/numbers.js';
import { endpoint } from './endpoint.js';
import * as L from './lsq.js';

const tag = 'leadtrail';

const Health = z.object({ status: z.string(), role: z.string(), store: z.string().optional(), reason: z.string().optional() }).meta({ id: 'Health' });

export const health = endpoint('GET', '/health', { operationId: 'health', summary: 'ok once the server serves its keys; 503 while starting or stopping, or while the database does not answer', tag, answer: Health, errors: [503] });
export const healthLive = endpoint('GET', '/health/live', { operationId: 'healthLive', summary: 'The process answers (liveness probe); 503 once its store has failed for good', tag, answer: Health, errors: [503] });
export const healthReady = endpoint('GET', '/health/ready', { operationId: 'healthReady', summary: 'Ready for traffic: started and the database answers (readiness probe)', tag, answer: Health, errors: [503] });
export const metrics = endpoint('GET', '/metrics', {
  operationId: 'metrics',
  summary: 'Prometheus metrics (with LEADTRAIL_METRICS_TOKEN, only for Authorization: Bearer <token>)',
  tag,
  answer: z.string().meta({ description: 'Prometheus text exposition' }),
});

const FaultCommon = { id: z.string(), match: z.string().nullable(), remaining: z.number().nullable().meta({ description: 'Uses left; null: no count (percent only)' }), percent: z.number().nullable(), message: z.string() };
const Fault = z
  .union([
    z.object({ ...FaultCommon, target: z.literal('async'), operation: z.string() }).meta({ description: 'Fails async attempts of `operation` with a system error' }),
    z
      .object({
        ...FaultCommon,
        target: z.literal('http'),
        path: z.string(),
        status: z.number().nullable(),
        retryAfter: z.number().nullable(),
        latencyMs: z.number().nullable(),
        drop: z.boolean(),
      })
      .meta({ description: 'Answers API requests to `path` with `status` (MX envelope), after `latencyMs`, or drops the connection' }),
  ])
  .meta({ id: 'FaultRule' });

export const FAULT_MAX_TIMES = 1000;
export const FAULT_MAX_LATENCY_MS = 60_000;

/** A whole number from `min` to `max`, or a 400 naming it (the faults API takes JSON numbers only). */
export const faultWhole = (v: unknown, name: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw mx.badStructure(`'${name}' must be a whole number from ${min} to ${max}`);
  return v;
};

export const faultAdd = endpoint('POST', '/_leadtrail/faults', {
  operationId: 'faultAdd',
  summary: 'Adds a forced fault for the account (LEADTRAIL_FAULTS): async attempts of `operation` fail, or with `path` API requests answer `status`, wait `latencyMs` or drop',
  description:
    'Without `path` the rule is an async one (`operation`; `status`, `retryAfter`, `latencyMs` and `drop` are refused). With `path` it is an http rule ' +
    '(`operation` refused) that needs `status`, `latencyMs` or `drop`; `retryAfter` (default 1) goes with 429 or 503. `times` (default 1, or no count ' +
    'when `percent` is given) and `percent` bound how often it applies; `match` limits it to bodies (or query strings) containing that text.',
  tag,
  bodyRequired: true,
  body: L.object(
    {
      percent: L.rule(L.anyJson({ type: ['number', 'null'], exclusiveMinimum: 0, maximum: 100, description: 'Applies to this share of matching attempts or requests' }).optional(), (v) => {
        if (v === undefined || v === null) return null;
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 100) throw mx.badStructure("'percent' must be a number above 0 and at most 100");
        return v;
      }),
      times: L.rule(L.anyJson({ type: ['integer', 'null'], minimum: 1, maximum: FAULT_MAX_TIMES, description: 'How many uses (default 1, or no count with percent)' }).optional(), (v) =>
        v === undefined || v === null ? null : faultWhole(v, 'times', 1, FAULT_MAX_TIMES),
      ),
      match: L.rule(L.anyJson({ type: ['string', 'null'], minLength: 1, description: 'Only bodies (or query strings) containing this text' }).optional(), (v) => {
        if (v === undefined || v === null) return null;
        if (typeof v !== 'string' || v === '') throw mx.badStructure("'match' must be a non-empty string");
        return v;
      }),
      message: L.rule(L.anyJson({ type: ['string', 'null'], minLength: 1, description: "The error's ExceptionMessage" }).optional(), (v) => {
        if (v === undefined || v === null) return null;
        if (typeof v !== 'string' || v.trim() === '') throw mx.badStructure("'message' must be a non-empty string");
        return v;
      }),
      operation: L.anyJson({ type: 'string', description: 'Async rule: activity.create, activity.createcustom, lead.capture, lead.update or * (the default)' }).optional(),
      path: L.anyJson({ type: 'string', description: "Http rule: '*', a path such as /v2/LeadManagement.svc/Lead.Create, or a prefix ending in * such as /v2/*" }).optional(),
      status: L.anyJson({ enum: [429, 500, 503] }).optional(),
      retryAfter: L.anyJson({ type: 'integer', minimum: 0, maximum: 3600, description: 'Seconds, with status 429 or 503 (default 1)' }).optional(),
      latencyMs: L.anyJson({ type: 'integer', minimum: 1, maximum: FAULT_MAX_LATENCY_MS }).optional(),
      drop: L.anyJson({ type: 'boolean', description: 'Close the connection without an answer (not with status)' }).optional(),
    },
    'request body',
  ),
  answer: z.object({ fault: Fault }),
});
export const faultsList = endpoint('GET', '/_leadtrail/faults', { operationId: 'faultsList', summary: "The account's forced faults still in force", tag, answer: z.object({ faults: z.array(Fault) }) });
export const faultsClear = endpoint('DELETE', '/_leadtrail/faults', {
  operationId: 'faultsClear',
  summary: "Removes the account's forced faults, or with `id` only that one",
  tag,
  query: z.object({ id: z.string().optional().meta({ description: 'Only this rule (or `id` in the body); blank is refused' }) }),
  // A body that names no usable rule is refused, never read as "every rule": a JSON string or list,
  // or an explicit null id (what `{id: rule?.id ?? null}` sends), had removed them all (a review).
  body: L.optionalBody({
    id: L.rule(L.anyJson({ type: 'string', description: 'Only this rule, when the query has no id' }).optional(), (v) => {
      if (v === undefined) return undefined;
      if (v === null) throw mx.badStructure("'id' is null: give a rule's id, or leave 'id' out to remove every rule");
      return L.scalar(v, 'id') ?? undefined;
    }),
  }),
  answer: z.object({ cleared: z.number() }),
});
export const reset = endpoint('POST', '/_leadtrail/reset', {
  operationId: 'reset',
  summary: "Empties the calling account's leads, activities and async requests (LEADTRAIL_SANDBOX)",
  tag,
  // The three counts by name (README "Reset"), so that the typed client's `reset()` answer names them.
  answer: z.object({
    deleted: z.object({
      leads: z.number().meta({ description: 'Leads deleted.' }),
      activities: z.number().meta({ description: 'Activities deleted.' }),
      requests: z.number().meta({ description: 'Async requests deleted.' }),
    }),
  }),
});
export const retriesRunNow = endpoint('POST', '/_leadtrail/retries/run-now', {
  operationId: 'retriesRunNow',
  summary: 'Every async request of the account waiting for a retry becomes due now (LEADTRAIL_FAULTS)',
  tag,
  answer: z.object({ due: z.number() }),
});

const JournalEntry = z
  .object({
    id: z.string().meta({ description: "The call's request id (reqId in the logs)" }),
    seq: z.number().meta({ description: 'Order of recording, increasing; the paging cursor' }),
    at: z.number().meta({ description: 'Epoch milliseconds' }),
    time: z.string().meta({ description: 'ISO 8601' }),
    method: z.string(),
    path: z.string(),
    query: z.string().meta({ description: 'The query string, key, secret and token values replaced by ***' }),
    status: z.number(),
    latencyMs: z.number(),
    requestSize: z.number().nullable(),
    responseSize: z.number().nullable(),
    leadId: z.string().nullable(),
    activityId: z.string().nullable(),
    requestId: z.string().nullable(),
    requestBody: z.string().nullable().optional().meta({ description: 'With bodies=true (always on the entry itself): at most LEADTRAIL_JOURNAL_MAX_BODY_BYTES' }),
    responseBody: z.string().nullable().optional(),
    ignoredProperties: z
      .array(z.string())
      .nullable()
      .optional()
      .meta({
        description:
          'With the bodies: the request body properties the call did not read, as its X-LeadTrail-Ignored-Properties named them (at most 20, as sent, then "..." when there were more); [] when none, null when the route reads no body or the kept body is not JSON (cut, or form-encoded)',
      }),
  })
  .meta({ id: 'JournalEntry' });

export const JOURNAL_DEFAULT_LIMIT = 50;
export const JOURNAL_MAX_LIMIT = 500;

/** The journal's query errors: MXInvalidInputException with HTTP 400. */
const journalBad = (message: string) => new MxError('MXInvalidInputException', message, 400);

/** A query parameter trimmed; blank is absent. */
const trimmed = () => z.string().optional().transform((v) => (v?.trim() ? v.trim() : undefined));

/** A whole number query parameter from `min` to `max` (documented as an integer with those bounds); blank is absent. */
const journalWhole = (label: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  L.wholeParam({ min, max }, (raw) => journalBad(`Query parameter '${label}' must be a whole number from ${min} to ${max}; got '${raw.slice(0, 50)}'.`));

/** The latest time a JavaScript Date holds (epoch ms): a later `from` or `to` names no time. */
const TIME_MAX = 8_640_000_000_000_000;

/**
 * How much time an ISO 8601 date/time names past its start (ms): a whole day for a date alone, a
 * minute without seconds, a second without a fraction.
 */
function isoSpan(raw: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) return 86_400_000;
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?/.exec(raw);
  if (!m || m[2]) return 1;
  return m[1] ? 1_000 : 60_000;
}

/**
 * Whether the text's leading `yyyy-mm-dd` is a day of the calendar. V8's Date.parse rolls a day past
 * the month's end over into the next month (`2026-02-30` is 2 March; `2026-04-31` is 1 May) where it
 * should refuse it, as the LeadSquared endpoints refuse `2024-02-30` (docs/compatibility.md).
 */
function calendarDate(raw: string): boolean {
  const [y, m, d] = raw.slice(0, 10).split('-').map(Number);
  const day = new Date(0);
  day.setUTCFullYear(y, m - 1, d); // not Date.UTC, which reads years 0–99 as 1900–1999
  return m >= 1 && m <= 12 && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * A time: epoch milliseconds, or an ISO 8601 date/time (`2026-01-31`, `2026-01-31T10:00:00Z`); blank
 * is absent. With `end` (the inclusive `to`), the last millisecond of what the text names:
 * `to=2026-01-31` is the whole of that day, `…T10:00` the whole of that minute.
 */
const journalTime = (name: string, end = false) =>
  L.documentedAs(
    L.rule(z.string().optional(), (v) => {
      const raw = v?.trim();
      if (raw === undefined || raw === '') return undefined;
      if (/^\d+$/.test(raw)) {
        // Beyond a Date's range PostgreSQL's BIGINT refuses the number (a system error, once).
        const ms = wholeNumber(raw, { min: 0, max: TIME_MAX });
        if (ms === null) throw journalBad(`Query parameter '${name}' in epoch milliseconds must be at most ${TIME_MAX}; got '${raw.slice(0, 50)}'.`);
        return ms;
      }
      const t = /^\d{4}-\d{2}-\d{2}/.test(raw) && calendarDate(raw) ? Date.parse(raw) : NaN;
      if (Number.isNaN(t)) throw journalBad(`Query parameter '${name}' must be epoch milliseconds or an ISO 8601 date/time; got '${raw.slice(0, 50)}'.`);
      return end ? t + isoSpan(raw) - 1 : t;
    }),
    { type: ['integer', 'string'], minimum: 0, maximum: TIME_MAX },
  );

export const journalQuery = z
  .object({
    limit: journalWhole('limit', 1, JOURNAL_MAX_LIMIT).meta({ description: `Whole number from 1 to ${JOURNAL_MAX_LIMIT} (default ${JOURNAL_DEFAULT_LIMIT})` }),
    path: trimmed().meta({ description: 'Substring of the path, any case' }),
    status: journalWhole('status', 100, 599).meta({ description: 'HTTP status, 100–599' }),
    leadId: trimmed(),
    from: journalTime('from').meta({ description: 'Epoch milliseconds or ISO 8601 date/time (inclusive)' }),
    to: journalTime('to', true).meta({ description: 'Epoch milliseconds or ISO 8601 date/time (inclusive, to the end of the day, minute or second it names)' }),
    beforeSeq: journalWhole('beforeSeq', 0).meta({ description: "Older entries than this seq (the previous page's nextBeforeSeq)" }),
    afterSeq: journalWhole('afterSeq', 0).meta({ description: 'Newer entries than this seq, oldest first (not with beforeSeq)' }),
    bodies: L.documentedAs(
      z
        .string()
        .optional()
        .transform((v) => v !== undefined && /^(1|true|yes)$/i.test(v.trim())),
      L.flagParamDoc,
    ).meta({ description: 'true/1/yes (any case): include both bodies; anything else: leave them out' }),
  })
  .superRefine((q, ctx) => {
    if (q.beforeSeq !== undefined && q.afterSeq !== undefined) L.fail(ctx, journalBad("Give 'beforeSeq' (older entries) or 'afterSeq' (newer entries), not both."));
  });

export const journalList = endpoint('GET', '/_leadtrail/journal', {
  operationId: 'journalList',
  summary: "The account's request journal, newest first (with afterSeq: oldest first, for tailing)",
  tag,
  query: journalQuery,
  answer: z.object({ recording: z.boolean(), entries: z.array(JournalEntry), nextBeforeSeq: z.number().nullable() }),
});

export const journalEntry = endpoint('GET', '/_leadtrail/journal/:id', {
  operationId: 'journalEntry',
  summary: 'One journal entry of the account, with both bodies and where its lead, activity and async request can be read',
  tag,
  params: z.object({ id: z.string().transform((id) => id.trim()).meta({ description: 'The entry id (spaces around it are ignored)' }) }),
  answer: z.object({
    entry: JournalEntry.extend({
      links: z.object({ lead: z.string().nullable(), activity: z.string().nullable(), request: z.string().nullable() }),
    }),
  }),
  errors: [404],
});

export const ADMIN = [health, healthLive, healthReady, metrics, faultAdd, faultsList, faultsClear, reset, retriesRunNow, journalList, journalEntry];
