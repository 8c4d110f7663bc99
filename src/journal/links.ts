/**
 * What a journaled call touched: the lead, activity and async request it names. Each route says
 * where its ids are (one line per route below): the query it was called with, its body, or the
 * answer it gave. A handler may also state them itself (`JournalLinks` on the request, see
 * http/journal-hook.ts), which wins over this table. A call that touches several (bulk calls) links
 * its first row; a search that finds several leads links none.
 */

export interface JournalLinks {
  leadId: string | null;
  activityId: string | null;
  requestId: string | null;
}

export interface CallParts {
  /** Query parameters, names lower-cased. */
  query: Record<string, string>;
  /** The parsed request body (undefined when none or unreadable). */
  body: unknown;
  /** The answer object before serialization (undefined when it was sent as text). */
  answer: unknown;
  /** Whether the call succeeded (2xx): answers of failed calls name nothing. */
  ok: boolean;
}

type Extract = (c: CallParts) => Partial<JournalLinks>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string property, matched by name in any case (LeadSquared reads JSON names so). */
function str(o: unknown, name: string): string | null {
  if (!isObj(o)) return null;
  let v = o[name];
  if (v === undefined) {
    const lower = name.toLowerCase();
    for (const k of Object.keys(o)) {
      if (k.toLowerCase() === lower) {
        v = o[k];
        break;
      }
    }
  }
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

const obj = (o: unknown, name: string): unknown => (isObj(o) ? o[name] : undefined);
/** A query parameter, only when the call succeeded: a failed call touched nothing it named. */
const q = (c: CallParts, name: string): string | null => {
  const v = c.query[name];
  return c.ok && typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
};
/** The answer, only when the call succeeded. */
const ans = (c: CallParts): unknown => (c.ok ? c.answer : undefined);

/** `{"Status":"Success","Message":{"Id":…,"RelatedId":…}}`: an activity and its lead. */
const activityPosted: Extract = (c) => ({
  activityId: str(obj(ans(c), 'Message'), 'Id'),
  leadId: str(obj(ans(c), 'Message'), 'RelatedId') ?? str(c.body, 'RelatedProspectId'),
});

/** `{"Status":"Success","Message":{"Id": lead}}`. */
const leadWritten: Extract = (c) => ({ leadId: str(obj(ans(c), 'Message'), 'Id') });

/** Bulk activity posts: `{"Response":[{ProspectActivityId, RelatedProspectId}, …]}`, the first created row. */
const bulkActivities: Extract = (c) => {
  const rows = obj(ans(c), 'Response');
  const first = Array.isArray(rows) ? rows.find((r) => str(r, 'ProspectActivityId')) : undefined;
  return { activityId: str(first, 'ProspectActivityId'), leadId: str(first, 'RelatedProspectId') };
};

/** A lead lookup answering a list: linked when it found exactly one lead. */
const oneLeadFound: Extract = (c) => {
  const a = ans(c);
  return { leadId: Array.isArray(a) && a.length === 1 ? str(a[0], 'ProspectID') : null };
};

/** Async accept: `{"Status":…, "RequestID": id}`; the lead when the body or query names it by id. */
const accepted: Extract = (c) => ({
  requestId: str(ans(c), 'RequestID'),
  leadId: str(c.body, 'RelatedProspectId') ?? q(c, 'leadid'),
});

/** Async status: the request asked about and, once it succeeded, what its answer names. */
const status =
  (activity: boolean): Extract =>
  (c) => {
    let message = obj(obj(ans(c), 'TaskStatus'), 'Message');
    if (typeof message === 'string') {
      try {
        message = JSON.parse(message);
      } catch {
        message = undefined;
      }
    }
    const m = obj(message, 'Message') ?? message;
    return { requestId: q(c, 'requestid'), activityId: activity ? str(m, 'Id') : null, leadId: str(m, 'RelatedId') };
  };

const PA = '/v2/prospectactivity.svc';
const LM = '/v2/leadmanagement.svc';

/** Route table path (lower-cased) → where its links are. Routes not listed link nothing. */
const ROUTE_LINKS: Record<string, Extract> = {
  [`${PA}/create`]: activityPosted,
  [`${PA}/createcustom`]: activityPosted,
  [`${PA}/bulk/customactivity/add/byleadid`]: bulkActivities,
  [`${PA}/bulk/customactivity/add/byleadfield`]: bulkActivities,
  [`${PA}/retrieve`]: (c) => ({ leadId: q(c, 'leadid') }),
  [`${PA}/getactivitydetails`]: (c) => ({ activityId: q(c, 'activityid'), leadId: str(ans(c), 'RelatedProspectId') }),
  [`${PA}/customactivity/update`]: (c) => ({ activityId: str(c.body, 'ProspectActivityId') }),
  // What it found (an unknown id answers [] and touched nothing).
  [`${LM}/leads.getbyid`]: oneLeadFound,
  [`${LM}/leads.getbyemailaddress`]: oneLeadFound,
  [`${LM}/retrieveleadbyphonenumber`]: oneLeadFound,
  [`${LM}/leads.getbyquicksearch`]: oneLeadFound,
  [`${LM}/lead.create`]: leadWritten,
  [`${LM}/lead.update`]: (c) => ({ leadId: q(c, 'leadid') }),
  [`${LM}/lead.capture`]: leadWritten,
  [`${LM}/lead.createorupdate`]: leadWritten,
  [`${LM}/lead.convert`]: leadWritten,
  // The lead deleted: leadId in the query, or a POST body's LeadId.
  [`${LM}/lead/delete/byid`]: (c) => ({ leadId: q(c, 'leadid') ?? (c.ok ? str(c.body, 'LeadId') : null) }),
  '/activity/create': accepted,
  '/activity/createcustom': accepted,
  '/lead/capture': accepted,
  '/lead/update': accepted,
  '/activity/status': status(true),
  '/activity/create/status': status(true),
  '/activity/createcustom/status': status(true),
  '/lead/status': status(false),
  '/lead/update/status': status(false),
};

const NONE: JournalLinks = { leadId: null, activityId: null, requestId: null };

/** Whether the route (its route-table path) has links to find. */
export const routeHasLinks = (routePath: string): boolean => routePath.toLowerCase() in ROUTE_LINKS;

/**
 * The links of one call of the route `routePath` (its route-table path, any case). Never throws:
 * an answer or body of an unexpected shape links nothing.
 */
export function linksOf(routePath: string, call: CallParts): JournalLinks {
  const extract = ROUTE_LINKS[routePath.toLowerCase()];
  if (!extract) return NONE;
  try {
    const l = extract(call);
    return { leadId: l.leadId ?? null, activityId: l.activityId ?? null, requestId: l.requestId ?? null };
  } catch {
    return NONE;
  }
}
