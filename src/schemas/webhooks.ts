/** `/v2/Webhook.svc/…` (LeadSquared's webhook settings API) and leadtrail's webhook delivery records. */
import { z } from 'zod';
import { MxError, mx } from '../domain/errors.js';
import { INT32, wholeNumber } from '../domain/numbers.js';
import { MAX_DELAY_SECONDS, REFUSED_HEADER_NAMES, WEBHOOK_EVENTS, WEBHOOK_LIMITS, webhookEventOf } from '../domain/webhooks.js';
import { endpoint, success } from './endpoint.js';
import * as L from './lsq.js';
import { anchored, anyCase, wholeNumberBody, wholeNumberPattern, wordsPattern } from './patterns.js';

const WH = '/v2/Webhook.svc';
const tag = 'Webhooks';

const REFUSED_NAMES = [...REFUSED_HEADER_NAMES.reserved, ...REFUSED_HEADER_NAMES.unsendable];
/** An HTTP header name (a token), but none checkHeaders refuses. */
const HEADER_NAME_PATTERN = `^(?!(?:${REFUSED_NAMES.map(anyCase).join('|')})$|${anyCase(REFUSED_HEADER_NAMES.prefix)})[!#$%&'*+.^_\`|~0-9A-Za-z-]+$`;

/** `CustomHeaders` as domain/webhooks.ts checkHeaders takes them: a header name (not one leadtrail sets), a Latin-1 value. */
const HEADERS_DOC = {
  type: ['array', 'null'],
  maxItems: WEBHOOK_LIMITS.headers,
  description: `At most ${WEBHOOK_LIMITS.headers} headers of at most ${WEBHOOK_LIMITS.headersBytes} bytes in all, counting each \`Name: value\` line with its line break`,
  items: {
    type: 'object',
    properties: {
      Key: {
        type: ['string', 'number', 'boolean'],
        maxLength: WEBHOOK_LIMITS.headerName,
        pattern: HEADER_NAME_PATTERN,
        description: `A header name of at most ${WEBHOOK_LIMITS.headerName} characters; not ${REFUSED_NAMES.join(', ')} (any case) nor ${REFUSED_HEADER_NAMES.prefix}…`,
      },
      Value: {
        type: ['string', 'number', 'boolean', 'null'],
        maxLength: WEBHOOK_LIMITS.headerValue,
        pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$',
        description: `At most ${WEBHOOK_LIMITS.headerValue} characters, Latin-1 (what a header can carry)`,
      },
    },
    required: ['Key'],
  },
};

/** `CustomHeaders`: `[{"Key","Value"}]`; absent or null is undefined (unchanged on Update). */
export function headersValue(v: unknown): { key: string; value: string }[] | undefined {
  if (v === undefined || v === null) return undefined;
  return L.asArray(v, "'CustomHeaders'").map((h, i) => {
    const o = L.asObject(h, `'CustomHeaders[${i}]'`);
    const key = L.scalar(L.prop(o, 'Key'), `CustomHeaders[${i}].Key`);
    if (!key) throw mx.mandatoryMissing(`'CustomHeaders[${i}].Key' is mandatory`);
    return { key, value: L.scalar(L.prop(o, 'Value'), `CustomHeaders[${i}].Value`) ?? '' };
  });
}

const EVENT_LIST = Object.entries(WEBHOOK_EVENTS)
  .map(([c, e]) => `${c} ${e.name}`)
  .join(', ');

/** A flag that may be left out (undefined: unchanged), in every spelling L.flagValue takes. */
const optionalFlag = (name: string) => L.rule(L.anyJson(L.FLAG_DOC).optional(), (v) => (v === undefined || v === null ? undefined : L.flagValue(v, name)));

const lenientBody = L.lenientBody;

const EVENT_CODES = Object.keys(WEBHOOK_EVENTS).map(Number);

/** ExecutionDelay as domain/webhooks.ts checkDelay takes it: whole seconds, as wholeNumber reads them; `""` refused. */
const DELAY_DOC = { minimum: 0, maximum: MAX_DELAY_SECONDS, pattern: wholeNumberPattern({ min: 0, max: MAX_DELAY_SECONDS }, 'refused') };

/** A webhook event's code (as wholeNumber reads it) or its name in any case, as the pattern body of webhookEventOf. */
const EVENT_TEXT = `(?:${wholeNumberBody(EVENT_CODES)}|${Object.values(WEBHOOK_EVENTS).map((e) => anyCase(e.name)).join('|')})`;

/** WebhookEvent as checkEventCode takes it: a code, as wholeNumber reads it, or an event's name; `""` is as absent. */
const EVENT_DOC = {
  anyOf: [{ type: 'integer', enum: EVENT_CODES }, { type: 'string', pattern: anchored(EVENT_TEXT, 'empty') }, { type: 'null' }],
};

/** The webhook properties of a Create or Update body (names as LeadSquared's pages give them; `SigningSecret` is leadtrail's). */
export const webhookFields = {
  Description: L.text('Description', { maxLength: WEBHOOK_LIMITS.description }),
  URL: L.text('URL', { maxLength: WEBHOOK_LIMITS.url }).meta({ description: 'Where events are posted (http or https; LEADTRAIL_WEBHOOK_ALLOW may restrict hosts)' }),
  Method: L.text('Method').meta({ description: 'POST (the only one taken)' }),
  ContentType: L.text('ContentType').meta({ description: 'application/json (the default), application/x-www-form-urlencoded or text/plain' }),
  WebhookEvent: L.code('WebhookEvent', EVENT_DOC).meta({ description: `The event code, or its name as Retrieve answers it in EventCode (Lead_Post_Create, any case): ${EVENT_LIST}` }),
  CustomHeaders: L.rule(L.anyJson(HEADERS_DOC).optional(), headersValue),
  NotifyOnFailure: optionalFlag('NotifyOnFailure'),
  ExecutionDelay: L.code('ExecutionDelay', DELAY_DOC).meta({ description: 'Seconds to wait before sending (also read as Delay)' }),
  Delay: L.code('Delay', DELAY_DOC),
  SigningSecret: L.rule(L.anyJson({ ...L.SCALAR_DOC, maxLength: WEBHOOK_LIMITS.secret }).optional(), (v) => (v === undefined ? undefined : L.scalar(v, 'SigningSecret'))).meta({
    description: "leadtrail's own: when set, each delivery is signed with it (HMAC-SHA256); null or \"\" removes it",
  }),
};

/** A Create body. */
export const webhookBody = L.object(webhookFields, 'request body');

const idAnswer = success(z.object({ Id: z.string() }));
const webhookId = L.requiredText('WebhookId', "'WebhookId' is mandatory").transform((id) => id.trim());

export const webhookCreate = endpoint('POST', `${WH}/Create`, {
  operationId: 'webhookCreate',
  summary: 'Creates a webhook: events of WebhookEvent are posted to URL, each until delivered',
  tag,
  bodyRequired: true,
  body: webhookBody,
  answer: idAnswer,
  errors: [500],
});

/** Update's StatusCode as domain/webhooks.ts checkStatusCode takes it: 0 or 1, as wholeNumber reads it; `""` leaves it as it is. */
const STATUS_DOC = { minimum: 0, maximum: 1, pattern: wholeNumberPattern({ min: 0, max: 1 }, 'empty') };

export const webhookUpdate = endpoint('POST', `${WH}/Update`, {
  operationId: 'webhookUpdate',
  summary: "Changes a webhook's properties (only those given), enables or disables it (StatusCode)",
  tag,
  bodyRequired: true,
  body: L.object(
    {
      WebhookId: webhookId,
      ...webhookFields,
      StatusCode: L.code('StatusCode', STATUS_DOC).meta({ description: '0 enables, 1 disables (a whole number, as a number or digits: " 1 ", "01"); "" or null leaves it as it is' }),
    },
    'request body',
  ),
  answer: idAnswer,
  errors: [500],
});

const deleteSpec = {
  summary: 'Deletes a webhook (WebhookId in the body, or webhookId in the query)',
  tag,
  query: z.object({ webhookId: z.string().optional().meta({ description: 'The webhook (instead of the body)' }) }),
  answer: idAnswer,
  errors: [500],
};

export const webhookDelete = endpoint('POST', `${WH}/Delete`, {
  operationId: 'webhookDelete',
  ...deleteSpec,
  body: lenientBody({ WebhookId: L.text('WebhookId') }),
});

export const webhookDeleteGet = endpoint('GET', `${WH}/Delete`, { operationId: 'webhookDeleteGet', ...deleteSpec });

const Webhook = z
  .object({
    WebhookId: z.string(),
    EventName: z.string().meta({ example: 'Lead Creation' }),
    EventCode: z.string().meta({ example: 'Lead_Post_Create' }),
    WebhookEvent: z.number(),
    Description: z.string(),
    URL: z.string(),
    Method: z.string().meta({ example: 'POST' }),
    ContentType: z.string(),
    CustomHeaders: z.array(z.object({ Key: z.string(), Value: z.string() })),
    NotifyOnFailure: z.boolean(),
    ExecutionDelay: z.number(),
    StatusCode: z.number().meta({ description: '0 enabled, 1 disabled, 2 disabled after failures' }),
    ConsecutiveFailures: z.number(),
    HasSigningSecret: z.boolean(),
    CreatedOn: z.string(),
    ModifiedOn: z.string(),
  })
  .meta({ id: 'Webhook' });


export const RETRIEVE_PAGE_DEFAULT = 25;
const RETRIEVE_PAGE_MAX = 1000;
const RETRIEVE_PAGE_INDEX_MAX = 1_000_000;
/** Retrieve's WebhookEvent: a code (a number, or digits with spaces around) or an event's name in any case; blank is no filter. */
const RETRIEVE_EVENT_DOC = {
  anyOf: [
    { type: 'integer', enum: EVENT_CODES },
    { type: 'string', pattern: anchored(EVENT_TEXT, 'spaces') },
    { type: 'null' },
  ],
};

/** A scalar read as text (null when absent), then `fn`; documented as `doc` (any scalar unless told). */
const scalarRule = <O>(name: string, fn: (v: string | null) => O, doc: Record<string, unknown> = L.SCALAR_DOC) =>
  L.rule(L.anyJson({ ...doc }).optional(), (v) => fn(L.scalar(v, name)));

export const webhookRetrieve = endpoint('POST', `${WH}/Retrieve`, {
  operationId: 'webhookRetrieve',
  summary: "The account's webhooks, filtered, sorted and paged (newest change first by default)",
  tag,
  body: L.optionalBody({
    Parameter: L.subObject(
      {
        WebhookEvent: scalarRule('WebhookEvent', (v) => {
          if (v === null || v.trim() === '') return undefined;
          // A code is read as every number of the API is (wholeNumber: " 003 ", "+3"; not "3.0", "0x3").
          const c = webhookEventOf(v);
          // A code no event has finds nothing anyway, and past 2^31 PostgreSQL's INTEGER refused it (a 500).
          if (c === undefined) throw mx.invalidInput(`WebhookEvent '${v.slice(0, 60)}' is not a webhook event (e.g. Lead_Post_Create).`);
          return c;
        }, RETRIEVE_EVENT_DOC).meta({ description: 'The event name (Lead_Post_Create, any case) or code' }),
        StatusCode: L.rule(L.anyJson({ type: ['integer', 'string', 'null'], minimum: 0, maximum: 2, pattern: wholeNumberPattern({ min: 0, max: 2 }, 'spaces') }).optional(), (raw) => {
          const v = L.codeValue(raw, 'StatusCode');
          if (L.absentNumber(v)) return undefined;
          const n = wholeNumber(v, { min: 0, max: 2 });
          if (n === null) throw mx.invalidInput('StatusCode must be 0 (enabled), 1 (disabled) or 2 (disabled after failures).');
          return n as 0 | 1 | 2;
        }).meta({ description: '0, 1 or 2 (a whole number, as a number or digits); blank is no filter' }),
        WebhookId: scalarRule('WebhookId', (v) => (v === null || v.trim() === '' ? undefined : v.trim())),
        SearchText: scalarRule('SearchText', (v) => (v === null || v.trim() === '' ? undefined : v)).meta({ description: 'Substring of the URL or description' }),
      },
      "'Parameter'",
    ),
    Sorting: L.subObject(
      {
        // Another column was sorted by ModifiedOn without a word (found by a fresh-eyes run): refused,
        // as the activity endpoints' Sorting.ColumnName is.
        ColumnName: scalarRule(
          'ColumnName',
          (v) => {
            const c = v?.trim().toLowerCase() ?? '';
            if (c === '' || c === 'modifiedon') return 'modifiedOn' as const;
            if (c === 'createdon') return 'createdOn' as const;
            throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be ModifiedOn or CreatedOn; got '${(v ?? '').trim().slice(0, 100)}'.`);
          },
          { type: ['string', 'null'], pattern: wordsPattern(['ModifiedOn', 'CreatedOn'], 'spaces') },
        ).meta({ description: 'ModifiedOn (the default) or CreatedOn (any case, spaces around ignored)' }),
        Direction: L.sortDirection(),
      },
      "'Sorting'",
    ),
    Paging: L.subObject(
      {
        // Read as every paging value of the API is (Leads.Get, ActivityBulk: L.whole); blank or null is the default.
        // Bounded: a page past every webhook is empty anyway, and a larger offset fits no database's BIGINT.
        PageIndex: L.whole('PageIndex', { min: 1, max: RETRIEVE_PAGE_INDEX_MAX }, 'Paging.PageIndex').meta({ description: 'Default 1' }),
        PageSize: L.whole('PageSize', { min: 1, max: RETRIEVE_PAGE_MAX }, 'Paging.PageSize').meta({ description: `Default ${RETRIEVE_PAGE_DEFAULT}` }),
      },
      "'Paging'",
    ),
  }),
  answer: z.object({ RecordCount: z.number(), Response: z.array(Webhook) }),
  errors: [500],
});

const Delivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string(),
    eventCode: z.number(),
    attempt: z.number(),
    at: z.string().meta({ description: 'ISO 8601' }),
    url: z.string(),
    statusCode: z.number().nullable(),
    latencyMs: z.number(),
    response: z.string().nullable().meta({ description: "The answer's first KB" }),
    error: z.string().nullable(),
    outcome: z.enum(['delivered', 'retry', 'failed', 'dropped']).meta({ description: 'retry: another attempt is scheduled; failed: no more; dropped: a retry was scheduled, and its event was deleted before it (the webhook deleted, or its WebhookEvent changed)' }),
  })
  .meta({ id: 'WebhookDelivery' });

export const DELIVERIES_LIMIT_DEFAULT = 50;
const DELIVERIES_LIMIT_MAX = 1000;
/** Past this an offset skips every delivery anyway; a larger number would not fit the databases' BIGINT. */
const DELIVERIES_OFFSET_MAX = Number.MAX_SAFE_INTEGER;

/**
 * A whole-number query parameter of leadtrail's own endpoints from `min` to `max`: a mistake is a
 * 400 (as on /_leadtrail/journal and /_leadtrail/faults; 500 is LeadSquared's convention for its own API only).
 */
const ownWhole = (label: string, max: number, min = 0) =>
  L.wholeParam({ min, max }, (raw) => new MxError('MXInvalidInputException', `Query parameter '${label}' must be a whole number from ${min} to ${max}; got '${raw.slice(0, 50)}'.`, 400));

export const webhookDeliveries = endpoint('GET', '/_leadtrail/webhooks/deliveries', {
  operationId: 'webhookDeliveries',
  summary: "The account's webhook delivery attempts, newest first",
  tag: 'leadtrail',
  query: z.object({
    webhookId: z.string().optional(),
    eventId: z.string().optional(),
    offset: ownWhole('offset', DELIVERIES_OFFSET_MAX).meta({ description: 'Deliveries to skip (default 0)' }),
    limit: ownWhole('limit', DELIVERIES_LIMIT_MAX, 1).meta({ description: `Most deliveries answered (default ${DELIVERIES_LIMIT_DEFAULT})` }),
  }),
  answer: z.object({ total: z.number(), deliveries: z.array(Delivery) }),
  errors: [400],
});

export const webhookDeliveryResend = endpoint('POST', '/_leadtrail/webhooks/deliveries/resend', {
  operationId: 'webhookDeliveryResend',
  summary: "Sends a delivery's event again (same event id, attempts counted from 1 again)",
  tag: 'leadtrail',
  query: z.object({ id: z.string().optional().meta({ description: 'The delivery id (or `id` in the body)' }) }),
  body: lenientBody({ id: L.text('id') }),
  answer: z.object({ resent: z.object({ eventId: z.string(), webhookId: z.string() }) }),
  errors: [400, 404],
});

export const WEBHOOKS = [webhookCreate, webhookRetrieve, webhookUpdate, webhookDelete, webhookDeleteGet, webhookDeliveries, webhookDeliveryResend];
