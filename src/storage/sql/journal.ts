/**
 * The request journal's table (migration 0007), one implementation for SQLite and PostgreSQL. Every
 * query names the account: one account's entries are never read, trimmed or cleared by another's call.
 */
import { sql } from 'kysely';
import { bodyBytes, type JournalBodyRef, type JournalEntry, type JournalRepo, type NewJournalEntry } from '../store.js';
import { insertRows } from './compiled.js';
import { containsPattern, containsText, mayContain } from './contains.js';
import { SCAN_BATCH, eachBatch, eachSeqRange, inSeqRange } from './seq-ranges.js';
import type { Db, Engine, JournalTable } from './schema.js';
import { idKey } from './ids.js';

type JournalRow = Omit<JournalTable, 'seq'> & { seq: number | string };

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

const toEntry = (r: JournalRow): JournalEntry => ({
  id: r.id,
  seq: Number(r.seq),
  accountId: r.account_id,
  at: Number(r.at),
  method: r.method,
  path: r.path,
  query: r.query,
  status: Number(r.status),
  latencyMs: Number(r.latency_ms),
  requestBody: r.request_body,
  responseBody: r.response_body,
  requestSize: num(r.request_size),
  responseSize: num(r.response_size),
  leadId: r.lead_id,
  activityId: r.activity_id,
  requestId: r.request_id,
});

const COLUMNS = [
  'id',
  'account_id',
  'at',
  'method',
  'path',
  'query',
  'status',
  'latency_ms',
  'request_body',
  'request_size',
  'response_body',
  'response_size',
  'lead_id',
  'activity_id',
  'request_id',
] as const;

/** The body columns: given to SQLite as UTF-8 bytes where the recorder packed them (insertRows' bytesAsText). */
const BODY_COLUMNS = ['request_body', 'response_body'] as const;

/**
 * A body as the engine takes it: text as it is; a reference into `chunks` as a Buffer over those
 * bytes (no copy) for SQLite, as text for PostgreSQL. Throws RangeError for a reference outside them.
 */
function bodyValue(body: string | JournalBodyRef | null, chunks: readonly Uint8Array[] | undefined, engine: Engine): string | Buffer | null {
  if (body === null || typeof body === 'string') return body;
  const view = bodyBytes(chunks, body);
  return engine === 'sqlite' ? view : view.toString('utf8');
}

const rowValues = (e: NewJournalEntry, chunks: readonly Uint8Array[] | undefined, engine: Engine): unknown[] => [
  e.id,
  e.accountId,
  e.at,
  e.method,
  e.path,
  e.query,
  e.status,
  e.latencyMs,
  bodyValue(e.requestBody, chunks, engine),
  e.requestSize,
  bodyValue(e.responseBody, chunks, engine),
  e.responseSize,
  e.leadId?.toLowerCase() ?? null,
  e.activityId?.toLowerCase() ?? null,
  e.requestId?.toLowerCase() ?? null,
];

export function journalRepo(db: Db, engine: Engine): JournalRepo {
  return {
    async insertMany(entries, chunks) {
      await insertRows(db, engine, 'journal', COLUMNS, entries.map((e) => rowValues(e, chunks, engine)), BODY_COLUMNS);
    },

    async list(accountId, f) {
      const limit = Math.max(0, Math.floor(f.limit));
      const ascending = f.afterSeq !== undefined;
      let q = db.selectFrom('journal').selectAll().where('account_id', '=', accountId);
      if (f.status !== undefined) q = q.where('status', '=', f.status);
      if (f.leadId) q = q.where('lead_id', '=', f.leadId.trim().toLowerCase());
      if (f.from !== undefined) q = q.where('at', '>=', f.from);
      if (f.to !== undefined) q = q.where('at', '<=', f.to);
      if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq);
      if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq);
      const read = (from: typeof q, n: number) => from.orderBy('seq', ascending ? 'asc' : 'desc').limit(n).execute() as Promise<JournalRow[]>;
      if (!f.path || limit === 0) return (await read(q, limit)).map(toEntry);
      // The path contains the text, ignoring case (contains.ts: the engine narrows, JavaScript
      // decides): the account's entries a stretch at a time (seq-ranges.ts) until `limit` match.
      const path = f.path;
      const matches = containsText(path);
      const pattern = containsPattern(path);
      if (pattern !== null) q = q.where(mayContain(engine, 'path', pattern));
      const found: JournalEntry[] = [];
      const from = ascending ? f.afterSeq : f.beforeSeq;
      const inStretch = q;
      await eachSeqRange(db, 'journal', accountId, { descending: !ascending, from, signal: f.signal }, (range) =>
        eachBatch(
          (past, batch) => {
            const stretch = inStretch.where(inSeqRange(range));
            return read(past === null ? stretch : stretch.where('seq', ascending ? '>' : '<', past), batch);
          },
          (r) => {
            if (matches(r.path)) found.push(toEntry(r));
            return found.length < limit;
          },
          Math.max(limit, SCAN_BATCH),
        ),
      );
      return found;
    },

    async get(accountId, id) {
      // Ids are GUIDs, which clients may send in upper case; ours are stored lower-case.
      const r = await db.selectFrom('journal').selectAll().where('account_id', '=', accountId).where('id', '=', idKey(id)).executeTakeFirst();
      return r ? toEntry(r as JournalRow) : null;
    },

    async trim(accountId, keep) {
      // The seq of the newest entry past `keep`; that entry and all older ones go (none when there is none).
      const res = await db
        .deleteFrom('journal')
        .where('account_id', '=', accountId)
        .where('seq', '<=', (eb) =>
          eb.selectFrom('journal').select('seq').where('account_id', '=', accountId).orderBy('seq', 'desc').limit(1).offset(Math.max(0, Math.floor(keep))),
        )
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    async purgeBefore(before) {
      // Entries are written in time order, so the old ones are the lowest seqs: delete up to the
      // first entry that is not old (found walking the primary key, no index on `at` needed).
      // An old entry written late, after a newer one, waits for the next purge past that one.
      const res = await db
        .deleteFrom('journal')
        .where('at', '<', before)
        .where((eb) =>
          eb.or([
            eb('seq', '<', eb.selectFrom('journal').select('seq').where('at', '>=', before).orderBy('seq').limit(1)),
            eb.not(eb.exists(eb.selectFrom('journal').select('seq').where('at', '>=', before))),
          ]),
        )
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    async clear(accountId) {
      const res = await db.deleteFrom('journal').where('account_id', '=', accountId).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
