import { sql } from 'kysely';
import type { Activity, ActivityType, ListedActivity } from '../../domain/types.js';
import { UniqueViolation, type ActivityRepo, type ActivityTypeRepo } from '../store.js';
import { precompiled } from './compiled.js';
import { isUniqueViolation, json, type ActivitiesTable, type ActivityTypesTable, type Db, type Engine } from './schema.js';
import { idKey } from './ids.js';

/** One activity (GetActivityDetails, CustomActivity/Update). */
const activityById = precompiled((db, accountId: string, id: string) => db.selectFrom('activities').selectAll().where('account_id', '=', accountId).where('id', '=', id));
/** CustomActivity/Update: note and fields; the time it was changed only when given (null keeps it). */
const updateActivity = precompiled((db, accountId: string, id: string, note: string, fields: string, modifiedOn: number | null) =>
  db
    .updateTable('activities')
    .set({ note, fields, modified_on: sql<number>`coalesce(${modifiedOn}, modified_on)` })
    .where('account_id', '=', accountId)
    .where('id', '=', id),
);
// The queries of every activity post, built and compiled once (see compiled.ts).
const typeByCode = precompiled((db, accountId: string, code: number) =>
  db.selectFrom('activity_types').selectAll().where('account_id', '=', accountId).where('code', '=', code),
);
const insertActivity = precompiled(
  (db, id: string, accountId: string, leadId: string, eventCode: number, note: string, occurredAt: number, ownerEmail: string | null, fields: string, score: number, createdOn: number, requestId: string | null) =>
    db.insertInto('activities').values({
      id,
      account_id: accountId,
      lead_id: leadId,
      event_code: eventCode,
      note,
      occurred_at: occurredAt,
      owner_email: ownerEmail,
      fields,
      score,
      created_on: createdOn,
      request_id: requestId,
    }),
);

/**
 * Inserts one activity row as given (its lead is not checked). Throws UniqueViolation when an
 * activity already answers `a.requestId`.
 */
export async function insertActivityRow(db: Db, engine: Engine, a: Omit<Activity, 'seq'>): Promise<void> {
  await asUniqueViolation(a.requestId, () =>
    insertActivity(db, engine, a.id, a.accountId, a.leadId, a.eventCode, a.note, a.occurredAt, a.ownerEmail, json.write(a.fields), a.score, a.createdOn, a.requestId),
  );
}

/** Runs `write`, turning the unique index on activities' request ids into UniqueViolation. */
export async function asUniqueViolation<T>(requestId: string | null, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new UniqueViolation(`activity for request ${requestId}`);
    throw e;
  }
}

/** Custom activity codes start here, as in LeadSquared accounts. */
/** `Retrieve` (a lead's activities, newest first): the lead row's count and a page, built once (compiled.ts). */
const activityCountOfLead = precompiled((db, accountId: string, leadId: string) =>
  db.selectFrom('leads').select('activity_count').where('account_id', '=', accountId).where('id', '=', leadId),
);
/** The columns a listed activity is made of (ListedActivity): 9 of 13. */
const LISTED_COLUMNS = ['id', 'seq', 'event_code', 'note', 'occurred_at', 'owner_email', 'fields', 'score', 'request_id'] as const;
const leadActivityPage = precompiled((db, accountId: string, leadId: string, limit: number, offset: number) =>
  db.selectFrom('activities').select(LISTED_COLUMNS).where('account_id', '=', accountId).where('lead_id', '=', leadId).orderBy('occurred_at', 'desc').orderBy('seq', 'desc').limit(limit).offset(offset),
);

export const FIRST_CUSTOM_CODE = 201;

const toType = (r: ActivityTypesTable): ActivityType => ({
  accountId: r.account_id,
  code: Number(r.code),
  name: r.name,
  displayName: r.display_name,
  description: r.description,
  score: Number(r.score),
  direction: Number(r.direction),
  isSystem: Number(r.is_system) === 1,
  fields: json.read(r.fields, []),
  settings: json.read(r.settings, {}),
  createdOn: Number(r.created_on),
});

export function activityTypeRepo(db: Db, engine: Engine): ActivityTypeRepo {
  return {
    async insert(t) {
      try {
        await db
          .insertInto('activity_types')
          .values({
            account_id: t.accountId,
            code: t.code,
            name: t.name,
            display_name: t.displayName,
            description: t.description,
            score: t.score,
            direction: t.direction,
            is_system: t.isSystem ? 1 : 0,
            fields: json.write(t.fields),
            settings: json.write(t.settings),
            created_on: t.createdOn,
          })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw new UniqueViolation(`activity type ${t.code}`);
        throw e;
      }
    },
    async get(accountId, code) {
      const [r] = (await typeByCode(db, engine, accountId, code)).rows;
      return r ? toType(r) : null;
    },
    async list(accountId) {
      const rows = await db.selectFrom('activity_types').selectAll().where('account_id', '=', accountId).orderBy('code').execute();
      return rows.map(toType);
    },
    async nextCustomCode(accountId) {
      const r = await db
        .selectFrom('activity_types')
        .where('account_id', '=', accountId)
        .where('is_system', '=', 0)
        .where('code', '>=', FIRST_CUSTOM_CODE)
        .where('code', '<', 12000)
        .select((eb) => eb.fn.max('code').as('m'))
        .executeTakeFirst();
      const m = r?.m === null || r?.m === undefined ? null : Number(r.m);
      return m === null ? FIRST_CUSTOM_CODE : m + 1;
    },
    async update(t) {
      const r = await db
        .updateTable('activity_types')
        .set({
          name: t.name,
          display_name: t.displayName,
          description: t.description,
          score: t.score,
          direction: t.direction,
          fields: json.write(t.fields),
          settings: json.write(t.settings),
        })
        .where('account_id', '=', t.accountId)
        .where('code', '=', t.code)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async findByName(accountId, name) {
      const rows = await db.selectFrom('activity_types').selectAll().where('account_id', '=', accountId).execute();
      const lower = name.toLowerCase();
      const r = rows.find((x) => x.name.toLowerCase() === lower);
      return r ? toType(r) : null;
    },
  };
}

type ActivityRow = Omit<ActivitiesTable, 'seq'> & { seq: number };

const toActivity = (r: ActivityRow): Activity => ({
  id: r.id,
  accountId: r.account_id,
  leadId: r.lead_id,
  seq: Number(r.seq),
  eventCode: Number(r.event_code),
  note: r.note,
  occurredAt: Number(r.occurred_at),
  ownerEmail: r.owner_email,
  fields: json.read(r.fields, {}),
  score: Number(r.score),
  createdOn: Number(r.created_on),
  requestId: r.request_id,
  modifiedOn: r.modified_on === null || r.modified_on === undefined ? null : Number(r.modified_on),
});

/** A row of LISTED_COLUMNS as the activity it lists. */
const toListed = (r: Pick<ActivityRow, (typeof LISTED_COLUMNS)[number]>): ListedActivity => ({
  id: r.id,
  seq: Number(r.seq),
  eventCode: Number(r.event_code),
  note: r.note,
  occurredAt: Number(r.occurred_at),
  ownerEmail: r.owner_email,
  fields: json.read(r.fields, {}),
  score: Number(r.score),
  requestId: r.request_id,
});

/** An activity's ModifiedOn: its last update, else its creation. The same text as the 0009 indexes, so both engines use them. */
const MODIFIED = sql.raw('COALESCE(modified_on, created_on)');

export function activityRepo(db: Db, engine: Engine): ActivityRepo {
  return {
    insert: (a) => insertActivityRow(db, engine, a),
    async get(accountId, id) {
      // Ids are GUIDs, which LeadSquared clients may send in upper case; ours are stored lower-case.
      const r = (await activityById(db, engine, accountId, idKey(id))).rows[0];
      return r ? toActivity(r) : null;
    },
    async update(accountId, id, change) {
      const r = await updateActivity(db, engine, accountId, idKey(id), change.note, json.write(change.fields), change.modifiedOn ?? null);
      return Number(r.numAffectedRows ?? 0n) > 0;
    },
    async listForLead(accountId, q) {
      const leadId = idKey(q.leadId);
      // All of a lead's activities: the lead row holds their count (migration 0005), which a million
      // activities would otherwise make slow to count on every page. One event code: counted.
      if (q.eventCode === undefined) {
        const total = Number((await activityCountOfLead(db, engine, accountId, leadId)).rows[0]?.activity_count ?? 0);
        const rows = (await leadActivityPage(db, engine, accountId, leadId, q.limit, q.offset)).rows;
        return { total, activities: rows.map(toListed) };
      }
      const base = db.selectFrom('activities').where('account_id', '=', accountId).where('lead_id', '=', leadId).where('event_code', '=', q.eventCode);
      const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const rows = await base.select(LISTED_COLUMNS).orderBy('occurred_at', 'desc').orderBy('seq', 'desc').offset(q.offset).limit(q.limit).execute();
      return { total, activities: rows.map(toListed) };
    },
    async listByEvent(accountId, q) {
      // Served by activities_event (account_id, event_code, occurred_at): an index range, not a scan.
      let base = db.selectFrom('activities').where('account_id', '=', accountId).where('event_code', '=', q.eventCode);
      if (q.from !== null) base = base.where('occurred_at', '>=', q.from);
      if (q.to !== null) base = base.where('occurred_at', '<=', q.to);
      const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const dir = q.descending ? 'desc' : 'asc';
      const rows = await base.selectAll().orderBy('occurred_at', dir).orderBy('seq', dir).offset(q.offset).limit(q.limit).execute();
      return { total: Number(total.n), activities: rows.map(toActivity) };
    },
    async listModified(accountId, q) {
      // Served by activities_modified (account_id, ModifiedOn) or, with an event code,
      // activities_event_modified (account_id, event_code, ModifiedOn): an index range, not a scan.
      let base = db.selectFrom('activities').where('account_id', '=', accountId);
      if (q.eventCode !== undefined) base = base.where('event_code', '=', q.eventCode);
      if (q.from !== null) base = base.where(sql<boolean>`${MODIFIED} >= ${q.from}`);
      if (q.to !== null) base = base.where(sql<boolean>`${MODIFIED} <= ${q.to}`);
      const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const dir = q.descending ? sql.raw('DESC') : sql.raw('ASC');
      const key = q.orderBy === 'modifiedOn' ? MODIFIED : sql.raw('occurred_at');
      const rows = await base.selectAll().orderBy(sql`${key} ${dir}`).orderBy('seq', q.descending ? 'desc' : 'asc').offset(q.offset).limit(q.limit).execute();
      return { total: Number(total.n), activities: rows.map(toActivity) };
    },
    async countForRequest(accountId, requestId) {
      const r = await db
        .selectFrom('activities')
        .where('account_id', '=', accountId)
        .where('request_id', '=', requestId)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async count(accountId) {
      const r = await db.selectFrom('activities').where('account_id', '=', accountId).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
