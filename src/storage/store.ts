/**
 * The storage interface. Two adapters implement it (sqlite/, postgres/) and one contract suite
 * (test/contract/) runs against both. Every method that touches account data takes the account id:
 * no query can read across accounts. Storage knows nothing of HTTP or of LeadSquared's wire names.
 */
import type {
  Account,
  Activity,
  ActivityType,
  AsyncRequest,
  Credential,
  CredentialKind,
  FieldMap,
  Lead,
  LeadFieldDef,
  ListedActivity,
  RequestKind,
  RequestStatus,
  User,
} from '../domain/types.js';
import type { FaultRuleRepo } from './fault-rules.js';
import type { NewWebhookEvent, Webhook } from '../domain/webhooks.js';

export interface AccountRepo {
  create(account: Account): Promise<void>;
  get(id: string): Promise<Account | null>;
  list(): Promise<Account[]>;
  count(): Promise<number>;
  createUser(user: User): Promise<void>;
  getUser(accountId: string, userId: string): Promise<User | null>;
  firstUser(accountId: string): Promise<User | null>;
  /**
   * Adds a key. Throws UniqueViolation when a key of the database, active or revoked (a revoked key
   * keeps its row), has the same kind and lookup.
   */
  createCredential(cred: Credential): Promise<void>;
  /** Finds an active (not revoked) credential by its lookup value. */
  findCredential(kind: CredentialKind, lookup: string): Promise<Credential | null>;
  /** Whether any key of the database, of any kind, active or revoked, is stored under `lookup`. */
  lookupTaken(lookup: string): Promise<boolean>;
  listCredentials(accountId: string): Promise<Credential[]>;
  /** Revokes the active credential whose id, label or lookup (an access key; an x-api-key's hash) is `idOrLabel`; returns whether one was revoked. */
  revokeCredential(accountId: string, idOrLabel: string, at: number): Promise<boolean>;
  setCredentialRateLimit(accountId: string, idOrLabel: string, rateLimit: string | null): Promise<boolean>;
  /**
   * Writes down that console session `sessionId` was signed out (it would have expired at
   * `expiresAt`, ms), and forgets sessions signed out that have expired by `now`. Idempotent.
   */
  endConsoleSession(accountId: string, sessionId: string, expiresAt: number, now: number): Promise<void>;
  /** Whether console session `sessionId` was signed out (endConsoleSession). */
  consoleSessionEnded(sessionId: string): Promise<boolean>;
  /**
   * Waits until every write transaction in flight on this database's schema, in any process, has
   * ended, and holds the ones that begin later at their BEGIN until this transaction ends. For a
   * reset, which deletes what such a transaction may already have read (a Create by email that
   * found its lead and has not written yet), and a lead field's re-key (domain/leads.ts
   * changeLeadField). PostgreSQL: the exclusive side of an advisory lock per schema
   * (`WRITES_LOCK_KEY`), which every write batch takes shared at its BEGIN (a batch's own shared
   * lock does not hold it back); call it first, before the transaction holds any other lock. A
   * write held here waits within its statement timeout. SQLite: nothing to do (one writer; the
   * transaction holds it).
   */
  holdWrites(): Promise<void>;
  /**
   * Deletes the account's leads (with their keys and indexed values), activities and async requests,
   * and numbers its next lead 1 again; also empties its request journal (not counted). Users, keys, lead fields and activity types stay. Returns how
   * many of each were deleted.
   */
  deleteData(accountId: string): Promise<{ leads: number; activities: number; requests: number }>;
}

export interface LeadKey {
  field: string;
  value: string;
  unique: boolean;
}

/** Lead columns a search can test or sort by (storage maps them to its own columns). */
export type SearchColumn = 'id' | 'autoId' | 'createdOn' | 'modifiedOn' | 'score' | 'engagementScore';
export type CompareOp = '=' | '<>' | '<' | '>' | '<=' | '>=';

/** One test of a lead search; a search's tests must all hold. */
export type LeadCondition =
  /** A column against a value; `between`/`outside` take the closed range value..to. */
  | { kind: 'column'; column: SearchColumn; op: CompareOp; value: string | number; to?: undefined }
  | { kind: 'column'; column: SearchColumn; op: 'between' | 'outside'; value: number; to: number }
  /** Leads with one of these ids (any case). */
  | { kind: 'ids'; ids: string[] }
  /**
   * A lead field's value, ignoring case and surrounding spaces: a number compares with the values
   * that read as numbers, text with the text; `like` takes a SQL pattern (% and _). Leads without
   * a value for the field never match.
   */
  | { kind: 'field'; field: string; op: CompareOp | 'like'; value: string | number }
  /** A number column equal to one of these values (Leads.Get's `IN`). */
  | { kind: 'columnIn'; column: SearchColumn; values: number[] }
  /** A lead field equal to one of these values (Leads.Get's `IN`): numbers as numbers, text ignoring case and surrounding spaces. */
  | { kind: 'fieldIn'; field: string; values: (string | number)[] };

export type LeadOrder = { kind: 'column'; column: SearchColumn } | { kind: 'field'; field: string; numeric: boolean };

export interface LeadSearch {
  where: LeadCondition[];
  orderBy: LeadOrder;
  descending: boolean;
  offset: number;
  limit: number;
  /** Also count every lead that matches (RecordCount). */
  count: boolean;
}

export interface LeadRepo {
  /** Inserts the lead (its `autoId` is ignored) and returns the ProspectAutoId it was given: the account's next number, from 1. */
  insert(lead: Lead, keys: LeadKey[]): Promise<number>;
  /** Replaces fields and keys; returns false when the lead does not exist. */
  update(accountId: string, id: string, fields: FieldMap, keys: LeadKey[], modifiedOn: number): Promise<boolean>;
  /**
   * Replaces the lead's keys only: its fields, indexed values and ModifiedOn stay as they are.
   * For re-keying (domain/leads.ts, rekeyLeads), which changes nothing else, on leads it holds
   * (`lockedAfter`). Throws UniqueViolation when a unique key value is taken.
   */
  replaceKeys(accountId: string, id: string, keys: LeadKey[]): Promise<void>;
  /**
   * Up to `limit` of the account's leads with a ProspectAutoId above `afterAutoId` (0: from the
   * first), in ProspectAutoId order, each held until the transaction ends: a write transaction
   * that changes one of them waits for this one's end, and this read waits for a write in flight
   * and returns the lead as it committed. PostgreSQL: `SELECT … FOR NO KEY UPDATE`, the lock an
   * UPDATE of the row takes. Row locks are kept in the rows, not in PostgreSQL's lock table (its
   * size is `max_locks_per_transaction`), so one transaction can hold every lead of an account
   * however many. SQLite: the leads as read (its one writer already runs one write at a time).
   * Walking an account's leads this way (the next page after the last one's autoId) sees each lead
   * once, however many are created meanwhile.
   */
  lockedAfter(accountId: string, afterAutoId: number, limit: number): Promise<Lead[]>;
  /** Ids (GUIDs, stored lower-case) match in any case, here and in ActivityRepo. */
  get(accountId: string, id: string): Promise<Lead | null>;
  /**
   * Deletes the lead (`id` in any case, as `get` matches it) and everything stored for it: its
   * activities, its keys (a unique value it held is free again) and its indexed values. Async
   * requests, webhook events and deliveries and journal entries that name it stay; its
   * ProspectAutoId is not given again. Resolves false, having written nothing, when the account has
   * no such lead. The lead's row goes first, then its dependents, one statement each: on PostgreSQL
   * the first waits for a transaction holding the row (an activity being posted: addActivity, a
   * lead update) and each later statement, reading afresh, sees what that transaction committed,
   * so no activity outlives its lead; an activity post that waited for this delete finds no lead.
   * SQLite runs one write at a time. Several statements: call it in a transaction.
   */
  remove(accountId: string, id: string): Promise<boolean>;
  /** Leads whose key `field` equals `value` (normalized by the caller), oldest first. */
  findByKey(accountId: string, field: string, value: string): Promise<Lead[]>;
  /** Which lead, if any, holds this unique key value. */
  keyOwner(accountId: string, field: string, value: string): Promise<string | null>;
  /**
   * Records `activity` on its lead (`activity.accountId`, `activity.leadId` in any case, as `get`
   * matches it): inserts it, with the lead's id as stored, and on the lead adds `activity.score` to
   * its Score and EngagementScore, counts the activity (the total `ActivityRepo.listForLead`
   * answers), makes it the lead's latest activity (id, `typeName`, date) unless an activity dated
   * later is, and moves ModifiedOn to `activity.createdOn` (epoch ms: when the lead changed, whatever
   * the activity's date; never backwards). One statement on PostgreSQL, two on SQLite; no read of
   * the lead before. Returns the lead as updated; null when the account has no such lead, and then
   * nothing is written. Throws UniqueViolation when an activity already answers `activity.requestId`.
   */
  addActivity(activity: Omit<Activity, 'seq'>, typeName: string): Promise<Lead | null>;
  /**
   * A page of the account's leads, newest first, and how many there are; with `search`, only those
   * with a field value containing it, ignoring case (every lead read: seq-ranges.ts). A search
   * rejects with the signal's AbortError once `signal` aborts (its client left).
   */
  list(accountId: string, opts: { offset: number; limit: number; search?: string; signal?: AbortSignal }): Promise<{ total: number; leads: Lead[] }>;
  /**
   * Up to `limit` leads, newest first, with a field picked by `inField` whose string value contains
   * `text`, ignoring case. `text` is plain text: % and _ are not wildcards. Rejects with the signal's
   * AbortError once `signal` aborts. Outside a transaction only (`inField` and `signal` cannot be
   * sent to the SQLite writer thread).
   */
  quickSearch(accountId: string, q: { text: string; inField: (name: string) => boolean; limit: number; signal?: AbortSignal }): Promise<Lead[]>;
  count(accountId: string): Promise<number>;
  /**
   * Leads matching every condition, a page in the given order (ties by creation order, same
   * direction). Field conditions and sorts run on the lead_values index (storage/sql/lead-search.ts).
   */
  search(accountId: string, q: LeadSearch): Promise<{ total: number | null; leads: Lead[] }>;
  /**
   * Takes a lock per key (any text naming what is about to be created, e.g. a lookup value) until the
   * transaction ends, in a fixed order. PostgreSQL: transaction-scoped advisory locks, so two
   * transactions creating the same thing take turns; SQLite: nothing (its one writer already is one).
   * Resolves true when taking them may have waited for another transaction, so what was read
   * before may have changed (PostgreSQL); false when write transactions never run side by side (SQLite).
   * A key starting `ref:` names reference data (an activity type, …): after it, cached reference data
   * is checked again (sql/ref-cache.ts), so a read made then sees what the transaction waited for.
   */
  lockKeys(accountId: string, keys: string[]): Promise<boolean>;
  /** Accounts whose lead keys were written by a rule older than `version`. */
  accountsKeyedBefore(version: number): Promise<string[]>;
  /** Records that the account's lead keys follow rule `version`. */
  setKeysVersion(accountId: string, version: number): Promise<void>;
}

export interface LeadFieldRepo {
  /** The account's lead fields, ordered by schema name. Read only: the reference-data cache gives every caller the same (frozen) list. */
  list(accountId: string): Promise<readonly LeadFieldDef[]>;
  upsert(accountId: string, def: LeadFieldDef): Promise<void>;
}

export interface ActivityTypeRepo {
  insert(type: ActivityType): Promise<void>;
  get(accountId: string, code: number): Promise<ActivityType | null>;
  list(accountId: string): Promise<ActivityType[]>;
  /** Next free custom code: 201 or one past the highest custom code. */
  nextCustomCode(accountId: string): Promise<number>;
  findByName(accountId: string, name: string): Promise<ActivityType | null>;
  /** Rewrites a type's name, description, score, direction, fields and settings; false when it does not exist. */
  update(type: ActivityType): Promise<boolean>;
}

export interface ActivityQuery {
  leadId: string;
  eventCode?: number;
  offset: number;
  limit: number;
}

export interface ActivityEventQuery {
  eventCode: number;
  /** Activity date window (epoch ms), both ends inclusive; null is open. */
  from: number | null;
  to: number | null;
  offset: number;
  limit: number;
  descending: boolean;
}

/** ProspectActivity.svc/RetrieveRecentlyModified: an account's activities by when they last changed. */
export interface ActivityModifiedQuery {
  /** Window on the activity's ModifiedOn (its last update, else its creation; epoch ms), both ends inclusive; null is open. */
  from: number | null;
  to: number | null;
  /** Only this event code, when given. */
  eventCode?: number;
  /** `modifiedOn` reads the window's index in order; `occurredAt` (the activity date) sorts the window. */
  orderBy: 'modifiedOn' | 'occurredAt';
  offset: number;
  limit: number;
  descending: boolean;
}

export interface ActivityRepo {
  insert(activity: Omit<Activity, 'seq'>): Promise<void>;
  get(accountId: string, id: string): Promise<Activity | null>;
  /** Rewrites an activity's note and fields (and its ModifiedOn when given); false when it does not exist. */
  update(accountId: string, id: string, change: { note: string; fields: Activity['fields']; modifiedOn?: number }): Promise<boolean>;
  /** A page of one lead's activities, newest first (ties: the later stored first), and how many it has in all (of `q.eventCode` when given). */
  listForLead(accountId: string, q: ActivityQuery): Promise<{ total: number; activities: ListedActivity[] }>;
  /** Account-wide, one event code, by activity date (ties by insertion order). */
  listByEvent(accountId: string, q: ActivityEventQuery): Promise<{ total: number; activities: Activity[] }>;
  /** Account-wide (optionally one event code), in a ModifiedOn window; ties by insertion order. */
  listModified(accountId: string, q: ActivityModifiedQuery): Promise<{ total: number; activities: Activity[] }>;
  countForRequest(accountId: string, requestId: string): Promise<number>;
  count(accountId: string): Promise<number>;
}

export interface NewRequest {
  id: string;
  accountId: string;
  kind: RequestKind;
  body: string;
  params: Record<string, string>;
  orderKey: string;
  createdAt: number;
  /** The user whose keys submitted it (the worker acts as them); null or absent for none. */
  userId?: string | null;
}

export interface RequestOutcome {
  status: Extract<RequestStatus, 'succeeded' | 'failed' | 'errored'>;
  statusReason: string;
  message: string | null;
  at: number;
}

/** What a status answer is made of (queue/status.ts): the part of a request that `RequestRepo.getStatus` reads. */
export type RequestStatusView = Pick<AsyncRequest, 'id' | 'kind' | 'status' | 'statusReason' | 'attempts' | 'lastError' | 'body' | 'message'>;

export interface RequestRepo {
  /** Inserts requests (one transaction, one commit for the batch). */
  insertMany(requests: NewRequest[]): Promise<void>;
  get(accountId: string, id: string): Promise<AsyncRequest | null>;
  /**
   * The part of one request a status answer needs (RequestStatusView), or null; `id` in any case.
   * Clients poll status calls, and reading the whole row cost each of them the other ten columns
   * (better-sqlite3 12 sets each column of a row through V8's API) and parsing `params`
   * (docs/performance.md, twenty-ninth session).
   */
  getStatus(accountId: string, id: string): Promise<RequestStatusView | null>;
  /**
   * Claims up to `limit` due requests for `workerId` until `lockedUntil`: queued, `runAt <= now`,
   * and with no earlier unfinished request of the same order key. Never returns a request another
   * worker holds a live lease on.
   */
  claim(workerId: string, limit: number, now: number, lockedUntil: number): Promise<AsyncRequest[]>;
  /** Records a final outcome if `workerId` still holds the request; false when it lost the lease. */
  finish(id: string, workerId: string, outcome: RequestOutcome): Promise<boolean>;
  /** Puts a request back in the queue after a system error, to run again at `runAt`. */
  retry(id: string, workerId: string, attempts: number, runAt: number, lastError: string): Promise<boolean>;
  /** Returns expired leases to the queue (their worker died); counts each as a failed attempt. */
  releaseExpired(now: number): Promise<number>;
  /** Returns every running request to the queue (single-process start-up after a crash). */
  releaseAll(): Promise<number>;
  /** Deletes finished requests older than `before`. */
  purgeFinished(before: number): Promise<number>;
  metrics(accountId: string, kind: RequestKind, now: number, windowMs: number): Promise<{ pending: number; oldestPendingAt: number | null; finishedInWindow: number }>;
  /** Newest first; `status`/`kind` narrow it (console). */
  list(accountId: string, opts: { offset: number; limit: number; status?: RequestStatus; kind?: RequestKind }): Promise<{ total: number; requests: AsyncRequest[] }>;
  /**
   * Console "retry now": puts one of the account's `errored` requests (system errors, retries used
   * up) back in the queue, due at `now`, with a fresh retry budget (attempts 0; the last error is
   * kept). False when there is no such request or it is not `errored`.
   */
  requeue(accountId: string, id: string, now: number): Promise<boolean>;
  /**
   * Console activity chart: per minute (epoch ms of the minute's start) since `since`, how many of
   * the account's async requests were accepted (created), processed (succeeded) and failed (failed
   * or errored). Minutes with none are absent. Runs on the account's rows still kept (retention).
   */
  perMinute(accountId: string, since: number): Promise<{ minute: number; accepted: number; processed: number; failed: number }[]>;
  countByStatus(accountId: string | null): Promise<Record<RequestStatus, number>>;
  /** Makes the account's queued requests that wait for a later `runAt` (retry back-off) due at `now`; returns how many. */
  makeDue(accountId: string, now: number): Promise<number>;
  /** Earliest `runAt` of a queued request, so an idle worker knows when to look again. */
  nextRunAt(): Promise<number | null>;
  /**
   * When the oldest unfinished (queued or running) request of any account was accepted, in epoch
   * ms; null when none is unfinished. One query, whatever the number of accounts (the metrics gauge
   * `leadtrail_async_oldest_pending_seconds`, read at every scrape).
   */
  oldestPendingAt(): Promise<number | null>;
}

/** An outbox row (one event for one webhook) as the delivery worker claims it. */
export interface OutboxEvent {
  seq: number;
  /** The event id (the same for every webhook the event went to, and on every attempt). */
  id: string;
  accountId: string;
  webhookId: string;
  orderKey: string;
  eventCode: number;
  snapshot: string;
  status: 'pending' | 'delivered' | 'failed';
  /** Attempts made so far. */
  attempts: number;
  dueAt: number;
  createdAt: number;
  /**
   * The webhook's failure epoch as the claim saw it, read by the statement that judged the webhook
   * healthy or failing (WebhookRepo.claim); handed back in AttemptResult.
   */
  failureEpoch: number;
}

/** One delivery attempt, as kept and listed. */
export interface WebhookDelivery {
  id: string;
  accountId: string;
  webhookId: string;
  eventSeq: number;
  eventId: string;
  eventCode: number;
  /** 1 for the first attempt. */
  attempt: number;
  at: number;
  url: string;
  /** The receiver's HTTP status; null when no answer came (refused, timed out). */
  statusCode: number | null;
  latencyMs: number;
  /** The first KB of the answer's body. */
  response: string | null;
  error: string | null;
  /**
   * What the attempt led to: `delivered`, `retry` (another attempt is scheduled) or `failed` (no
   * more); `dropped` when listed only: a retry was scheduled and its event was deleted before it
   * (its webhook deleted, its WebhookEvent changed).
   */
  outcome: AttemptOutcome | 'dropped';
}

/** What an attempt leads to when it is recorded (WebhookRepo.finishAttempt). */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

/** How an attempt ends for its event and webhook (WebhookRepo.finishAttempt). */
export interface AttemptResult {
  delivery: WebhookDelivery & { outcome: AttemptOutcome };
  /** The event's next state: delivered, failed (no more attempts) or pending again at `dueAt`. */
  next: { status: 'delivered' | 'failed' | 'pending'; dueAt: number; lastError: string | null };
  /** Failed attempts in a row at which the webhook is disabled (status 2); ignored on success. */
  disableAfter: number;
  /**
   * The event's `failureEpoch` from its claim. A failure counts in the webhook's failures in a row
   * only if no failure was counted (and no success ended a row) since then: attempts that were on
   * their way together count once.
   */
  failureEpoch: number;
  /**
   * The webhook's pacing while it fails (ms, scaled as event retries are): after a counted failure
   * that makes the count n, no probe is claimed for `probeDelaysMs[(n - 1) % length]` (the retry
   * schedule, started again after its last delay). Empty: no wait. Ignored on success.
   */
  probeDelaysMs: number[];
}

/** What the outbox needs of an enabled webhook. */
export interface EnabledWebhook {
  id: string;
  eventCode: number;
  delaySeconds: number;
}

export interface WebhookRepo {
  insert(w: Webhook): Promise<void>;
  /**
   * The webhook, or null. `lock` (in a transaction that will write it back: Webhook.svc/Update):
   * also holds the webhook's row until the transaction ends, so that nothing else writes it between
   * this read and that write: not another Update, and not the worker's accounting of an attempt
   * (finishAttempt waits, then counts on top of what was written). PostgreSQL: `FOR UPDATE`, which
   * also waits for an attempt being recorded, so that the transaction's later writes of the
   * webhook's events (`dueNow`) never wait for an event such an attempt holds while it waits for
   * this row (a webhook's row before its events, on every path); SQLite's one writer needs none.
   */
  get(accountId: string, id: string, opts?: { lock?: boolean }): Promise<Webhook | null>;
  /** The account's webhooks matching every filter given; `search` in the description or URL, ignoring case. */
  list(
    accountId: string,
    q: { eventCode?: number; status?: number; id?: string; search?: string; orderBy: 'createdOn' | 'modifiedOn'; descending: boolean; offset: number; limit: number },
  ): Promise<{ total: number; webhooks: Webhook[] }>;
  /**
   * Rewrites the webhook's settings and status, its failure accounting (`consecutiveFailures`,
   * `status` 2) included, and clears its pacing; false when it does not exist. Only for a webhook
   * read with `get(…, { lock: true })` in the same transaction: written from an unlocked read, an
   * attempt recorded in between was undone (its failure uncounted, or a success's reset to 0).
   * Events waiting for it under another event code than `w.eventCode` are deleted, as Delete
   * deletes its waiting events: a webhook changed from Lead_Post_Create to Lead_Post_Update had
   * sent its waiting creates to a receiver of updates (a fresh-eyes run). Not one a worker has
   * claimed: its attempt is on its way and is recorded; the worker drops such an event at its
   * next claim (`dropStale`), as one written under the old code after this.
   */
  update(w: Webhook): Promise<boolean>;
  /**
   * Deletes the webhook and its undelivered events (its delivery records stay); false when none.
   * An attempt being recorded meanwhile (finishAttempt) ends first, or finds its event gone and
   * leaves no record; so does a resend. On PostgreSQL the events are locked by seq (as `release`
   * locks them). An event raised by a write committing at the same moment may still be written
   * after this; `dropOrphaned` deletes it.
   */
  remove(accountId: string, id: string): Promise<boolean>;
  /** The account's enabled webhooks, as the outbox needs them (the store caches this list as reference data). */
  enabledHooks(accountId: string): Promise<readonly EnabledWebhook[]>;
  /**
   * Outbox: one row per event and enabled webhook of its account for its code, due after the
   * webhook's delay. `hooksOf` gives an account's enabled webhooks (default: `enabledHooks`).
   */
  enqueue(events: NewWebhookEvent[], hooksOf?: (accountId: string) => Promise<readonly EnabledWebhook[]>): Promise<number>;
  /**
   * Claims up to `limit` due events for `workerId` until `lockedUntil`: pending, due, of an enabled
   * webhook, not held by a live lease, and with no earlier pending event of the same webhook and
   * lead, leaving out the webhooks in `skipWebhooks` (the caller's busy ones). Of a failing webhook
   * (failures in a row) at most one event is claimed, its probe, and only once the webhook's pacing
   * time (set by finishAttempt) has passed: of its pending events that are due and not held back by
   * an earlier pending event of their lead, the one due first (then lowest seq), and only if that
   * one is not leased. So one attempt at a time whichever process claims; an event whose payload
   * the receiver keeps refusing waits for its own retry while the others are probed, and the first
   * success lets them all go. On PostgreSQL concurrent claimers never take the same row (SKIP LOCKED).
   */
  claim(workerId: string, limit: number, now: number, lockedUntil: number, skipWebhooks?: string[]): Promise<{ event: OutboxEvent; webhook: Webhook }[]>;
  /**
   * Gives back events `workerId` claimed and will not deliver now (they are due again at once);
   * returns how many it held. On PostgreSQL it locks them by seq, as `remove` locks a webhook's events.
   */
  release(workerId: string, seqs: number[]): Promise<number>;
  /**
   * Deletes events `workerId` claimed that it will never deliver, and returns how many it held: those
   * raised for a webhook under an event code it no longer has (an Update changed its WebhookEvent
   * after they were written, or, on PostgreSQL, as they were: a lead write takes no lock on its
   * webhooks). Locks them by seq on PostgreSQL, as `release` does.
   */
  dropStale(workerId: string, seqs: number[]): Promise<number>;
  /**
   * Records an attempt: keeps the delivery record, moves the event on (only while `workerId` holds
   * it) and counts the webhook's failures (disabling it at `disableAfter`), in one transaction when
   * called in one. Only an enabled webhook's count changes: a success sets it to 0; a failure adds
   * one if the webhook's failure epoch is still the one its claim saw (`failureEpoch`), i.e. the
   * attempt was sent after the last counted failure was recorded; a counted failure also sets the
   * webhook's pacing time to the attempt's time plus its delay (`probeDelaysMs`), and a success that
   * ends a row clears it. Returns `not-held` when the worker no longer held the event (nothing is
   * counted), `disabled` when this failure disabled the webhook, else `recorded`. On PostgreSQL it
   * first holds the webhook's row (FOR KEY SHARE: a Delete or an Update of the webhook waits for the
   * transaction, other attempts do not), then the event's: a webhook's row before its events.
   */
  finishAttempt(workerId: string, eventSeq: number, r: AttemptResult): Promise<'not-held' | 'recorded' | 'disabled'>;
  /** Frees every lease (single-process start after a crash). */
  releaseAll(): Promise<number>;
  /** Earliest due time of a pending event, so an idle worker knows when to look again. */
  nextDueAt(): Promise<number | null>;
  /** The account's delivery records, newest first. */
  listDeliveries(accountId: string, q: { webhookId?: string; eventId?: string; offset: number; limit: number }): Promise<{ total: number; deliveries: WebhookDelivery[] }>;
  /** Events of the account waiting to be delivered (pending: not yet sent, being retried, or held by a disabled webhook), by webhook id; webhooks with none are left out. */
  pendingCounts(accountId: string): Promise<Record<string, number>>;
  /** Makes the webhook's pending events that wait for a retry due at `now` (a webhook saved again sends what waited at once); events still in their ExecutionDelay keep their time. */
  dueNow(webhookId: string, now: number): Promise<number>;
  /**
   * Puts the event of a delivery back in the outbox, due at `now`, with its attempts reset; null when
   * unknown or its webhook was deleted. On PostgreSQL it first holds the webhook's row (FOR KEY
   * SHARE) until the transaction ends, so a Delete committing meanwhile deletes the event too, or
   * comes first and this answers null.
   */
  resend(accountId: string, deliveryId: string, now: number): Promise<{ eventId: string; webhookId: string } | null>;
  /** Deletes events finished (delivered or failed) before `before`, and delivery records older than `before` whose event is gone or went with them; returns how many rows went. */
  purge(before: number): Promise<number>;
  /**
   * Deletes the pending events whose webhook no longer exists and returns how many: on PostgreSQL a
   * lead or activity write that commits as its webhook is deleted may write an event for it after
   * the Delete (the write takes no lock on the webhook). Never claimed, such an event would wait for
   * good. Run by the worker's housekeeping; it skips rows locked by others. SQLite: nothing (its one
   * writer cannot make such an event), 0.
   */
  dropOrphaned(): Promise<number>;
  /**
   * Holds the account's webhooks until the transaction ends (PostgreSQL: FOR KEY SHARE, in id order;
   * SQLite: nothing), for a transaction that then locks their events (a reset, before it locks the
   * event tables and calls clearEvents): a webhook's row before its events, as every path takes them,
   * so that it waits for a Delete or Update of one of them instead of deadlocking with it.
   */
  lockAll(accountId: string): Promise<void>;
  /**
   * Deletes the account's events and delivery records, keeping its webhooks (sandbox reset); their
   * failures in a row start again at 0 and one disabled after failures (status 2) is enabled again.
   * One disabled by hand (status 1) stays disabled.
   */
  clearEvents(accountId: string): Promise<void>;
  /** Counts of outbox rows by status (metrics). */
  countByStatus(): Promise<Record<'pending' | 'delivered' | 'failed', number>>;
}

/**
 * One API call as the request journal recorded it (issue 15; src/journal/). Times are epoch ms.
 * Ids (lead, activity, async request) are stored lower-case. Bodies are capped text; keys and
 * secrets were removed before storing.
 */
export interface JournalEntry {
  /** The call's request id (also in its log lines as `reqId`). */
  id: string;
  /** Order of recording, increasing; never reused (also after deletes). */
  seq: number;
  accountId: string;
  /** When the request arrived. */
  at: number;
  method: string;
  /** The path as sent, without the query. */
  path: string;
  /** The query string as sent (without `?`), every key, secret or token value replaced by `***`. */
  query: string;
  status: number;
  latencyMs: number;
  /** At most LEADTRAIL_JOURNAL_MAX_BODY_BYTES bytes of the body; null when there was none. */
  requestBody: string | null;
  responseBody: string | null;
  /** Size in bytes of the whole body (larger than the stored text's when it was cut); null when none. */
  requestSize: number | null;
  responseSize: number | null;
  /** What the call touched. */
  leadId: string | null;
  activityId: string | null;
  requestId: string | null;
}

export interface JournalFilter {
  /** Substring of the path, any case. */
  path?: string;
  status?: number;
  leadId?: string;
  /** `at` window, both ends inclusive. */
  from?: number;
  to?: number;
  /** Live tailing: entries with seq > afterSeq, oldest first. */
  afterSeq?: number;
  /** Paging newest first: entries with seq < beforeSeq. */
  beforeSeq?: number;
  limit: number;
  /** A `path` search stops when it aborts, rejecting with its AbortError (seq-ranges.ts). */
  signal?: AbortSignal;
}

/**
 * Where a body lies in a batch's `chunks` (JournalRepo.insertMany): the chunk's index, and the
 * offset and length of its UTF-8 in that chunk, in bytes.
 */
export type JournalBodyRef = readonly [chunk: number, offset: number, length: number];

/**
 * The UTF-8 bytes a reference names in `chunks`, in place (a Buffer over them, no copy). Throws
 * RangeError for a reference outside them.
 */
export function bodyBytes(chunks: readonly Uint8Array[] | undefined, ref: JournalBodyRef): Buffer {
  const [chunk, offset, length] = ref;
  const bytes = Number.isInteger(chunk) ? chunks?.[chunk] : undefined;
  if (!bytes || !Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.byteLength) {
    throw new RangeError(`journal body [${chunk}, ${offset}, ${length}] is outside the batch's bytes`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, length);
}

/** An entry to store: its bodies as text, or as places in the batch's bytes. */
export type NewJournalEntry = Omit<JournalEntry, 'seq' | 'requestBody' | 'responseBody'> & {
  requestBody: string | JournalBodyRef | null;
  responseBody: string | JournalBodyRef | null;
};

export interface JournalRepo {
  /**
   * Inserts entries, 32 rows per statement; `seq` is given by the database, in array order. A body
   * given as a JournalBodyRef is that slice of one of `chunks`, UTF-8 (the request journal's recorder
   * packs a batch's bodies into chunks of shared memory, which SQLite's writer thread reads in place;
   * the recorder leaves them unchanged until this call has settled). Throws RangeError for a
   * reference outside `chunks`, and stores nothing of the batch then.
   */
  insertMany(entries: NewJournalEntry[], chunks?: readonly Uint8Array[]): Promise<void>;
  /** Newest first (seq descending); with `afterSeq`, oldest first. */
  list(accountId: string, filter: JournalFilter): Promise<JournalEntry[]>;
  get(accountId: string, id: string): Promise<JournalEntry | null>;
  /** Deletes the account's entries but its newest `keep`; returns how many. */
  trim(accountId: string, keep: number): Promise<number>;
  /** Deletes every account's entries recorded before `before` (epoch ms); returns how many. */
  purgeBefore(before: number): Promise<number>;
  /** Deletes every entry of the account; returns how many. */
  clear(accountId: string): Promise<number>;
}

/**
 * A record that another part of the system (a webhook outbox, a request journal) attaches to a write
 * transaction, so that it commits with the change or not at all. Its `kind` names the registered
 * writer that stores it (`Store.registerRecordWriter`).
 */
export interface TxRecord {
  kind: string;
  data: unknown;
}

/** Stores the records of one kind appended to a transaction, inside that transaction, before its commit. */
export type TxRecordWriter = (tx: Repos, records: TxRecord[]) => Promise<void>;

/** One repo method called by name: `tx[repo][method](...args)`. */
export interface RepoCall {
  repo: keyof Repos;
  method: string;
  args: unknown[];
}

/** The repos of `Repos` (not `append`). */
type RepoName = Exclude<keyof Repos, 'append'>;
/** The repo methods of `Repos[K]`, by name. */
type RepoMethod<K extends RepoName> = { [M in keyof Repos[K]]: Repos[K][M] extends (...a: never[]) => Promise<unknown> ? M : never }[keyof Repos[K]] & string;
type MethodOf<K extends RepoName, M extends RepoMethod<K>> = Extract<Repos[K][M], (...a: never[]) => Promise<unknown>>;

/** A transaction function that is one repo call, and says which (`repoCall`). */
export type RepoWrite<T> = ((tx: Repos) => Promise<T>) & { repoCall: RepoCall };

/**
 * A transaction function of one repo write, `tx[repo][method](...args)`, for `store.transaction`:
 * atomic like any transaction (a method may run several statements), and a store whose writes run
 * elsewhere (SQLite's writer thread) sends it there as one message instead of a round trip per
 * call that holds the batch meanwhile. The arguments must be plain data.
 */
export function repoWrite<K extends RepoName, M extends RepoMethod<K>>(repo: K, method: M, ...args: Parameters<MethodOf<K, M>>): RepoWrite<Awaited<ReturnType<MethodOf<K, M>>>> {
  const fn = (tx: Repos) => {
    const r = tx[repo] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return r[method](...args);
  };
  return Object.assign(fn, { repoCall: { repo, method, args } }) as unknown as RepoWrite<Awaited<ReturnType<MethodOf<K, M>>>>;
}

/**
 * Repo methods that only read, by name in any repo: outside a transaction they go to the reader
 * (sql/sql-store.ts), and a transaction function that called none but these has written nothing
 * (pipeline.ts). Every other method counts as a write.
 */
export const READ_METHODS = new Set([
  'get',
  'getStatus',
  'list',
  'count',
  'getUser',
  'firstUser',
  'findCredential',
  'lookupTaken',
  'listCredentials',
  'findByKey',
  'keyOwner',
  'quickSearch',
  'search',
  'nextCustomCode',
  'findByName',
  'listForLead',
  'listByEvent',
  'countForRequest',
  'metrics',
  'countByStatus',
  'nextRunAt',
  'oldestPendingAt',
  'perMinute',
  'nextDueAt',
  'listDeliveries',
  'pendingCounts',
  'listModified',
  'enabledHooks',
]);

export interface Repos {
  accounts: AccountRepo;
  leads: LeadRepo;
  leadFields: LeadFieldRepo;
  activityTypes: ActivityTypeRepo;
  activities: ActivityRepo;
  requests: RequestRepo;
  /** The request journal (issue 15). */
  journal: JournalRepo;
  /** Forced-fault rules (sandbox feature; migration 0008). */
  faultRules: FaultRuleRepo;
  webhooks: WebhookRepo;
  /**
   * Only on the `tx` of `Store.transaction`/`exclusive`: attaches a record that is written (by the
   * writer registered for its kind) when the transaction function resolves, in the same transaction.
   * If the function throws, or the writer does, neither the changes nor the records are stored.
   */
  append?(record: TxRecord): void;
}

/**
 * Who runs a named operation and when (`Store.operate`): the time (epoch ms) every timestamp of the
 * operation takes, and the acting user (Ctx.userId).
 */
export interface CallContext {
  now: number;
  userId: string | null;
}

/** The queues whose workers a commit can wake (Store.onQueued): async requests and webhook events. */
export type QueueName = 'requests' | 'webhook-events';

/** Options of `Store.exclusive`. */
export interface ExclusiveOptions {
  /** How long the function may run, in ms (default: the store's limit, LEADTRAIL_TX_TIMEOUT_MS); `Infinity`: no limit. */
  timeoutMs?: number;
}

export interface Store extends Repos {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Which database this is, for messages: the SQLite file's absolute path (`:memory:` for none), or
   * PostgreSQL's `host:port, database <name>, schema <name>` (never the user or password).
   */
  readonly where: string;
  /**
   * Present when writes run on a thread of their own (SQLite, `LEADTRAIL_SQLITE_WRITER=thread`):
   * runs the operation registered as `name` in the writer thread's operations module (see
   * sqlite/writer-protocol.ts) in a transaction there, as `transaction` would, and resolves with its
   * result once committed and on disk. Only plain data crosses: `input` and the result are
   * structured-cloned, and an error arrives as the same class where the codec knows it. A caller
   * checks for it and otherwise runs the operation with `transaction`. `input` is copied when this
   * turn's messages leave (sqlite/thread-store.ts), not at the call: leave it unchanged until then.
   * A result the thread cannot send back rejects with a `DataCloneError` although its transaction
   * committed (an operation's bug: results are plain data).
   */
  operate?(name: string, call: CallContext, input: unknown): Promise<unknown>;
  /**
   * Present with `operate`: the writes (operations, repo writes, transactions) sent to the writer
   * thread and not yet answered, 0 when it has nothing to do. Work that may run on either thread
   * goes to the writer thread only while it is idle (the request journal's entries:
   * journal/recorder.ts).
   */
  writesWaiting?(): number;
  /**
   * Runs `fn` in one transaction: all of its writes commit together or none do, and the promise
   * resolves only once they are committed (on disk). Concurrent calls share one database transaction
   * and one commit (group commit, src/storage/pipeline.ts): one that throws rolls back alone and only
   * its caller sees the error (the others may run again: `fn` must be safe to run more than once); if the shared commit
   * fails, every caller in it is rejected. `fn` must use only `tx` (not the store) for its reads and
   * writes, and must settle within the store's time limit (default 15 s), or it is rolled back and
   * rejected with `TransactionTimeout`.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /**
   * Like `transaction`, but holding a lock shared by every process on this database for the whole
   * transaction (a PostgreSQL advisory lock; SQLite's write lock already is one). For steps that
   * must happen once, such as creating the first account when several processes start together.
   * `options.timeoutMs`: how long `fn` may run, in ms, instead of the store's limit; `Infinity` for
   * start-up work whose time grows with the data (re-keying an account's leads), which the limit
   * would roll back at every start, so that the server never started. With `Infinity` the wait for
   * the lock is not limited either (PostgreSQL: not by the statement timeout; the statements of
   * `fn` still are): another process may hold it that long. Rejects with RangeError for a value
   * that is not a positive number.
   */
  exclusive<T>(fn: (tx: Repos) => Promise<T>, options?: ExclusiveOptions): Promise<T>;
  /**
   * Reads made after this call see everything committed before it. SQLite only: its reader's
   * statements share a read transaction for a moment (sqlite/read-turns.ts), which this ends (tests
   * call it; the HTTP server no longer does at each request, which cost reads 10–15%). Reads without
   * it see this process's own writes at once, and other processes' commits made over a millisecond
   * before them; a store that wrote waits twice that after its last commit before its close()
   * resolves, so a CLI command's change is read by every request sent once it has returned. Absent on
   * PostgreSQL, whose reads each see what was committed when they ran.
   */
  newReadSnapshot?(): void;
  /**
   * Calls `listener` soon after any process commits new work to `queue` (async requests, webhook
   * events), and returns the unsubscribe function. PostgreSQL only (LISTEN/NOTIFY, a channel per
   * queue), so separate worker processes wake at once instead of at their next poll; absent on
   * SQLite, where the one process's enqueuers wake its workers.
   */
  onQueued?(queue: QueueName, listener: () => void): () => void;
  /**
   * Registers the writer for appended records of `kind` (see `Repos.append`); returns the function
   * that unregisters it. One writer per kind.
   */
  registerRecordWriter(kind: string, writer: TxRecordWriter): () => void;
  /**
   * The write pipeline's counters since the store opened: batches run, callers in them, the
   * largest batch, and the seconds batches held a writer connection (src/storage/pipeline.ts,
   * PipelineStats). For metrics.
   */
  writeStats(): { batches: number; callers: number; largestBatch: number; busySeconds: number };
  /**
   * SQLite only: WAL checkpoints run by the checkpoint thread since the store opened (passive ones,
   * and restarts that let the log start over, of which `restartBusy` gave up because a reader held
   * an older snapshot), and whether the thread failed so that SQLite's own
   * checkpoints took over (src/storage/sqlite/checkpointer.ts). For metrics.
   */
  checkpointStats?(): { passive: number; restart: number; restartBusy: number; failed: boolean };
  /** PostgreSQL only: the pool's open connections, the idle ones among them, and callers waiting for one. */
  connections?(): { total: number; idle: number; waiting: number };
  /**
   * Settles with the error once the store has failed for good, so that only a restart recovers it:
   * SQLite's writer thread died, or a WAL sync failed (after which nothing unsynced can be trusted
   * to be on disk). Every later call fails with that error. Absent on PostgreSQL, where a lost
   * connection is retried rather than final; never settles while the store is healthy or after a
   * normal close.
   */
  failed?: Promise<Error>;
  /** Applies pending migrations (also done by the adapter's open function). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Thrown by openStore with `mustExist` when the place the config names holds no leadtrail database,
 * having created nothing. `where` names the place as Store.where does (a file's absolute path;
 * PostgreSQL's host:port, database and schema, never the user or password); `why` says what is
 * missing there ('' when the file itself is); `creatable`: whether a store opened without
 * `mustExist` (`leadtrail migrate`) would make it, which it does not for a PostgreSQL database
 * (leadtrail makes a schema and its tables, not the database).
 */
export class NoDatabaseError extends Error {
  override name = 'NoDatabaseError';
  constructor(
    readonly where: string,
    readonly why: string,
    readonly creatable = true,
  ) {
    super(`No database at ${where}${why ? `: ${why}` : ''}`);
  }
}

/**
 * Thrown by openStore when the place the config names cannot hold a database at all, having created
 * nothing: a SQLite path that is a folder, a file that is not a SQLite database (another program's,
 * a text file), or a path under a file. `where`: the absolute path; `why`: which of these. SQLite's
 * own errors had said "file is not a database" or "unable to open database file" without the path
 * or the setting, with exit 1 (found by a fresh-eyes run).
 */
export class UnusableDatabaseError extends Error {
  constructor(
    readonly where: string,
    readonly why: string,
  ) {
    super(`Cannot use ${where} as a database: ${why}`);
    this.name = 'UnusableDatabaseError';
  }
}

/** Thrown by adapters when a unique key is already taken (a race the domain re-checks). */
export class UniqueViolation extends Error {
  override name = 'UniqueViolation';
  constructor(readonly detail: string) {
    super(`unique constraint violated: ${detail}`);
  }
}

/**
 * How long a SQLite write waits for the file's write lock held by another process (a `leadtrail
 * seed`, `reset`, `keys` or `migrate` beside the server) before it fails with isStoreBusy: 30 s.
 * At 5 s a seed of 70,000 leads (about 30 s) failed the server's writes with 500s.
 */
export const LOCK_WAIT_MS = 30_000;

/**
 * Whether `err` says the database is held by another writer for longer than a write waits
 * (LOCK_WAIT_MS): on SQLite, SQLITE_BUSY ("database is locked"). A condition to retry later, not a
 * fault of the call: the HTTP layer answers it 503 with Retry-After.
 */
export function isStoreBusy(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_BUSY_RECOVERY' || code === WRITES_HELD;
}

/**
 * The code of the error a PostgreSQL write batch fails with when the database's writes were held
 * (a `lead-fields set` re-key, a reset: accounts.ts holdWrites) for longer than its first statement
 * could wait (LEADTRAIL_STATEMENT_TIMEOUT_MS): isStoreBusy, as SQLite's SQLITE_BUSY after
 * LOCK_WAIT_MS. It had been PostgreSQL's statement timeout itself, which the HTTP layer answered
 * 500 `MXSystemException` where SQLite answered 503 with Retry-After.
 */
export const WRITES_HELD = 'LEADTRAIL_WRITES_HELD';

/** `cause` (a statement timeout while a write batch waited for the writes lock) as the WRITES_HELD error. */
export function writesHeldError(cause: unknown): Error {
  return Object.assign(new Error('the database writes were held by another process for longer than a write waits', { cause }), { code: WRITES_HELD });
}
