/**
 * `POST /v2/ProspectActivity.svc/CustomActivity/RetrieveByActivityEvent`: every activity of one type
 * in the account, in an activity-date window, a page at a time. Extraction connectors poll it.
 */
import { getActivityType } from '../../domain/activity-types.js';
import { parseLsqDateTime, formatLsqDateTime } from '../../domain/fields.js';
import { mx } from '../../domain/errors.js';
import type { Activity } from '../../domain/types.js';
import { asObject, code, objectProp, text, wholeProp, type JsonObject } from '../../wire/parse.js';
import type { Handler } from '../handler.js';

export const PAGE_SIZE_MAX = 1000;
export const PAGE_SIZE_DEFAULT = 100;
const PAGE_INDEX_MAX = 1_000_000;
/** Sorting.ColumnName values accepted; all sort by the activity date (the window is on it too). */
const SORT_COLUMNS = new Set(['createdon', 'modifiedon', 'activitydatetime']);

const sub = objectProp;
const whole = (o: JsonObject, name: string, min: number, max: number, fallback: number): number => wholeProp(o, name, { min, max }) ?? fallback;

/** A window end: `yyyy-MM-dd HH:mm:ss` UTC. ToDate without milliseconds takes in its whole second. */
function windowEnd(o: JsonObject, name: string, isEnd: boolean): number | null {
  const v = text(o, name);
  if (v === null || v.trim() === '') return null;
  const t = parseLsqDateTime(v, `Parameter.${name}`);
  return isEnd && !v.includes('.') ? t + 999 : t;
}

function descending(sorting: JsonObject): boolean {
  const column = text(sorting, 'ColumnName');
  if (column && !SORT_COLUMNS.has(column.trim().toLowerCase())) {
    throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be CreatedOn, ModifiedOn or ActivityDateTime; got '${column.slice(0, 100)}'.`);
  }
  const dir = text(sorting, 'Direction')?.trim().toLowerCase() ?? '';
  if (dir === '' || dir === '1' || dir === 'desc' || dir === 'descending') return true;
  if (dir === '0' || dir === 'asc' || dir === 'ascending') return false;
  throw mx.invalidInput(`Invalid Input! 'Sorting.Direction' must be 0 (ascending) or 1 (descending); got '${dir.slice(0, 100)}'.`);
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

function toWire(a: Activity) {
  const date = formatLsqDateTime(a.occurredAt);
  const out: Record<string, unknown> = {
    ProspectActivityId: a.id,
    RelatedProspectId: a.leadId,
    ActivityEvent: a.eventCode,
    ActivityEvent_Note: a.note,
    Status: str(a.fields.Status),
    CreatedOn: date,
    ModifiedOn: a.modifiedOn ? formatLsqDateTime(a.modifiedOn) : date,
  };
  for (const [k, v] of Object.entries(a.fields)) if (!(k in out)) out[k] = str(v);
  return out;
}

export const retrieveByActivityEvent: Handler = async (s, req) => {
  const body = req.body === undefined || req.body === null || req.body === '' ? {} : asObject(req.body);
  const param = sub(body, 'Parameter');
  const event = code(param, 'ActivityEvent');
  if (event === undefined || event === null || event === '') throw mx.invalidEvent();
  const from = windowEnd(param, 'FromDate', false);
  const to = windowEnd(param, 'ToDate', true);
  if (from !== null && to !== null && from > to) throw mx.invalidInput("Invalid Input! 'Parameter.FromDate' is later than 'Parameter.ToDate'.");
  const paging = sub(body, 'Paging');
  const pageIndex = whole(paging, 'PageIndex', 1, PAGE_INDEX_MAX, 1);
  const pageSize = whole(paging, 'PageSize', 1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT);
  const desc = descending(sub(body, 'Sorting'));
  const accountId = req.principal.accountId;
  const type = await getActivityType(s.store, accountId, event);
  const { total, activities } = await s.store.activities.listByEvent(accountId, {
    eventCode: type.code,
    from,
    to,
    offset: (pageIndex - 1) * pageSize,
    limit: pageSize,
    descending: desc,
  });
  return { RecordCount: total, List: activities.map(toWire) };
};
