import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { AsyncRequest, RequestKind, RequestStatus } from '../../domain/types.js';
import type { QueueName, RequestOutcome, RequestRepo } from '../store.js';
import { insertRows, precompiled } from './compiled.js';
import { json, type AsyncRequestsTable, type DB, type Db, type Engine } from './schema.js';
import { idKey } from './ids.js';

type RequestRow = Omit<AsyncRequestsTable, 'seq'> & { seq: number };

/** Every async request the worker applies ends here: built and compiled once (see compiled.ts). */
const finishRunning = precompiled((db, id: string, workerId: string, status: RequestOutcome['status'], statusReason: string, message: string | null, at: number) =>
  db
    .updateTable('async_requests')
    .set({ status, status_reason: statusReason, message, finished_at: at, locked_by: null, locked_until: null })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('locked_by', '=', workerId),
);

const toRequest = (r: RequestRow): AsyncRequest => ({
  id: r.id,
  accountId: r.account_id,
  seq: Number(r.seq),
  kind: r.kind as RequestKind,
  body: r.body,
  params: json.read(r.params, {}),
  orderKey: r.order_key,
  status: r.status as RequestStatus,
  statusReason: r.status_reason,
  message: r.message,
  attempts: Number(r.attempts),
  runAt: Number(r.run_at),
  lockedBy: r.locked_by,
  lockedUntil: r.locked_until === null ? null : Number(r.locked_until),
  lastError: r.last_error,
  createdAt: Number(r.created_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  userId: r.user_id ?? null,
});

const UNFINISHED = ['queued', 'running'];

/**
 * PostgreSQL NOTIFY channels, one per queue, so that each wakes only its own workers (Store.onQueued,
 * postgres/listener.ts): with one channel an async accept woke the webhook workers too, each of which
 * then looked for events in two round trips, on every accept batch.
 */
export const CHANNEL_OF: Record<QueueName, string> = { requests: 'leadtrail_queued', 'webhook-events': 'leadtrail_webhook_events' };
/**
 * The NOTIFY sent in a transaction that queues work: delivered when it commits, to every listener on
 * the database; the payload names the schema, so deployments sharing a database wake only their own.
 */
const notify = (queue: QueueName) => CompiledQuery.raw(`select pg_notify('${CHANNEL_OF[queue]}', current_schema())`);
export const NOTIFY_OF: Record<QueueName, CompiledQuery> = { requests: notify('requests'), 'webhook-events': notify('webhook-events') };

/** The columns a new request is inserted with, in the order of insertMany's row values. */
const REQUEST_COLUMNS = [
  'id',
  'account_id',
  'kind',
  'body',
  'params',
  'order_key',
  'status',
  'status_reason',
  'message',
  'attempts',
  'run_at',
  'locked_by',
  'locked_until',
  'last_error',
  'created_at',
  'finished_at',
  'user_id',
] as const;

/**
 * The queued requests due at `now`, oldest due first, at most `limit`.
 *
 * A request is due when it is queued, its back-off has passed, and nothing accepted before it
 * for the same order key (lead) is still unfinished: that is what keeps per-lead order, also
 * while an earlier request waits for a retry. On PostgreSQL, SKIP LOCKED lets workers claim side
 * by side without waiting on each other; a row another worker is claiming still counts as
 * "queued" in the NOT EXISTS check, so its successors stay out of reach.
 * Oldest due first, in the order of the (status, run_at, seq) index: the scan stops after
 * `limit` eligible rows. Ordering by seq alone made SQLite test and sort the whole backlog on
 * every claim (10+ ms at 5k queued). Per-lead order does not depend on it (NOT EXISTS does that).
 */
function dueRequests(db: Kysely<DB>, now: number, limit: number) {
  return (
    db
      .selectFrom('async_requests as r')
      .select('r.seq')
      .where('r.status', '=', 'queued')
      .where('r.run_at', '<=', now)
      // No earlier request of the same order key unfinished. Asked in full on both engines: found
      // by (account_id, order_key, status, seq), it is two seeks however many finished requests
      // the key has. SQLite had asked only whether the one just before was finished, as if finished
      // requests were always a prefix; a console "Retry now" of an older request in ERROR breaks
      // that, and a newer request of its lead then ran before it (a fresh-eyes run), while on
      // PostgreSQL it waited. PostgreSQL needs the full question anyway: with several API
      // processes (or overlapping transactions) seq order is not commit order, r1 takes its seq
      // before r2 but commits after it, r2 may finish first, and r3 must still wait for r1
      // (test/contract/postgres.test.ts, "concurrent writers").
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('async_requests as p')
              .select('p.seq')
              .whereRef('p.account_id', '=', 'r.account_id')
              .whereRef('p.order_key', '=', 'r.order_key')
              .where('p.status', 'in', UNFINISHED)
              .whereRef('p.seq', '<', 'r.seq'),
          ),
        ),
      )
      .orderBy('r.run_at')
      .orderBy('r.seq')
      .limit(limit)
  );
}

// The worker claims often (every poll, in small batches under load): building these with Kysely
// each time was about 7% of the event loop under async load, by perf. Built and compiled once.

/**
 * PostgreSQL: one statement, so the row locks taken by the SKIP LOCKED select are held until the
 * UPDATE commits and a concurrent claimer skips exactly the rows this one takes. The select sits in
 * a CTE: as a plain IN (subquery) the planner may run it more than once and the LIMIT no longer
 * bounds the claim.
 */
const claimPostgres = precompiled((db, now: number, limit: number, workerId: string, lockedUntil: number) =>
  db
    .with('c', () => dueRequests(db, now, limit).forUpdate().skipLocked())
    .updateTable('async_requests')
    .set({ status: 'running', locked_by: workerId, locked_until: lockedUntil })
    .where('seq', 'in', (eb) => eb.selectFrom('c').select('c.seq'))
    .where('status', '=', 'queued')
    .returningAll(),
);
/** When the next queued request falls due: the worker asks each time it runs out of work. */
const nextDue = precompiled((db) => db.selectFrom('async_requests').where('status', '=', 'queued').select((eb) => eb.fn.min('run_at').as('t')));
/** When the oldest unfinished request of any account was accepted (the metrics gauge; along the `(status, …)` index). */
const oldestPending = precompiled((db) => db.selectFrom('async_requests').where('status', 'in', UNFINISHED).select((eb) => eb.fn.min('created_at').as('t')));
/** One request of an account, for the status calls (a read on every poll): built and compiled once. */
const requestById = precompiled((db, accountId: string, id: string) => db.selectFrom('async_requests').selectAll().where('account_id', '=', accountId).where('id', '=', id));
/** What a status call reads of one request (RequestStatusView), for every poll: built and compiled once. */
const requestStatusById = precompiled((db, accountId: string, id: string) =>
  db
    .selectFrom('async_requests')
    .select(['id', 'kind', 'status', 'status_reason', 'attempts', 'last_error', 'body', 'message'])
    .where('account_id', '=', accountId)
    .where('id', '=', id),
);
/** The async metrics calls (clients poll them): an account's unfinished requests of one kind, and those finished since a time. */
const pendingOfKind = precompiled((db, accountId: string, kind: string) =>
  db
    .selectFrom('async_requests')
    .where('account_id', '=', accountId)
    .where('kind', '=', kind)
    .where('status', 'in', UNFINISHED)
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')]),
);
const finishedOfKindSince = precompiled((db, accountId: string, kind: string, since: number) =>
  db
    .selectFrom('async_requests')
    .where('account_id', '=', accountId)
    .where('kind', '=', kind)
    .where('finished_at', '>=', since)
    .select((eb) => eb.fn.countAll<number>().as('n')),
);
/** SQLite: the due requests, then (same transaction, one writer) those of them still queued are taken. */
const dueSqlite = precompiled((db, now: number, limit: number) => dueRequests(db, now, limit));
/** `seqs` is a JSON array of seq numbers: one statement text whatever their count. */
const takeSqlite = precompiled((db, workerId: string, lockedUntil: number, seqs: string) =>
  db
    .updateTable('async_requests')
    .set({ status: 'running', locked_by: workerId, locked_until: lockedUntil })
    .where('seq', 'in', sql<number>`(SELECT value FROM json_each(${seqs}))`)
    .where('status', '=', 'queued')
    .returningAll(),
);

export function requestRepo(db: Db, engine: Engine): RequestRepo {
  return {
    async insertMany(reqs) {
      if (reqs.length === 0) return;
      await insertRows(
        db,
        engine,
        'async_requests',
        REQUEST_COLUMNS,
        reqs.map((r) => [r.id, r.accountId, r.kind, r.body, json.write(r.params), r.orderKey, 'queued', null, null, 0, r.createdAt, null, null, null, r.createdAt, null, r.userId ?? null]),
      );
      if (engine === 'postgres') await db.executeQuery(NOTIFY_OF.requests);
    },
    async get(accountId, id) {
      // Ids are GUIDs, which clients may send in upper case; ours are stored lower-case.
      const r = (await requestById(db, engine, accountId, idKey(id))).rows[0];
      return r ? toRequest(r) : null;
    },

    async getStatus(accountId, id) {
      const r = (await requestStatusById(db, engine, accountId, idKey(id))).rows[0];
      return r
        ? {
            id: r.id,
            kind: r.kind as RequestKind,
            status: r.status as RequestStatus,
            statusReason: r.status_reason,
            attempts: Number(r.attempts),
            lastError: r.last_error,
            body: r.body,
            message: r.message,
          }
        : null;
    },
    async claim(workerId, limit, now, lockedUntil) {
      if (engine === 'postgres') {
        const rows = (await claimPostgres(db, engine, now, limit, workerId, lockedUntil)).rows;
        return rows.map(toRequest).sort((a, b) => a.seq - b.seq);
      }
      const seqs = (await dueSqlite(db, engine, now, limit)).rows.map((r) => Number(r.seq));
      if (seqs.length === 0) return [];
      const rows = (await takeSqlite(db, engine, workerId, lockedUntil, JSON.stringify(seqs))).rows;
      return rows.map(toRequest).sort((a, b) => a.seq - b.seq);
    },
    async finish(id, workerId, o) {
      const r = await finishRunning(db, engine, id, workerId, o.status, o.statusReason, o.message, o.at);
      return Number(r.numAffectedRows ?? 0n) > 0;
    },
    async retry(id, workerId, attempts, runAt, lastError) {
      const r = await db
        .updateTable('async_requests')
        .set({ status: 'queued', attempts, run_at: runAt, last_error: lastError, locked_by: null, locked_until: null })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async releaseExpired(now) {
      const r = await db
        .updateTable('async_requests')
        .set((eb) => ({
          status: 'queued',
          attempts: eb('attempts', '+', 1),
          last_error: 'worker lease expired (the worker stopped mid-processing)',
          locked_by: null,
          locked_until: null,
        }))
        .where('status', '=', 'running')
        .where('locked_until', '<', now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async releaseAll() {
      const r = await db
        .updateTable('async_requests')
        .set((eb) => ({
          status: 'queued',
          attempts: eb('attempts', '+', 1),
          last_error: 'interrupted by a restart mid-processing',
          locked_by: null,
          locked_until: null,
        }))
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async purgeFinished(before) {
      const r = await db
        .deleteFrom('async_requests')
        .where('status', 'in', ['succeeded', 'failed', 'errored'])
        .where('finished_at', '<', before)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async metrics(accountId, kind, now, windowMs) {
      const pending = (await pendingOfKind(db, engine, accountId, kind)).rows[0];
      const done = (await finishedOfKindSince(db, engine, accountId, kind, now - windowMs)).rows[0];
      return {
        pending: Number(pending.n),
        oldestPendingAt: pending.oldest === null || pending.oldest === undefined ? null : Number(pending.oldest),
        finishedInWindow: Number(done.n),
      };
    },
    async list(accountId, { offset, limit, status, kind }) {
      let q = db.selectFrom('async_requests').where('account_id', '=', accountId);
      if (status) q = q.where('status', '=', status);
      if (kind) q = q.where('kind', '=', kind);
      const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const rows = await q.selectAll().orderBy('seq', 'desc').offset(offset).limit(limit).execute();
      return { total: Number(total.n), requests: rows.map(toRequest) };
    },
    async countByStatus(accountId) {
      let q = db.selectFrom('async_requests').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status');
      if (accountId !== null) q = q.where('account_id', '=', accountId);
      const out: Record<RequestStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, errored: 0 };
      for (const r of await q.execute()) out[r.status as RequestStatus] = Number(r.n);
      return out;
    },
    async makeDue(accountId, now) {
      const r = await db
        .updateTable('async_requests')
        .set({ run_at: now })
        .where('account_id', '=', accountId)
        .where('status', '=', 'queued')
        .where('run_at', '>', now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async requeue(accountId, id, now) {
      const r = await db
        .updateTable('async_requests')
        .set({ status: 'queued', attempts: 0, run_at: now, status_reason: null, finished_at: null, locked_by: null, locked_until: null })
        .where('account_id', '=', accountId)
        .where('id', '=', idKey(id))
        .where('status', '=', 'errored')
        .executeTakeFirst();
      const ok = Number(r.numUpdatedRows) > 0;
      if (ok && engine === 'postgres') await db.executeQuery(NOTIFY_OF.requests);
      return ok;
    },
    async perMinute(accountId, since) {
      const minute = (col: string) => sql<number>`(${sql.ref(col)} - (${sql.ref(col)} % 60000))`;
      // Two indexed range reads (created_at and finished_at per account), grouped by minute.
      const accepted = await db
        .selectFrom('async_requests')
        .select([minute('created_at').as('m'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('account_id', '=', accountId)
        .where('created_at', '>=', since)
        .groupBy(sql`1`)
        .execute();
      const finished = await db
        .selectFrom('async_requests')
        .select([minute('finished_at').as('m'), 'status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('account_id', '=', accountId)
        .where('finished_at', '>=', since)
        .groupBy([sql`1`, 'status'])
        .execute();
      const out = new Map<number, { minute: number; accepted: number; processed: number; failed: number }>();
      const at = (m: number) => out.get(m) ?? (out.set(m, { minute: m, accepted: 0, processed: 0, failed: 0 }), out.get(m)!);
      for (const r of accepted) at(Number(r.m)).accepted += Number(r.n);
      for (const r of finished) {
        if (r.status === 'succeeded') at(Number(r.m)).processed += Number(r.n);
        else if (r.status === 'failed' || r.status === 'errored') at(Number(r.m)).failed += Number(r.n);
      }
      return [...out.values()].sort((a, b) => a.minute - b.minute);
    },
    async nextRunAt() {
      const r = (await nextDue(db, engine)).rows[0];
      return r?.t === null || r?.t === undefined ? null : Number(r.t);
    },
    async oldestPendingAt() {
      const r = (await oldestPending(db, engine)).rows[0];
      return r?.t === null || r?.t === undefined ? null : Number(r.t);
    },
  };
}
