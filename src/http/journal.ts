/**
 * `GET /_leadtrail/journal` and `GET /_leadtrail/journal/{id}`: an account's request journal, with
 * its access and secret key (docs/journal.md). Only the calling account's entries are ever listed or
 * found; another account's entry id answers 404 like an unknown one.
 */
import { MxError } from '../domain/errors.js';
import type { JournalEntry, JournalFilter } from '../storage/store.js';
import { query } from './auth.js';
import type { Handler } from './handler.js';
import { flushJournal } from '../journal/recorder.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

const bad = (message: string) => new MxError('MXInvalidInputException', message, 400);

function whole(q: Record<string, string>, name: string, label: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = q[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`Query parameter '${label}' must be a whole number from ${min} to ${max}; got '${raw.slice(0, 50)}'.`);
  return n;
}

/** A time: epoch milliseconds, or an ISO 8601 date/time (`2026-01-31`, `2026-01-31T10:00:00Z`). */
function time(q: Record<string, string>, name: string): number | undefined {
  const raw = q[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const t = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) throw bad(`Query parameter '${name}' must be epoch milliseconds or an ISO 8601 date/time; got '${raw.slice(0, 50)}'.`);
  return t;
}

/** The filter of a list call's query (names in any case). */
export function filterOf(q: Record<string, string>): JournalFilter {
  const f: JournalFilter = { limit: whole(q, 'limit', 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT };
  if (q.path?.trim()) f.path = q.path.trim();
  const status = whole(q, 'status', 'status', 100, 599);
  if (status !== undefined) f.status = status;
  if (q.leadid?.trim()) f.leadId = q.leadid.trim();
  const from = time(q, 'from');
  const to = time(q, 'to');
  if (from !== undefined) f.from = from;
  if (to !== undefined) f.to = to;
  const before = whole(q, 'beforeseq', 'beforeSeq', 0);
  const after = whole(q, 'afterseq', 'afterSeq', 0);
  if (before !== undefined && after !== undefined) throw bad("Give 'beforeSeq' (older entries) or 'afterSeq' (newer entries), not both.");
  if (before !== undefined) f.beforeSeq = before;
  if (after !== undefined) f.afterSeq = after;
  return f;
}

/** An entry as the API shows it: the stored fields plus its time as ISO 8601; bodies only when asked. */
function view(e: JournalEntry, bodies: boolean) {
  const { accountId: _account, requestBody, responseBody, ...rest } = e;
  return { ...rest, time: new Date(e.at).toISOString(), ...(bodies ? { requestBody, responseBody } : {}) };
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes)$/i.test(v.trim());

/**
 * GET `/_leadtrail/journal`: `{"recording": bool, "entries": [...], "nextBeforeSeq": n|null}`, newest
 * first (with `afterSeq`: oldest first, for tailing). Filters: `path` (substring, any case), `status`,
 * `leadId`, `from`/`to` (epoch ms or ISO 8601, inclusive), paging by `beforeSeq`/`afterSeq`, `limit`
 * (1–500, default 50); `bodies=true` includes both bodies.
 */
export const listJournal: Handler = async (s, req) => {
  const q = query(req);
  const f = filterOf(q);
  // This process's calls answered a moment ago are listed too.
  await flushJournal(s);
  const entries = await s.store.journal.list(req.principal.accountId, f);
  const bodies = truthy(q.bodies);
  const full = entries.length === f.limit;
  return {
    recording: s.config.journal,
    entries: entries.map((e) => view(e, bodies)),
    // The cursor of the next (older) page; null when this one was the last.
    nextBeforeSeq: f.afterSeq === undefined && full ? entries[entries.length - 1].seq : null,
  };
};

/** Where the lead, activity and async request an entry names can be read (paths; add your keys). */
async function linksFor(s: Parameters<Handler>[0], e: JournalEntry) {
  let request: string | null = null;
  if (e.requestId) {
    const r = await s.store.requests.get(e.accountId, e.requestId);
    const lead = r ? r.kind.startsWith('lead.') : /^\/lead\//i.test(e.path);
    request = `/${lead ? 'lead' : 'activity'}/status?RequestID=${encodeURIComponent(e.requestId)}`;
  }
  return {
    lead: e.leadId ? `/v2/LeadManagement.svc/Leads.GetById?id=${encodeURIComponent(e.leadId)}` : null,
    activity: e.activityId ? `/v2/ProspectActivity.svc/GetActivityDetails?activityId=${encodeURIComponent(e.activityId)}` : null,
    request,
  };
}

/** GET `/_leadtrail/journal/{id}`: `{"entry": {..., requestBody, responseBody, links: {lead, activity, request}}}`; 404 when not this account's. */
export const getJournalEntry: Handler = async (s, req) => {
  const id = (req.params as { id?: string }).id?.trim() ?? '';
  await flushJournal(s);
  const e = id ? await s.store.journal.get(req.principal.accountId, id) : null;
  if (!e) throw new MxError('MXInvalidEntityException', `Journal entry '${id.slice(0, 64)}' was not found.`, 404);
  return { entry: { ...view(e, true), links: await linksFor(s, e) } };
};
