/**
 * The operations that have both a sync and an async door: LeadSquared body in, LeadSquared response
 * out. The sync route runs one inside a transaction and answers with its result; the async worker
 * runs the very same function later, so a request's status `Message` is exactly the sync answer.
 */
import { parseUpdateBehavior } from '../domain/capture.js';
import type { Ctx } from '../domain/context.js';
import { normalizeKey } from '../domain/leads.js';
import { phoneOrderKey } from '../domain/phone.js';
import type { AsyncRequest, RequestKind } from '../domain/types.js';
import { rerunLostRaces, runWrite } from '../domain/run.js';
import { UnsendableInput } from '../storage/operations.js';
import type { Repos, Store } from '../storage/store.js';
import { readBody, readQuery } from '../schemas/endpoint.js';
import { leadCapture as leadCaptureEndpoint, leadUpdate as leadUpdateEndpoint } from '../schemas/lead-management.js';
import { parseInput } from '../schemas/lsq.js';
import {
  activityCreate as activityCreateEndpoint,
  activityCreateCustom as activityCreateCustomEndpoint,
  activityCreateCustomLead,
  activityCreateLead,
} from '../schemas/prospect-activity.js';
import { parseJsonBody } from './json-body.js';
import { APPLY, applyRead, type OperationInput } from './operation-apply.js';

export { LeaseLost, SUCCESS_REASON, type OperationInput } from './operation-apply.js';

export type Operation = (tx: Repos, ctx: Ctx, input: OperationInput) => Promise<unknown>;

/**
 * Each operation's read step: it checks the body and query and reads them into what its apply step
 * (operation-apply.ts `APPLY`) takes. Pure (no store, no clock), so it can run on any thread, and it
 * throws the MxError a bad input gets. Apart from the apply steps so that the sync door can read on
 * the event loop and send only the writes to SQLite's writer thread, whose time every caller of a
 * batch shares (docs/performance.md, thirtieth session), and so that the thread does not load the
 * endpoint schemas (zod) at all: they were most of its start (docs/performance.md, forty-third
 * session). What a read step returns must survive structured clone (plain data).
 */
const READ = {
  /** `Create`: by RelatedProspectId, or by EmailAddress (creating the lead); the body read by its endpoint schema. */
  'activity.create': ({ body }: OperationInput) => readBody(activityCreateEndpoint, body),
  /** `CreateCustom`: the lead upserted from LeadDetails, then the activity; the body read by its endpoint schema. */
  'activity.createcustom': ({ body }: OperationInput) => readBody(activityCreateCustomEndpoint, body),
  'lead.capture': ({ body, params }: OperationInput) => ({ attrs: readBody(leadCaptureEndpoint, body), behavior: parseUpdateBehavior(params.leadupdatebehavior ?? null) }),
  /** `Lead.Update?leadId=` (sync) and `/lead/update?leadId=` (async): the attribute list written to that lead. */
  'lead.update': ({ body, params }: OperationInput) => ({ leadId: readQuery(leadUpdateEndpoint, params).leadId, attrs: readBody(leadUpdateEndpoint, body) }),
} satisfies Record<RequestKind, (input: OperationInput) => unknown>;

/** What each operation's read step makes of its input: what its apply step takes. */
export type Reads = { [K in RequestKind]: ReturnType<(typeof READ)[K]> };

/** Operation `kind` whole: its read step unless the input carries what it read (`OperationInput.read`), then its apply step. */
const whole =
  <K extends RequestKind>(kind: K): Operation =>
  // Async: a refused input rejects, as it did when an operation was one async function.
  async (tx, ctx, input) =>
    (APPLY[kind] as (tx: Repos, ctx: Ctx, input: OperationInput, read: Reads[K]) => Promise<unknown>)(
      tx,
      ctx,
      input,
      input.read !== undefined ? (input.read as Reads[K]) : (READ[kind](input) as Reads[K]),
    );

/** `Create` as one function (the seed file's loader runs it directly). */
export const activityCreate: Operation = whole('activity.create');

export const OPERATIONS: Record<RequestKind, Operation> = {
  'activity.create': activityCreate,
  'activity.createcustom': whole('activity.createcustom'),
  'lead.capture': whole('lead.capture'),
  'lead.update': whole('lead.update'),
};

/**
 * Operation `kind`'s read step (Steps.read) on `input`: what the operation makes of its body and
 * query. Throws the MxError a bad input gets (the same the whole operation would throw first).
 */
export function readOperation(kind: RequestKind, input: OperationInput): unknown {
  return READ[kind](input);
}

/**
 * Applies async request `r` in `tx` for worker `workerId` (operation-apply.ts `applyRead`): its
 * operation and its "succeeded" mark, which commit together. `read`: what `readRequest(r)` gave,
 * when the caller read the request already; absent, it is read here, and a refused body or query
 * throws its MxError. Throws the operation's error, or `LeaseLost`.
 */
export async function applyRequest(tx: Repos, ctx: Ctx, r: AsyncRequest, workerId: string, read?: unknown): Promise<void> {
  // Read as the sync door reads a body (json-body.ts): long numbers keep their digits.
  const made = read !== undefined ? read : readOperation(r.kind, { accountId: r.accountId, body: parseJsonBody(r.body), params: r.params, requestId: r.id });
  return applyRead(tx, ctx, r, workerId, made);
}

/**
 * Async request `r`'s operation's read step (readOperation) on its stored body and query, for
 * `applyRequest`; undefined when the body or query is refused: the application then reads them
 * again and fails with that error, where a failed application is recorded.
 */
export function readRequest(r: AsyncRequest): unknown {
  try {
    return readOperation(r.kind, { accountId: r.accountId, body: parseJsonBody(r.body), params: r.params, requestId: r.id });
  } catch {
    return undefined;
  }
}

/**
 * Runs operation `kind` as one transaction of `store`, again after a lost race (domain/run.ts): on
 * the writer thread when the store has one (`Store.operate`, the operation registered by
 * thread-operations.ts), else here. On the thread, every timestamp the operation writes is `ctx.now()`,
 * read once here.
 */
export function runOperation(store: Store, kind: RequestKind, ctx: Ctx, input: OperationInput): Promise<unknown> {
  const operate = store.operate;
  if (!operate) return runWrite(store, (tx) => OPERATIONS[kind](tx, ctx, input));
  // Read here, where a sync call's own thread has room: the writer thread gets only the writes,
  // and the read instead of the body (docs/performance.md, thirtieth session). A bad input throws
  // here the error the operation would have thrown there.
  let read: unknown;
  try {
    read = readOperation(kind, input);
  } catch (e) {
    return Promise.reject(e);
  }
  // Neither the body nor the query goes: every apply step takes what the read step made of them.
  const sent: OperationInput = { accountId: input.accountId, body: null, params: {}, requestId: input.requestId, read };
  const call = { now: ctx.now(), userId: ctx.userId ?? null };
  return rerunLostRaces(() => operate.call(store, kind, call, sent)).catch((e: unknown) => {
    // A body the thread cannot be sent (JSON nested thousands deep) gets the same answer here,
    // through a transaction whose function runs on this side.
    if (e instanceof UnsendableInput) return runWrite(store, (tx) => OPERATIONS[kind](tx, ctx, input));
    throw e;
  });
}

/**
 * The key that orders async requests: requests naming the same lead the same way (id, email,
 * SearchBy value, or by the default lookup's first value; `/lead/update` by its `leadId` query) are applied in the order they were
 * accepted. A phone number keys by its national part (domain/phone.ts), so `+91-9876500001`,
 * `919876500001` and `9876500001` wait for each other; Phone and Mobile share the key. Bodies that
 * name no lead get their own key and wait for nothing.
 */
export function orderKeyOf(kind: RequestKind, body: unknown, fallback: string, params: Record<string, string> = {}): string {
  const keyOf = (field: string, value: string): string => {
    const f = field.toLowerCase();
    if (f === 'prospectid' || f === 'id') return `id:${value.trim().toLowerCase()}`;
    if (f === 'phone' || f === 'mobile') return `phone:${phoneOrderKey(value)}`;
    return `${f}:${normalizeKey(value)}`;
  };
  try {
    if (kind === 'lead.update') {
      // The lead is named by the query's leadId: ordered with every request naming it by id.
      const id = params.leadid?.trim();
      if (id) return keyOf('id', id);
    } else if (kind === 'activity.create') {
      const ref = parseInput(activityCreateLead, body);
      if (ref) return ref.by === 'id' ? keyOf('id', ref.leadId) : keyOf('EmailAddress', ref.email);
    } else {
      const attrs = kind === 'lead.capture' ? readBody(leadCaptureEndpoint, body) : parseInput(activityCreateCustomLead, body).LeadDetails;
      // As the operation reads them (domain/leads.ts resolveAttributes): an attribute named twice
      // counts by its last value, and `Id` names the lead as `ProspectID` does. Read by the first,
      // a body naming its lead twice, or by `Id`, was ordered under another key than the lead its
      // operation wrote, and could be applied before a request accepted earlier.
      const get = (...names: string[]) => {
        const lower = names.map((n) => n.toLowerCase());
        let v: string | null = null;
        for (const a of attrs) if (lower.includes(a.name.toLowerCase())) v = a.value;
        return v === null || v.trim() === '' ? null : v;
      };
      const prospectId = get('ProspectID', 'Id');
      const searchBy = get('SearchBy');
      // Lead.Capture finds the lead by its id, not by SearchBy, when ProspectID, EmailAddress and
      // Phone are all given (domain/capture.ts).
      const byIdFirst = kind === 'lead.capture' && prospectId !== null && get('EmailAddress') !== null && get('Phone') !== null;
      if (searchBy && !byIdFirst) {
        const by = searchBy.toLowerCase() === 'prospectid' ? prospectId : get(searchBy);
        if (by) return keyOf(searchBy, by);
      }
      if (kind === 'lead.capture' && prospectId) return keyOf('id', prospectId);
      for (const n of ['EmailAddress', 'Phone', 'Mobile']) {
        const v = get(n);
        if (v) return keyOf(n, v);
      }
    }
  } catch {
    // A body the operation will refuse orders against nothing.
  }
  return `request:${fallback}`;
}
