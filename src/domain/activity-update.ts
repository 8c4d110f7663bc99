/**
 * Changing what was posted: an activity's note and fields (CustomActivity/Update), and a custom
 * activity type's name, score, description, direction, settings and fields
 * (CustomActivityType/Update). Each runs in the caller's transaction.
 */
import { ACTIVITY_SYSTEM_FIELDS, chooseNote, isNoteField, noteFromFields } from './activities.js';
import { EVENT_CODE, checkFieldDefs, getActivityType, typeNamedForWrite } from './activity-types.js';
import { mx } from './errors.js';
import { validateFields, type FieldInput } from './fields.js';
import { INT32, absent, wholeNumber } from './numbers.js';
import type { Activity, ActivityFieldDef, ActivityType, FieldMap, FieldValue } from './types.js';
import { systemCtx, type Ctx } from './context.js';
import { EVENT, emitWebhookEvents } from './webhooks.js';
import type { Repos } from '../storage/store.js';

export interface ActivityChange {
  id: string;
  /** The type the client believes the activity has; checked when given. */
  eventCode: unknown;
  /** The new note; null keeps the note. */
  note: string | null;
  /** Fields to set; fields not named keep their values. */
  fields: FieldInput[];
  skipDropdownValidation: boolean;
  /** When the change is made (epoch ms): the activity's new ModifiedOn. Absent keeps it. */
  at?: number;
}

const isEmpty = (v: FieldValue | undefined): boolean =>
  v === undefined || v === null || v === '' || (typeof v === 'object' && Object.values(v).every((x) => x === null || x === ''));

/** A custom field set's value: its sub-fields by name. */
const isSet = (v: FieldValue | undefined): v is Record<string, string | null> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Sets an activity's note and the fields named, validated against its type as on Create (unknown
 * fields, types, options, lengths); a mandatory field may not be emptied. Its date, lead, type and
 * score do not change.
 */
export async function updateActivity(tx: Repos, accountId: string, change: ActivityChange, ctx: Ctx = systemCtx): Promise<Activity> {
  // The activity's turn first (PostgreSQL; a no-op on SQLite): two updates of one activity side by
  // side each merged their fields into the activity as read before the other committed, and the
  // later one dropped the earlier one's fields.
  await tx.leads.lockKeys(accountId, [`activity-row:${String(change.id).trim().toLowerCase()}`]);
  const activity = await tx.activities.get(accountId, change.id);
  if (!activity) throw mx.unknownActivity(change.id);
  if (!absent(change.eventCode)) {
    const given = wholeNumber(change.eventCode, EVENT_CODE);
    if (given === null) throw mx.invalidEvent(change.eventCode);
    if (given !== activity.eventCode) throw mx.wrongActivityType(activity.id, given, activity.eventCode);
  }
  const type = await getActivityType(tx, accountId, activity.eventCode);
  const owner = `activity type ${type.code}`;
  // Mandatory fields are checked on the result: a field not named keeps its value.
  // A set's sub-fields too: an update may name some of them (checked on the merged set below).
  const optional = type.fields.map((d) => ({ ...d, isMandatory: false, fields: d.fields ? d.fields.map((n) => ({ ...n, isMandatory: false })) : d.fields }));
  const given = noteFromFields(validateFields(optional, change.fields, { skipDropdown: change.skipDropdownValidation, owner, systemNames: ACTIVITY_SYSTEM_FIELDS }));
  // A custom field set named with sub-fields keeps its sub-fields not named, as the activity keeps
  // its fields not named: replaced whole, a set lost every value not sent again (a fresh-eyes run).
  // A set named with none (an empty Value, no Fields) is emptied, as an empty Value empties a field.
  const fields: FieldMap = {};
  // A note stored as a field by an earlier version is no field (noteFromFields).
  for (const [k, v] of Object.entries(activity.fields)) if (!isNoteField(k)) fields[k] = v;
  for (const [k, v] of Object.entries(given.fields) as [string, FieldValue][]) {
    const was = fields[k];
    fields[k] = isSet(v) && isSet(was) && Object.keys(v).length > 0 ? { ...was, ...v } : v;
  }
  for (const d of type.fields) {
    if (d.isMandatory && isEmpty(fields[d.schemaName])) throw mx.mandatoryMissing(`'${d.schemaName}' (${d.displayName}) is mandatory for ${owner}`);
    // A set named on this update: its mandatory sub-fields, on the merged set, as Create checks them.
    const set = fields[d.schemaName];
    if (d.fields && Object.hasOwn(given.fields, d.schemaName) && isSet(set)) {
      for (const n of d.fields) {
        if (n.isMandatory && isEmpty(set[n.schemaName] ?? null)) throw mx.mandatoryMissing(`'${d.schemaName}.${n.schemaName}' (${n.displayName}) is mandatory for ${owner}`);
      }
    }
  }
  const note = chooseNote(change.note, given.note, activity.note);
  // False: the activity went with its lead (Lead/Delete/ById), committed while this transaction
  // read it (PostgreSQL). Then it does not exist, as if the delete had come first.
  if (!(await tx.activities.update(accountId, activity.id, { note, fields, ...(change.at !== undefined ? { modifiedOn: change.at } : {}) }))) throw mx.unknownActivity(change.id);
  const updated = { ...activity, note, fields, modifiedOn: change.at ?? activity.modifiedOn ?? null };
  // Activity update (15), with the lead as it is now.
  const lead = await tx.leads.get(accountId, activity.leadId);
  if (lead) await emitWebhookEvents(tx, ctx, accountId, [{ code: EVENT.activityUpdate, leadId: lead.id, snapshot: { kind: 'activity', activity: updated, activityName: type.name, lead } }]);
  return updated;
}

export interface ActivityTypeChange {
  code: unknown;
  name?: string;
  description?: string;
  score?: number;
  direction?: number;
  /** Field definitions to add or replace (by SchemaName); the type's other fields stay. */
  fields?: ActivityFieldDef[];
  settings?: Record<string, unknown>;
}

/** Changes a custom activity type; system types (and unknown codes) are refused. */
export async function updateActivityType(tx: Repos, accountId: string, change: ActivityTypeChange): Promise<ActivityType> {
  if (absent(change.code)) throw mx.mandatoryMissing("'ID' (the activity type's event code) is mandatory");
  const read = await getActivityType(tx, accountId, change.code);
  // The type's turn (PostgreSQL; a no-op on SQLite), then the type as it is: two updates side by
  // side each merged their Fields into the type as read before the other committed, and the later
  // one dropped the earlier one's fields.
  const type = (await tx.leads.lockKeys(accountId, [`ref:activity-type:${read.code}`])) ? await getActivityType(tx, accountId, read.code) : read;
  if (type.isSystem) throw mx.invalidInput(`Invalid Input! Activity type ${type.code} is a system type; only custom activity types can be updated.`);
  const next: ActivityType = { ...type, settings: { ...type.settings, ...(change.settings ?? {}) } };
  if (change.name !== undefined) {
    const name = change.name.trim();
    if (!name) throw mx.invalidInput('Invalid Input! ActivityEventName cannot be empty.');
    if (name.length > 200) throw mx.invalidInput('Invalid Input! ActivityEventName is longer than 200 characters.');
    const holder = await typeNamedForWrite(tx, accountId, name);
    if (holder && holder.code !== type.code) throw mx.duplicateName(`An activity type named '${name}' already exists.`);
    // The display name follows the name unless it was set apart from it.
    if (type.displayName === type.name) next.displayName = name;
    next.name = name;
  }
  if (change.description !== undefined) next.description = change.description;
  if (change.direction !== undefined) {
    if (change.direction !== 0 && change.direction !== 1) throw mx.invalidInput('Invalid Input! Direction must be 0 (inbound) or 1 (outbound).');
    next.direction = change.direction;
  }
  if (change.score !== undefined) {
    if (wholeNumber(change.score, INT32) === null) throw mx.invalidInput(`Invalid Input! Score must be a whole number from ${INT32.min} to ${INT32.max}.`);
    next.score = change.score;
  }
  if (change.fields !== undefined && change.fields.length > 0) {
    const given = checkFieldDefs(change.fields);
    const byName = new Map(type.fields.map((d) => [d.schemaName.toLowerCase(), d]));
    for (const d of given) byName.set(d.schemaName.toLowerCase(), d);
    next.fields = checkFieldDefs([...byName.values()]).sort((a, b) => Number(a.schemaName.slice(10)) - Number(b.schemaName.slice(10)));
  }
  await tx.activityTypes.update(next);
  return next;
}
