/**
 * The apply steps of the operations of operations.ts: each takes what its read step made of the
 * body and query and does the work in a transaction. Apart from the read steps, which need the
 * endpoint schemas (zod), so that SQLite's writer thread, which runs only apply steps
 * (thread-operations.ts), does not load the schemas: their import was about 220 of the 250 ms
 * the thread's operations module took to load, at every start (docs/performance.md, forty-third
 * session). Nothing here may import a schema at run time (types only).
 */
import { createLeadAndActivity, postActivity, type ActivityInput } from '../domain/activities.js';
import { captureLead } from '../domain/capture.js';
import { actingUserId } from '../domain/accounts.js';
import { actingAs, type Ctx } from '../domain/context.js';
import { mx } from '../domain/errors.js';
import { resolveAttributes, updateFieldsFor, updateLead } from '../domain/leads.js';
import type { AsyncRequest, RequestKind } from '../domain/types.js';
import type { Repos } from '../storage/store.js';
import type { Reads } from './operations.js';
import { success } from './shapes.js';

export interface OperationInput {
  accountId: string;
  body: unknown;
  /** Query parameters, names lower-cased. */
  params: Record<string, string>;
  /** The async request being applied, or null on the sync API. */
  requestId: string | null;
  /**
   * What the operation's read step made of `body` and `params`, when the caller has read them
   * already (`runOperation`, on the event loop, before sending the call to SQLite's writer thread);
   * absent: the operation reads them itself (operations.ts), which the writer thread cannot.
   */
  read?: unknown;
}

type Apply<K extends RequestKind> = (tx: Repos, ctx: Ctx, input: OperationInput, read: Reads[K]) => Promise<unknown>;

/** Each operation's apply step: the work in `tx`, from what its read step made (`read`), which it must not change. */
export const APPLY: { [K in RequestKind]: Apply<K> } = {
  async 'activity.create'(tx, ctx, { accountId, requestId }, { includeScore, lead: ref, activity: act }) {
    // Written out rather than `{ ...act, requestId }`: V8 adds a property to a spread copy through its
    // runtime, several microseconds on this hot path (docs/performance.md, twenty-seventh session).
    const input: ActivityInput = {
      eventCode: act.eventCode,
      note: act.note,
      occurredAt: act.occurredAt,
      fields: act.fields,
      ownerEmail: act.ownerEmail,
      skipDropdownValidation: act.skipDropdownValidation,
      requestId,
    };
    const { activity, lead } = await postActivity(tx, ctx, accountId, ref, input);
    return success({ Id: activity.id, RelatedId: lead.id, ...(includeScore ? { LeadScore: lead.score } : {}) });
  },
  async 'activity.createcustom'(tx, ctx, { accountId, requestId }, b) {
    const input = { ...b.Activity, requestId };
    if (b.ValidateDropDownOptions) input.skipDropdownValidation = true;
    const { activity, lead, leadCreated } = await createLeadAndActivity(tx, ctx, accountId, b.LeadDetails, input);
    return success({ Id: activity.id, RelatedId: lead.id, IsLeadCreated: leadCreated });
  },
  async 'lead.capture'(tx, ctx, { accountId }, { attrs, behavior }) {
    const { lead, created } = await captureLead(tx, ctx, accountId, attrs, behavior);
    return success({ Id: lead.id, RelatedId: lead.id, AffectedRows: 1, IsCreated: created });
  },
  async 'lead.update'(tx, ctx, { accountId }, { leadId, attrs }) {
    const lead = await tx.leads.get(accountId, leadId);
    if (!lead) throw mx.unknownLead(leadId);
    await updateLead(tx, ctx, lead, updateFieldsFor(lead, await resolveAttributes(tx, accountId, attrs, 'always')));
    return success({ AffectedRows: 1 });
  },
};

/**
 * Operation `kind`'s apply step on an input that carries what its read step made (`input.read`):
 * what SQLite's writer thread runs. Throws (an Error, not an MxError) when `input.read` is absent:
 * the caller reads first (operations.ts `runOperation`).
 */
export function applyOperation(kind: RequestKind, tx: Repos, ctx: Ctx, input: OperationInput): Promise<unknown> {
  if (input.read === undefined) return Promise.reject(new Error(`operation ${kind}: its input was not read before it was sent`));
  return (APPLY[kind] as Apply<RequestKind>)(tx, ctx, input, input.read as Reads[RequestKind]);
}

/** The StatusReason of a request that succeeded. */
export const SUCCESS_REASON = 'Request was successfully completed';

/** Thrown by `applyRead` when the worker no longer holds the request: its effect must not commit. */
export class LeaseLost extends Error {
  constructor() {
    super('lease lost: another worker owns the request');
    this.name = 'LeaseLost';
  }
}

/**
 * Applies async request `r` in `tx` for worker `workerId`, from what its operation's read step made
 * of it (`read`, operations.ts `readRequest`): the operation, acting as the user whose keys
 * submitted it (requests from before that was kept: the account's first user), and its
 * "succeeded" mark with the operation's answer as `Message`, which commit together. Throws the
 * operation's error, or `LeaseLost` when the mark cannot land because the lease was taken over.
 */
export async function applyRead(tx: Repos, ctx: Ctx, r: AsyncRequest, workerId: string, read: unknown): Promise<void> {
  const acting = actingAs(ctx, r.userId ?? (await actingUserId(tx, r.accountId, null)));
  const out = await applyOperation(r.kind, tx, acting, { accountId: r.accountId, body: null, params: r.params, requestId: r.id, read });
  const ok = await tx.requests.finish(r.id, workerId, { status: 'succeeded', statusReason: SUCCESS_REASON, message: JSON.stringify(out), at: ctx.now() });
  if (!ok) throw new LeaseLost();
}
