/**
 * Lead search (Leads.Get, Leads.RecentlyModified, Leads/Retrieve/ByIds) and the index it runs on.
 *
 * A lead's fields live in one JSON text column (`leads.fields`), which no engine can index the same
 * way. So every field value is also written, on each lead insert and update, to `lead_values`
 * (migration 0004): one row per lead and field, the value trimmed and lower-cased (LeadSquared
 * compares text ignoring case) and, when it reads as a number, also as a number. Its indexes
 * (account_id, field, value) and (account_id, field, num) answer `=` and ranges on any field
 * without reading the account's leads; the system columns (created_on, modified_on, auto_id, id)
 * have their own indexes on `leads`.
 *
 * On PostgreSQL the `value` column is collated "C": text then orders by code point, as SQLite's
 * BINARY collation orders UTF-8, so ranges and sorting give the same answer on both engines.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FieldMap } from '../../domain/types.js';
import type { LeadCondition, LeadSearch, SearchColumn } from '../store.js';
import { insertRows, precompiled } from './compiled.js';
import type { DB, Db, Engine, LeadRow } from './schema.js';

/** Characters of a value that are indexed; longer values are kept by their first this many. */
export const VALUE_KEY_MAX = 200;
/** Ends a cut value, so that no lookup value (at most VALUE_KEY_MAX characters) equals it. */
const CUT = '\u0001';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** The indexed form of a text: trimmed, lower-cased, cut to VALUE_KEY_MAX characters (whole code points). */
export function valueKey(text: string): string {
  const chars = Array.from(text.trim().toLowerCase());
  return chars.length > VALUE_KEY_MAX ? chars.slice(0, VALUE_KEY_MAX).join('') + CUT : chars.join('');
}

/** A value as a number, when it reads as one (digits, sign, point). */
export function valueNumber(text: string): number | null {
  const t = text.trim();
  if (!NUMBER.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

interface ValueRow {
  account_id: string;
  lead_id: string;
  field: string;
  value: string;
  num: number | null;
}

/** The lead_values rows of one lead: each non-empty text field (custom field sets are not indexed). */
export function valueRows(accountId: string, leadId: string, fields: FieldMap): ValueRow[] {
  const rows: ValueRow[] = [];
  for (const [field, v] of Object.entries(fields)) {
    if (typeof v !== 'string' || v.trim() === '') continue;
    rows.push({ account_id: accountId, lead_id: leadId, field, value: valueKey(v), num: valueNumber(v) });
  }
  return rows;
}

const VALUE_COLUMNS = ['account_id', 'lead_id', 'field', 'value', 'num'] as const;

const deleteLeadValues = precompiled((db, accountId: string, leadId: string) => db.deleteFrom('lead_values').where('account_id', '=', accountId).where('lead_id', '=', leadId));

/**
 * Replaces the lead's indexed values (insert: nothing to delete, `fresh`). Through insertRows'
 * fixed statement texts: building the multi-row INSERT with Kysely for every new lead was 9% of a
 * Create by email of a new lead, by perf.
 */
export async function writeValues(db: Db, engine: Engine, accountId: string, leadId: string, fields: FieldMap, fresh: boolean): Promise<void> {
  if (!fresh) await deleteLeadValues(db, engine, accountId, leadId);
  await insertValues(db, engine, valueRows(accountId, leadId, fields));
}

const insertValues = (db: Db, engine: Engine, rows: ValueRow[]) =>
  insertRows(db, engine, 'lead_values', VALUE_COLUMNS, rows.map((r) => [r.account_id, r.lead_id, r.field, r.value, r.num]));

/** Migration 0004: indexes the values of every lead already stored, a batch of leads at a time. */
export async function backfillValues(db: Kysely<DB>, engine: Engine): Promise<void> {
  for (let after = 0; ; ) {
    const leads = await db.selectFrom('leads').select(['seq', 'account_id', 'id', 'fields']).where('seq', '>', after).orderBy('seq').limit(500).execute();
    if (leads.length === 0) return;
    const rows = leads.flatMap((l) => valueRows(l.account_id, l.id, JSON.parse(l.fields) as FieldMap));
    await insertValues(db, engine, rows);
    after = Number(leads[leads.length - 1].seq);
  }
}

/**
 * Migration 0012: leads stored without `DoNotEmail` or `DoNotCall` (or with an empty one) get "0",
 * in their fields and their indexed values. Their reads always showed "0" (wire/shapes.ts), but a
 * search for "0" found only leads whose flag had been written, so "leads we may email" missed most.
 * New leads are written with the flags (domain/leads.ts).
 *
 * The fields are written back as read, so on PostgreSQL each batch is read held (FOR NO KEY UPDATE,
 * until the migrations' transaction ends; row locks take no room in the lock table): an update an
 * older process (a rolling upgrade) commits meanwhile is read, not written over, and one that
 * comes later waits. Read unheld, such an update committed between the read and the write was
 * lost. SQLite's migrations hold its one write lock.
 */
export async function defaultContactFlags(db: Kysely<DB>, engine: Engine): Promise<void> {
  const flags = ['DoNotEmail', 'DoNotCall'];
  for (let after = 0; ; ) {
    const batch = db.selectFrom('leads').select(['seq', 'account_id', 'id', 'fields']).where('seq', '>', after).orderBy('seq').limit(500);
    const leads = await (engine === 'postgres' ? batch.forNoKeyUpdate() : batch).execute();
    if (leads.length === 0) return;
    const rows: ValueRow[] = [];
    for (const l of leads) {
      const fields = JSON.parse(l.fields) as FieldMap;
      const missing = flags.filter((f) => typeof fields[f] !== 'string' || (fields[f] as string).trim() === '');
      if (missing.length === 0) continue;
      for (const f of missing) {
        fields[f] = '0';
        rows.push({ account_id: l.account_id, lead_id: l.id, field: f, value: '0', num: 0 });
      }
      await db.updateTable('leads').set({ fields: JSON.stringify(fields) }).where('seq', '=', l.seq).execute();
    }
    await insertValues(db, engine, rows);
    after = Number(leads[leads.length - 1].seq);
  }
}

const COLUMNS: Record<SearchColumn, string> = {
  id: 'id',
  autoId: 'auto_id',
  createdOn: 'created_on',
  modifiedOn: 'modified_on',
  score: 'score',
  engagementScore: 'engagement_score',
};
const OPS = new Set(['=', '<>', '<', '>', '<=', '>=']);

/** A LIKE pattern as the client wrote it (% and _ are wildcards), lower-cased, with `!` as the escape on both engines. */
const likePattern = (p: string) => p.trim().toLowerCase().replace(/!/g, '!!');


/** Matches up to which a test counts as narrow (see searchRows). */
export const NARROW_MAX = 2000;

/** A column test on `l`, as SQL. */
function columnTest(c: Extract<LeadCondition, { kind: 'column' }>): RawBuilder<unknown> {
  const col = sql.ref(`l.${COLUMNS[c.column]}`);
  if (c.op === 'between') return sql`${col} BETWEEN ${c.value} AND ${c.to}`;
  if (c.op === 'outside') return sql`(${col} < ${c.value} OR ${col} > ${c.to})`;
  if (!OPS.has(c.op)) throw new Error(`bad operator ${c.op}`);
  return sql`${col} ${sql.raw(c.op)} ${c.column === 'id' ? String(c.value).trim().toLowerCase() : c.value}`;
}

/** The text before a LIKE pattern's first wildcard, lower-cased, and the least text above every text it starts. */
function likePrefix(pattern: string): { from: string; below: string } | null {
  const p = Array.from(pattern.trim().toLowerCase());
  const stop = p.findIndex((ch) => ch === '%' || ch === '_');
  const prefix = stop === -1 ? p : p.slice(0, stop);
  if (prefix.length === 0) return null;
  const last = prefix[prefix.length - 1].codePointAt(0)!;
  if (last >= 0x10ffff) return null;
  // The next code point, stepping over the surrogates (no text holds one alone).
  const next = last + 1 >= 0xd800 && last + 1 <= 0xdfff ? 0xe000 : last + 1;
  return { from: prefix.join(''), below: prefix.slice(0, -1).join('') + String.fromCodePoint(next) };
}

/**
 * A field test on the lead_values row `v`, as SQL. `indexed` false writes the value as an
 * expression, which no index serves: the query then walks the account's leads in sort order and
 * looks each one's value up, instead of reading every match from the value index to sort them.
 * A LIKE with a literal prefix is also a range of the index (both engines order values by code point).
 */
function fieldTest(v: RawBuilder<unknown>, c: Extract<LeadCondition, { kind: 'field' }>, indexed = true): RawBuilder<unknown> {
  const value = indexed ? sql`${v}.value` : sql`(${v}.value || '')`;
  if (c.op === 'like') {
    const like = sql`${value} LIKE ${likePattern(String(c.value))} ESCAPE '!'`;
    const range = indexed ? likePrefix(String(c.value)) : null;
    return range ? sql`${value} >= ${range.from} AND ${value} < ${range.below} AND ${like}` : like;
  }
  if (!OPS.has(c.op)) throw new Error(`bad operator ${c.op}`);
  if (typeof c.value === 'number') return sql`${indexed ? sql`${v}.num` : sql`(${v}.num + 0)`} ${sql.raw(c.op)} ${c.value}`;
  return sql`${value} ${sql.raw(c.op)} ${valueKey(c.value)}`;
}

/**
 * Whether a range, LIKE or number-column test matches at most NARROW_MAX leads of the account,
 * counted from its own index and stopping there. SQLite keeps no planner statistics: left alone it
 * walks the account's leads in sort order, which is quick when the test matches many (the page fills
 * at once) and a scan of the account when it matches few. A narrow test is made to drive the query
 * instead, and its few matches are sorted. `<>` and `outside` match nearly everything: never narrow.
 */
async function isNarrow(db: Db, accountId: string, c: LeadCondition, orderBy: LeadSearch['orderBy']): Promise<boolean> {
  if (c.kind === 'field' && c.op !== '<>') {
    const v = sql.raw('v');
    const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM (SELECT 1 FROM lead_values v
      WHERE v.account_id = ${accountId} AND v.field = ${c.field} AND ${fieldTest(v, c)} LIMIT ${NARROW_MAX + 1}) x`.execute(db);
    return Number(r.rows[0]?.n ?? 0) <= NARROW_MAX;
  }
  if (c.kind === 'column' && c.op !== '<>' && c.op !== 'outside' && !(orderBy.kind === 'column' && orderBy.column === c.column)) {
    const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM (SELECT 1 FROM leads l
      WHERE l.account_id = ${accountId} AND ${columnTest(c)} LIMIT ${NARROW_MAX + 1}) x`.execute(db);
    return Number(r.rows[0]?.n ?? 0) <= NARROW_MAX;
  }
  return false;
}

/** Runs a search; the caller maps rows to leads. */
export async function searchRows(db: Db, accountId: string, q: LeadSearch): Promise<{ total: number | null; rows: LeadRow[] }> {
  // A narrow field test (isNarrow: at most NARROW_MAX matches, e.g. `=` on an email) is answered
  // from the value index: its rows drive the join (SQLite's CROSS JOIN keeps that order; PostgreSQL,
  // which has statistics, plans freely), so a rare value never walks the account's leads. A broad one
  // walks the leads in sort order and stops when the page is full, instead of sorting every match.
  const driving: RawBuilder<unknown>[] = [];
  const joins: RawBuilder<unknown>[] = [];
  const where: RawBuilder<unknown>[] = [sql`l.account_id = ${accountId}`];
  const narrow = await Promise.all(q.where.map((c) => isNarrow(db, accountId, c, q.orderBy)));
  q.where.forEach((c: LeadCondition, i) => {
    if (c.kind === 'ids') {
      const ids = [...new Set(c.ids.map((id) => id.trim().toLowerCase()))];
      where.push(ids.length === 0 ? sql`1 = 0` : sql`l.id IN (${sql.join(ids)})`);
    } else if (c.kind === 'columnIn') {
      where.push(c.values.length === 0 ? sql`1 = 0` : sql`${sql.ref(`l.${COLUMNS[c.column]}`)} IN (${sql.join(c.values)})`);
    } else if (c.kind === 'fieldIn') {
      // As `=`: the value index drives, one index lookup per value.
      const v = sql.raw(`v${i}`);
      const nums = c.values.filter((x): x is number => typeof x === 'number');
      const texts = [...new Set(c.values.filter((x): x is string => typeof x === 'string').map(valueKey))];
      const tests: RawBuilder<unknown>[] = [];
      if (nums.length > 0) tests.push(sql`${v}.num IN (${sql.join(nums)})`);
      if (texts.length > 0) tests.push(sql`${v}.value IN (${sql.join(texts)})`);
      driving.push(sql`lead_values ${v} CROSS JOIN`);
      const test = tests.length === 0 ? sql`1 = 0` : tests.length === 1 ? tests[0] : sql`(${sql.join(tests, sql` OR `)})`;
      where.push(sql`${v}.account_id = ${accountId} AND ${v}.field = ${c.field} AND ${test} AND l.id = ${v}.lead_id AND l.account_id = ${v}.account_id`);
    } else if (c.kind === 'column') {
      where.push(columnTest(c));
    } else {
      const v = sql.raw(`v${i}`);
      if (narrow[i]) {
        driving.push(sql`lead_values ${v} CROSS JOIN`);
        where.push(sql`${v}.account_id = ${accountId} AND ${v}.field = ${c.field} AND ${fieldTest(v, c)} AND l.id = ${v}.lead_id AND l.account_id = ${v}.account_id`);
      } else {
        // Many matches (or `<>`): walk the leads in sort order, each one's value looked up by lead.
        joins.push(sql`JOIN lead_values ${v} ON ${v}.account_id = l.account_id AND ${v}.lead_id = l.id AND ${v}.field = ${c.field} AND ${fieldTest(v, c, false)}`);
      }
    }
  });
  // With a few leads picked by id, by an `=` value or by a narrow test, SQLite must not prefer
  // walking the account in sort-column order (an index that avoids sorting); sorting by an
  // expression rules that out.
  const selective = narrow.some(Boolean) || q.where.some((c) => c.kind === 'ids' || c.kind === 'columnIn' || c.kind === 'fieldIn');
  const from = sql`${sql.join(driving, sql` `)} leads l ${sql.join(joins, sql` `)}`;
  const cond = sql.join(where, sql` AND `);
  const dir = sql.raw(q.descending ? 'DESC' : 'ASC');
  // A lead without a value for the sort field sorts as the smallest, as on SQL Server: first
  // ascending, last descending. Columns are never null, and say nothing, so that PostgreSQL can
  // read them in index order.
  let nulls = sql``;
  let sortJoin = sql``;
  let key: RawBuilder<unknown>;
  if (q.orderBy.kind === 'column') {
    const col = sql.ref(`l.${COLUMNS[q.orderBy.column]}`);
    key = !selective ? col : q.orderBy.column === 'id' ? sql`(${col} || '')` : sql`(${col} + 0)`;
  }
  else {
    nulls = sql.raw(q.descending ? 'NULLS LAST' : 'NULLS FIRST');
    sortJoin = sql`LEFT JOIN lead_values s ON s.account_id = l.account_id AND s.lead_id = l.id AND s.field = ${q.orderBy.field}`;
    key = q.orderBy.numeric ? sql`s.num` : sql`s.value`;
  }
  const rows = await sql<LeadRow>`SELECT l.* FROM ${from} ${sortJoin} WHERE ${cond}
    ORDER BY ${key} ${dir} ${nulls}, l.seq ${dir} LIMIT ${q.limit} OFFSET ${q.offset}`.execute(db);
  let total: number | null = null;
  if (q.count) {
    const r = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${from} WHERE ${cond}`.execute(db);
    total = Number(r.rows[0]?.n ?? 0);
  }
  return { total, rows: rows.rows };
}
