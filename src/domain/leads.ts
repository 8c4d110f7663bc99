/**
 * Leads: attribute resolution against the account's lead fields, create, update, lookups by unique
 * key, and the SearchBy upsert that CreateCustom and Lead.Capture share.
 */
import { mx } from './errors.js';
import { LEAD_FIELD_TYPES, checkValue, validateFields, type DropdownRule, type FieldInput } from './fields.js';
import { INT32, wholeNumber } from './numbers.js';
import { phoneLookupKeys, phoneOrderKey, phoneStoredKeys } from './phone.js';
import type { Ctx } from './context.js';
import type { ActivityFieldDef, FieldMap, Lead, LeadFieldDef } from './types.js';
import { EVENT, emitWebhookEvents, leadUpdateEvents } from './webhooks.js';
import { UniqueViolation, type LeadKey, type Repos, type Store } from '../storage/store.js';

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
// Every property a lead read returns that no write sets (wire/shapes.ts LEAD_READ_FIELDS): the
// last activity's three (kept by the activity posts), StatusCode and IsLead had been "unknown
// attribute … does not start with mx_" although every read lists them (a fresh-eyes run).
const READ_ONLY = new Set(
  [
    'ProspectAutoId', 'Score', 'EngagementScore', 'CreatedOn', 'ModifiedOn', 'CreatedBy', 'ModifiedBy', 'LeadLastModifiedOn',
    'ProspectActivityId_Max', 'ProspectActivityName_Max', 'ProspectActivityDate_Max', 'StatusCode', 'IsLead',
  ].map((s) => s.toLowerCase()),
);

/** Fields searchable by value: every unique field plus Mobile. */
const SEARCHABLE = new Set(['emailaddress', 'phone', 'mobile']);

/**
 * Version of the lead keys this code writes (phone keys by the rule in ./phone.ts since 2). Leads
 * keyed by an older version are re-keyed once at start (see rekeyStaleAccounts); migration 0003
 * marks every account that existed before it as version 1.
 */
export const LEAD_KEYS_VERSION = 2;

/**
 * The account's lead field definitions, read once per transaction: one lead write consults them for
 * attributes, keys, uniqueness and lookups. `tx` objects that are not the long-lived store (a
 * transaction's repos) are remembered here until they are collected; writing a field through
 * `putLeadField` forgets them. The store itself is never remembered: outside a transaction every
 * read goes to the database.
 */
const fieldCache = new WeakMap<Repos, Map<string, Promise<readonly LeadFieldDef[]>>>();

export function leadFieldDefs(tx: Repos, accountId: string): Promise<readonly LeadFieldDef[]> {
  if ('transaction' in tx) return tx.leadFields.list(accountId);
  let byAccount = fieldCache.get(tx);
  if (!byAccount) fieldCache.set(tx, (byAccount = new Map()));
  let defs = byAccount.get(accountId);
  if (!defs) {
    defs = tx.leadFields.list(accountId);
    byAccount.set(accountId, defs);
    // A failed read must not stay remembered.
    defs.catch(() => byAccount!.delete(accountId));
  }
  return defs;
}

/**
 * The most custom (`mx_…`) lead fields one account holds: created with CreateLeadField or the CLI,
 * or on first use by a lead write that names them. LeadSquared publishes no such number (a choice,
 * docs/compatibility.md); without one, a single request naming 22,000 new attributes made as many
 * fields in its transaction (15 s on PostgreSQL, past the transaction timeout: a 500 and an async
 * request retried for hours; 5 s holding every write on SQLite) and left the account with them.
 */
export const MAX_CUSTOM_LEAD_FIELDS = 1000;

/** MXInvalidInputException for `adding` new custom fields to an account that holds `held`. */
function tooManyFields(held: number, adding: number, example: string): Error {
  return mx.invalidInput(
    `An account holds at most ${MAX_CUSTOM_LEAD_FIELDS} custom lead fields; this one holds ${held}, and this call would add ${adding} (such as '${example.slice(0, 64)}'). Nothing was changed.`,
  );
}

/**
 * Takes this transaction's turn to add or change the account's lead fields, held until it ends:
 * calls that add fields (a write naming a new `mx_` attribute, CreateLeadField, the CLI) take turns
 * (PostgreSQL; SQLite's writer runs one at a time). When taking it may have waited, the definitions
 * remembered for this transaction are dropped (and, by the `ref:` key, the reference cache's token:
 * ref-cache.ts), so the next leadFieldDefs reads them as they are. Returns true then (PostgreSQL).
 * Decided on the definitions as read before the turn, a CreateLeadField and a write naming the same
 * new attribute side by side both answered success, and the write's text field replaced the
 * created Number field.
 */
export async function lockLeadFields(tx: Repos, accountId: string): Promise<boolean> {
  const mayHaveWaited = await tx.leads.lockKeys(accountId, ['ref:lead-fields:add']);
  if (mayHaveWaited) fieldCache.get(tx)?.delete(accountId);
  return mayHaveWaited;
}

/**
 * Writes `defs`, custom fields the account did not hold when read, within MAX_CUSTOM_LEAD_FIELDS;
 * throws tooManyFields (and the caller's transaction rolls back) otherwise. `held` is the count already
 * read: past the limit the call fails before writing anything. Calls that add fields take turns
 * (lockLeadFields), and the count is made again once this call's fields are written, so two calls
 * adding fields at once cannot pass the limit together. A field another call added while this one
 * waited for its turn is kept as that call made it, not written again. Returns the definitions by
 * lower-case name as they are once written: what the caller validates its values against.
 */
async function addCustomFields(tx: Repos, accountId: string, defs: LeadFieldDef[], held: number): Promise<ReadonlyMap<string, LeadFieldDef>> {
  if (held + defs.length > MAX_CUSTOM_LEAD_FIELDS) throw tooManyFields(held, defs.length, defs[0].schemaName);
  const fresh = (await lockLeadFields(tx, accountId)) ? fieldIndex(await leadFieldDefs(tx, accountId)).byName : null;
  const adding = fresh ? defs.filter((d) => !fresh.has(d.schemaName.toLowerCase())) : defs;
  for (const def of adding) await putLeadField(tx, accountId, def);
  const now = fieldIndex(await leadFieldDefs(tx, accountId));
  if (now.custom > MAX_CUSTOM_LEAD_FIELDS) throw tooManyFields(now.custom - adding.length, adding.length, (adding[0] ?? defs[0]).schemaName);
  return now.byName;
}

/**
 * What the lead rules look up in a list of field definitions, built once per list. The reference-data
 * cache (storage/sql/ref-cache.ts) hands every transaction the same frozen list until a field
 * changes, so a lead write reuses these instead of building maps, copies and lower-cased names
 * anew: they were about a tenth of what a sync Create by email allocated on SQLite's writer thread
 * (issue 11, by a sampling heap profile). A list read without the cache gets an index of its own.
 */
interface FieldIndex {
  /** Each definition by its schema name in lower case; of two names that differ only in case, the later. */
  byName: ReadonlyMap<string, LeadFieldDef>;
  /** The same, the earlier of two such names: what lookups by a field's name find (the first in the list, as `find` did). */
  firstByName: ReadonlyMap<string, LeadFieldDef>;
  /** The definitions as validateFields takes them: none mandatory, no nested definitions. */
  validation: readonly ActivityFieldDef[];
  /** The fields lead keys are written for (unique ones, EmailAddress, Phone, Mobile), in list order. */
  keyed: readonly LeadFieldDef[];
  /** The fields marked unique, in list order. */
  unique: readonly LeadFieldDef[];
  /** How many are custom fields (not system ones): what MAX_CUSTOM_LEAD_FIELDS counts. */
  custom: number;
}

const fieldIndexes = new WeakMap<readonly LeadFieldDef[], FieldIndex>();

const asValidation = (d: LeadFieldDef): ActivityFieldDef => ({ ...d, fields: null, isMandatory: false });

function fieldIndex(defs: readonly LeadFieldDef[]): FieldIndex {
  let index = fieldIndexes.get(defs);
  if (!index) {
    const firstByName = new Map<string, LeadFieldDef>();
    for (const d of defs) if (!firstByName.has(d.schemaName.toLowerCase())) firstByName.set(d.schemaName.toLowerCase(), d);
    index = {
      byName: new Map(defs.map((d) => [d.schemaName.toLowerCase(), d])),
      firstByName,
      validation: defs.map(asValidation),
      keyed: defs.filter((d) => d.isUnique || SEARCHABLE.has(d.schemaName.toLowerCase())),
      unique: defs.filter((d) => d.isUnique),
      custom: defs.filter((d) => !d.isSystem).length,
    };
    fieldIndexes.set(defs, index);
  }
  return index;
}

/** Writes a lead field definition and forgets the remembered ones of the account. */
async function putLeadField(tx: Repos, accountId: string, def: LeadFieldDef): Promise<void> {
  fieldCache.get(tx)?.delete(accountId);
  await tx.leadFields.upsert(accountId, def);
  fieldCache.get(tx)?.delete(accountId);
}

const isPhone = (d: Pick<LeadFieldDef, 'dataType'>) => d.dataType.toLowerCase() === 'phone';

/** Emails and other text keys: trimmed, in lower case (LeadSquared matches them in any case). */
export function normalizeKey(value: string): string {
  return value.trim().toLowerCase();
}

/** The stored keys a value of field `def` is found by (phones: see ./phone.ts). */
export function lookupKeys(def: Pick<LeadFieldDef, 'dataType'>, value: string): string[] {
  if (isPhone(def)) return phoneLookupKeys(value);
  const v = normalizeKey(value);
  return v === '' ? [] : [v];
}

/**
 * The name a new custom lead field may have: `mx_` (lower case) followed by letters, digits and `_`,
 * at most 64 characters in all. LeadSquared makes a field's schema name from its display name so
 * ("My Field" ⇒ `mx_My_Field`, lead-field-create.ts); the 64 is leadtrail's bound. One rule for every
 * way a field is made: an unknown `mx_` attribute on a lead write, CreateLeadField,
 * `leadtrail lead-fields set`, a seed file.
 */
export const CUSTOM_FIELD_NAME = /^mx_[A-Za-z0-9_]{1,61}$/;

/** The rule above in words, for messages. */
export const CUSTOM_FIELD_NAME_RULE = 'mx_ followed by letters, digits and _ (at most 64 characters in all, such as mx_Customer_No)';

/**
 * Why `name` cannot name a new custom lead field, as a phrase ("holds a space; mx_My_Field would
 * do"), or null when it can. With a name the rule would take instead when there is an obvious one
 * (spaces as `_`, the prefix in lower case).
 */
export function customFieldNameProblem(name: string): string | null {
  if (CUSTOM_FIELD_NAME.test(name)) return null;
  const prefix = name.slice(0, 3);
  if (prefix.toLowerCase() !== 'mx_') return 'does not start with mx_';
  const rest = name.slice(3);
  const why: string[] = [];
  if (prefix !== 'mx_') why.push(`starts with ${prefix} where mx_ is lower case`);
  if (rest === '') why.push('has nothing after mx_');
  const bad = [...new Set(Array.from(rest).filter((c) => !/[A-Za-z0-9_]/.test(c)))];
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).map((c) => (c === ' ' ? 'a space' : /\s/.test(c) ? 'a blank' : `'${c}'`));
    why.push(`holds ${shown.join(', ')}${bad.length > 5 ? ', …' : ''}`);
  }
  if (name.length > 64) why.push(`is ${name.length} characters long`);
  const fixed = `mx_${rest.trim().replace(/\s+/g, '_')}`;
  return `${why.join(' and ')}${CUSTOM_FIELD_NAME.test(fixed) ? `; ${fixed} would do` : ''}`;
}

/**
 * MXUnknownAttributeException for a lead attribute the account does not have and cannot make (see
 * customFieldNameProblem): the message says why this name is not made and which names are.
 */
function unknownLeadAttribute(name: string): Error {
  const why = customFieldNameProblem(name) ?? 'cannot name a new field';
  const shown = name.length > 100 ? `${name.slice(0, 97)}...` : name;
  return mx.unknownAttribute(
    shown,
    'lead',
    `the account has no such field, and a new one is made only from a name of ${CUSTOM_FIELD_NAME_RULE}: this one ${why}.`,
  );
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
export async function resolveAttributes(tx: Repos, accountId: string, attrs: FieldInput[], dropdowns: DropdownRule): Promise<ResolvedAttributes> {
  const index = fieldIndex(await leadFieldDefs(tx, accountId));
  let byName = index.byName;
  // The mx_ fields this call adds (rare), by lower-case name: the first spelling names the field.
  let adding: Map<string, LeadFieldDef> | null = null;
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
    // LeadSquared's object type (its bulk pages send `"LeadType":"OT_0"` on every row). leadtrail
    // keeps one type, the default OT_0: that (or blank) names it and changes nothing; another type
    // would put the lead where no read finds it, so it is refused rather than dropped.
    if (lower === 'leadtype') {
      const t = (a.value ?? '').trim();
      if (t === '' || t.toUpperCase() === 'OT_0') continue;
      throw mx.invalidInput(`LeadType '${t.length > 40 ? `${t.slice(0, 37)}...` : t}' is not available: leadtrail has one lead object type, OT_0 (the default lead); object types OT_1 and up are not emulated.`);
    }
    if (READ_ONLY.has(lower)) throw mx.invalidInput(`Lead attribute '${a.name}' is read-only.`);
    if (!byName.has(lower) && !adding?.has(lower)) {
      if (!CUSTOM_FIELD_NAME.test(a.name)) throw unknownLeadAttribute(a.name);
      (adding ??= new Map()).set(lower, {
        schemaName: a.name,
        displayName: a.name.slice(3).replace(/_/g, ' '),
        dataType: a.fields && a.fields.length > 0 ? 'CustomObject' : 'String',
        isUnique: false,
        isMandatory: false,
        maxLength: null,
        options: null,
        isSystem: false,
      });
    }
    inputs.push(a);
  }
  // The definitions with the fields this call adds: a copy, the index is shared. Counted before any
  // is written, so a call over the limit changes nothing.
  let added: ReadonlyMap<string, LeadFieldDef> | null = null;
  if (adding) {
    // The definitions as they are once written: a field another call made meanwhile, as it made it.
    added = await addCustomFields(tx, accountId, [...adding.values()], index.custom);
    byName = added;
  }
  const fields = validateFields(added ? [...added.values()].map(asValidation) : index.validation, inputs, {
    skipDropdown: dropdowns === 'skip',
    dropdownAlways: dropdowns === 'always',
    owner: 'lead',
  });
  for (const d of byName.values()) {
    const v = fields[d.schemaName];
    // An empty value clears the field: stored as null, as every lead read shows an empty field.
    if (typeof v === 'string' && v.trim() === '') fields[d.schemaName] = null;
    // LeadSquared keeps lead booleans as bits and reads them back as "1"/"0" (e.g. DoNotEmail).
    else if (typeof v === 'string' && d.dataType.toLowerCase() === 'boolean') fields[d.schemaName] = /^(true|1|yes)$/i.test(v) ? '1' : '0';
  }
  return { fields, prospectId, searchBy };
}

/** The lookup keys a lead with these fields has, for uniqueness and SearchBy. */
export async function keysFor(tx: Repos, accountId: string, fields: FieldMap): Promise<LeadKey[]> {
  const keys: LeadKey[] = [];
  for (const d of fieldIndex(await leadFieldDefs(tx, accountId)).keyed) {
    const v = fields[d.schemaName];
    if (typeof v !== 'string' || v.trim() === '') continue;
    if (isPhone(d)) {
      for (const k of phoneStoredKeys(v)) keys.push({ field: d.schemaName, value: k.value, unique: d.isUnique && k.uniqueable });
    } else {
      keys.push({ field: d.schemaName, value: normalizeKey(v), unique: d.isUnique });
    }
  }
  return keys;
}

/** LeadSquared's words for a duplicate of a unique field (fact sheet §3). */
const duplicateOf = (field: string) => mx.duplicate(field === 'EmailAddress' ? 'Email' : field === 'Phone' ? 'Phone Number' : field);

/** Ids of the leads whose `def` field matches `value` (a phone by the phone rule), oldest first, each once. */
async function leadsMatching(tx: Repos, accountId: string, def: LeadFieldDef, value: string): Promise<Lead[]> {
  const found = new Map<string, Lead>();
  for (const key of lookupKeys(def, value)) for (const l of await tx.leads.findByKey(accountId, def.schemaName, key)) if (!found.has(l.id)) found.set(l.id, l);
  return [...found.values()];
}

/**
 * Refuses `fields` when a unique field's value already belongs to another lead than `self`. Fields
 * named in `checked` are not looked up again (see createLead).
 */
async function assertUnique(tx: Repos, accountId: string, fields: FieldMap, self: string | null, checked?: ReadonlySet<string>): Promise<void> {
  for (const d of fieldIndex(await leadFieldDefs(tx, accountId)).unique) {
    const v = fields[d.schemaName];
    if (typeof v !== 'string' || v.trim() === '' || checked?.has(d.schemaName)) continue;
    if (isPhone(d)) {
      if ((await leadsMatching(tx, accountId, d, v)).some((l) => l.id !== self)) throw duplicateOf(d.schemaName);
    } else {
      const owner = await tx.leads.keyOwner(accountId, d.schemaName, normalizeKey(v));
      if (owner && owner !== self) throw duplicateOf(d.schemaName);
    }
  }
}

/**
 * Creates a lead from validated fields. It is owned (`OwnerId`, unless the fields name an owner)
 * and created (`CreatedBy`, `ModifiedBy`) by `ctx.userId`. Throws MXMandatoryAttributeMissing
 * without a name or contact, MXDuplicateEntry when a unique value is taken.
 *
 * `uniqueChecked`: fields whose values the caller has just looked up in this transaction, under
 * their lead-key locks (findForCreate with findByDefaultLookup), and found on no lead: their
 * uniqueness is not looked up again. The unique index still refuses a duplicate.
 */
export async function createLead(tx: Repos, ctx: Ctx, accountId: string, fields: FieldMap, id?: string, uniqueChecked?: ReadonlySet<string>): Promise<Lead> {
  assertIdentity(fields);
  const by = ctx.userId ?? null;
  const owned: FieldMap = withContactFlags({ ...fields, ...(by && !fieldValue(fields, 'OwnerId') ? { OwnerId: by } : {}), CreatedBy: by, ModifiedBy: by });
  const keys = await keysFor(tx, accountId, owned);
  await assertUnique(tx, accountId, owned, null, uniqueChecked);
  const now = ctx.now();
  const lead: Lead = {
    id: id ?? ctx.newId(),
    accountId,
    autoId: 0,
    fields: owned,
    score: 0,
    engagementScore: 0,
    createdOn: now,
    modifiedOn: now,
    lastActivityId: null,
    lastActivityName: null,
    lastActivityOn: null,
  };
  const autoId = await insertOrExplain(keys, () => tx.leads.insert(lead, keys));
  const created = { ...lead, autoId };
  await emitWebhookEvents(tx, ctx, accountId, [{ code: EVENT.leadCreate, leadId: created.id, snapshot: { kind: 'lead', lead: created } }]);
  return created;
}

/**
 * `lead` as it is once this transaction holds its turn: a lock on the lead (PostgreSQL; SQLite's one
 * writer already runs one write at a time, and there `lead` is returned as read). Held until the
 * transaction ends, so a read-modify-write of the lead's fields sees every earlier one committed.
 * Costs one round trip for the lock and one for the read (PostgreSQL only).
 */
export async function lockLead(tx: Repos, lead: Lead): Promise<Lead> {
  if (!(await tx.leads.lockKeys(lead.accountId, [`lead-row:${lead.id.toLowerCase()}`]))) return lead;
  return (await tx.leads.get(lead.accountId, lead.id)) ?? lead;
}

/**
 * lockLead for a lead that a lookup by value found (SearchBy, the default lookup): the lead as it
 * is once held, when it is still the lead the lookup found. When its lookup values (EmailAddress,
 * Phone, Mobile, fields marked unique) changed while this call waited for its turn, the lookup is
 * stale: it may now find another lead, or none. Then throws MXServiceUnavailableException marked
 * `raced()`, and runWrite runs the call again from its lookup. Without this, a Lead.Capture that
 * found a lead by its old Mobile wrote the old number back over a Lead.Update committed meanwhile
 * (PostgreSQL, whose write batches run side by side). No round trip more than lockLead's: the lookup
 * values are compared in memory.
 */
export async function lockFoundLead(tx: Repos, read: Lead): Promise<Lead> {
  const lead = await lockLead(tx, read);
  if (lead === read) return lead;
  const keyOf = (k: LeadKey) => `${k.field}\u0000${k.value}`;
  const before = new Set((await keysFor(tx, read.accountId, read.fields)).map(keyOf));
  const now = (await keysFor(tx, lead.accountId, lead.fields)).map(keyOf);
  if (now.length !== before.size || now.some((k) => !before.has(k))) throw mx.leadChanged(lead.id).raced();
  return lead;
}

/**
 * The lead booleans every read shows, as "0" when the lead has none (wire/shapes.ts): stored as "0"
 * then, so that a search for "0" finds the same leads the reads show (migration 0012 did the same
 * for leads stored before).
 */
const CONTACT_FLAGS = ['DoNotEmail', 'DoNotCall'];

function withContactFlags(fields: FieldMap): FieldMap {
  for (const f of CONTACT_FLAGS) {
    const v = fields[f];
    if (typeof v !== 'string' || v.trim() === '') fields[f] = '0';
  }
  return fields;
}

/**
 * A lead needs at least one of FirstName, LastName, EmailAddress, Phone or Mobile (LeadSquared's
 * create-a-lead page): on create, and after an update, which must not clear the last of them.
 * Throws MXMandatoryAttributeMissingException.
 */
function assertIdentity(fields: FieldMap): void {
  const named = ['FirstName', 'LastName', 'EmailAddress', 'Phone', 'Mobile'].some((n) => typeof fields[n] === 'string' && (fields[n] as string).trim() !== '');
  if (!named) throw mx.mandatoryMissing('A lead needs at least one of FirstName, LastName, EmailAddress, Phone or Mobile.');
}

/**
 * Merges `fields` into the lead (values in `fields` win; null clears a field); `ModifiedBy` becomes
 * `ctx.userId`. Throws MXMandatoryAttributeMissingException when the lead would be left without a
 * name or contact, MXDuplicateEntry when a unique value is taken.
 *
 * `read` is the lead as the caller read it. The merge is made into the lead as it is once this
 * transaction holds the lead's turn (lockLead): two updates of one lead side by side (PostgreSQL's
 * write batches) each merged into the lead as read before the other committed, and the later one
 * dropped the fields the earlier one had set, both answered success.
 */
/**
 * The fields of an update of `lead` by id (Lead.Update, /lead/update, Lead/Bulk/Update), refusing
 * a `ProspectID` attribute that names another lead (MXInvalidInputException): the call had
 * succeeded and written the lead of the query's id, not the one the body named (a fresh-eyes run).
 * The lead's own id (any case, spaces around) or a blank one is taken, as LeadSquared's reads send it back.
 */
export function updateFieldsFor(lead: Lead, r: ResolvedAttributes): FieldMap {
  const named = r.prospectId?.trim() ?? '';
  if (named !== '' && named.toLowerCase() !== lead.id.toLowerCase()) {
    throw mx.invalidInput(`ProspectID '${named.slice(0, 60)}' in the body is another lead than the one updated ('${lead.id}'): leave it out, or update that lead.`);
  }
  return r.fields;
}

export async function updateLead(tx: Repos, ctx: Ctx, read: Lead, fields: FieldMap): Promise<Lead> {
  return updateHeldLead(tx, ctx, await lockLead(tx, read), fields);
}

/**
 * updateLead of a lead this transaction already holds (lockLead, lockFoundLead), as read once held:
 * for a caller that decides what to write from the lead as it is (Lead.Capture's
 * UpdateOnlyEmptyFields), without taking the lock twice.
 */
export async function updateHeldLead(tx: Repos, ctx: Ctx, lead: Lead, fields: FieldMap): Promise<Lead> {
  // A lead always has an owner on LeadSquared: a blank OwnerId keeps the one it has (it had left
  // the lead with none, where a create with a blank one is owned by the key's user: a fresh-eyes run).
  const owner = fieldValue(lead.fields, 'OwnerId');
  const kept: FieldMap = owner && 'OwnerId' in fields && !fieldValue(fields, 'OwnerId') ? { OwnerId: owner } : {};
  const merged: FieldMap = withContactFlags({ ...lead.fields, ...fields, ...kept, ...(ctx.userId ? { ModifiedBy: ctx.userId } : {}) });
  assertIdentity(merged);
  const keys = await keysFor(tx, lead.accountId, merged);
  await assertUnique(tx, lead.accountId, merged, lead.id);
  const modifiedOn = ctx.now();
  // False: the lead was deleted (Lead/Delete/ById) by a transaction that committed while this one
  // waited for its row (PostgreSQL). Then it does not exist, as if the delete had come first.
  if (!(await insertOrExplain(keys, () => tx.leads.update(lead.accountId, lead.id, merged, keys, modifiedOn)))) throw mx.unknownLead(lead.id);
  const updated = { ...lead, fields: merged, modifiedOn };
  // Lead update (6), and stage (5) and owner (4) changes, whatever door the update came through.
  await emitWebhookEvents(tx, ctx, lead.accountId, leadUpdateEvents(lead, updated));
  return updated;
}

/**
 * Lead/Delete/ById (LeadSquared's "Delete a Lead" page): deletes the account's lead `id` (any case)
 * and everything stored for it, its activities included, for good: nothing can bring it back, and
 * a unique value it held (EmailAddress, …) is free for a new lead. Async requests, webhook events
 * already raised, their deliveries and journal entries stay; no webhook event is raised (LeadSquared's
 * webhook events have none for a deleted lead). Throws MXInvalidEntityException (mx.unknownLead)
 * when the account has no such lead, as for a lead deleted before.
 */
export async function deleteLead(tx: Repos, accountId: string, id: string): Promise<void> {
  if (!(await tx.leads.remove(accountId, id))) throw mx.unknownLead(id);
}

async function insertOrExplain<T>(keys: LeadKey[], write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    // Two writers raced for the same unique value and the first one won. The storage cannot say
    // which value: name the first unique field, in LeadSquared's words (a rerun of the operation,
    // see ./run.ts, finds the winner and answers precisely).
    if (e instanceof UniqueViolation) throw duplicateOf(keys.find((k) => k.unique)?.field ?? e.detail.split(',')[0]);
    throw e;
  }
}

/** The lead a unique field value points at (any field marked unique, or Mobile, or ProspectID; phones by the phone rule). */
export async function findLead(tx: Repos, accountId: string, field: string, value: string): Promise<Lead | null> {
  if (field.toLowerCase() === 'prospectid' || field.toLowerCase() === 'id') return tx.leads.get(accountId, value);
  return (await leadsMatching(tx, accountId, await searchField(tx, accountId, field), value))[0] ?? null;
}

/**
 * The lead field a SearchBy names (any case): EmailAddress, Phone, Mobile or a field marked unique.
 * Throws MXInvalidInputException for any other name, known or not, so that the caller learns what
 * it may search by before being asked for a value of a field it cannot use.
 */
async function searchField(tx: Repos, accountId: string, field: string): Promise<LeadFieldDef> {
  const def = fieldIndex(await leadFieldDefs(tx, accountId)).firstByName.get(field.toLowerCase());
  if (!def || !(def.isUnique || SEARCHABLE.has(def.schemaName.toLowerCase()))) {
    throw mx.invalidInput(`SearchBy field '${field}' cannot find a lead: use EmailAddress, Phone, Mobile, ProspectID or a field marked unique.`);
  }
  return def;
}

/**
 * Leads whose Phone or Mobile is `number` by the phone rule (./phone.ts): RetrieveLeadByPhoneNumber
 * and the default lookup. Those whose Phone matches come first, then Mobile; oldest first in each.
 */
export async function findLeadsByPhone(tx: Repos, accountId: string, number: string): Promise<Lead[]> {
  const { firstByName } = fieldIndex(await leadFieldDefs(tx, accountId));
  const found = new Map<string, Lead>();
  for (const name of ['phone', 'mobile']) {
    const def = firstByName.get(name);
    if (def) for (const l of await leadsMatching(tx, accountId, def, number)) if (!found.has(l.id)) found.set(l.id, l);
  }
  return [...found.values()];
}

/**
 * LeadSquared's default lookup, when no SearchBy is given: "the email address and phone fields are
 * used as the default search criteria" (create-or-update page). The first of these that finds a
 * lead wins: EmailAddress; Phone, then Mobile, each matched against leads' Phone and Mobile by the
 * phone rule; then any other field marked unique. Null when none finds one.
 */
export async function findByDefaultLookup(tx: Repos, accountId: string, fields: FieldMap): Promise<Lead | null> {
  const email = fieldValue(fields, 'EmailAddress');
  if (email && email.trim() !== '') {
    const lead = await findLead(tx, accountId, 'EmailAddress', email);
    if (lead) return lead;
  }
  for (const name of ['Phone', 'Mobile']) {
    const number = fieldValue(fields, name);
    if (!number || number.trim() === '') continue;
    const lead = (await findLeadsByPhone(tx, accountId, number))[0];
    if (lead) return lead;
  }
  for (const d of fieldIndex(await leadFieldDefs(tx, accountId)).unique) {
    if (SEARCHABLE.has(d.schemaName.toLowerCase())) continue;
    const v = fieldValue(fields, d.schemaName);
    if (!v || v.trim() === '') continue;
    const lead = (await leadsMatching(tx, accountId, d, v))[0];
    if (lead) return lead;
  }
  return null;
}

/**
 * A find-or-create's lookup: `find`, and when it finds nothing, again under a lock per lookup value
 * (`lockKeys`: the values the new lead would be found by). Two transactions creating the same new
 * lead then take turns (on PostgreSQL they run side by side): the second waits for the first to
 * commit and finds its lead instead of making a twin, which no unique key would stop for a field that
 * is not unique (Mobile, a phone written two ways). Only a lookup that misses pays for the locks, and
 * looks again only where they may have waited (PostgreSQL; on SQLite nothing can have changed).
 */
export async function findForCreate(tx: Repos, accountId: string, lockKeys: string[], find: () => Promise<Lead | null>): Promise<Lead | null> {
  const lead = await find();
  if (lead || lockKeys.length === 0) return lead;
  // Where write transactions never run side by side (SQLite), nothing can have changed since `find`.
  return (await tx.leads.lockKeys(accountId, lockKeys)) ? find() : null;
}

/** The lock keys of a lookup: one per value it searches by (phones by their national part, so a number written two ways is one key). */
export function lookupLockKeys(fields: FieldMap, searchBy?: string): string[] {
  const names = searchBy ? [searchBy] : ['EmailAddress', 'Phone', 'Mobile'];
  const keys: string[] = [];
  for (const n of names) {
    const v = fieldValue(fields, n);
    if (!v || v.trim() === '') continue;
    keys.push(/^(phone|mobile)$/i.test(n) ? `phone:${phoneOrderKey(v)}` : `${n.toLowerCase()}:${normalizeKey(v)}`);
  }
  return keys;
}

/** True when `fields` holds a value of a field the default lookup searches by. */
async function hasLookupValue(tx: Repos, accountId: string, fields: FieldMap): Promise<boolean> {
  if (['EmailAddress', 'Phone', 'Mobile'].some((n) => (fieldValue(fields, n) ?? '').trim() !== '')) return true;
  return fieldIndex(await leadFieldDefs(tx, accountId)).unique.some((d) => (fieldValue(fields, d.schemaName) ?? '').trim() !== '');
}

const ASCII = /^[\x00-\x7f]*$/;

/** The text value of `fields`' first property named `name` in any case; null when none or not text. */
export function fieldValue(fields: FieldMap, name: string): string | null {
  const lower = name.toLowerCase();
  // An ASCII name matches only names of its length (the one lower-casing that changes a length,
  // U+0130, gives a character outside ASCII): others are passed over without a lower-cased copy.
  const anyLength = !ASCII.test(name);
  for (const k in fields) {
    if (k === name || ((anyLength || k.length === name.length) && k.toLowerCase() === lower)) {
      const v = fields[k];
      return typeof v === 'string' ? v : null;
    }
  }
  return null;
}

/**
 * Create-or-update of a lead (Lead.CreateOrUpdate, CreateCustom's lead half): find the lead by
 * SearchBy when given, else by the default lookup (findByDefaultLookup); update it, or create one.
 * Returns the lead and whether it was created. Throws MXMandatoryAttributeMissing when there is
 * nothing to look the lead up by.
 */
export async function upsertLead(tx: Repos, ctx: Ctx, accountId: string, attrs: ResolvedAttributes): Promise<{ lead: Lead; created: boolean }> {
  let lead: Lead | null = null;
  const searchBy = attrs.searchBy;
  if (searchBy === null) {
    if (!(await hasLookupValue(tx, accountId, attrs.fields))) {
      throw mx.mandatoryMissing('Pass a field to find the lead by (EmailAddress, Phone, a field marked unique, or Mobile, which is not unique), or a SearchBy attribute.');
    }
    lead = await findForCreate(tx, accountId, lookupLockKeys(attrs.fields), () => findByDefaultLookup(tx, accountId, attrs.fields));
  } else if (searchBy.toLowerCase() === 'prospectid') {
    if (!attrs.prospectId) throw mx.mandatoryMissing("SearchBy is ProspectID but no 'ProspectID' attribute was passed.");
    lead = await tx.leads.get(accountId, attrs.prospectId);
    if (!lead) throw mx.unknownLead(attrs.prospectId);
  } else {
    // Checked before its value: a field that cannot find a lead is the mistake to name.
    const def = await searchField(tx, accountId, searchBy);
    const value = fieldValue(attrs.fields, searchBy);
    if (value === null || value.trim() === '') {
      throw mx.mandatoryMissing(`SearchBy is '${searchBy}' but no value for '${searchBy}' was passed in LeadDetails.`);
    }
    lead = await findForCreate(tx, accountId, lookupLockKeys(attrs.fields, searchBy), async () => (await leadsMatching(tx, accountId, def, value))[0] ?? null);
  }
  if (!lead) return { lead: await createLead(tx, ctx, accountId, attrs.fields), created: true };
  // A lead found by ProspectID stays that lead; one found by a value must still hold it once held.
  const held = searchBy !== null && searchBy.toLowerCase() === 'prospectid' ? await lockLead(tx, lead) : await lockFoundLead(tx, lead);
  return { lead: await updateHeldLead(tx, ctx, held, attrs.fields), created: false };
}

export interface LeadFieldInput {
  schemaName: string;
  displayName?: string;
  dataType?: string;
  isUnique?: boolean;
  /** A whole number from 1 (or its text, as the CLI's flag gives it: wholeNumber's spellings); null: no limit. */
  maxLength?: number | string | null;
  options?: string[] | null;
}

/**
 * Adds a custom lead field or changes one (the operator's tool, `leadtrail lead-fields set`; the
 * API's CreateLeadField creates fields through it, see ./lead-field-create.ts). A field whose
 * uniqueness changes re-keys every lead of the account, so SearchBy finds existing leads by it;
 * making it unique fails when two leads already share a value.
 */
export async function defineLeadField(tx: Repos, accountId: string, input: LeadFieldInput): Promise<LeadFieldDef> {
  // Decided on the fields as they are once this call holds the turn (lockLeadFields): a change of
  // one property merged into the field as read dropped another call's change made meanwhile.
  await lockLeadFields(tx, accountId);
  const existing = (await leadFieldDefs(tx, accountId)).find((d) => d.schemaName.toLowerCase() === input.schemaName.toLowerCase());
  if (!existing && !CUSTOM_FIELD_NAME.test(input.schemaName)) {
    throw mx.invalidInput(`A new lead field needs a name of ${CUSTOM_FIELD_NAME_RULE}; '${input.schemaName.slice(0, 80)}' ${customFieldNameProblem(input.schemaName)}.`);
  }
  const held = existing ? 0 : fieldIndex(await leadFieldDefs(tx, accountId)).custom;
  const maxLength = input.maxLength === undefined || input.maxLength === null ? input.maxLength : wholeNumber(input.maxLength, { min: 1, max: INT32.max });
  if (maxLength === null && input.maxLength !== null) throw mx.invalidInput(`MaxLength must be a whole number from 1 to ${INT32.max}.`);
  if (input.dataType !== undefined && !LEAD_FIELD_TYPES.some((t) => t.toLowerCase() === input.dataType!.toLowerCase())) {
    throw mx.invalidInput(`Unknown lead field data type '${input.dataType.slice(0, 60)}'. Use one of: ${LEAD_FIELD_TYPES.join(', ')}.`);
  }
  const dataType = input.dataType === undefined ? undefined : LEAD_FIELD_TYPES.find((t) => t.toLowerCase() === input.dataType!.toLowerCase());
  const base: LeadFieldDef = existing ?? { ...f(input.schemaName, 'String', { isSystem: false, maxLength: null }), displayName: input.schemaName.slice(3).replace(/_/g, ' ') };
  const def: LeadFieldDef = {
    ...base,
    ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    ...(dataType !== undefined ? { dataType } : {}),
    ...(input.isUnique !== undefined ? { isUnique: input.isUnique } : {}),
    ...(maxLength !== undefined ? { maxLength } : {}),
    ...(input.options !== undefined ? { options: input.options && input.options.length > 0 ? input.options : null } : {}),
  };
  // A type that a stored value does not fit is refused: accepted, it left those leads unsearchable
  // by the field (a search by the old value refused as not a number, a range finding nothing) while
  // reads still showed the value (a fresh-eyes run). A shorter length is not: values stored before
  // it are kept whole, as LeadSquared keeps them, and it holds for what is written from then on.
  if (existing && def.dataType !== existing.dataType) await assertStoredValuesFit(tx, accountId, def);
  if (existing) await putLeadField(tx, accountId, def);
  else await addCustomFields(tx, accountId, [def], held);
  if (def.isUnique !== (existing?.isUnique ?? false) || def.dataType !== (existing?.dataType ?? def.dataType)) await rekeyLeads(tx, accountId, true);
  return def;
}

/**
 * defineLeadField in a write transaction of its own: the operator's change of a field
 * (`leadtrail lead-fields set`). A change that may re-key the account's leads (`isUnique` or
 * `dataType` given) first waits for every other write transaction in flight on the database's
 * schema, in every process, and holds those that begin meanwhile until it commits
 * (Repos.accounts.holdWrites), so that no lead is written by the definitions as they were before
 * it: on PostgreSQL a lead created while the re-key ran was keyed as if the field were not unique,
 * unseen by the re-key, and two leads then held one value of a unique field. Not `exclusive`: that
 * also takes the start-up lock, which every server start on the database waits for. Two such
 * changes at once may deadlock on the hold; PostgreSQL ends one, and the write pipeline runs it
 * again. Other changes take turns on the fields only. Resolves with the definition as stored;
 * rejects as defineLeadField does (MXDuplicateEntryException when two leads share a value of a
 * field made unique).
 */
export function changeLeadField(store: Store, accountId: string, input: LeadFieldInput): Promise<LeadFieldDef> {
  const mayRekey = input.isUnique !== undefined || input.dataType !== undefined;
  return store.transaction(async (tx) => {
    if (mayRekey) await tx.accounts.holdWrites();
    return defineLeadField(tx, accountId, input);
  });
}

/**
 * Throws MXInvalidInputException unless every stored value of field `def` of the account's leads is
 * one that `def`'s (new) type accepts from a write, as checkValue judges it (dropdown options and
 * length aside): how many leads do not fit, and the first, with why. Reads the leads a page at a
 * time, held (lockedAfter), as rekeyLeads does.
 */
async function assertStoredValuesFit(tx: Repos, accountId: string, def: LeadFieldDef): Promise<void> {
  const check = { ...asValidation(def), maxLength: null };
  let misfits = 0;
  let first: { id: string; why: string } | null = null;
  for (let after = 0; ; ) {
    const leads = await tx.leads.lockedAfter(accountId, after, REKEY_PAGE);
    for (const lead of leads) {
      const v = lead.fields[def.schemaName];
      if (typeof v !== 'string' || v === '') continue;
      try {
        checkValue(check, v, { skipDropdown: true, owner: 'lead' });
      } catch (e) {
        misfits += 1;
        first ??= { id: lead.id, why: e instanceof Error ? e.message : String(e) };
      }
    }
    if (leads.length < REKEY_PAGE) break;
    after = leads[leads.length - 1].autoId;
  }
  if (first) {
    throw mx.invalidInput(
      `'${def.schemaName}' cannot become ${def.dataType}: ${misfits} lead${misfits === 1 ? ' holds a value' : 's hold values'} it would refuse (lead ${first.id}: ${first.why}). Change or clear ${misfits === 1 ? 'it' : 'them'} first.`,
    );
  }
}

/** Leads re-keyed per read (rekeyLeads). */
const REKEY_PAGE = 500;

/**
 * Rewrites every lead's keys of the account by today's rules. `strict`: a value two leads share
 * fails with MXDuplicateEntry (an operator making a field unique). Otherwise (the start-up upgrade
 * of keys written by an older rule) it never fails on a shared value: first every lead's keys are
 * written without uniqueness claims, then each lead claims its unique values where no other lead
 * shares them. Leads that now share a number keep it without the claim (new leads with that number
 * are still refused: the uniqueness check finds the unclaimed keys too).
 *
 * Only the keys are written: a lead's fields, indexed values and ModifiedOn stay as they are. The
 * leads are read REKEY_PAGE at a time in ProspectAutoId order, each page held by this transaction
 * once read (`lockedAfter`: row locks, which PostgreSQL keeps in the rows rather than in its lock
 * table, so an account of millions of leads is held whole without running out of lock slots), so
 * the keys are made from the fields as last committed, and a lead update that comes later waits
 * for this transaction's end (with the field change it goes with). On PostgreSQL the old re-key
 * read a page of leads unheld and wrote each one's fields back as read: a Lead.Update committed in
 * between was lost, both answered success.
 */
async function rekeyLeads(tx: Repos, accountId: string, strict: boolean): Promise<void> {
  const eachLead = async (fn: (lead: Lead) => Promise<void>) => {
    for (let after = 0; ; ) {
      const leads = await tx.leads.lockedAfter(accountId, after, REKEY_PAGE);
      for (const lead of leads) await fn(lead);
      if (leads.length < REKEY_PAGE) return;
      after = leads[leads.length - 1].autoId;
    }
  };
  const write = (lead: Lead, keys: LeadKey[]) => insertOrExplain(keys, () => tx.leads.replaceKeys(accountId, lead.id, keys));
  if (!strict) await eachLead(async (lead) => void (await write(lead, (await keysFor(tx, accountId, lead.fields)).map((k) => ({ ...k, unique: false })))));
  await eachLead(async (lead) => {
    const keys = await keysFor(tx, accountId, lead.fields);
    try {
      await assertUnique(tx, accountId, lead.fields, lead.id);
    } catch (e) {
      if (strict) throw e;
      return;
    }
    await write(lead, keys);
  });
}

/**
 * Re-keys the leads of every account whose keys were written by an older rule (LEAD_KEYS_VERSION),
 * one account per transaction. Run at start, before the API serves; safe to run in several
 * processes at once (each account is claimed under the store's exclusive lock). Returns how many
 * accounts were re-keyed.
 */
export async function rekeyStaleAccounts(store: Store): Promise<number> {
  let done = 0;
  for (const accountId of await store.leads.accountsKeyedBefore(LEAD_KEYS_VERSION)) {
    const did = await store.exclusive(async (tx) => {
      if (!(await tx.leads.accountsKeyedBefore(LEAD_KEYS_VERSION)).includes(accountId)) return false;
      await rekeyLeads(tx, accountId, false);
      await tx.leads.setKeysVersion(accountId, LEAD_KEYS_VERSION);
      return true;
      // Its time grows with the account's leads: under the store's limit (15 s) a large account was
      // rolled back at every start, and the server never started.
    }, { timeoutMs: Infinity });
    if (did) done++;
  }
  return done;
}
