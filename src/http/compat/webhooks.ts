/**
 * LeadSquared's webhook settings API (`/v2/Webhook.svc/…`: Create, Retrieve, Update, Delete) and
 * leadtrail's delivery records (`/_leadtrail/webhooks/deliveries`, account keys).
 */
import { MxError, mx, type MxType } from '../../domain/errors.js';
import { runWrite } from '../../domain/run.js';
import {
  WEBHOOK_EVENTS,
  createWebhook,
  deleteWebhook,
  updateWebhook,
  type Webhook,
  type WebhookInput,
  type WebhookRules,
} from '../../domain/webhooks.js';
import { formatLsqDateTime } from '../../domain/fields.js';
import type { WebhookDelivery } from '../../storage/store.js';
import type { z } from 'zod';
import { readBody, readQuery } from '../../schemas/endpoint.js';
import * as schema from '../../schemas/webhooks.js';
import { query } from '../auth.js';
import type { Handler } from '../handler.js';
import type { Services } from '../../services.js';

const rules = (s: Services): WebhookRules => ({ allowHosts: s.config.webhookAllow, maxPerAccount: s.config.webhookMax, denyPrivate: s.config.webhookPrivate === 'deny' });

/** A client's mistake on leadtrail's own delivery endpoints: its MX type, HTTP 400. */
const ownBad = (type: MxType, message: string) => new MxError(type, message, 400);

type WebhookBody = z.output<typeof schema.webhookBody>;

/** The webhook properties of a Create or Update body, as WebhookInput (absent ones left out). */
function inputOf(o: WebhookBody): WebhookInput {
  const input: WebhookInput = {};
  if (o.Description !== null) input.description = o.Description;
  if (o.URL !== null) input.url = o.URL;
  if (o.Method !== null) input.method = o.Method;
  if (o.ContentType !== null) input.contentType = o.ContentType;
  if (o.WebhookEvent !== undefined && o.WebhookEvent !== null) input.eventCode = o.WebhookEvent;
  if (o.CustomHeaders !== undefined) input.customHeaders = o.CustomHeaders;
  if (o.NotifyOnFailure !== undefined) input.notifyOnFailure = o.NotifyOnFailure;
  const delay = o.ExecutionDelay ?? o.Delay;
  if (delay !== undefined && delay !== null) input.delaySeconds = delay;
  if (o.SigningSecret !== undefined) input.secret = o.SigningSecret;
  return input;
}

/** A webhook as Retrieve lists it (the secret itself is never answered). */
function webhookToWire(w: Webhook) {
  const ev = WEBHOOK_EVENTS[w.eventCode as keyof typeof WEBHOOK_EVENTS];
  return {
    WebhookId: w.id,
    EventName: ev?.label ?? String(w.eventCode),
    EventCode: ev?.name ?? String(w.eventCode),
    WebhookEvent: w.eventCode,
    Description: w.description,
    URL: w.url,
    Method: w.method,
    ContentType: w.contentType,
    CustomHeaders: w.customHeaders.map((h) => ({ Key: h.key, Value: h.value })),
    NotifyOnFailure: w.notifyOnFailure,
    ExecutionDelay: w.delaySeconds,
    StatusCode: w.status,
    ConsecutiveFailures: w.consecutiveFailures,
    HasSigningSecret: w.secret !== null,
    CreatedOn: formatLsqDateTime(w.createdOn),
    ModifiedOn: formatLsqDateTime(w.modifiedOn),
  };
}

/** `POST /v2/Webhook.svc/Create` ⇒ `{"Status":"Success","Message":{"Id":webhookId}}`. */
export const webhookCreate: Handler = async (s, req) => {
  const input = inputOf(readBody(schema.webhookCreate, req.body));
  const w = await runWrite(s.store, (tx) => createWebhook(tx, s.ctx, req.principal.accountId, input, rules(s)));
  return { Status: 'Success', Message: { Id: w.id } };
};

/** `POST /v2/Webhook.svc/Update`: `WebhookId` and the properties to change. */
export const webhookUpdate: Handler = async (s, req) => {
  const o = readBody(schema.webhookUpdate, req.body);
  const id = o.WebhookId;
  const input = inputOf(o);
  if (o.StatusCode !== undefined && o.StatusCode !== null) input.status = o.StatusCode;
  await runWrite(s.store, (tx) => updateWebhook(tx, s.ctx, req.principal.accountId, id, input, rules(s)));
  return { Status: 'Success', Message: { Id: id.toLowerCase() } };
};

/** `POST` (or `GET`) `/v2/Webhook.svc/Delete`: `WebhookId` in the body or `webhookId` in the query. */
export const webhookDelete: Handler = async (s, req) => {
  const e = req.method === 'GET' ? schema.webhookDeleteGet : schema.webhookDelete;
  const fromQuery = readQuery(e, query(req)).webhookId;
  const id = fromQuery ?? (req.method === 'GET' ? null : readBody(schema.webhookDelete, req.body).WebhookId);
  if (!id || id.trim() === '') throw mx.mandatoryMissing("'WebhookId' is mandatory");
  await runWrite(s.store, (tx) => deleteWebhook(tx, req.principal.accountId, id.trim()));
  return { Status: 'Success', Message: { Id: id.trim().toLowerCase() } };
};

/**
 * `POST /v2/Webhook.svc/Retrieve`: `{"Parameter":{"WebhookEvent","StatusCode","WebhookId","SearchText"},
 * "Sorting":{"ColumnName","Direction"},"Paging":{"PageIndex","PageSize"}}` ⇒ `{"RecordCount","Response":[…]}`.
 * WebhookEvent takes the event's name (`Lead_Post_Create`) or its code.
 */
export const webhookRetrieve: Handler = async (s, req) => {
  const { Parameter: p, Sorting: sorting, Paging: paging } = readBody(schema.webhookRetrieve, req.body);
  const pageIndex = paging?.PageIndex ?? 1;
  const pageSize = paging?.PageSize ?? schema.RETRIEVE_PAGE_DEFAULT;
  const q: Parameters<Services['store']['webhooks']['list']>[1] = {
    orderBy: sorting?.ColumnName ?? 'modifiedOn',
    descending: sorting?.Direction ?? true,
    offset: (pageIndex - 1) * pageSize,
    limit: pageSize,
    ...(p?.WebhookEvent !== undefined ? { eventCode: p.WebhookEvent } : {}),
    ...(p?.StatusCode !== undefined ? { status: p.StatusCode } : {}),
    ...(p?.WebhookId !== undefined ? { id: p.WebhookId } : {}),
    ...(p?.SearchText !== undefined ? { search: p.SearchText } : {}),
  };
  const { total, webhooks } = await s.store.webhooks.list(req.principal.accountId, q);
  return { RecordCount: total, Response: webhooks.map(webhookToWire) };
};

const deliveryToJson = (d: WebhookDelivery) => ({
  id: d.id,
  webhookId: d.webhookId,
  eventId: d.eventId,
  eventCode: d.eventCode,
  attempt: d.attempt,
  at: new Date(d.at).toISOString(),
  url: d.url,
  statusCode: d.statusCode,
  latencyMs: d.latencyMs,
  response: d.response,
  error: d.error,
  outcome: d.outcome,
});

/**
 * `GET /_leadtrail/webhooks/deliveries?webhookId=&eventId=&offset=&limit=`: the calling account's
 * delivery attempts, newest first ⇒ `{"total", "deliveries":[{id, webhookId, eventId, eventCode,
 * attempt, at, url, statusCode, latencyMs, response (first KB), error, outcome}]}`.
 */
export const listDeliveries: Handler = async (s, req) => {
  const q = readQuery(schema.webhookDeliveries, query(req));
  const offset = q.offset ?? 0;
  const limit = q.limit ?? schema.DELIVERIES_LIMIT_DEFAULT;
  const { total, deliveries } = await s.store.webhooks.listDeliveries(req.principal.accountId, {
    offset,
    limit,
    ...(q.webhookId ? { webhookId: q.webhookId } : {}),
    ...(q.eventId ? { eventId: q.eventId } : {}),
  });
  return { total, deliveries: deliveries.map(deliveryToJson) };
};

/**
 * `POST /_leadtrail/webhooks/deliveries/resend?id=<delivery id>`: sends that delivery's event again
 * (same event id, attempts counted from 1 again) ⇒ `{"resent": {eventId, webhookId}}`.
 */
export const resendDelivery: Handler = async (s, req) => {
  const id = readQuery(schema.webhookDeliveryResend, query(req)).id ?? readBody(schema.webhookDeliveryResend, req.body).id;
  if (!id) throw ownBad('MXInvalidInputException', "'id' (a delivery id) is mandatory, in the query or the body.");
  const r = await s.store.transaction((tx) => tx.webhooks.resend(req.principal.accountId, id, s.ctx.now()));
  // Not found is 404, as for a journal entry or an async request of leadtrail's own endpoints.
  if (!r) throw new MxError('MXInvalidEntityException', `No delivery '${id.slice(0, 80)}' with an event to send again in this account (an unknown id, a purged event or a deleted webhook).`, 404);
  return { resent: r };
};
