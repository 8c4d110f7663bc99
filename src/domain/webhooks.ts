/**
 * Webhooks (issue 14): LeadSquared's webhook settings (Webhook.svc Create/Retrieve/Update/Delete)
 * and the events lead and activity writes raise. An event is written to the outbox in the
 * transaction of the change that caused it (one row per enabled webhook of the account for its
 * code), so a rolled-back change sends nothing and a committed one is delivered even after a crash;
 * src/webhooks/ delivers it. Domain writes call `emitWebhookEvents`; nothing else writes events.
 */
import { BlockList, isIP } from 'node:net';
import type { Ctx } from './context.js';
import { mx } from './errors.js';
import { INT32, wholeNumber } from './numbers.js';
import type { Activity, Lead } from './types.js';
import type { Repos } from '../storage/store.js';

/** LeadSquared's webhook event codes (Create a Webhook page), with the names Retrieve uses. */
export const WEBHOOK_EVENTS = {
  1: { name: 'Landing_Page_submission', label: 'Landing Page Submission' },
  2: { name: 'LeadActivity_Post_Create', label: 'Lead Activity Creation' },
  3: { name: 'Lead_Post_Create', label: 'Lead Creation' },
  4: { name: 'Lead_Owner_Change', label: 'Lead Owner Change' },
  5: { name: 'Lead_Post_Stage_Change', label: 'Lead Stage Change' },
  6: { name: 'Lead_Post_Update', label: 'Lead Update' },
  7: { name: 'Task_Create', label: 'Task Create' },
  8: { name: 'Task_Reminder', label: 'Task Reminder' },
  9: { name: 'Lead_Score_Change', label: 'Lead Score Change' },
  15: { name: 'LeadActivity_Post_Update', label: 'Lead Activity Update' },
  16: { name: 'Task_Complete', label: 'Task Complete' },
  17: { name: 'Task_Update', label: 'Task Update' },
  26: { name: 'Lead_Field_Change', label: 'Lead Field Update' },
  31: { name: 'Opportunity_Post_Create', label: 'Opportunity Create' },
  32: { name: 'Opportunity_Post_Update', label: 'Opportunity Update' },
  33: { name: 'OpportunityField_Post_Update', label: 'Opportunity Field Update' },
  34: { name: 'OpportunityStage_Post_Update', label: 'Opportunity Stage Update' },
  35: { name: 'Opportunity_Post_Delete', label: 'Opportunity Delete' },
} as const satisfies Record<number, { name: string; label: string }>;

/** The codes leadtrail raises events for; the others can be registered but never fire (no tasks, landing pages or opportunities here). */
export const EVENT = { activityCreate: 2, leadCreate: 3, ownerChange: 4, stageChange: 5, leadUpdate: 6, scoreChange: 9, activityUpdate: 15 } as const;

export const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** 0 enabled, 1 disabled by hand, 2 disabled after repeated failures (Retrieve's StatusCode). */
export type WebhookStatus = 0 | 1 | 2;

export interface Webhook {
  id: string;
  accountId: string;
  description: string;
  url: string;
  method: 'POST';
  contentType: ContentType;
  eventCode: number;
  customHeaders: { key: string; value: string }[];
  notifyOnFailure: boolean;
  /** LeadSquared's "execution delay": seconds between the event and its first delivery. */
  delaySeconds: number;
  /** HMAC-SHA256 signing secret (leadtrail's addition); null: unsigned. */
  secret: string | null;
  status: WebhookStatus;
  /** Failed attempts since the last success; at the configured threshold the webhook is disabled (status 2). */
  consecutiveFailures: number;
  createdOn: number;
  modifiedOn: number;
}

/** What an event carries: the records as they were when it happened, shaped for the wire at delivery. */
export type WebhookSnapshot =
  | { kind: 'lead'; lead: Lead; previous?: { stage?: string | null; ownerId?: string | null; score?: number } }
  | { kind: 'activity'; activity: Activity; activityName: string; lead: Lead };

export interface WebhookEvent {
  code: number;
  /** Events of one lead are delivered to a webhook in the order they happened. */
  leadId: string;
  snapshot: WebhookSnapshot;
}

/** An event as written to the outbox, before it is fanned out to the account's webhooks. */
export interface NewWebhookEvent {
  /** The event id receivers de-duplicate by (the same on every attempt). */
  id: string;
  accountId: string;
  eventCode: number;
  orderKey: string;
  snapshot: string;
  createdAt: number;
}

/** The kind of `TxRecord` webhook events are appended as (see Repos.append). */
export const WEBHOOK_EVENT_RECORD = 'webhook-event';

/**
 * Records events caused by a write, in the write's transaction: appended to it (one outbox write per
 * transaction function) or, on a `tx` without `append` (the store itself), written at once.
 */
export async function emitWebhookEvents(tx: Repos, ctx: Ctx, accountId: string, events: WebhookEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Most accounts have no webhook for most events: skip the ids and the snapshot's JSON then (the
  // list is cached reference data, so this costs no statement).
  const hooks = await tx.webhooks.enabledHooks(accountId);
  const wanted = events.filter((e) => hooks.some((h) => h.eventCode === e.code));
  if (wanted.length === 0) return;
  const rows: NewWebhookEvent[] = wanted.map((e) => ({
    id: ctx.newId(),
    accountId,
    eventCode: e.code,
    orderKey: e.leadId,
    snapshot: JSON.stringify(e.snapshot),
    createdAt: ctx.now(),
  }));
  if (tx.append) for (const r of rows) tx.append({ kind: WEBHOOK_EVENT_RECORD, data: r });
  else await tx.webhooks.enqueue(rows);
}

/** The events of a lead update: 6 always, 5 when ProspectStage changed, 4 when OwnerId changed. */
export function leadUpdateEvents(before: Lead, after: Lead): WebhookEvent[] {
  const stage = (l: Lead) => textOf(l.fields.ProspectStage);
  const owner = (l: Lead) => textOf(l.fields.OwnerId);
  const out: WebhookEvent[] = [{ code: EVENT.leadUpdate, leadId: after.id, snapshot: { kind: 'lead', lead: after } }];
  if (stage(before) !== stage(after)) out.push({ code: EVENT.stageChange, leadId: after.id, snapshot: { kind: 'lead', lead: after, previous: { stage: stage(before) } } });
  if (owner(before) !== owner(after)) out.push({ code: EVENT.ownerChange, leadId: after.id, snapshot: { kind: 'lead', lead: after, previous: { ownerId: owner(before) } } });
  return out;
}

const textOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

// ---- settings (Webhook.svc) ----

export interface WebhookInput {
  description?: string;
  url?: string;
  method?: string;
  contentType?: string;
  eventCode?: unknown;
  customHeaders?: { key: string; value: string }[];
  notifyOnFailure?: boolean;
  delaySeconds?: unknown;
  secret?: string | null;
  /** Update only: 0 enables, 1 disables. */
  status?: unknown;
}

export interface WebhookRules {
  /** Host names (or `*.suffix`) webhooks may post to; empty: any. */
  allowHosts: readonly string[];
  /**
   * Webhooks one account may have (`LEADTRAIL_WEBHOOK_MAX`); 0 or absent: no limit. Each event is
   * written once per webhook in the change's own transaction and sent once per webhook, so without
   * a bound one Lead.Create of an account with 2,000 webhooks wrote 2,000 rows and made 2,000 calls.
   */
  maxPerAccount?: number;
  /**
   * LEADTRAIL_WEBHOOK_PRIVATE=deny: a URL whose host is an IP address in a range privateRange names
   * is refused. (Host names are checked at delivery, on the addresses they resolve to.)
   */
  denyPrivate?: boolean;
}

/**
 * Header names a custom header may not set, in any case: the transport's, leadtrail's own (every
 * name starting `x-leadtrail-`), and UNSENDABLE_HEADERS's. The OpenAPI document refuses them too.
 */
export const REFUSED_HEADER_NAMES = { reserved: ['host', 'content-length', 'content-type', 'transfer-encoding', 'connection'], prefix: 'x-leadtrail-', unsendable: ['expect', 'upgrade', 'keep-alive', 'trailer'] } as const;
/** The transport's and leadtrail's own header names. */
const RESERVED_HEADERS = new RegExp(`^(${REFUSED_HEADER_NAMES.reserved.join('|')}|${REFUSED_HEADER_NAMES.prefix}.*)$`, 'i');
/**
 * Header names Node's HTTP client (undici, behind fetch) refuses to send: a webhook carrying one
 * was accepted, then every delivery failed before any request left (`UND_ERR_INVALID_ARG`,
 * `UND_ERR_NOT_SUPPORTED`) until the webhook was disabled. Deliveries now go through node:http
 * (webhooks/transport.ts), which would send them; they stay refused, as headers that belong to the
 * connection, not to the receiver's application. `Trailer` announces fields after a chunked body,
 * which a delivery (a body of known length) never has: node:http refused every delivery of a webhook
 * naming it ("Trailers are invalid with this transfer encoding"), found by a fresh-eyes run.
 */
const UNSENDABLE_HEADERS = new RegExp(`^(${REFUSED_HEADER_NAMES.unsendable.join('|')})$`, 'i');
/** Longest ExecutionDelay, in seconds. */
export const MAX_DELAY_SECONDS = 86_400;

/**
 * A host as hostAllowed compares it: lower case, without an IPv6 address's brackets or a name's
 * closing dot (`localhost.` and `hooks.example.com.` are those hosts, written fully qualified: the
 * allow list had refused them, a fresh-eyes run).
 */
const bareHost = (h: string) => h.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

/**
 * An allow-list entry that is an IP address, spelt as a URL's host name spells it (WHATWG URL
 * parsing): `[::1]` and `0:0:0:0:0:0:0:1` as `::1`, `::ffff:127.0.0.1` as `::ffff:7f00:1`,
 * `127.1` as `127.0.0.1`. A URL's host is always in that form, so an entry written any other way
 * (the config takes `[::1]`) would never have matched.
 */
function ruleHost(rule: string): string {
  const bare = bareHost(rule);
  const ip = bare.includes(':') ? `[${bare}]` : /^[0-9.]+$/.test(bare) ? bare : null;
  if (ip === null) return bare;
  try {
    return bareHost(new URL(`http://${ip}/`).hostname);
  } catch {
    return bare;
  }
}

/**
 * The ranges LEADTRAIL_WEBHOOK_PRIVATE=deny refuses, each with the word for it: the special-purpose
 * ranges of IANA's registries that a receiver is never meant to be at (not every entry: Teredo,
 * `3fff::/20`, `2001:2::/48` and `192.88.99/24`, say, are not refused). IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) fall in their IPv4 range; the
 * IPv6 forms that carry an IPv4 address (EMBEDS_IPV4) are judged by it.
 */
const PRIVATE_RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['64:ff9b:1::', 48, 'ipv6', 'private'],
  ['100::', 64, 'ipv6', 'reserved'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'private'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'private'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/**
 * IPv6 ranges whose addresses carry an IPv4 address, and where (the 16-bit word it starts at): the
 * deprecated IPv4-compatible `::a.b.c.d` (RFC 4291), NAT64's well-known prefix `64:ff9b::/96` (RFC
 * 6052) and 6to4's `2002::/16` (RFC 3056). Such an address is refused when its IPv4 address would be:
 * `[::127.0.0.1]`, `[64:ff9b::7f00:1]` and `[2002:7f00:1::]` had been taken where a route to them
 * reaches 127.0.0.1 (a fresh-eyes run).
 */
const EMBEDS_IPV4: { list: BlockList; at: number }[] = (
  [
    ['::', 96, 6],
    ['64:ff9b::', 96, 6],
    ['2002::', 16, 1],
  ] as const
).map(([net, prefix, at]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, 'ipv6');
  return { list, at };
});

/** The eight 16-bit words of an IPv6 address (valid, as isIP says; a trailing dotted IPv4 part allowed). */
function ipv6Words(a: string): number[] {
  let text = a.split('%')[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const front = words(head);
  if (tail === null) return front;
  const back = words(tail);
  return [...front, ...Array(8 - front.length - back.length).fill(0), ...back];
}
const PRIVATE_LISTS = PRIVATE_RANGES.map(([net, prefix, family, word]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, word };
});

/** `a loopback`, `an unspecified`: the range's word with its article. */
export const aRange = (range: string) => `${/^[aeiou]/.test(range) ? 'an' : 'a'} ${range}`;

/**
 * The kind of address `address` is when LEADTRAIL_WEBHOOK_PRIVATE=deny refuses it (`loopback`,
 * `private`, `link-local`, `shared (carrier-grade NAT)`, `unspecified`, `multicast`, `reserved`), or
 * null when it is an ordinary public address or no IP address at all. Takes an IPv6 address with or
 * without brackets.
 */
export function privateRange(address: string): string | null {
  const a = bareHost(address);
  const family = isIP(a);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const word = PRIVATE_LISTS.find((r) => r.list.check(a, type))?.word;
  if (word !== undefined) return word;
  if (family === 6) {
    const carrier = EMBEDS_IPV4.find((r) => r.list.check(a, 'ipv6'));
    if (carrier) {
      const w = ipv6Words(a);
      const v4 = [w[carrier.at] >> 8, w[carrier.at] & 0xff, w[carrier.at + 1] >> 8, w[carrier.at + 1] & 0xff].join('.');
      return PRIVATE_LISTS.find((r) => r.list.check(v4, 'ipv4'))?.word ?? null;
    }
  }
  return null;
}

/** True when `host` is allowed by `allow` (exact names, or `*.example.com` for its subdomains); an empty list allows any host. */
export function hostAllowed(host: string, allow: readonly string[]): boolean {
  if (allow.length === 0) return true;
  const h = bareHost(host);
  return allow.some((a) => {
    const rule = a.toLowerCase();
    return rule.startsWith('*.') ? h.endsWith(rule.slice(1)) : h === ruleHost(rule);
  });
}

/**
 * Bounds on what a webhook may store (a sandbox takes what clients send, within reason): the
 * lengths of URL, Description, a header's name and value and SigningSecret as sent (UTF-16 units,
 * not trimmed), the most CustomHeaders, and their size in all (`headersBytes`: each `Name: value`
 * line with its CRLF, Latin-1, one byte a character). The OpenAPI document states them
 * (schemas/webhooks.ts). The size in all keeps a delivery's headers within what receivers take:
 * Node answers 431 past 16 KB of them, nginx past 8 KB a line; 50 headers of 4,000 characters, or
 * one name of 100,000, had been accepted, and every delivery then failed until the webhook was
 * disabled (a fresh-eyes run).
 */
export const WEBHOOK_LIMITS = { url: 2048, description: 2000, headers: 50, headerName: 256, headerValue: 4096, headersBytes: 8192, secret: 1024 } as const;

function checkUrl(raw: string, rules: WebhookRules): string {
  if (raw.length > WEBHOOK_LIMITS.url) throw mx.invalidInput(`URL is longer than ${WEBHOOK_LIMITS.url} characters.`);
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw mx.invalidInput(`URL '${raw.slice(0, 200)}' is not a valid URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw mx.invalidInput('URL must be an http or https URL.');
  // fetch refused a URL with credentials in it (node:http would send them as Basic auth); and the password
  // would be shown wherever the URL is (Retrieve, delivery records, the journal, error logs).
  if (u.username !== '' || u.password !== '') {
    throw mx.invalidInput('URL must not hold a user name or password: send them in CustomHeaders, as an Authorization header.');
  }
  if (!hostAllowed(u.hostname, rules.allowHosts)) throw mx.invalidInput(`URL host '${u.hostname}' is not allowed by this server's webhook allow list.`);
  const range = rules.denyPrivate ? privateRange(u.hostname) : null;
  if (range) throw mx.invalidInput(`URL host '${u.hostname}' is ${aRange(range)} address, which this server does not deliver to (LEADTRAIL_WEBHOOK_PRIVATE=deny).`);
  return u.toString();
}

const EVENT_BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(WEBHOOK_EVENTS).map(([c, e]) => [e.name.toLowerCase(), Number(c)]));

/**
 * The code of the webhook event `v` names, or undefined when it names none: a code of
 * WEBHOOK_EVENTS read as every number of the API is (numbers.ts `wholeNumber`: a JSON number, or
 * digits with spaces around, a sign and leading zeros; not `3.0`, `0x3`, `3e0`), or an event's
 * name as Retrieve answers it in `EventCode` (`Lead_Post_Create`), in any case, spaces around.
 */
export function webhookEventOf(v: unknown): number | undefined {
  const n = wholeNumber(v, INT32) ?? (typeof v === 'string' ? EVENT_BY_NAME.get(v.trim().toLowerCase()) : undefined);
  return n !== undefined && n !== null && n in WEBHOOK_EVENTS ? n : undefined;
}

/**
 * `WebhookEvent` of Create and Update as the code of the event it names (webhookEventOf: a code or
 * an event's name, which Retrieve takes and answers too). Anything else is MXInvalidInputException.
 */
export function checkEventCode(v: unknown): number {
  const n = webhookEventOf(v);
  if (n === undefined) {
    throw mx.invalidInput(`WebhookEvent '${String(v).slice(0, 40)}' is not a webhook event: give its code (${Object.keys(WEBHOOK_EVENTS).join(', ')}) or its name (e.g. Lead_Post_Create).`);
  }
  return n;
}

/**
 * Whether a text property of a Create or Update is as absent: left out, null, or only spaces. Method
 * and ContentType had each their own rule (Update took `"ContentType":""` as absent and refused
 * `"Method":""`; Create refused both: a fresh-eyes run).
 */
function blank(v: string | null | undefined): v is '' | null | undefined {
  return v === undefined || v === null || v.trim() === '';
}

/** Method: POST in any case and with spaces around, or blank (POST); anything else is MXInvalidInputException. */
function checkMethod(v: string | null | undefined): void {
  if (!blank(v) && v.trim().toUpperCase() !== 'POST') throw mx.invalidInput('Method must be POST.');
}

function checkContentType(v: string): ContentType {
  const hit = CONTENT_TYPES.find((c) => c === v.trim().toLowerCase());
  if (!hit) throw mx.invalidInput(`ContentType '${v.slice(0, 60)}' is not one of ${CONTENT_TYPES.join(', ')}.`);
  return hit;
}

function checkHeaders(list: { key: string; value: string }[]): { key: string; value: string }[] {
  if (list.length > WEBHOOK_LIMITS.headers) throw mx.invalidInput(`CustomHeaders: at most ${WEBHOOK_LIMITS.headers} headers.`);
  let bytes = 0;
  for (const h of list) {
    if (h.key.length > WEBHOOK_LIMITS.headerName) throw mx.invalidInput(`CustomHeaders: the name '${h.key.slice(0, 60)}…' is longer than ${WEBHOOK_LIMITS.headerName} characters.`);
    if (h.value.length > WEBHOOK_LIMITS.headerValue) throw mx.invalidInput(`CustomHeaders: the value of '${h.key.slice(0, 60)}' is longer than ${WEBHOOK_LIMITS.headerValue} characters.`);
    // HTTP header values are Latin-1 text: anything else could never be sent.
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(h.value)) throw mx.invalidInput(`CustomHeaders: the value of '${h.key.slice(0, 60)}' has characters a header cannot carry.`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h.key)) throw mx.invalidInput(`CustomHeaders: '${h.key.slice(0, 60)}' is not a valid header name.`);
    if (RESERVED_HEADERS.test(h.key)) throw mx.invalidInput(`CustomHeaders: '${h.key}' is set by leadtrail and cannot be a custom header.`);
    if (UNSENDABLE_HEADERS.test(h.key)) throw mx.invalidInput(`CustomHeaders: '${h.key}' cannot be sent with a webhook delivery.`);
    bytes += h.key.length + 2 + h.value.length + 2;
  }
  if (bytes > WEBHOOK_LIMITS.headersBytes) {
    throw mx.invalidInput(`CustomHeaders: ${bytes} bytes in all (each 'Name: value' line with its line break); at most ${WEBHOOK_LIMITS.headersBytes}, which receivers take beside a delivery's own headers.`);
  }
  return list;
}

function checkText(v: string, name: keyof typeof WEBHOOK_LIMITS, label: string): string {
  if (v.length > WEBHOOK_LIMITS[name]) throw mx.invalidInput(`${label} is longer than ${WEBHOOK_LIMITS[name]} characters.`);
  return v;
}

/**
 * `ExecutionDelay` (or `Delay`): whole seconds from 0 to MAX_DELAY_SECONDS, read by `wholeNumber`
 * as every number of the API is (`" 060 "` is 60; `""`, `"1e1"`, `"0x10"`, `"1.0"` are not
 * numbers). Anything else is MXInvalidInputException.
 */
export function checkDelay(v: unknown): number {
  const n = wholeNumber(v, { min: 0, max: MAX_DELAY_SECONDS });
  if (n === null) throw mx.invalidInput(`ExecutionDelay must be whole seconds from 0 to ${MAX_DELAY_SECONDS}.`);
  return n;
}

/**
 * Update's `StatusCode`: 0 (enable) or 1 (disable), read by `wholeNumber` as every number of the
 * API is (`" 1 "`, `"01"`, `1`); `" "`, `"1.0"`, `"1e0"`, `"0x1"` are not numbers (JavaScript's
 * Number() read `" "` as 0, so a blank StatusCode used to enable the webhook). Anything else is
 * MXInvalidInputException.
 */
export function checkStatusCode(v: unknown): 0 | 1 {
  const s = wholeNumber(v, { min: 0, max: 1 });
  if (s === null) throw mx.invalidInput('StatusCode must be 0 (enabled) or 1 (disabled).');
  return s as 0 | 1;
}

/** Webhook.svc/Create. Needs URL and WebhookEvent; Method is POST; ContentType defaults to application/json. */
export async function createWebhook(tx: Repos, ctx: Ctx, accountId: string, input: WebhookInput, rules: WebhookRules): Promise<Webhook> {
  if (!input.url || input.url.trim() === '') throw mx.mandatoryMissing("'URL' is mandatory");
  if (input.eventCode === undefined || input.eventCode === null || input.eventCode === '') throw mx.mandatoryMissing("'WebhookEvent' is mandatory");
  checkMethod(input.method);
  if (rules.maxPerAccount) {
    // Counted once this create holds the account's turn to add webhooks (PostgreSQL; SQLite's one
    // writer runs one at a time): counted before it, creates side by side passed the limit together
    // (24 creates at once with a limit of 3 made 4).
    await tx.leads.lockKeys(accountId, ['webhooks:add']);
    const { total } = await tx.webhooks.list(accountId, { orderBy: 'createdOn', descending: false, offset: 0, limit: 1 });
    if (total >= rules.maxPerAccount) throw mx.invalidInput(`This account has ${total} webhooks, the most this server allows (LEADTRAIL_WEBHOOK_MAX ${rules.maxPerAccount}): delete one first.`);
  }
  const now = ctx.now();
  const w: Webhook = {
    id: ctx.newId(),
    accountId,
    description: checkText(input.description ?? '', 'description', 'Description'),
    url: checkUrl(input.url, rules),
    method: 'POST',
    contentType: blank(input.contentType) ? 'application/json' : checkContentType(input.contentType),
    eventCode: checkEventCode(input.eventCode),
    customHeaders: checkHeaders(input.customHeaders ?? []),
    notifyOnFailure: input.notifyOnFailure ?? false,
    delaySeconds: input.delaySeconds === undefined || input.delaySeconds === null ? 0 : checkDelay(input.delaySeconds),
    secret: input.secret ? checkText(input.secret, 'secret', 'SigningSecret') : null,
    status: 0,
    consecutiveFailures: 0,
    createdOn: now,
    modifiedOn: now,
  };
  await tx.webhooks.insert(w);
  return w;
}

/**
 * Webhook.svc/Update: the properties given replace the stored ones. Saving a webhook that was
 * disabled after repeated failures enables it again (its waiting events then go out in order);
 * `StatusCode` 1 disables it, 0 enables it. The webhook is read with its row held until the
 * transaction ends (WebhookRepo.get `lock`), so an attempt the worker records meanwhile lands
 * wholly before this update (which then starts from its count) or after it, never undone by it.
 * Throws MXInvalidInputException for an unknown id or an invalid property.
 */
export async function updateWebhook(tx: Repos, ctx: Ctx, accountId: string, id: string, input: WebhookInput, rules: WebhookRules): Promise<Webhook> {
  // The webhook as it is, its row held until the write below (PostgreSQL; SQLite's one writer runs
  // one transaction at a time): the whole webhook is written back, failure accounting included.
  // Unlocked, two updates side by side each wrote the webhook as read before the other committed
  // (8 parallel updates, each of one property, kept 1); and an attempt the worker recorded in
  // between was undone, its failure uncounted or a success's reset to 0 put back. The worker holds
  // the row (FOR KEY SHARE) while it records an attempt, before the attempt's event: this read
  // waits for it, and an attempt that comes later waits for this transaction, before it touches
  // any event that dueNow below may update (webhook, then events, on every path: the two in
  // opposite orders deadlocked on PostgreSQL).
  const w = await tx.webhooks.get(accountId, id, { lock: true });
  if (!w) throw unknownWebhook(id);
  checkMethod(input.method);
  let status: WebhookStatus = w.status === 2 ? 0 : w.status;
  if (input.status !== undefined && input.status !== null && input.status !== '') status = checkStatusCode(input.status);
  const next: Webhook = {
    ...w,
    ...(input.description !== undefined ? { description: checkText(input.description, 'description', 'Description') } : {}),
    ...(input.url !== undefined && input.url.trim() !== '' ? { url: checkUrl(input.url, rules) } : {}),
    ...(!blank(input.contentType) ? { contentType: checkContentType(input.contentType) } : {}),
    ...(input.eventCode !== undefined && input.eventCode !== null && input.eventCode !== '' ? { eventCode: checkEventCode(input.eventCode) } : {}),
    ...(input.customHeaders !== undefined ? { customHeaders: checkHeaders(input.customHeaders) } : {}),
    ...(input.notifyOnFailure !== undefined ? { notifyOnFailure: input.notifyOnFailure } : {}),
    ...(input.delaySeconds !== undefined && input.delaySeconds !== null ? { delaySeconds: checkDelay(input.delaySeconds) } : {}),
    ...(input.secret !== undefined ? { secret: input.secret ? checkText(input.secret, 'secret', 'SigningSecret') : null } : {}),
    status,
    consecutiveFailures: status === 0 && w.status !== 0 ? 0 : w.consecutiveFailures,
    modifiedOn: ctx.now(),
  };
  await tx.webhooks.update(next);
  // Enabled again: what waited while it was off or failing goes out now, in order, not at its retry time.
  if (status === 0 && (w.status !== 0 || w.consecutiveFailures > 0)) await tx.webhooks.dueNow(w.id, ctx.now());
  return next;
}

/**
 * Webhook.svc/Delete: the webhook and its undelivered events go; its delivery records stay. An
 * attempt the worker is recording meanwhile is recorded first (Delete waits for it), or finds its
 * event gone and leaves no record; a resend meanwhile is answered first and its event goes too, or
 * is answered 404. An event raised by a write committing at the same moment (PostgreSQL; the write
 * takes no lock on its webhooks) may be written after this: the worker deletes it
 * (WebhookRepo.dropOrphaned). Throws MXInvalidInputException for an unknown id.
 */
export async function deleteWebhook(tx: Repos, accountId: string, id: string): Promise<void> {
  if (!(await tx.webhooks.remove(accountId, id))) throw unknownWebhook(id);
}

export const unknownWebhook = (id: string) => mx.invalidInput(`No webhook with WebhookId '${id.slice(0, 80)}' exists in this account.`);
