/**
 * Posting activities: on a lead by id, on a lead by email (creating it), and together with a
 * SearchBy lead upsert. Each runs inside the caller's transaction, so a failure anywhere leaves no
 * lead, no activity and no score behind.
 */
import { getActivityType } from './activity-types.js';
import type { Ctx } from './context.js';
import { mx } from './errors.js';
import { isEmailAddress, parseLsqDateTime, validateFields, type FieldInput } from './fields.js';
import { createLead, findByDefaultLookup, findForCreate, lookupLockKeys, resolveAttributes, upsertLead, type ResolvedAttributes } from './leads.js';
import type { Activity, FieldMap, Lead } from './types.js';
import { EVENT, emitWebhookEvents, type WebhookEvent } from './webhooks.js';
import type { Repos } from '../storage/store.js';

/** Fields every activity type takes besides its own mx_Custom_N fields. */
export const ACTIVITY_SYSTEM_FIELDS = ['Status', 'Owner', 'ActivityEvent_Note'] as const;

export interface ActivityInput {
  eventCode: unknown;
  note: string | null;
  /** LeadSquared `yyyy-MM-dd HH:mm:ss` (UTC); now when absent. */
  occurredAt: string | null;
  fields: FieldInput[];
  ownerEmail: string | null;
  skipDropdownValidation: boolean;
  /** Set when an async request is being applied: at most one activity per request. */
  requestId: string | null;
}

export interface PostedActivity {
  activity: Activity;
  lead: Lead;
}

export type LeadRef =
  | { by: 'id'; leadId: string }
  | { by: 'email'; email: string; firstName: string | null; lastName: string | null; phone: string | null; mobile?: string | null };

/**
 * Posts an activity on a lead found by id, or by email: the lead with that email, else (the default
 * lookup, see findByDefaultLookup) the lead with the Phone or Mobile passed, else a new lead made
 * from the details.
 */
export async function postActivity(tx: Repos, ctx: Ctx, accountId: string, ref: LeadRef, input: ActivityInput): Promise<PostedActivity> {
  // A lead named by id is not read first: the write finds it (addActivity).
  if (ref.by === 'id') return addActivity(tx, ctx, { accountId, id: ref.leadId, lead: null }, input);
  if (!isEmailAddress(ref.email)) throw mx.invalidInput(`EmailAddress '${ref.email.slice(0, 100)}' is not a valid email address.`);
  // Surrounding spaces are not part of the address (fields.ts): found and stored without them.
  ref = { ...ref, email: ref.email.trim() };
  const given: Record<string, string> = { EmailAddress: ref.email };
  if (ref.phone) given.Phone = ref.phone;
  if (ref.mobile) given.Mobile = ref.mobile;
  let lead = await findForCreate(tx, accountId, lookupLockKeys(given), () => findByDefaultLookup(tx, accountId, given));
  if (!lead) {
    // Validate the activity before creating the lead, so the common mistakes fail fast; the
    // transaction would undo the lead anyway.
    await getActivityType(tx, accountId, input.eventCode);
    const attrs: FieldInput[] = [{ name: 'EmailAddress', value: ref.email, fields: null }];
    if (ref.firstName) attrs.push({ name: 'FirstName', value: ref.firstName, fields: null });
    if (ref.lastName) attrs.push({ name: 'LastName', value: ref.lastName, fields: null });
    if (ref.phone) attrs.push({ name: 'Phone', value: ref.phone, fields: null });
    if (ref.mobile) attrs.push({ name: 'Mobile', value: ref.mobile, fields: null });
    const resolved = await resolveAttributes(tx, accountId, attrs, 'skip');
    // The default lookup above found no lead by any of `given`'s values, under their locks.
    lead = await createLead(tx, ctx, accountId, resolved.fields, undefined, new Set(Object.keys(given)));
  }
  return addActivity(tx, ctx, { accountId, id: lead.id, lead }, input);
}

/** CreateCustom: SearchBy upsert of the lead, then the activity, in the caller's transaction. */
export async function createLeadAndActivity(
  tx: Repos,
  ctx: Ctx,
  accountId: string,
  leadAttributes: FieldInput[],
  input: ActivityInput,
): Promise<PostedActivity & { leadCreated: boolean }> {
  const attrs: ResolvedAttributes = await resolveAttributes(tx, accountId, leadAttributes, input.skipDropdownValidation ? 'skip' : 'check');
  const { lead, created } = await upsertLead(tx, ctx, accountId, attrs);
  const posted = await addActivity(tx, ctx, { accountId, id: lead.id, lead }, input);
  return { ...posted, leadCreated: created };
}

/**
 * The activity `input` on a lead: `on.lead` when the caller has read it, else the lead with id
 * `on.id`, which the write itself finds (one statement fewer than reading it first). An unknown lead
 * is the answer before anything wrong with the activity, as when the lead was read first.
 */
async function addActivity(tx: Repos, ctx: Ctx, on: { accountId: string; id: string; lead: Lead | null }, input: ActivityInput): Promise<PostedActivity> {
  let checked: Awaited<ReturnType<typeof checkActivity>>;
  try {
    checked = await checkActivity(tx, ctx, on.accountId, input);
  } catch (e) {
    if (!on.lead && !(await tx.leads.get(on.accountId, on.id))) throw mx.unknownLead(on.id);
    throw e;
  }
  const { type, occurredAt, fields, ownerEmail, note } = checked;
  const row: Omit<Activity, 'seq'> = {
    id: ctx.newId(),
    accountId: on.accountId,
    leadId: on.id,
    eventCode: type.code,
    note,
    occurredAt,
    ownerEmail,
    fields,
    score: type.score,
    createdOn: ctx.now(),
    requestId: input.requestId,
  };
  const updated = await tx.leads.addActivity(row, type.name);
  if (!updated) throw mx.unknownLead(on.id);
  // As stored: the lead's id in its own case. Written out rather than spread from `row`: V8 sets a
  // property of a spread copy through its runtime (docs/performance.md, twenty-seventh session).
  const activity: Activity = {
    id: row.id,
    accountId: row.accountId,
    leadId: updated.id,
    eventCode: row.eventCode,
    note: row.note,
    occurredAt: row.occurredAt,
    ownerEmail: row.ownerEmail,
    fields: row.fields,
    score: row.score,
    createdOn: row.createdOn,
    requestId: row.requestId,
    seq: 0,
  };
  const previousScore = updated.score - type.score;
  // Activity create (2), and a score change (9) when the activity's score moved the lead's.
  const events: WebhookEvent[] = [{ code: EVENT.activityCreate, leadId: updated.id, snapshot: { kind: 'activity', activity, activityName: type.name, lead: updated } }];
  if (updated.score !== previousScore) events.push({ code: EVENT.scoreChange, leadId: updated.id, snapshot: { kind: 'lead', lead: updated, previous: { score: previousScore } } });
  await emitWebhookEvents(tx, ctx, on.accountId, events);
  return { activity, lead: updated };
}

/** The activity's type, date, fields and owner, checked; throws the MX error of the first wrong one. */
async function checkActivity(tx: Repos, ctx: Ctx, accountId: string, input: ActivityInput) {
  const type = await getActivityType(tx, accountId, input.eventCode);
  // Empty or only spaces is no date (as in a typed field): now.
  const occurredAt = input.occurredAt === null || input.occurredAt.trim() === '' ? ctx.now() : parseLsqDateTime(input.occurredAt, 'ActivityDateTime');
  const given = noteFromFields(
    validateFields(type.fields, input.fields, {
      skipDropdown: input.skipDropdownValidation,
      owner: `activity type ${type.code}`,
      systemNames: ACTIVITY_SYSTEM_FIELDS,
    }),
  );
  const fields = given.fields;
  const note = chooseNote(input.note, given.note, '');
  // Empty or only spaces is no owner; an address is kept without its surrounding spaces.
  const ownerEmail = input.ownerEmail?.trim() || null;
  if (ownerEmail !== null && !isEmailAddress(ownerEmail)) {
    throw mx.invalidInput(`ActivityOwnerEmail '${ownerEmail.slice(0, 100)}' is not a valid email address.`);
  }
  return { type, occurredAt, fields, ownerEmail, note };
}

/** Whether a field name is ActivityEvent_Note (any case): the activity's note, not a field. */
export const isNoteField = (name: string): boolean => name.length === 18 && name.toLowerCase() === 'activityevent_note';

/**
 * The note a `Fields` entry `ActivityEvent_Note` (any case) gives, taken out of the fields: the
 * system field is the activity's note, not a field beside it (stored as one, the activity had two
 * notes, and Retrieve's `Data` listed `ActivityEvent_Note` twice: a fresh-eyes run). `note` is null
 * when no entry names it. The caller's `ActivityNote`, when given and not empty, wins over it.
 */
/**
 * The note a write leaves: the caller's `ActivityNote` when given and not empty, else the
 * `ActivityEvent_Note` entry of its Fields (noteFromFields), else the caller's (`""` empties it),
 * else `otherwise` (Create: `""`; Update: the note the activity has).
 */
export const chooseNote = (given: string | null | undefined, fromFields: string | null, otherwise: string): string =>
  given !== null && given !== undefined && given !== '' ? given : (fromFields ?? given ?? otherwise);

export function noteFromFields(fields: FieldMap): { note: string | null; fields: FieldMap } {
  let note: string | null = null;
  const rest: FieldMap = {};
  for (const [k, v] of Object.entries(fields)) {
    if (isNoteField(k)) note = v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
    else rest[k] = v;
  }
  return { note, fields: rest };
}
