/**
 * Webhooks, their outbox and delivery records (migration 0006), on both engines. The outbox claim
 * follows the async queue's (requests.ts): due, not leased, and nothing earlier of the same webhook
 * and lead still pending, which is what keeps each webhook's events of one lead in order, also while
 * an earlier one waits for a retry; on PostgreSQL claimers skip each other's rows (SKIP LOCKED).
 *
 * Lock order (PostgreSQL): a path that locks a webhook's row and rows of its events locks the
 * webhook's row first, and holds it until its transaction ends. Delete deletes it (FOR UPDATE);
 * Update reads it FOR UPDATE (get `lock`); the worker recording an attempt (finishAttempt) and a
 * reset (lockAll, before its events) take FOR KEY SHARE, which conflicts only with FOR UPDATE, i.e.
 * with those two: attempts of one webhook do not wait for each other, nor for a reset, and their
 * UPDATEs of the webhook's count (FOR NO KEY UPDATE) do not wait for a KEY SHARE. Two paths that took
 * them in opposite orders deadlocked (Delete or Update against an attempt being recorded, a reset
 * against Delete or Update), PostgreSQL found it only after deadlock_timeout (1 s), and the write
 * pipeline ran the loser again. The claim locks only events, and skips locked ones: it never waits.
 * A statement that locks several events locks them by seq (Delete, release; dropOrphaned skips
 * locked ones): Delete took a webhook's events in due order (its index) and release in seq or table
 * order, and a Delete beside the worker giving back events it had claimed deadlocked on the events
 * alone. Resend holds the webhook's row (FOR KEY SHARE) before it puts the event back.
 * SQLite's one writer runs one transaction at a time and takes none of these locks.
 *
 * A lead or activity write raising events takes no lock on its webhooks (it is the API's hot path):
 * on PostgreSQL one that commits as a webhook is deleted may insert an event for it after the
 * Delete deleted the webhook's waiting events. Such an event is never claimed (the claim takes only
 * an enabled webhook's events); the worker's housekeeping deletes it (dropOrphaned).
 */
import { sql } from 'kysely';
import type { ContentType, Webhook, WebhookStatus } from '../../domain/webhooks.js';
import type { EnabledWebhook, OutboxEvent, WebhookDelivery, WebhookRepo } from '../store.js';
import { precompiled } from './compiled.js';
import { containsPattern, containsText, mayContain } from './contains.js';
import { NOTIFY_OF } from './requests.js';
import { json, type Db, type Engine, type WebhookDeliveriesTable, type WebhookEventsTable, type WebhooksTable } from './schema.js';
import { idKey } from './ids.js';

const toWebhook = (r: WebhooksTable): Webhook => ({
  id: r.id,
  accountId: r.account_id,
  description: r.description,
  url: r.url,
  method: 'POST',
  contentType: r.content_type as ContentType,
  eventCode: Number(r.event_code),
  customHeaders: json.read(r.custom_headers, []),
  notifyOnFailure: Number(r.notify_on_failure) === 1,
  delaySeconds: Number(r.delay_seconds),
  secret: r.secret,
  status: Number(r.status) as WebhookStatus,
  consecutiveFailures: Number(r.consecutive_failures),
  createdOn: Number(r.created_on),
  modifiedOn: Number(r.modified_on),
});

const toRow = (w: Webhook): WebhooksTable => ({
  id: w.id,
  account_id: w.accountId,
  description: w.description,
  url: w.url,
  method: w.method,
  content_type: w.contentType,
  event_code: w.eventCode,
  custom_headers: json.write(w.customHeaders),
  notify_on_failure: w.notifyOnFailure ? 1 : 0,
  delay_seconds: w.delaySeconds,
  secret: w.secret,
  status: w.status,
  consecutive_failures: w.consecutiveFailures,
  created_on: w.createdOn,
  modified_on: w.modifiedOn,
});

type EventRow = Omit<WebhookEventsTable, 'seq'> & { seq: number };

const toEvent = (r: EventRow & { epoch?: number | string | null }): OutboxEvent => ({
  seq: Number(r.seq),
  id: r.id,
  accountId: r.account_id,
  webhookId: r.webhook_id,
  orderKey: r.order_key,
  eventCode: Number(r.event_code),
  snapshot: r.snapshot,
  status: r.status as OutboxEvent['status'],
  attempts: Number(r.attempts),
  dueAt: Number(r.due_at),
  createdAt: Number(r.created_at),
  failureEpoch: Number(r.epoch ?? 0),
});

const toDelivery = (r: Omit<WebhookDeliveriesTable, 'seq'>): WebhookDelivery => ({
  id: r.id,
  accountId: r.account_id,
  webhookId: r.webhook_id,
  eventSeq: Number(r.event_seq),
  eventId: r.event_id,
  eventCode: Number(r.event_code),
  attempt: Number(r.attempt),
  at: Number(r.at),
  url: r.url,
  statusCode: r.status_code === null ? null : Number(r.status_code),
  latencyMs: Number(r.latency_ms),
  response: r.response,
  error: r.error,
  outcome: r.outcome as WebhookDelivery['outcome'],
});

/** The account's enabled webhooks, read once per transaction function that raised events (every lead and activity write): compiled once. */
const enabledHooks = precompiled((db, accountId: string) =>
  db.selectFrom('webhooks').select(['id', 'event_code', 'delay_seconds']).where('account_id', '=', accountId).where('status', '=', 0),
);

/**
 * `at` plus the delay of `delaysMs` for the failure a webhooks UPDATE counts: index the webhook's
 * count before it, started again after the last delay (ms; integers from the config, inlined).
 */
function paced(at: number, delaysMs: number[]) {
  const ms = delaysMs.map((x) => Math.max(0, Math.round(x)));
  if (ms.length === 0) return sql<number>`${sql.lit(Math.round(at))}`;
  const whens = ms.map((x, i) => sql`when ${sql.lit(i)} then ${sql.lit(x)}`);
  return sql<number>`${sql.lit(Math.round(at))} + case consecutive_failures % ${sql.lit(ms.length)} ${sql.join(whens, sql` `)} else 0 end`;
}

export function webhookRepo(db: Db, engine: Engine): WebhookRepo {
  const enabled = async (accountId: string): Promise<EnabledWebhook[]> =>
    (await enabledHooks(db, engine, accountId)).rows.map((h) => ({ id: h.id, eventCode: Number(h.event_code), delaySeconds: Number(h.delay_seconds) }));
  /**
   * Deletes the webhook's waiting events (`keptCode`: but those of that event code, and those a
   * worker has claimed, whose attempt is on its way: the worker drops them, dropStale). PostgreSQL:
   * locked by seq, as release locks them: deleted in the order of the index PostgreSQL read them by
   * (due time), the events of a webhook met a release taking them by seq, and deadlocked.
   */
  const deleteWaiting = async (webhookId: string, keptCode?: number): Promise<void> => {
    let gone: { seq: number }[];
    if (engine === 'postgres') {
      gone = await db
        .with('l', (q) => {
          const waiting = q.selectFrom('webhook_events').select('seq').where('webhook_id', '=', webhookId).where('status', '=', 'pending');
          return (keptCode === undefined ? waiting : waiting.where('event_code', '<>', keptCode).where('locked_by', 'is', null)).orderBy('seq').forUpdate();
        })
        .deleteFrom('webhook_events')
        .using('l')
        .whereRef('webhook_events.seq', '=', 'l.seq')
        .returning('webhook_events.seq')
        .execute();
    } else {
      const waiting = db.deleteFrom('webhook_events').where('webhook_id', '=', webhookId).where('status', '=', 'pending');
      gone = await (keptCode === undefined ? waiting : waiting.where('event_code', '<>', keptCode).where('locked_by', 'is', null)).returning('seq').execute();
    }
    await dropRetries(gone.map((r) => Number(r.seq)));
  };
  /**
   * The delivery records of events just deleted before their next attempt (their webhook deleted,
   * its WebhookEvent changed, or found stale by the worker): each event's latest record, when it
   * says `retry`, says `dropped` instead, since that retry will not happen (the console had shown
   * a deleted webhook's records as "will retry": a fresh-eyes run). Earlier records keep `retry`:
   * the attempt they scheduled did happen. `seqs`: the deleted events' seqs.
   */
  const dropRetries = async (seqs: number[]): Promise<void> => {
    if (seqs.length === 0) return;
    await db
      .updateTable('webhook_deliveries')
      .set({ outcome: 'dropped' })
      .where('event_seq', 'in', seqs)
      .where('outcome', '=', 'retry')
      .where('seq', '=', (eb) => eb.selectFrom('webhook_deliveries as later').select((l) => l.fn.max('later.seq').as('seq')).whereRef('later.event_seq', '=', 'webhook_deliveries.event_seq'))
      .execute();
  };
  return {
    async insert(w) {
      await db.insertInto('webhooks').values(toRow(w)).execute();
    },
    async get(accountId, id, opts) {
      const q = db.selectFrom('webhooks').selectAll().where('account_id', '=', accountId).where('id', '=', idKey(id));
      // FOR UPDATE, not the FOR NO KEY UPDATE its UPDATE takes: it also waits for an attempt being
      // recorded (finishAttempt's KEY SHARE), which may hold one of the events dueNow then updates
      // and wait for this row (the lock order above). SQLite: its one writer runs one transaction at a time.
      const r = await (opts?.lock && engine === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
      return r ? toWebhook(r) : null;
    },
    async list(accountId, q) {
      let base = db.selectFrom('webhooks').where('account_id', '=', accountId);
      if (q.eventCode !== undefined) base = base.where('event_code', '=', q.eventCode);
      if (q.status !== undefined) base = base.where('status', '=', q.status);
      if (q.id !== undefined) base = base.where('id', '=', idKey(q.id));
      const col = q.orderBy === 'createdOn' ? 'created_on' : 'modified_on';
      const dir = q.descending ? 'desc' : 'asc';
      const search = q.search?.trim() ?? '';
      if (search !== '') {
        // In the description or URL, ignoring case (contains.ts: the engine narrows, JavaScript
        // decides); an account's webhooks are few, so the matches are counted and paged here.
        const pattern = containsPattern(search);
        if (pattern !== null) {
          base = base.where((eb) => eb.or([mayContain(engine, 'description', pattern), mayContain(engine, 'url', pattern)]));
        }
        const matches = containsText(search);
        const all = (await base.selectAll().orderBy(col, dir).orderBy('id', dir).execute()).filter((r) => matches(r.description ?? '') || matches(r.url));
        return { total: all.length, webhooks: all.slice(q.offset, q.offset + q.limit).map(toWebhook) };
      }
      const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
      const rows = await base.selectAll().orderBy(col, dir).orderBy('id', dir).offset(q.offset).limit(q.limit).execute();
      return { total, webhooks: rows.map(toWebhook) };
    },
    async update(w) {
      const { id, account_id, created_on, ...rest } = toRow(w);
      // Saving it sends what waited at once (domain updateWebhook): no pacing left from its failures.
      const r = await db
        .updateTable('webhooks')
        .set({ ...rest, next_probe_at: null })
        .where('account_id', '=', account_id)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      // Its row is held (the caller read it FOR UPDATE), then its events: the lock order above.
      await deleteWaiting(id, rest.event_code);
      return true;
    },
    async remove(accountId, id) {
      // The webhook's row, then its events (the lock order above).
      const r = await db.deleteFrom('webhooks').where('account_id', '=', accountId).where('id', '=', idKey(id)).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return false;
      await deleteWaiting(idKey(id));
      return true;
    },
    enabledHooks: enabled,
    async enqueue(events, hooksOf) {
      if (events.length === 0) return 0;
      let n = 0;
      // One read per account and transaction function: most accounts have no webhook, and then this is all.
      const byAccount = new Map<string, typeof events>();
      for (const e of events) byAccount.set(e.accountId, [...(byAccount.get(e.accountId) ?? []), e]);
      for (const [accountId, list] of byAccount) {
        const hooks = await (hooksOf ?? enabled)(accountId);
        if (hooks.length === 0) continue;
        const rows = list.flatMap((e) =>
          hooks
            .filter((h) => h.eventCode === e.eventCode)
            .map((h) => ({
              id: e.id,
              account_id: accountId,
              webhook_id: h.id,
              order_key: e.orderKey,
              event_code: e.eventCode,
              snapshot: e.snapshot,
              status: 'pending',
              attempts: 0,
              due_at: e.createdAt + h.delaySeconds * 1000,
              locked_by: null,
              locked_until: null,
              last_error: null,
              created_at: e.createdAt,
              finished_at: null,
            })),
        );
        if (rows.length === 0) continue;
        await db.insertInto('webhook_events').values(rows).execute();
        n += rows.length;
      }
      // Wakes the webhook workers of every process at commit.
      if (n > 0 && engine === 'postgres') await db.executeQuery(NOTIFY_OF['webhook-events']);
      return n;
    },
    async claim(workerId, limit, now, lockedUntil, skipWebhooks = []) {
      let candidates = db
        .selectFrom('webhook_events as e')
        .select('e.seq')
        // Read by the statement that judges the webhook healthy or failing (finishAttempt).
        .select((eb) => eb.selectFrom('webhooks as x').select('x.failure_epoch').whereRef('x.id', '=', 'e.webhook_id').as('epoch'))
        .where('e.status', '=', 'pending')
        .where('e.due_at', '<=', now)
        .where((eb) => eb.or([eb('e.locked_until', 'is', null), eb('e.locked_until', '<', now)]))
        .where('e.webhook_id', 'in', (eb) => eb.selectFrom('webhooks as w').select('w.id').where('w.status', '=', 0))
        // While a webhook is failing (failures in a row), only its probe is claimed, and only once
        // its pacing time has passed (next_probe_at, set by finishAttempt along the retry schedule):
        // one attempt at a time whichever process claims, once per retry delay, instead of every
        // waiting event being tried and counted (a 5 s outage with many leads disabled the webhook;
        // so did the retries of the events that were on their way together when it failed, each
        // one a probe). The probe is the event that has waited longest among those that could go
        // now: pending, due and not held back by an earlier pending event of its lead, first by
        // due_at, then seq. An event that failed is due again only at its own retry time, so an
        // event whose payload the receiver refuses for good (a 400 for one lead) does not hold the
        // other leads' events back: the next probe is one of theirs, and its success ends the row.
        // Leases are not looked at among those before it: while the probe is on its way it stays
        // the first, so no other event of the webhook is claimed (and on PostgreSQL a concurrent
        // claimer that skips the locked probe still sees it first in its snapshot). "Not held back"
        // is asked as "the first pending event of its lead" (min seq, by webhook_events_order): as
        // a NOT EXISTS, PostgreSQL without statistics on a fresh table planned it as a scan of the
        // webhook's every pending event per event (4 s for 5,000 waiting events; this form 5 ms).
        .where((eb) =>
          eb.or([
            eb('e.webhook_id', 'in', eb.selectFrom('webhooks as h').select('h.id').where('h.consecutive_failures', '=', 0)),
            eb.and([
              eb(
                'e.webhook_id',
                'in',
                eb
                  .selectFrom('webhooks as n')
                  .select('n.id')
                  .where((x) => x.or([x('n.next_probe_at', 'is', null), x('n.next_probe_at', '<=', now)])),
              ),
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('webhook_events as r')
                    .select('r.seq')
                    .whereRef('r.webhook_id', '=', 'e.webhook_id')
                    .where('r.status', '=', 'pending')
                    .where('r.due_at', '<=', now)
                    .where((x) => x.or([x('r.due_at', '<', x.ref('e.due_at')), x.and([x('r.due_at', '=', x.ref('e.due_at')), x('r.seq', '<', x.ref('e.seq'))])]))
                    .where((x) =>
                      x(
                        'r.seq',
                        '=',
                        x
                          .selectFrom('webhook_events as q')
                          .select((y) => y.fn.min('q.seq').as('first'))
                          .whereRef('q.webhook_id', '=', 'r.webhook_id')
                          .whereRef('q.order_key', '=', 'r.order_key')
                          .where('q.status', '=', 'pending'),
                      ),
                    ),
                ),
              ),
            ]),
          ]),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('webhook_events as p')
                .select('p.seq')
                .whereRef('p.webhook_id', '=', 'e.webhook_id')
                .whereRef('p.order_key', '=', 'e.order_key')
                .whereRef('p.seq', '<', 'e.seq')
                .where('p.status', '=', 'pending'),
            ),
          ),
        )
        .orderBy('e.due_at')
        .orderBy('e.seq')
        .limit(limit);
      if (skipWebhooks.length > 0) candidates = candidates.where('e.webhook_id', 'not in', skipWebhooks);
      const set = { locked_by: workerId, locked_until: lockedUntil };
      let rows: (EventRow & { epoch?: number | string | null })[];
      if (engine === 'postgres') {
        // One statement: the rows the SKIP LOCKED select locks stay locked until the UPDATE commits,
        // so a concurrent claimer skips exactly these (see requests.ts).
        rows = await db
          .with('c', () => candidates.forUpdate('e').skipLocked())
          .updateTable('webhook_events')
          .from('c')
          .set(set)
          .whereRef('webhook_events.seq', '=', 'c.seq')
          .returningAll('webhook_events')
          .returning('c.epoch')
          .execute();
      } else {
        // One writer: nothing commits between this read and the update.
        const found = await candidates.execute();
        if (found.length === 0) return [];
        const epochs = new Map(found.map((r) => [Number(r.seq), r.epoch]));
        rows = (await db.updateTable('webhook_events').set(set).where('seq', 'in', [...epochs.keys()]).returningAll().execute()).map((r) => ({ ...r, epoch: epochs.get(Number(r.seq)) ?? null }));
      }
      if (rows.length === 0) return [];
      const ids = [...new Set(rows.map((r) => r.webhook_id))];
      const hooks = new Map((await db.selectFrom('webhooks').selectAll().where('id', 'in', ids).execute()).map((h) => [h.id, toWebhook(h)]));
      return rows
        .map(toEvent)
        .sort((a, b) => a.seq - b.seq)
        .flatMap((event) => {
          const webhook = hooks.get(event.webhookId);
          return webhook ? [{ event, webhook }] : [];
        });
    },
    async finishAttempt(workerId, eventSeq, r) {
      const d = r.delivery;
      const done = r.next.status !== 'pending';
      if (engine === 'postgres') {
        // The webhook's row before the event's (the lock order above). Locked first by the event's
        // UPDATE and then by the webhook's, an attempt deadlocked with a Delete that held the
        // webhook and waited for the event, and with an Update waiting for an event to make it due
        // (PostgreSQL aborted one after deadlock_timeout, 1 s). KEY SHARE is the least lock that
        // orders this against Delete and Update: it costs one primary-key read per attempt, and
        // attempts of one webhook recorded side by side do not wait for each other (a lock that
        // conflicted among them would serialize a busy webhook's attempts on its row, and deadlock
        // batches recording attempts of two webhooks in opposite orders). The other way round,
        // Delete taking the events before the webhook, cost attempts nothing but left Update and the
        // reset inverted, and a Delete holding one event of a batch of two attempts of the webhook
        // and waiting for the other still deadlocked, on the events alone.
        await db.selectFrom('webhooks').select('id').where('id', '=', d.webhookId).forKeyShare().execute();
      }
      const upd = await db
        .updateTable('webhook_events')
        .set({
          status: r.next.status,
          attempts: d.attempt,
          due_at: r.next.dueAt,
          last_error: r.next.lastError,
          locked_by: null,
          locked_until: null,
          finished_at: done ? d.at : null,
        })
        .where('seq', '=', eventSeq)
        .where('locked_by', '=', workerId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      const held = Number(upd.numUpdatedRows) > 0;
      // An attempt whose event was deleted meanwhile (a sandbox reset, its webhook deleted) leaves no
      // record: a reset had answered, and then the account listed a delivery of a lead it no longer
      // has. A lease lost to another worker is still recorded (the event is there; the receiver got it).
      const gone = !held && (await db.selectFrom('webhook_events').select('seq').where('seq', '=', eventSeq).executeTakeFirst()) === undefined;
      if (gone) return 'not-held';
      await db
        .insertInto('webhook_deliveries')
        .values({
          id: d.id,
          account_id: d.accountId,
          webhook_id: d.webhookId,
          event_seq: d.eventSeq,
          event_id: d.eventId,
          event_code: d.eventCode,
          attempt: d.attempt,
          at: d.at,
          url: d.url,
          status_code: d.statusCode,
          latency_ms: d.latencyMs,
          response: d.response,
          error: d.error,
          outcome: d.outcome,
        })
        .execute();
      if (!held) return 'not-held';
      // Only an enabled webhook's count changes: one disabled keeps the count that disabled it (an
      // attempt on its way then, ending in a success, had left StatusCode 2 with 0 failures), and
      // is enabled by saving it. A failure counts only if the webhook's failure epoch is still the
      // one its claim read: attempts that were on their way together when the receiver went down
      // failed together, and count once. Conditional UPDATEs on the webhook's row, so this holds
      // across worker processes.
      if (d.outcome === 'delivered') {
        await db
          .updateTable('webhooks')
          .set({ consecutive_failures: 0, failure_epoch: sql`failure_epoch + 1`, next_probe_at: null })
          .where('id', '=', d.webhookId)
          .where('status', '=', 0)
          .where('consecutive_failures', '>', 0)
          .execute();
      } else {
        const counted = await db
          .updateTable('webhooks')
          .set({
            consecutive_failures: sql`consecutive_failures + 1`,
            failure_epoch: sql`failure_epoch + 1`,
            // The pacing: no probe before the attempt's time plus the delay for the count this
            // failure makes (SET reads the row as it was: the old count is the index).
            next_probe_at: paced(d.at, r.probeDelaysMs),
            status: sql`case when consecutive_failures + 1 >= ${r.disableAfter} then 2 else status end`,
          })
          .where('id', '=', d.webhookId)
          .where('status', '=', 0)
          .where('failure_epoch', '=', r.failureEpoch)
          .returning('status')
          .executeTakeFirst();
        // Enabled before (the WHERE), disabled after: this failure was the one that disabled it.
        if (counted !== undefined && Number(counted.status) === 2) return 'disabled';
      }
      return 'recorded';
    },
    async dueNow(webhookId, now) {
      const r = await db
        .updateTable('webhook_events')
        .set({ due_at: now })
        .where('webhook_id', '=', webhookId)
        .where('status', '=', 'pending')
        .where('due_at', '>', now)
        // Only events waiting for a retry: one never tried is due at its ExecutionDelay, which saving
        // the webhook does not shorten (it went out at once, whatever the delay).
        .where('attempts', '>', 0)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async release(workerId, seqs) {
      if (seqs.length === 0) return 0;
      const set = { locked_by: null, locked_until: null };
      if (engine === 'postgres') {
        // Locked by seq, in one statement (a write outside a transaction is one on its own), as
        // Delete locks a webhook's events: a release taking them in table order and a Delete in due
        // order deadlocked (PostgreSQL aborted one after deadlock_timeout, 1 s).
        const r = await db
          .with('l', (q) => q.selectFrom('webhook_events').select('seq').where('seq', 'in', seqs).where('locked_by', '=', workerId).orderBy('seq').forNoKeyUpdate())
          .updateTable('webhook_events')
          .from('l')
          .set(set)
          .whereRef('webhook_events.seq', '=', 'l.seq')
          .where('webhook_events.locked_by', '=', workerId)
          .executeTakeFirst();
        return Number(r.numUpdatedRows);
      }
      const r = await db.updateTable('webhook_events').set(set).where('seq', 'in', seqs).where('locked_by', '=', workerId).executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async dropStale(workerId, seqs) {
      if (seqs.length === 0) return 0;
      if (engine === 'postgres') {
        // Locked by seq, as release locks them (the lock order above).
        const r = await db
          .with('l', (q) => q.selectFrom('webhook_events').select('seq').where('seq', 'in', seqs).where('locked_by', '=', workerId).orderBy('seq').forUpdate())
          .deleteFrom('webhook_events')
          .using('l')
          .whereRef('webhook_events.seq', '=', 'l.seq')
          .where('webhook_events.locked_by', '=', workerId)
          .returning('webhook_events.seq')
          .execute();
        await dropRetries(r.map((x) => Number(x.seq)));
        return r.length;
      }
      const r = await db.deleteFrom('webhook_events').where('seq', 'in', seqs).where('locked_by', '=', workerId).returning('seq').execute();
      await dropRetries(r.map((x) => Number(x.seq)));
      return r.length;
    },
    async releaseAll() {
      const r = await db.updateTable('webhook_events').set({ locked_by: null, locked_until: null }).where('locked_by', 'is not', null).executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async nextDueAt() {
      const r = await db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.min<number>('due_at').as('t'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return r?.t === null || r?.t === undefined ? null : Number(r.t);
    },
    async listDeliveries(accountId, q) {
      let base = db.selectFrom('webhook_deliveries').where('account_id', '=', accountId);
      if (q.webhookId !== undefined) base = base.where('webhook_id', '=', idKey(q.webhookId));
      if (q.eventId !== undefined) base = base.where('event_id', '=', idKey(q.eventId));
      const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
      const rows = await base.selectAll().orderBy('seq', 'desc').offset(q.offset).limit(q.limit).execute();
      return { total, deliveries: rows.map(toDelivery) };
    },
    async pendingCounts(accountId) {
      const rows = await db
        .selectFrom('webhook_events')
        .select(['webhook_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', 'pending')
        .where('account_id', '=', accountId)
        .groupBy('webhook_id')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.webhook_id, Number(r.n)]));
    },
    async resend(accountId, deliveryId, now) {
      const d = await db
        .selectFrom('webhook_deliveries')
        .select(['event_seq', 'event_id', 'webhook_id'])
        .where('account_id', '=', accountId)
        .where('id', '=', idKey(deliveryId))
        .executeTakeFirst();
      if (!d) return null;
      // Only while its webhook exists, held until the transaction ends (PostgreSQL: FOR KEY SHARE,
      // its row before its event, the lock order above): a Delete waits for this resend and then
      // deletes the event with the webhook's others, or this waits for the Delete and finds no webhook.
      // Checked without the hold, a resend and a Delete side by side each missed the other: the event
      // was left pending for a deleted webhook, never sent nor purged, after answering "resent".
      const hook = db.selectFrom('webhooks').select('id').where('account_id', '=', accountId).where('id', '=', d.webhook_id);
      if ((await (engine === 'postgres' ? hook.forKeyShare() : hook).executeTakeFirst()) === undefined) return null;
      const r = await db
        .updateTable('webhook_events')
        .set({ status: 'pending', attempts: 0, due_at: now, locked_by: null, locked_until: null, finished_at: null, last_error: null })
        .where('seq', '=', Number(d.event_seq))
        .where('account_id', '=', accountId)
        .where('webhook_id', '=', d.webhook_id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0 ? { eventId: d.event_id, webhookId: d.webhook_id } : null;
    },
    async purge(before) {
      const e = await db.deleteFrom('webhook_events').where('status', '<>', 'pending').where('finished_at', '<', before).executeTakeFirst();
      // A record goes with its event: kept while the event waits (a webhook disabled for weeks still shows
      // why) and for the retention after it finished, as an async request's status is.
      const d = await db
        .deleteFrom('webhook_deliveries')
        .where('at', '<', before)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('webhook_events as e')
                .select('e.seq')
                .whereRef('e.seq', '=', 'webhook_deliveries.event_seq')
                .where((x) => x.or([x('e.status', '=', 'pending'), x('e.finished_at', '>=', before)])),
            ),
          ),
        )
        .executeTakeFirst();
      return Number(e.numDeletedRows) + Number(d.numDeletedRows);
    },
    async dropOrphaned() {
      // SQLite's one writer runs a Delete and a write raising events one after the other: no orphan
      // can be made there, and the sweep would only hold the writer.
      if (engine !== 'postgres') return 0;
      // Pending events whose webhook is gone: raised by a write that committed as the webhook was
      // deleted (the header). A snapshot that shows an event shows its webhook unless a Delete has
      // committed: the webhook is written before any event for it, in the same transaction or an
      // earlier one.
      const orphaned = db
        .selectFrom('webhook_events as e')
        .select('e.seq')
        .where('e.status', '=', 'pending')
        .where((eb) => eb.not(eb.exists(eb.selectFrom('webhooks as w').select('w.id').whereRef('w.id', '=', 'e.webhook_id'))));
      // Skipping locked ones, it never waits (nor deadlocks); one skipped goes at the next sweep.
      const r = await db
        .with('o', () => orphaned.orderBy('e.seq').forUpdate('e').skipLocked())
        .deleteFrom('webhook_events')
        .using('o')
        .whereRef('webhook_events.seq', '=', 'o.seq')
        .returning('webhook_events.seq')
        .execute();
      await dropRetries(r.map((x) => Number(x.seq)));
      return r.length;
    },
    async lockAll(accountId) {
      // In one order (by id), as a path locking several webhooks must.
      if (engine === 'postgres') await db.selectFrom('webhooks').select('id').where('account_id', '=', accountId).orderBy('id').forKeyShare().execute();
    },
    async clearEvents(accountId) {
      await db.deleteFrom('webhook_events').where('account_id', '=', accountId).execute();
      await db.deleteFrom('webhook_deliveries').where('account_id', '=', accountId).execute();
      // The failures went with the deliveries that recorded them: the count starts again, and a
      // webhook disabled after failures is enabled again (one disabled by hand stays disabled).
      await db
        .updateTable('webhooks')
        .set({ consecutive_failures: 0, failure_epoch: sql`failure_epoch + 1`, next_probe_at: null, status: sql`case when status = 2 then 0 else status end` })
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('consecutive_failures', '>', 0), eb('status', '=', 2), eb('next_probe_at', 'is not', null)]))
        .execute();
    },
    async countByStatus() {
      const rows = await db.selectFrom('webhook_events').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
      const out = { pending: 0, delivered: 0, failed: 0 };
      for (const r of rows) if (r.status in out) out[r.status as keyof typeof out] = Number(r.n);
      return out;
    },
  };
}
