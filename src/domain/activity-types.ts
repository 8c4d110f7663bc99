/** Activity types: the built-in set every account starts with, and custom types (codes from 201). */
import { mx } from './errors.js';
import { INT32, wholeNumber } from './numbers.js';
import type { Ctx } from './context.js';
import type { ActivityFieldDef, ActivityType } from './types.js';
import { UniqueViolation, type Repos } from '../storage/store.js';

export const MAX_CUSTOM_FIELDS = 50;

type SystemType = Pick<ActivityType, 'code' | 'name' | 'score' | 'direction' | 'description'>;

/** LeadSquared's system activity codes, as seen in real accounts. */
export const SYSTEM_TYPES: SystemType[] = [
  { code: 21, name: 'Inbound Phone Call Activity', score: 0, direction: 0, description: 'A call from the lead' },
  { code: 22, name: 'Outbound Phone Call Activity', score: 0, direction: 1, description: 'A call to the lead' },
  { code: 23, name: 'Lead Capture', score: 0, direction: 0, description: 'The lead was captured' },
  { code: 97, name: 'Dynamic Form Submission', score: 0, direction: 0, description: 'A form was submitted' },
  { code: 164, name: 'Custom Object Activity', score: 0, direction: 0, description: 'A custom object changed' },
  { code: 3002, name: 'Lead Stage Change', score: 0, direction: 0, description: 'The lead stage changed' },
];

export async function seedActivityTypes(tx: Repos, ctx: Ctx, accountId: string): Promise<void> {
  for (const t of SYSTEM_TYPES) {
    await tx.activityTypes.insert({
      ...t,
      accountId,
      displayName: t.name,
      isSystem: true,
      fields: [],
      settings: {},
      createdOn: ctx.now(),
    });
  }
}

export interface NewActivityType {
  name: string;
  displayName?: string;
  description?: string;
  score?: number;
  direction?: number;
  fields?: ActivityFieldDef[];
  settings?: Record<string, unknown>;
  /** Pin the code (import from a real account); otherwise the next free custom code. */
  code?: number;
}

const SCHEMA = /^mx_Custom_(\d{1,2})$/i;
const CFS_SCHEMA = /^mx_CustomObject_(\d{1,2})$/i;

/**
 * The code a new type gets when it does not pin one: the next after the account's highest custom
 * code below 12000 (storage's nextCustomCode), stepping over codes already taken, by a system type
 * (3002 is Lead Stage Change) or by a type pinned there. Without the step, pinning 3001 or 11999
 * made every later unpinned CreateType fail on the taken code.
 */
async function nextFreeCode(tx: Repos, accountId: string): Promise<number> {
  let code = await tx.activityTypes.nextCustomCode(accountId);
  while (await tx.activityTypes.get(accountId, code)) code += 1;
  if (code > EVENT_CODE.max) throw mx.invalidInput('Invalid Input! No free activity type code is left after the highest one in use: pin a code with ActivityEvent.');
  return code;
}

/** Checks and normalizes a type's custom field definitions (mx_Custom_1 … mx_Custom_50, each once). */
export function checkFieldDefs(fields: ActivityFieldDef[]): ActivityFieldDef[] {
  if (fields.length > MAX_CUSTOM_FIELDS) throw mx.invalidInput(`An activity type has at most ${MAX_CUSTOM_FIELDS} custom fields; got ${fields.length}.`);
  const seen = new Set<string>();
  return fields.map((d) => {
    const m = SCHEMA.exec(d.schemaName);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > MAX_CUSTOM_FIELDS) {
      throw mx.invalidInput(`Invalid Input! Field SchemaName '${d.schemaName}' must be mx_Custom_1 … mx_Custom_${MAX_CUSTOM_FIELDS}.`);
    }
    const name = `mx_Custom_${Number(m[1])}`;
    if (seen.has(name)) throw mx.invalidInput(`Invalid Input! Field '${name}' is defined twice.`);
    seen.add(name);
    const nested = (d.fields ?? []).map((n) => {
      if (!CFS_SCHEMA.test(n.schemaName) && n.schemaName.toLowerCase() !== 'status') {
        throw mx.invalidInput(`Invalid Input! Custom field set field '${n.schemaName}' must be mx_CustomObject_N.`);
      }
      return n;
    });
    return { ...d, schemaName: name, fields: d.dataType.toLowerCase() === 'customobject' ? nested : null };
  });
}

export async function createActivityType(tx: Repos, ctx: Ctx, accountId: string, input: NewActivityType): Promise<ActivityType> {
  const name = input.name.trim();
  if (!name) throw mx.invalidInput('Invalid Input! Parameter Name: ActivityEventName');
  if (name.length > 200) throw mx.invalidInput('Invalid Input! ActivityEventName is longer than 200 characters.');
  if (await typeNamedForWrite(tx, accountId, name)) throw mx.duplicateName(`An activity type named '${name}' already exists.`);
  if (input.direction !== undefined && input.direction !== 0 && input.direction !== 1) {
    throw mx.invalidInput('Invalid Input! Direction must be 0 (inbound) or 1 (outbound).');
  }
  if (input.code !== undefined && wholeNumber(input.code, EVENT_CODE) === null) {
    // Reads and posts refuse any other code, so such a type could never be used.
    throw mx.invalidInput(`Invalid Input! ActivityEvent must be a whole number from ${EVENT_CODE.min} to ${EVENT_CODE.max}.`);
  }
  if (input.score !== undefined && wholeNumber(input.score, INT32) === null) {
    throw mx.invalidInput(`Invalid Input! Score must be a whole number from ${INT32.min} to ${INT32.max}.`);
  }
  if (input.code !== undefined && (await tx.activityTypes.get(accountId, input.code))) {
    throw mx.duplicateName(`Activity type code ${input.code} is already in use.`);
  }
  const code = input.code ?? (await nextFreeCode(tx, accountId));
  const type: ActivityType = {
    accountId,
    code,
    name,
    displayName: input.displayName?.trim() || name,
    description: input.description ?? '',
    score: input.score ?? 0,
    direction: input.direction ?? 0,
    isSystem: false,
    fields: checkFieldDefs(input.fields ?? []),
    settings: input.settings ?? {},
    createdOn: ctx.now(),
  };
  try {
    await tx.activityTypes.insert(type);
  } catch (e) {
    // A code we picked ourselves was taken by a concurrent CreateType: a lost race, worth a rerun.
    if (e instanceof UniqueViolation) {
      const err = mx.duplicateName(`Activity type code ${type.code} is already in use.`);
      throw input.code === undefined ? err.raced() : err;
    }
    throw e;
  }
  return type;
}

/**
 * The account's activity type named `name` (in any case), or null, read under a lock on that name:
 * two transactions giving a type the same name (CreateType, a rename by CustomActivityType/Update)
 * take turns on PostgreSQL, so the second finds the first's type and is refused instead of making a
 * twin (no unique index holds names, which are compared in any case). On SQLite the one writer
 * already serializes them.
 */
export async function typeNamedForWrite(tx: Repos, accountId: string, name: string): Promise<ActivityType | null> {
  await tx.leads.lockKeys(accountId, [`activity-type-name:${name.toLowerCase()}`]);
  return tx.activityTypes.findByName(accountId, name);
}

/** Activity event codes: positive, and 32-bit like LeadSquared's (and the INTEGER columns that hold them). */
export const EVENT_CODE = { min: 1, max: INT32.max } as const;

/** The activity type of event code `code` (a number or digits), or MXInvalidActivityException. */
export async function getActivityType(tx: Repos, accountId: string, code: unknown): Promise<ActivityType> {
  const n = wholeNumber(code, EVENT_CODE);
  if (n === null) throw mx.invalidEvent(code);
  const type = await tx.activityTypes.get(accountId, n);
  if (!type) throw mx.invalidEvent(code);
  return type;
}
