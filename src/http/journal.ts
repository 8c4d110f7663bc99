/**
 * `GET /_leadtrail/journal` and `GET /_leadtrail/journal/{id}`: an account's request journal, with
 * its access and secret key (docs/journal.md). Only the calling account's entries are ever listed or
 * found; another account's entry id answers 404 like an unknown one.
 */
import { MxError } from '../domain/errors.js';
import type { JournalEntry, JournalFilter } from '../storage/store.js';
import type { z } from 'zod';
import { readParams, readQuery } from '../schemas/endpoint.js';
import { JOURNAL_DEFAULT_LIMIT, journalEntry, journalList, journalQuery } from '../schemas/admin.js';
import { query } from './auth.js';
import type { Handler } from './handler.js';
import { flushJournal } from '../journal/recorder.js';
import { clientGone } from '../client-gone.js';
import { ignoredInBody } from '../schemas/ignored.js';

/** The filter of a list call's query (names in any case; rules in schemas/admin.ts). */
export function filterOf(q: z.output<typeof journalQuery>): JournalFilter {
  const f: JournalFilter = { limit: q.limit ?? JOURNAL_DEFAULT_LIMIT };
  if (q.path !== undefined) f.path = q.path;
  if (q.status !== undefined) f.status = q.status;
  if (q.leadId !== undefined) f.leadId = q.leadId;
  if (q.from !== undefined) f.from = q.from;
  if (q.to !== undefined) f.to = q.to;
  if (q.beforeSeq !== undefined) f.beforeSeq = q.beforeSeq;
  if (q.afterSeq !== undefined) f.afterSeq = q.afterSeq;
  return f;
}

/**
 * An entry as the API shows it: the stored fields plus its time as ISO 8601; bodies only when asked,
 * and with them the request body's ignored properties (schemas/ignored.ts), found again from it.
 */
function view(e: JournalEntry, bodies: boolean) {
  const { accountId: _account, requestBody, responseBody, ...rest } = e;
  return {
    ...rest,
    time: new Date(e.at).toISOString(),
    ...(bodies ? { requestBody, responseBody, ignoredProperties: ignoredInBody(e.method, e.path, requestBody) } : {}),
  };
}

/**
 * GET `/_leadtrail/journal`: `{"recording": bool, "entries": [...], "nextBeforeSeq": n|null}`, newest
 * first (with `afterSeq`: oldest first, for tailing). Filters: `path` (substring, any case), `status`,
 * `leadId`, `from`/`to` (epoch ms or ISO 8601, inclusive), paging by `beforeSeq`/`afterSeq`, `limit`
 * (1–500, default 50); `bodies=true` includes both bodies.
 */
export const listJournal: Handler = async (s, req, reply) => {
  const q = readQuery(journalList, query(req));
  const f = { ...filterOf(q), signal: clientGone(reply) };
  // This process's calls answered a moment ago are listed too.
  await flushJournal(s, req.principal.accountId);
  const entries = await s.store.journal.list(req.principal.accountId, f);
  const bodies = q.bodies;
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
  const { id } = readParams(journalEntry, req.params);
  await flushJournal(s, req.principal.accountId);
  // An id holding U+0000 names no entry; PostgreSQL would refuse it with a system error (500).
  const e = id && !id.includes('\u0000') ? await s.store.journal.get(req.principal.accountId, id) : null;
  if (!e) throw new MxError('MXInvalidEntityException', `Journal entry '${id.slice(0, 64)}' was not found.`, 404);
  return { entry: { ...view(e, true), links: await linksFor(s, e) } };
};
