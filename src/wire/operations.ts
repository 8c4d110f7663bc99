/**
 * The operations that have both a sync and an async door: LeadSquared body in, LeadSquared response
 * out. The sync route runs one inside a transaction and answers with its result; the async worker
 * runs the very same function later, so a request's status `Message` is exactly the sync answer.
 */
import { createLeadAndActivity, postActivity, type ActivityInput } from '../domain/activities.js';
import { captureLead, parseUpdateBehavior } from '../domain/capture.js';
import { actingUserId } from '../domain/accounts.js';
import { actingAs, type Ctx } from '../domain/context.js';
import { mx } from '../domain/errors.js';
import { normalizeKey, resolveAttributes, updateLead } from '../domain/leads.js';
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
import { success } from './shapes.js';

export interface OperationInput {
  accountId: string;
  body: unknown;
  /** Query parameters, names lower-cased. */
  params: Record<string, string>;
  /** The async request being applied, or null on the sync API. */
  requestId: string | null;
}

export type Operation = (tx: Repos, ctx: Ctx, input: OperationInput) => Promise<unknown>;

/** `Create`: by RelatedProspectId, or by EmailAddress (creating the lead); the body read by its endpoint schema. */
export const activityCreate: Operation = async (tx, ctx, { accountId, body, requestId }) => {
  const { includeScore, lead: ref, activity: act } = readBody(activityCreateEndpoint, body);
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
};

/** `CreateCustom`: the lead upserted from LeadDetails, then the activity; the body read by its endpoint schema. */
export const activityCreateCustom: Operation = async (tx, ctx, { accountId, body, requestId }) => {
  const b = readBody(activityCreateCustomEndpoint, body);
  const input = { ...b.Activity, requestId };
  if (b.ValidateDropDownOptions) input.skipDropdownValidation = true;
  const { activity, lead, leadCreated } = await createLeadAndActivity(tx, ctx, accountId, b.LeadDetails, input);
  return success({ Id: activity.id, RelatedId: lead.id, IsLeadCreated: leadCreated });
};

export const leadCapture: Operation = async (tx, ctx, { accountId, body, params }) => {
  const attrs = readBody(leadCaptureEndpoint, body);
  const behavior = parseUpdateBehavior(params.leadupdatebehavior ?? null);
  const { lead, created } = await captureLead(tx, ctx, accountId, attrs, behavior);
  return success({ Id: lead.id, RelatedId: lead.id, AffectedRows: 1, IsCreated: created });
};

/** `Lead.Update?leadId=` (sync) and `/lead/update?leadId=` (async): the attribute list written to that lead. */
export const leadUpdate: Operation = async (tx, ctx, { accountId, body, params }) => {
  const { leadId } = readQuery(leadUpdateEndpoint, params);
  const attrs = readBody(leadUpdateEndpoint, body);
  const lead = await tx.leads.get(accountId, leadId);
  if (!lead) throw mx.unknownLead(leadId);
  await updateLead(tx, ctx, lead, (await resolveAttributes(tx, accountId, attrs, false)).fields);
  return success({ AffectedRows: 1 });
};

export const OPERATIONS: Record<RequestKind, Operation> = {
  'activity.create': activityCreate,
  'activity.createcustom': activityCreateCustom,
  'lead.capture': leadCapture,
  'lead.update': leadUpdate,
};

/** The StatusReason of a request that succeeded. */
export const SUCCESS_REASON = 'Request was successfully completed';

/** Thrown by `applyRequest` when the worker no longer holds the request: its effect must not commit. */
export class LeaseLost extends Error {
  constructor() {
    super('lease lost: another worker owns the request');
    this.name = 'LeaseLost';
  }
}

/**
 * Applies async request `r` in `tx` for worker `workerId`: its operation, acting as the user whose
 * keys submitted it (requests from before that was kept: the account's first user), and its
 * "succeeded" mark with the operation's answer as `Message`, which commit together. Throws the
 * operation's error, or `LeaseLost` when the mark cannot land because the lease was taken over.
 */
export async function applyRequest(tx: Repos, ctx: Ctx, r: AsyncRequest, workerId: string): Promise<void> {
  // Read as the sync door reads a body (json-body.ts): long numbers keep their digits.
  const body: unknown = parseJsonBody(r.body);
  const acting = actingAs(ctx, r.userId ?? (await actingUserId(tx, r.accountId, null)));
  const out = await OPERATIONS[r.kind](tx, acting, { accountId: r.accountId, body, params: r.params, requestId: r.id });
  const ok = await tx.requests.finish(r.id, workerId, { status: 'succeeded', statusReason: SUCCESS_REASON, message: JSON.stringify(out), at: ctx.now() });
  if (!ok) throw new LeaseLost();
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
  const call = { now: ctx.now(), userId: ctx.userId ?? null };
  return rerunLostRaces(() => operate.call(store, kind, call, input)).catch((e: unknown) => {
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
      const get = (n: string) => {
        const v = attrs.find((a) => a.name.toLowerCase() === n.toLowerCase())?.value ?? null;
        return v === null || v.trim() === '' ? null : v;
      };
      const searchBy = get('SearchBy');
      if (searchBy) {
        const by = searchBy.toLowerCase() === 'prospectid' ? get('ProspectID') : get(searchBy);
        if (by) return keyOf(searchBy, by);
      }
      if (kind === 'lead.capture' && get('ProspectID')) return keyOf('id', get('ProspectID')!);
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
