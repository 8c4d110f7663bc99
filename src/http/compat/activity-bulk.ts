/**
 * The account-wide activity calls of `/v2/ProspectActivity.svc/`:
 * - `POST Bulk/CustomActivity/Update`: update up to 25 activities' notes and fields, one
 *   transaction per row, answered row by row (LeadSquared's "Update Activities in Bulk").
 * - `POST RetrieveRecentlyModified`: every activity of the account whose ModifiedOn falls in a
 *   date window, a page at a time (LeadSquared's "Get Activities by Date Range").
 */
import { getActivityType } from '../../domain/activity-types.js';
import { updateActivity, type ActivityChange } from '../../domain/activity-update.js';
import { isMxError, mx } from '../../domain/errors.js';
import { formatLsqDateTime, parseLsqDateTime } from '../../domain/fields.js';
import { descending } from '../../domain/lead-search.js';
import { runWrite } from '../../domain/run.js';
import type { Activity, ActivityType } from '../../domain/types.js';
import { asArray, asObject, code, fieldList, flag, objectProp, prop, text, wholeProp, type JsonObject } from '../../wire/parse.js';
import { activityToWire } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';

/** Most activities one Bulk/CustomActivity/Update call takes (LeadSquared's documented limit). */
export const ACTIVITY_UPDATE_BULK_MAX = 25;

/** One row's change as read from the body; a row without an id fails alone, with its own error. */
function rowChange(o: JsonObject, at: number): ActivityChange & { given: string | null } {
  const id = text(o, 'ProspectActivityId');
  flag(o, 'ProcessFilesAsync');
  return {
    given: id === null || id.trim() === '' ? null : id.trim(),
    id: id?.trim() ?? '',
    eventCode: code(o, 'ActivityEvent'),
    note: text(o, 'ActivityNote'),
    fields: fieldList(prop(o, 'Fields'), 'Fields'),
    skipDropdownValidation: flag(o, 'ValidateDropDownOptions'),
    at,
  };
}

/**
 * Body: `[{"ProspectActivityId","ActivityNote"?,"ActivityEvent"?,"Fields"?:[{SchemaName,Value}],"ValidateDropDownOptions"?}, …]`,
 * at most 25 rows. Every row's structure is read before any is written (a malformed row is a 400
 * naming it); then each row is its own transaction, validated as CustomActivity/Update, so a row
 * the rules refuse fails alone. Answers `{"Response":[{"RowNumber","ProspectActivityId","ActivityUpdated"[,"ExceptionType","ExceptionMessage"]}]}`.
 */
export const bulkActivityUpdate: Handler = async (s, req) => {
  const rows = asArray(req.body);
  if (rows.length > ACTIVITY_UPDATE_BULK_MAX) {
    throw mx.invalidInput(`Invalid Input! At most ${ACTIVITY_UPDATE_BULK_MAX} activities can be updated in one call; got ${rows.length}.`);
  }
  const at = s.ctx.now();
  const changes = rows.map((r, i) => {
    try {
      return rowChange(asObject(r, `row ${i + 1}`), at);
    } catch (e) {
      if (isMxError(e) && e.status === 400) throw mx.badStructure(`row ${i + 1}: ${e.message.replace(/^Invalid request body: /, '')}`);
      throw e;
    }
  });
  const accountId = req.principal.accountId;
  const Response = [];
  for (const [i, change] of changes.entries()) {
    try {
      if (change.given === null) throw mx.mandatoryMissing("'ProspectActivityId' is mandatory");
      const activity = await runWrite(s.store, (tx) => updateActivity(tx, accountId, change));
      Response.push({ RowNumber: i + 1, ProspectActivityId: activity.id, ActivityUpdated: true });
    } catch (e) {
      if (!isMxError(e)) throw e;
      Response.push({ RowNumber: i + 1, ProspectActivityId: change.given, ActivityUpdated: false, ExceptionType: e.type, ExceptionMessage: e.message });
    }
  }
  return { Response };
};

export const RECENT_PAGE_SIZE_MAX = 1000;
export const RECENT_PAGE_SIZE_DEFAULT = 100;
const PAGE_INDEX_MAX = 1_000_000;

/** A window end: `yyyy-MM-dd HH:mm:ss` UTC. ToDate without milliseconds takes in its whole second. */
function windowEnd(o: JsonObject, name: string, isEnd: boolean): number | null {
  const v = text(o, name);
  if (v === null || v.trim() === '') return null;
  const t = parseLsqDateTime(v, `Parameter.${name}`);
  return isEnd && !v.includes('.') ? t + 999 : t;
}

/** `Sorting.ColumnName`: ModifiedOn (the default) reads the index in order; CreatedOn and ActivityDateTime sort by the activity date. */
function sortColumn(sorting: JsonObject): 'modifiedOn' | 'occurredAt' {
  const c = text(sorting, 'ColumnName')?.trim().toLowerCase() ?? '';
  if (c === '' || c === 'modifiedon') return 'modifiedOn';
  if (c === 'createdon' || c === 'activitydatetime') return 'occurredAt';
  throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be ModifiedOn, CreatedOn or ActivityDateTime; got '${c.slice(0, 100)}'.`);
}

/** Custom fields are the `mx_` ones (and their custom field sets); Status and Owner are the activity's own. */
const isCustom = (name: string) => name.toLowerCase().startsWith('mx_');

/** An activity as `Retrieve` answers it, with its lead and ModifiedOn; custom fields only when asked. */
function recentToWire(a: Activity, type: ActivityType | null, withCustom: boolean) {
  const shown = withCustom ? a : { ...a, fields: Object.fromEntries(Object.entries(a.fields).filter(([k]) => !isCustom(k))) };
  return {
    ...activityToWire(shown, type),
    RelatedProspectId: a.leadId,
    ModifiedOn: formatLsqDateTime(a.modifiedOn ?? a.createdOn),
  };
}

/**
 * Body: `{"Parameter":{"FromDate","ToDate","ActivityEvent"?,"IncludeCustomFields"?},"Paging":{"PageIndex","PageSize"≤1000},"Sorting":{"ColumnName","Direction"}}`,
 * all optional. Answers `{"RecordCount":n,"ProspectActivities":[…]}`. The window is on ModifiedOn
 * (the activity's last update, else when it was posted), both ends inclusive.
 */
export const activitiesRecentlyModified: Handler = async (s, req) => {
  const body = req.body === undefined || req.body === null || req.body === '' ? {} : asObject(req.body);
  const param = objectProp(body, 'Parameter');
  const from = windowEnd(param, 'FromDate', false);
  const to = windowEnd(param, 'ToDate', true);
  if (from !== null && to !== null && from > to) throw mx.invalidInput("Invalid Input! 'Parameter.FromDate' is later than 'Parameter.ToDate'.");
  const withCustom = flag(param, 'IncludeCustomFields');
  const event = code(param, 'ActivityEvent');
  const paging = objectProp(body, 'Paging');
  const pageIndex = wholeProp(paging, 'PageIndex', { min: 1, max: PAGE_INDEX_MAX }, 'Paging.PageIndex') ?? 1;
  const pageSize = wholeProp(paging, 'PageSize', { min: 1, max: RECENT_PAGE_SIZE_MAX }, 'Paging.PageSize') ?? RECENT_PAGE_SIZE_DEFAULT;
  const sorting = objectProp(body, 'Sorting');
  const orderBy = sortColumn(sorting);
  const desc = descending(text(sorting, 'Direction'));
  const accountId = req.principal.accountId;
  const eventCode = event === undefined || event === null || event === '' ? undefined : (await getActivityType(s.store, accountId, event)).code;
  const { total, activities } = await s.store.activities.listModified(accountId, {
    from,
    to,
    ...(eventCode !== undefined ? { eventCode } : {}),
    orderBy,
    offset: (pageIndex - 1) * pageSize,
    limit: pageSize,
    descending: desc,
  });
  const types = new Map((await s.store.activityTypes.list(accountId)).map((t) => [t.code, t]));
  return { RecordCount: total, ProspectActivities: activities.map((a) => recentToWire(a, types.get(a.eventCode) ?? null, withCustom)) };
};
