/**
 * `POST /v2/ProspectActivity.svc/CustomActivity/RetrieveByActivityEvent`: every activity of one type
 * in the account, in an activity-date window, a page at a time. Extraction connectors poll it.
 */
import { getActivityType } from '../../domain/activity-types.js';
import { formatLsqDateTime } from '../../domain/fields.js';
import type { Activity } from '../../domain/types.js';
import { readBody } from '../../schemas/endpoint.js';
import { ACTIVITY_PAGE_SIZE_DEFAULT, retrieveByActivityEvent as endpoint } from '../../schemas/prospect-activity.js';
import type { Handler } from '../handler.js';

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
  const body = readBody(endpoint, req.body);
  const { ActivityEvent: event, FromDate: from, ToDate: to } = body.Parameter;
  const pageIndex = body.Paging?.PageIndex ?? 1;
  const pageSize = body.Paging?.PageSize ?? ACTIVITY_PAGE_SIZE_DEFAULT;
  const desc = body.Sorting?.Direction ?? true;
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
