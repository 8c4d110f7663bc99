/**
 * What a webhook posts: the event's snapshot in LeadSquared's shapes, encoded per the webhook's
 * ContentType, with its custom headers, leadtrail's event headers and, with a secret, a signature.
 *
 * Lead events (3, 6, 5, 4, 9) post the lead as one flat object of strings or nulls, as LeadSquared's
 * "how to write a webhook" article shows for lead create (the lead read shape, src/wire/shapes.ts);
 * stage, owner and score changes add the value before the change. Activity events (2, 15) post the
 * activity's fields flat, with its lead's fields under `Lead` (LeadSquared's exact activity shape is
 * not documented; see docs/compatibility.md).
 */
import { createHmac } from 'node:crypto';
import { formatLsqDateTime } from '../domain/fields.js';
import type { LeadFieldDef } from '../domain/types.js';
import type { Webhook, WebhookSnapshot } from '../domain/webhooks.js';
import type { OutboxEvent } from '../storage/store.js';
import { leadToWire } from '../wire/shapes.js';

type Flat = Record<string, string | number | null | Record<string, string | null>>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The event's body as an object, before encoding. `defs`, the account's lead fields when it is sent,
 * give the lead every field of the account, null when empty, as a lead read does (leadToWire).
 */
export function payloadOf(snapshot: WebhookSnapshot, defs?: readonly LeadFieldDef[]): Flat {
  if (snapshot.kind === 'lead') {
    const out: Flat = leadToWire(snapshot.lead, defs);
    const p = snapshot.previous;
    if (p?.stage !== undefined) out.PreviousProspectStage = p.stage;
    if (p?.ownerId !== undefined) out.PreviousOwnerId = p.ownerId;
    if (p?.score !== undefined) out.PreviousScore = String(p.score);
    return out;
  }
  const a = snapshot.activity;
  const out: Flat = {
    ProspectActivityId: a.id,
    RelatedProspectId: a.leadId,
    ActivityEvent: a.eventCode,
    ActivityEventName: snapshot.activityName,
    ActivityNote: a.note,
    ActivityDateTime: formatLsqDateTime(a.occurredAt),
    CreatedOn: formatLsqDateTime(a.createdOn),
    ActivityScore: a.score,
    ActivityOwnerEmail: a.ownerEmail,
  };
  for (const [k, v] of Object.entries(a.fields)) out[k] = str(v);
  out.Lead = leadToWire(snapshot.lead, defs);
  return out;
}

/** The body's bytes for a content type: JSON for application/json and text/plain, `a=b&…` for form encoding (nested objects as JSON text). */
export function encode(body: Flat, contentType: Webhook['contentType']): string {
  if (contentType !== 'application/x-www-form-urlencoded') return JSON.stringify(body);
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) form.append(k, v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return form.toString();
}

/** Header names leadtrail sets on every delivery. */
export const HEADERS = {
  eventId: 'X-LeadTrail-Event-Id',
  event: 'X-LeadTrail-Event',
  webhookId: 'X-LeadTrail-Webhook-Id',
  attempt: 'X-LeadTrail-Attempt',
  timestamp: 'X-LeadTrail-Timestamp',
  signature: 'X-LeadTrail-Signature',
} as const;

/**
 * `v1=` + hex HMAC-SHA256 of `<timestamp>.<body>` under the webhook's secret; `timestamp` is Unix
 * seconds, sent in X-LeadTrail-Timestamp so receivers can refuse old replays.
 */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The request of one attempt: body and headers (custom headers first; leadtrail's own win). `defs` as for payloadOf. */
export function buildRequest(webhook: Webhook, event: OutboxEvent, attempt: number, now: number, defs?: readonly LeadFieldDef[]): { body: string; headers: Record<string, string> } {
  const body = encode(payloadOf(JSON.parse(event.snapshot) as WebhookSnapshot, defs), webhook.contentType);
  // User-Agent is leadtrail's unless a custom header names it (in any case): it is not reserved, so a
  // webhook that sets it gets it sent, as every other custom header is.
  const headers: Record<string, string> = webhook.customHeaders.some((h) => h.key.toLowerCase() === 'user-agent') ? {} : { 'User-Agent': 'leadtrail-webhooks' };
  for (const h of webhook.customHeaders) headers[h.key] = h.value;
  Object.assign(headers, {
    'Content-Type': webhook.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : webhook.contentType === 'application/json' ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
    [HEADERS.eventId]: event.id,
    [HEADERS.event]: String(event.eventCode),
    [HEADERS.webhookId]: webhook.id,
    [HEADERS.attempt]: String(attempt),
  });
  if (webhook.secret) {
    const ts = Math.floor(now / 1000);
    headers[HEADERS.timestamp] = String(ts);
    headers[HEADERS.signature] = sign(webhook.secret, ts, body);
  }
  return { body, headers };
}
