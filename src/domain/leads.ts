/**
 * Leads: attribute resolution against the account's lead fields, create, update, lookups by unique
 * key, and the SearchBy upsert that CreateCustom and Lead.Capture share.
 */
import { mx } from './errors.js';
import { validateFields, type FieldInput } from './fields.js';
import type { Ctx } from './context.js';
import type { FieldMap, Lead, LeadFieldDef } from './types.js';
import { UniqueViolation, type LeadKey, type Repos } from '../storage/store.js';

const f = (schemaName: string, dataType = 'String', extra: Partial<LeadFieldDef> = {}): LeadFieldDef => ({
  schemaName,
  displayName: schemaName.replace(/([a-z])([A-Z])/g, '$1 $2'),
  dataType,
  isUnique: false,
  isMandatory: false,
  maxLength: dataType === 'String' ? 200 : null,
  options: null,
  isSystem: true,
  ...extra,
});

/** The lead fields every account starts with. */
export const SYSTEM_LEAD_FIELDS: LeadFieldDef[] = [
  f('FirstName'),
  f('LastName'),
  f('EmailAddress', 'Email', { displayName: 'Email', isUnique: true, maxLength: 100 }),
  f('Phone', 'Phone', { isUnique: true, maxLength: 50 }),
  f('Mobile', 'Phone', { maxLength: 50 }),
  f('Company'),
  f('JobTitle'),
  f('Website', 'Website'),
  f('Source'),
  f('SourceMedium'),
  f('SourceCampaign'),
  f('SourceContent'),
  f('ProspectStage', 'String', { displayName: 'Lead Stage' }),
  f('Notes', 'String', { maxLength: 2000 }),
  f('OwnerId'),
  f('Revenue', 'Decimal'),
  f('DoNotEmail', 'Boolean'),
  f('DoNotCall', 'Boolean'),
];

/** Attributes a client may not write. */
const READ_ONLY = new Set(
  ['ProspectAutoId', 'Score', 'EngagementScore', 'CreatedOn', 'ModifiedOn', 'CreatedBy', 'ModifiedBy', 'LeadLastModifiedOn'].map((s) => s.toLowerCase()),
);

/** Fields searchable by value: every unique field plus Mobile. */
const SEARCHABLE = new Set(['emailaddress', 'phone', 'mobile']);

export function normalizeKey(field: string, value: string): string {
  const lower = field.toLowerCase();
  if (lower === 'phone' || lower === 'mobile') {
    // LeadSquared writes numbers as +<country code>-<number>: an explicitly separated country code
    // goes first, so short national numbers (Singapore's 8 digits) match with or without it.
    const digits = value.trim().replace(/^\+\d{1,3}[-\s]+/, '').replace(/\D/g, '');
    // Lookups ignore a country code: keep the national number (last 10 digits).
    return digits.length > 10 ? digits.slice(-10) : digits;
  }
  return value.trim().toLowerCase();
}

export interface ResolvedAttributes {
  /** Field values to write, by canonical schema name. */
  fields: FieldMap;
  /** The id the client passed as a ProspectID attribute, if any. */
  prospectId: string | null;
  /** The SearchBy pseudo-attribute's value, if any. */
  searchBy: string | null;
}

/**
 * Checks client attributes against the account's lead fields. Unknown `mx_` attributes are added
 * to the account as text fields (a sandbox must take what an integration sends); other unknown
 * names are refused.
 */
export async function resolveAttributes(tx: Repos, accountId: string, attrs: FieldInput[], skipDropdown: boolean): Promise<ResolvedAttributes> {
  const defs = await tx.leadFields.list(accountId);
  const byName = new Map(defs.map((d) => [d.schemaName.toLowerCase(), d]));
  let prospectId: string | null = null;
  let searchBy: string | null = null;
  const inputs: FieldInput[] = [];
  for (const a of attrs) {
    const lower = a.name.toLowerCase();
    if (lower === 'searchby') {
      searchBy = a.value;
      continue;
    }
    if (lower === 'prospectid' || lower === 'id') {
      prospectId = a.value;
      continue;
    }
    if (READ_ONLY.has(lower)) throw mx.invalidInput(`Lead attribute '${a.name}' is read-only.`);
    if (!byName.has(lower)) {
      if (!/^mx_[A-Za-z0-9_]+$/.test(a.name) || a.name.length > 64) throw mx.unknownAttribute(a.name, 'lead');
      const def: LeadFieldDef = {
        schemaName: a.name,
        displayName: a.name.slice(3).replace(/_/g, ' '),
        dataType: a.fields && a.fields.length > 0 ? 'CustomObject' : 'String',
        isUnique: false,
        isMandatory: false,
        maxLength: null,
        options: null,
        isSystem: false,
      };
      await tx.leadFields.upsert(accountId, def);
      byName.set(lower, def);
    }
    inputs.push(a);
  }
  const activityDefs = [...byName.values()].map((d) => ({ ...d, fields: null, isMandatory: false }));
  const fields = validateFields(activityDefs, inputs, { skipDropdown, owner: 'lead' });
  // LeadSquared keeps lead booleans as bits and reads them back as "1"/"0" (e.g. DoNotEmail).
  for (const d of byName.values()) {
    const v = fields[d.schemaName];
    if (typeof v === 'string' && v !== '' && d.dataType.toLowerCase() === 'boolean') fields[d.schemaName] = /^(true|1|yes)$/i.test(v) ? '1' : '0';
  }
  return { fields, prospectId, searchBy };
}

/** The lookup keys a lead with these fields has, for uniqueness and SearchBy. */
export async function keysFor(tx: Repos, accountId: string, fields: FieldMap): Promise<LeadKey[]> {
  const defs = await tx.leadFields.list(accountId);
  const keys: LeadKey[] = [];
  for (const d of defs) {
    const v = fields[d.schemaName];
    if (typeof v !== 'string' || v.trim() === '') continue;
    if (d.isUnique || SEARCHABLE.has(d.schemaName.toLowerCase())) {
      keys.push({ field: d.schemaName, value: normalizeKey(d.schemaName, v), unique: d.isUnique });
    }
  }
  return keys;
}

async function assertUnique(tx: Repos, accountId: string, keys: LeadKey[], self: string | null): Promise<void> {
  for (const k of keys) {
    if (!k.unique) continue;
    const owner = await tx.leads.keyOwner(accountId, k.field, k.value);
    if (owner && owner !== self) throw mx.duplicate(k.field === 'EmailAddress' ? 'Email' : k.field === 'Phone' ? 'Phone Number' : k.field);
  }
}

export async function createLead(tx: Repos, ctx: Ctx, accountId: string, fields: FieldMap, id?: string): Promise<Lead> {
  const named = ['FirstName', 'LastName', 'EmailAddress', 'Phone', 'Mobile'].some((n) => typeof fields[n] === 'string' && fields[n] !== '');
  if (!named) throw mx.mandatoryMissing('A lead needs at least one of FirstName, LastName, EmailAddress, Phone or Mobile.');
  const keys = await keysFor(tx, accountId, fields);
  await assertUnique(tx, accountId, keys, null);
  const now = ctx.now();
  const lead: Lead = {
    id: id ?? ctx.newId(),
    accountId,
    autoId: 0,
    fields,
    score: 0,
    engagementScore: 0,
    createdOn: now,
    modifiedOn: now,
    lastActivityId: null,
    lastActivityName: null,
    lastActivityOn: null,
  };
  await insertOrExplain(() => tx.leads.insert(lead, keys));
  return (await tx.leads.get(accountId, lead.id))!;
}

/** Merges `fields` into the lead (values in `fields` win). */
export async function updateLead(tx: Repos, ctx: Ctx, lead: Lead, fields: FieldMap): Promise<Lead> {
  const merged = { ...lead.fields, ...fields };
  const keys = await keysFor(tx, lead.accountId, merged);
  await assertUnique(tx, lead.accountId, keys, lead.id);
  await insertOrExplain(() => tx.leads.update(lead.accountId, lead.id, merged, keys, ctx.now()));
  return (await tx.leads.get(lead.accountId, lead.id))!;
}

async function insertOrExplain<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    // Two writers raced for the same unique value; the first one won.
    if (e instanceof UniqueViolation) throw mx.duplicate(e.detail);
    throw e;
  }
}

/** The lead a unique field value points at (any field marked unique, or Mobile, or ProspectID). */
export async function findLead(tx: Repos, accountId: string, field: string, value: string): Promise<Lead | null> {
  if (field.toLowerCase() === 'prospectid' || field.toLowerCase() === 'id') return tx.leads.get(accountId, value);
  const defs = await tx.leadFields.list(accountId);
  const def = defs.find((d) => d.schemaName.toLowerCase() === field.toLowerCase());
  if (!def || !(def.isUnique || SEARCHABLE.has(def.schemaName.toLowerCase()))) {
    throw mx.invalidInput(`SearchBy field '${field}' is not a unique lead field. Use EmailAddress, Phone, Mobile, ProspectID or a field marked unique.`);
  }
  const found = await tx.leads.findByKey(accountId, def.schemaName, normalizeKey(def.schemaName, value));
  return found[0] ?? null;
}

export function fieldValue(fields: FieldMap, name: string): string | null {
  const key = Object.keys(fields).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? null : fields[key];
  return typeof v === 'string' ? v : null;
}

/**
 * SearchBy upsert: find the lead whose `searchBy` field equals the value passed among the
 * attributes; update it, or create one. Returns the lead and whether it was created.
 */
export async function upsertLead(tx: Repos, ctx: Ctx, accountId: string, attrs: ResolvedAttributes, defaultSearchBy = 'EmailAddress'): Promise<{ lead: Lead; created: boolean }> {
  const searchBy = attrs.searchBy ?? defaultSearchBy;
  let lead: Lead | null = null;
  if (searchBy.toLowerCase() === 'prospectid') {
    if (!attrs.prospectId) throw mx.mandatoryMissing("SearchBy is ProspectID but no 'ProspectID' attribute was passed.");
    lead = await tx.leads.get(accountId, attrs.prospectId);
    if (!lead) throw mx.unknownLead(attrs.prospectId);
  } else {
    const value = fieldValue(attrs.fields, searchBy);
    if (value === null || value.trim() === '') {
      throw mx.mandatoryMissing(`SearchBy is '${searchBy}' but no value for '${searchBy}' was passed in LeadDetails.`);
    }
    lead = await findLead(tx, accountId, searchBy, value);
  }
  if (lead) return { lead: await updateLead(tx, ctx, lead, attrs.fields), created: false };
  return { lead: await createLead(tx, ctx, accountId, attrs.fields), created: true };
}


export interface LeadFieldInput {
  schemaName: string;
  displayName?: string;
  dataType?: string;
  isUnique?: boolean;
  maxLength?: number | null;
  options?: string[] | null;
}

/**
 * Adds a custom lead field or changes one (the operator's tool: LeadSquared's API has no door for
 * this). A field whose uniqueness changes re-keys every lead of the account, so SearchBy finds
 * existing leads by it; making it unique fails when two leads already share a value.
 */
export async function defineLeadField(tx: Repos, accountId: string, input: LeadFieldInput): Promise<LeadFieldDef> {
  const existing = (await tx.leadFields.list(accountId)).find((d) => d.schemaName.toLowerCase() === input.schemaName.toLowerCase());
  if (!existing && (!/^mx_[A-Za-z0-9_]+$/.test(input.schemaName) || input.schemaName.length > 64)) {
    throw mx.invalidInput(`A new lead field needs a name such as mx_Customer_No (letters, digits and _, at most 64 characters); got '${input.schemaName.slice(0, 80)}'.`);
  }
  if (input.maxLength !== undefined && input.maxLength !== null && (!Number.isSafeInteger(input.maxLength) || input.maxLength < 1)) {
    throw mx.invalidInput('MaxLength must be a whole number of at least 1.');
  }
  const base: LeadFieldDef = existing ?? { ...f(input.schemaName, 'String', { isSystem: false, maxLength: null }), displayName: input.schemaName.slice(3).replace(/_/g, ' ') };
  const def: LeadFieldDef = {
    ...base,
    ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    ...(input.dataType !== undefined ? { dataType: input.dataType } : {}),
    ...(input.isUnique !== undefined ? { isUnique: input.isUnique } : {}),
    ...(input.maxLength !== undefined ? { maxLength: input.maxLength } : {}),
    ...(input.options !== undefined ? { options: input.options && input.options.length > 0 ? input.options : null } : {}),
  };
  await tx.leadFields.upsert(accountId, def);
  if (def.isUnique !== (existing?.isUnique ?? false)) await rekeyLeads(tx, accountId);
  return def;
}

async function rekeyLeads(tx: Repos, accountId: string): Promise<void> {
  const page = 500;
  for (let offset = 0; ; offset += page) {
    const { leads } = await tx.leads.list(accountId, { offset, limit: page });
    for (const lead of leads) {
      const keys = await keysFor(tx, accountId, lead.fields);
      await assertUnique(tx, accountId, keys, lead.id);
      await insertOrExplain(() => tx.leads.update(accountId, lead.id, lead.fields, keys, lead.modifiedOn));
    }
    if (leads.length < page) return;
  }
}
