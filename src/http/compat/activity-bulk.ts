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
import { formatLsqDateTime } from '../../domain/fields.js';
import { runWrite } from '../../domain/run.js';
import type { Activity, ActivityType } from '../../domain/types.js';
import { readBody } from '../../schemas/endpoint.js';
import * as schema from '../../schemas/prospect-activity.js';
import { activityToWire } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';

/**
 * Body: `[{"ProspectActivityId","ActivityNote"?,"ActivityEvent"?,"Fields"?:[{SchemaName,Value}],"ValidateDropDownOptions"?}, …]`,
 * at most 25 rows. Every row's structure is read before any is written (a malformed row is a 400
 * naming it); then each row is its own transaction, validated as CustomActivity/Update, so a row
 * the rules refuse fails alone. Answers `{"Response":[{"RowNumber","ProspectActivityId","ActivityUpdated"[,"ExceptionType","ExceptionMessage"]}]}`.
 */
export const bulkActivityUpdate: Handler = async (s, req) => {
  const at = s.ctx.now();
  const changes = readBody(schema.bulkActivityUpdate, req.body).map((r) => {
    const id = r.ProspectActivityId?.trim() ?? '';
    const change: ActivityChange = { id, eventCode: r.ActivityEvent, note: r.ActivityNote, fields: r.Fields, skipDropdownValidation: r.ValidateDropDownOptions, at };
    return { ...change, given: id === '' ? null : id };
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
  const body = readBody(schema.activitiesRecentlyModified, req.body);
  const param = body.Parameter ?? { FromDate: null, ToDate: null, ActivityEvent: undefined, IncludeCustomFields: false };
  const withCustom = param.IncludeCustomFields;
  const event = param.ActivityEvent;
  const pageIndex = body.Paging?.PageIndex ?? 1;
  const pageSize = body.Paging?.PageSize ?? schema.RECENT_PAGE_SIZE_DEFAULT;
  const orderBy = body.Sorting?.ColumnName ?? 'modifiedOn';
  const desc = body.Sorting?.Direction ?? true;
  const from = param.FromDate;
  const to = param.ToDate;
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
