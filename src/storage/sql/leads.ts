import { CompiledQuery, sql, type Kysely, type QueryCreator } from 'kysely';
import type { Lead, LeadFieldDef } from '../../domain/types.js';
import { UniqueViolation, type LeadFieldRepo, type LeadKey, type LeadRepo } from '../store.js';
import { asUniqueViolation, insertActivityRow } from './activities.js';
import { insertRows, precompiled } from './compiled.js';
import { containsPattern, containsText, mayContain } from './contains.js';
import { eachBatch, eachSeqRange, inSeqRange } from './seq-ranges.js';
import { isUniqueViolation, json, type DB, type Db, type Engine, type LeadRow } from './schema.js';

// Every lead write and lookup by key runs these: built and compiled once (see compiled.ts).
const leadById = precompiled((db, accountId: string, id: string) => db.selectFrom('leads').selectAll().where('account_id', '=', accountId).where('id', '=', id));
/**
 * Every activity post: the lead's score, count and latest activity, as one UPDATE … RETURNING on
 * `qb` (the database, or a WITH clause's query creator).
 */
function scoreUpdate(qb: QueryCreator<DB>, accountId: string, id: string, delta: number, activityId: string, activityName: string, on: number, now: number) {
  // A back-dated activity is not the lead's latest one. ModifiedOn is when the lead changed (its
  // score did): now, whatever the activity's date, and never backwards.
  const newer = sql<boolean>`(last_activity_on IS NULL OR last_activity_on <= ${on})`;
  return qb
    .updateTable('leads')
    .set({
      score: sql`score + ${delta}`,
      activity_count: sql`activity_count + 1`,
      engagement_score: sql`engagement_score + ${delta}`,
      last_activity_id: sql`CASE WHEN ${newer} THEN ${activityId} ELSE last_activity_id END`,
      last_activity_name: sql`CASE WHEN ${newer} THEN ${activityName} ELSE last_activity_name END`,
      last_activity_on: sql`CASE WHEN ${newer} THEN ${on} ELSE last_activity_on END`,
      modified_on: sql`CASE WHEN modified_on < ${now} THEN ${now} ELSE modified_on END`,
    })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll();
}
const scoreActivity = precompiled((db, accountId: string, id: string, delta: number, activityId: string, activityName: string, on: number, now: number) =>
  scoreUpdate(db, accountId, id, delta, activityId, activityName, on, now),
);
/**
 * PostgreSQL: the score update and the activity's insert in one statement (one round trip). The
 * insert takes the lead's row from the update, so no lead means no activity; PostgreSQL runs a
 * data-modifying WITH clause once, whether or not the query reads it. Its values are cast: in an
 * INSERT … SELECT a parameter does not take the column's type.
 */
const scoreAndInsert = precompiled(
  (db, accountId: string, leadId: string, delta: number, activityId: string, activityName: string, on: number, now: number, eventCode: number, note: string, ownerEmail: string | null, fields: string, requestId: string | null) =>
    db
      .with('l', (qb) => scoreUpdate(qb, accountId, leadId, delta, activityId, activityName, on, now))
      .with('a', (qb) =>
        qb
          .insertInto('activities')
          .columns(['id', 'account_id', 'lead_id', 'event_code', 'note', 'occurred_at', 'owner_email', 'fields', 'score', 'created_on', 'request_id'])
          .expression(
            qb
              .selectFrom('l')
              .select((eb) => [
                sql<string>`CAST(${activityId} AS text)`.as('id'),
                eb.ref('l.account_id').as('account_id'),
                eb.ref('l.id').as('lead_id'),
                sql<number>`CAST(${eventCode} AS integer)`.as('event_code'),
                sql<string>`CAST(${note} AS text)`.as('note'),
                sql<number>`CAST(${on} AS bigint)`.as('occurred_at'),
                sql<string | null>`CAST(${ownerEmail} AS text)`.as('owner_email'),
                sql<string>`CAST(${fields} AS text)`.as('fields'),
                sql<number>`CAST(${delta} AS bigint)`.as('score'),
                sql<number>`CAST(${now} AS bigint)`.as('created_on'),
                sql<string | null>`CAST(${requestId} AS text)`.as('request_id'),
              ]),
          ),
      )
      .selectFrom('l')
      .selectAll(),
);
/** Lead.Update and the like: the lead's fields, and its keys replaced (writeKeys). */
const updateLead = precompiled((db, accountId: string, id: string, fields: string, modifiedOn: number) =>
  db.updateTable('leads').set({ fields, modified_on: modifiedOn }).where('account_id', '=', accountId).where('id', '=', id),
);
/** Lead/Delete/ById: the lead's row (its dependents follow in statements of their own: remove). */
const deleteLeadRow = precompiled((db, accountId: string, id: string) => db.deleteFrom('leads').where('account_id', '=', accountId).where('id', '=', id));
const deleteLeadKeys = precompiled((db, accountId: string, leadId: string) => db.deleteFrom('lead_keys').where('account_id', '=', accountId).where('lead_id', '=', leadId));
/** A transaction-scoped lock on one lead key of an account (PostgreSQL; lockKeys): one SQL text, never compiled again. */
const LOCK_KEY_SQL = 'select pg_advisory_xact_lock(hashtextextended($1, 0))';
/** The account's next ProspectAutoId (see insert). */
const nextAutoId = precompiled((db, accountId: string) =>
  db
    .updateTable('accounts')
    .set({ last_lead_auto_id: sql`last_lead_auto_id + 1` })
    .where('id', '=', accountId)
    .returning('last_lead_auto_id'),
);
/**
 * nextAutoId as a statement of its own on PostgreSQL, committed without waiting for its flush to
 * disk (`synchronous_commit` off for its own transaction only). Safe: its commit record enters the
 * WAL before the number is returned, so the commit of any lead that uses the number, which is
 * flushed, flushes it too; after a crash, a number whose flush was lost belonged to no committed
 * lead. Waiting for that flush cost one disk flush for every new lead (a PostgreSQL seed of 1,000
 * leads took 1,000 of them), as a sequence's nextval does not.
 */
const nextAutoIdAutonomous = precompiled((db, accountId: string) =>
  db
    .updateTable('accounts')
    .set({ last_lead_auto_id: sql`last_lead_auto_id + 1` })
    .where('id', '=', accountId)
    .where(sql<boolean>`set_config('synchronous_commit', 'off', true) = 'off'`)
    .returning('last_lead_auto_id'),
);
const insertLead = precompiled(
  (db, autoId: number, id: string, accountId: string, fields: string, score: number, engagementScore: number, createdOn: number, modifiedOn: number) =>
    db.insertInto('leads').values({
      auto_id: autoId,
      id,
      account_id: accountId,
      fields,
      score,
      engagement_score: engagementScore,
      created_on: createdOn,
      modified_on: modifiedOn,
      last_activity_id: null,
      last_activity_name: null,
      last_activity_on: null,
    }),
);
const leadsByKey = precompiled((db, accountId: string, field: string, value: string) =>
  db
    .selectFrom('lead_keys as k')
    .innerJoin('leads as l', (j) => j.onRef('l.id', '=', 'k.lead_id').onRef('l.account_id', '=', 'k.account_id'))
    .selectAll('l')
    .where('k.account_id', '=', accountId)
    .where('k.field', '=', field)
    .where('k.value', '=', value)
    .orderBy('l.seq'),
);
// `is_unique = 1` written into the SQL, not bound: it is the WHERE of the partial index lead_keys_unique,
// and a bound value there made SQLite compare it with the index's at planning and prepare the
// statement again at every run (18.5 against 10.3 µs a lookup, a micro-benchmark). On PostgreSQL the
// literal also lets a prepared statement's generic plan use that index.
const uniqueKeyOwner = precompiled((db, accountId: string, field: string, value: string) =>
  db.selectFrom('lead_keys').select('lead_id').where('account_id', '=', accountId).where('field', '=', field).where('value', '=', value).where('is_unique', '=', sql.lit(1)),
);
import { searchRows, valueRows, writeValues } from './lead-search.js';
import { idKey } from './ids.js';


const toLead = (r: LeadRow): Lead => ({
  id: r.id,
  accountId: r.account_id,
  autoId: Number(r.auto_id),
  fields: json.read(r.fields, {}),
  score: Number(r.score),
  engagementScore: Number(r.engagement_score),
  createdOn: Number(r.created_on),
  modifiedOn: Number(r.modified_on),
  lastActivityId: r.last_activity_id,
  lastActivityName: r.last_activity_name,
  lastActivityOn: r.last_activity_on === null ? null : Number(r.last_activity_on),
});

async function writeKeys(db: Db, engine: Engine, accountId: string, leadId: string, keys: LeadKey[]): Promise<void> {
  if (keys.length === 0) return;
  try {
    await insertRows(db, engine, 'lead_keys', KEY_COLUMNS, keys.map((k) => [accountId, leadId, k.field, k.value, k.unique ? 1 : 0]));
  } catch (e) {
    if (isUniqueViolation(e)) throw new UniqueViolation(keys.map((k) => k.field).join(','));
    throw e;
  }
}

const KEY_COLUMNS = ['account_id', 'lead_id', 'field', 'value', 'is_unique'] as const;

/**
 * PostgreSQL: a new lead's row, its keys and its indexed values in one statement (one round trip
 * instead of three), whatever their number: the rows go as arrays, unnested, so the text is always
 * the same and stays prepared.
 */
const INSERT_LEAD_WITH_ROWS = `WITH l AS (
  INSERT INTO leads (auto_id, id, account_id, fields, score, engagement_score, created_on, modified_on, last_activity_id, last_activity_name, last_activity_on)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL)
), k AS (
  INSERT INTO lead_keys (account_id, lead_id, field, value, is_unique)
  SELECT $3, $2, t.field, t.value, t.is_unique FROM unnest($9::text[], $10::text[], $11::int[]) AS t(field, value, is_unique)
), v AS (
  INSERT INTO lead_values (account_id, lead_id, field, value, num)
  SELECT $3, $2, t.field, t.value, t.num FROM unnest($12::text[], $13::text[], $14::float8[]) AS t(field, value, num)
)
SELECT 1`;

async function insertLeadWithRows(db: Db, autoId: number, lead: Lead, keys: LeadKey[]): Promise<void> {
  const values = valueRows(lead.accountId, lead.id, lead.fields);
  const params = [
    autoId, lead.id, lead.accountId, json.write(lead.fields), lead.score, lead.engagementScore, lead.createdOn, lead.modifiedOn,
    keys.map((k) => k.field), keys.map((k) => k.value), keys.map((k) => (k.unique ? 1 : 0)),
    values.map((r) => r.field), values.map((r) => r.value), values.map((r) => r.num),
  ];
  try {
    await db.executeQuery(CompiledQuery.raw(INSERT_LEAD_WITH_ROWS, params));
  } catch (e) {
    // A unique key value taken (the only unique index of lead_keys), as writeKeys says it.
    if (isUniqueViolation(e) && (e as { constraint?: unknown }).constraint === 'lead_keys_unique') throw new UniqueViolation(keys.map((k) => k.field).join(','));
    throw e;
  }
}

export function leadRepo(db: Db, engine: Engine, autonomous?: Kysely<DB>): LeadRepo {
  /**
   * Calls `visit` with each lead of the account whose stored fields may contain `text`, newest
   * first, until it returns false or none are left. No index serves it: the account's leads are read
   * a stretch at a time, the event loop taking a turn between stretches (seq-ranges.ts).
   */
  const eachCandidate = async (accountId: string, text: string, signal: AbortSignal | undefined, visit: (lead: Lead) => boolean): Promise<void> => {
    const pattern = containsPattern(text, true);
    const contains = pattern === null ? null : mayContain(engine, 'fields', pattern);
    await eachSeqRange(db, 'leads', accountId, { descending: true, signal }, (range) =>
      eachBatch(
        (past, batch) => {
          let q = db.selectFrom('leads').selectAll().where('account_id', '=', accountId).where(inSeqRange(range));
          if (contains !== null) q = q.where(contains);
          if (past !== null) q = q.where('seq', '<', past);
          return q.orderBy('seq', 'desc').limit(batch).execute();
        },
        (r) => visit(toLead(r)),
      ),
    );
  };
  return {
    async insert(lead, keys) {
      // The account row numbers its leads (ProspectAutoId). On PostgreSQL the number is taken in a
      // statement of its own, outside the transaction (`autonomous`, like a sequence): holding the
      // account row locked to the commit made every batch that creates a lead wait for every other,
      // and deadlock with batches holding lead rows. A rolled-back create leaves a gap; a number is
      // never given twice. An account made in this same transaction is not visible outside it: its
      // first leads are numbered inside, where its row is ours anyway.
      const counter =
        (autonomous ? (await nextAutoIdAutonomous(autonomous, engine, lead.accountId)).rows[0] : undefined) ?? (await nextAutoId(db, engine, lead.accountId)).rows[0];
      if (!counter) throw new Error(`account ${lead.accountId} does not exist`);
      const autoId = Number(counter.last_lead_auto_id);
      if (engine === 'postgres') {
        await insertLeadWithRows(db, autoId, lead, keys);
        return autoId;
      }
      await insertLead(db, engine, autoId, lead.id, lead.accountId, json.write(lead.fields), lead.score, lead.engagementScore, lead.createdOn, lead.modifiedOn);
      await writeKeys(db, engine, lead.accountId, lead.id, keys);
      await writeValues(db, engine, lead.accountId, lead.id, lead.fields, true);
      return autoId;
    },
    async update(accountId, id, fields, keys, modifiedOn) {
      const r = await updateLead(db, engine, accountId, id, json.write(fields), modifiedOn);
      if (Number(r.numAffectedRows ?? 0n) === 0) return false;
      await deleteLeadKeys(db, engine, accountId, id);
      await writeKeys(db, engine, accountId, id, keys);
      await writeValues(db, engine, accountId, id, fields, false);
      return true;
    },
    async replaceKeys(accountId, id, keys) {
      await deleteLeadKeys(db, engine, accountId, id);
      await writeKeys(db, engine, accountId, id, keys);
    },
    async remove(accountId, id) {
      // Ids are GUIDs, which LeadSquared clients may send in upper case; ours are stored lower-case.
      const leadId = idKey(id);
      // The lead's row first: on PostgreSQL this waits for a transaction that holds it (an activity
      // post's UPDATE … RETURNING + INSERT, a lead update) to end. The DELETEs after it are statements
      // of their own, each with a snapshot taken after that wait, so they see the activity such a
      // transaction committed; one statement (a WITH clause) would read the snapshot taken before the
      // wait and leave that activity behind, its lead gone.
      const r = await deleteLeadRow(db, engine, accountId, leadId);
      if (Number(r.numAffectedRows ?? 0n) === 0) return false;
      await db.deleteFrom('activities').where('account_id', '=', accountId).where('lead_id', '=', leadId).execute();
      await deleteLeadKeys(db, engine, accountId, leadId);
      await db.deleteFrom('lead_values').where('account_id', '=', accountId).where('lead_id', '=', leadId).execute();
      return true;
    },
    async lockedAfter(accountId, afterAutoId, limit) {
      const q = db.selectFrom('leads').selectAll().where('account_id', '=', accountId).where('auto_id', '>', afterAutoId).orderBy('auto_id').limit(limit);
      const rows = await (engine === 'postgres' ? q.forNoKeyUpdate() : q).execute();
      return rows.map(toLead);
    },
    async get(accountId, id) {
      // Ids are GUIDs, which LeadSquared clients may send in upper case; ours are stored lower-case.
      const r = (await leadById(db, engine, accountId, idKey(id))).rows[0];
      return r ? toLead(r as LeadRow) : null;
    },
    async findByKey(accountId, field, value) {
      return (await leadsByKey(db, engine, accountId, field, value)).rows.map((r) => toLead(r as LeadRow));
    },
    async keyOwner(accountId, field, value) {
      return (await uniqueKeyOwner(db, engine, accountId, field, value)).rows[0]?.lead_id ?? null;
    },
    async addActivity(a, typeName) {
      // Ids are GUIDs, which LeadSquared clients may send in upper case; ours are stored lower-case.
      const leadId = idKey(a.leadId);
      if (engine === 'postgres') {
        const fields = json.write(a.fields);
        const r = await asUniqueViolation(a.requestId, () =>
          scoreAndInsert(db, engine, a.accountId, leadId, a.score, a.id, typeName, a.occurredAt, a.createdOn, a.eventCode, a.note, a.ownerEmail, fields, a.requestId),
        );
        return r.rows[0] ? toLead(r.rows[0] as LeadRow) : null;
      }
      const r = (await scoreActivity(db, engine, a.accountId, leadId, a.score, a.id, typeName, a.occurredAt, a.createdOn)).rows[0];
      if (!r) return null;
      const lead = toLead(r as LeadRow);
      await insertActivityRow(db, engine, { ...a, leadId: lead.id });
      return lead;
    },
    async list(accountId, { offset, limit, search, signal }) {
      if (!search) {
        const q = db.selectFrom('leads').where('account_id', '=', accountId);
        const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        const rows = await q.selectAll().orderBy('seq', 'desc').offset(offset).limit(limit).execute();
        return { total: Number(total.n), leads: rows.map(toLead) };
      }
      // Leads with a field value containing `search` (contains.ts: the engine narrows, JavaScript
      // decides), newest first; every match is counted, the page's are kept.
      const matches = containsText(search);
      let total = 0;
      const leads: Lead[] = [];
      await eachCandidate(accountId, search, signal, (lead) => {
        if (!Object.values(lead.fields).some((v) => typeof v === 'string' && matches(v))) return true;
        if (total >= offset && leads.length < limit) leads.push(lead);
        total += 1;
        return true;
      });
      return { total, leads };
    },
    async quickSearch(accountId, { text, inField, limit, signal }) {
      const found: Lead[] = [];
      if (limit <= 0) return found;
      const matches = containsText(text);
      await eachCandidate(accountId, text, signal, (lead) => {
        const hit = Object.entries(lead.fields).some(([k, v]) => typeof v === 'string' && inField(k) && matches(v));
        if (hit) found.push(lead);
        return found.length < limit;
      });
      return found;
    },
    async search(accountId, q) {
      const { total, rows } = await searchRows(db, accountId, q);
      return { total, leads: rows.map(toLead) };
    },
    async lockKeys(accountId, keys) {
      if (engine !== 'postgres') return false;
      for (const k of [...new Set(keys)].sort()) await db.executeQuery(CompiledQuery.raw(LOCK_KEY_SQL, [`${accountId}|${k}`]));
      return true;
    },
    async accountsKeyedBefore(version) {
      const rows = await db.selectFrom('accounts').select('id').where('lead_keys_version', '<', version).orderBy('id').execute();
      return rows.map((r) => r.id);
    },
    async setKeysVersion(accountId, version) {
      await db.updateTable('accounts').set({ lead_keys_version: version }).where('id', '=', accountId).execute();
    },
    async count(accountId) {
      const r = await db.selectFrom('leads').where('account_id', '=', accountId).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}

export function leadFieldRepo(db: Db): LeadFieldRepo {
  return {
    async list(accountId) {
      // By name in code-unit order, sorted here: ORDER BY schema_name followed PostgreSQL's collation
      // (en_US puts mx_Plan between JobTitle and Notes), SQLite's binary order put it after Website,
      // and every lead read lists the fields in this order (a review).
      const rows = (await db.selectFrom('lead_fields').selectAll().where('account_id', '=', accountId).execute()).sort((a, b) =>
        a.schema_name < b.schema_name ? -1 : a.schema_name > b.schema_name ? 1 : 0,
      );
      return rows.map(
        (r): LeadFieldDef => ({
          schemaName: r.schema_name,
          displayName: r.display_name,
          dataType: r.data_type,
          isUnique: Number(r.is_unique) === 1,
          isMandatory: Number(r.is_mandatory) === 1,
          maxLength: r.max_length === null ? null : Number(r.max_length),
          options: json.read<string[] | null>(r.options, null),
          isSystem: Number(r.is_system) === 1,
        }),
      );
    },
    async upsert(accountId, d) {
      const values = {
        account_id: accountId,
        schema_name: d.schemaName,
        display_name: d.displayName,
        data_type: d.dataType,
        is_unique: d.isUnique ? 1 : 0,
        is_mandatory: d.isMandatory ? 1 : 0,
        max_length: d.maxLength,
        options: d.options === null ? null : json.write(d.options),
        is_system: d.isSystem ? 1 : 0,
      };
      await db
        .insertInto('lead_fields')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['account_id', 'schema_name']).doUpdateSet({
            display_name: values.display_name,
            data_type: values.data_type,
            is_unique: values.is_unique,
            is_mandatory: values.is_mandatory,
            max_length: values.max_length,
            options: values.options,
          }),
        )
        .execute();
    },
  };
}
