/** Domain records written in LeadSquared's JSON shapes. */
import { createRequire } from 'node:module';
import { formatLsqDateTime } from '../domain/fields.js';
import { isNoteField } from '../domain/activities.js';
import { isSearchableField } from '../domain/lead-search.js';
import type { Activity, ActivityFieldDef, ActivityType, FieldMap, ListedActivity, FieldValue, Lead, LeadFieldDef } from '../domain/types.js';

export interface Success<M> {
  Status: 'Success';
  Message: M;
}
export const success = <M>(message: M): Success<M> => ({ Status: 'Success', Message: message });

const str = (v: FieldValue): string | null => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The lead read shape (fact sheet §6), in its documented order. Every lead read answers each of
 * these, null when empty; the account's other fields (JobTitle, Notes, mx_ custom fields…) follow,
 * null when empty too (leadToWire).
 */
export const LEAD_READ_FIELDS = [
  'ProspectID', 'ProspectAutoId', 'FirstName', 'LastName', 'EmailAddress', 'Phone', 'Mobile', 'Company', 'Source', 'SourceMedium',
  'SourceCampaign', 'ProspectStage', 'Score', 'EngagementScore', 'Revenue', 'OwnerId', 'CreatedBy', 'CreatedOn', 'ModifiedBy',
  'ModifiedOn', 'LeadLastModifiedOn', 'ProspectActivityId_Max', 'ProspectActivityName_Max', 'ProspectActivityDate_Max', 'DoNotEmail',
  'DoNotCall', 'StatusCode', 'IsLead', 'LeadType',
] as const;

/**
 * A lead as every lead read returns it (`Leads.GetById`, `Leads.GetByEmailaddress`,
 * `RetrieveLeadByPhoneNumber`, `Leads.GetByQuickSearch`, the bulk reads before their columns are
 * picked): a flat object whose values are all strings or null. `defs` are the account's lead
 * fields (LeadsMetaData.Get's, as `leadFields.list` hands them out): each is present, null when the
 * lead has no value, after LEAD_READ_FIELDS and in their order, as LeadSquared's lead reads list
 * every field of the account (`"JobTitle": null, "Website": null, "mx_Street1": null, …` on its
 * Get a Lead by Email page). Without `defs`, the lead's own fields only, in
 * the order they were first written. The one place that shapes a lead for the wire.
 */
export function leadToWire(lead: Lead, defs?: readonly LeadFieldDef[]): Record<string, string | null> {
  // A copy of a fixed template: building the 29 nulls with Object.fromEntries took about 3.5 µs a
  // lead (8% of a Leads.GetById, with the date formatting), the spread of a template 0.05.
  const out: Record<string, string | null> = { ...(defs === undefined ? EMPTY_LEAD : accountTemplate(defs)) };
  // Empty reads as null: leads written before an empty value was stored as null hold "".
  for (const k in lead.fields) out[k] = lead.fields[k] === '' ? null : str(lead.fields[k]);
  const modifiedOn = formatLsqDateTime(lead.modifiedOn, true);
  out.ProspectID = lead.id;
  out.ProspectAutoId = String(lead.autoId);
  out.Score = String(lead.score);
  out.EngagementScore = String(lead.engagementScore);
  out.CreatedOn = formatLsqDateTime(lead.createdOn, true);
  out.ModifiedOn = modifiedOn;
  out.LeadLastModifiedOn = modifiedOn;
  out.ProspectActivityId_Max = lead.lastActivityId;
  out.ProspectActivityName_Max = lead.lastActivityName;
  out.ProspectActivityDate_Max = lead.lastActivityOn === null ? null : formatLsqDateTime(lead.lastActivityOn, true);
  out.DoNotEmail ??= '0';
  out.DoNotCall ??= '0';
  out.StatusCode = '0';
  out.IsLead = '1';
  // Object types (OT_0…) are not modelled: every record is a plain lead.
  out.LeadType = null;
  return out;
}

/**
 * Every read field, null, in LEAD_READ_FIELDS' order: what leadToWire starts from. Not frozen: V8
 * copies a frozen object's properties one by one (0.7 µs), a plain one's shape at once.
 */
const EMPTY_LEAD: Record<string, null> = Object.fromEntries(LEAD_READ_FIELDS.map((k) => [k, null]));

/**
 * EMPTY_LEAD with each of an account's fields after it, null: one per list of definitions, which
 * the reference-data cache hands out as the same frozen array until they change.
 */
const templates = new WeakMap<readonly LeadFieldDef[], Record<string, null>>();
function accountTemplate(defs: readonly LeadFieldDef[]): Record<string, null> {
  let t = templates.get(defs);
  if (t === undefined) {
    t = { ...EMPTY_LEAD };
    for (const d of defs) if (!Object.hasOwn(t, d.schemaName)) Object.defineProperty(t, d.schemaName, { value: null, enumerable: true, writable: true, configurable: true });
    templates.set(defs, t);
  }
  return t;
}

/** How LeadSquared's field pages name a data type's rendering (CreateLeadField's RenderTypeTextValue list). */
const RENDER_TEXT: Record<string, string> = { email: 'Email', phone: 'Phone', website: 'URL', date: 'Date', datetime: 'DateTime', time: 'Time', boolean: 'CheckBox', textarea: 'TextArea' };

/**
 * LeadSquared's `RenderType` numbers that its docs show (Get a Lead Field's Properties: `Phone` 6,
 * `Dropdown` 13); a rendering whose number no page shows answers 0 (docs/compatibility.md).
 */
const RENDER_NUMBER: Record<string, number> = { Phone: 6, Dropdown: 13 };

export function leadFieldToWire(d: LeadFieldDef, includeOptions: boolean) {
  const type = d.dataType.toLowerCase();
  const render = d.options ? 'Dropdown' : Object.hasOwn(RENDER_TEXT, type) ? RENDER_TEXT[type] : 'Textbox';
  return {
    SchemaName: d.schemaName,
    Name: d.schemaName,
    Entity: '1',
    DisplayName: d.displayName,
    DataType: d.dataType,
    IsMandatory: d.isMandatory,
    MaxLength: d.maxLength === null ? '' : String(d.maxLength),
    RenderType: RENDER_NUMBER[render] ?? 0,
    RenderTypeTextValue: render,
    IsVisible: true,
    // A custom field set is refused by Leads.Get (its values are not indexed): it had said true (a fresh-eyes run).
    IsSearchable: isSearchableField(d),
    IsSortable: true,
    Options: includeOptions && d.options ? d.options.map((Value) => ({ Value })) : [],
    IsLeadIdentifier: d.isUnique,
    IsUnique: d.isUnique,
    IsCustom: !d.isSystem,
    // A number, as LeadSquared's pages show it (0 in CreateLeadField's example; 1 and 2 in field reads).
    LockAfterCreate: 0,
  };
}

export function activityTypeToWire(t: ActivityType) {
  return {
    ActivityEvent: t.code,
    ActivityEventName: t.name,
    DisplayName: t.displayName,
    Description: t.description,
    Score: t.score,
    Direction: t.direction,
    IsSystem: t.isSystem,
    Category: t.isSystem ? 'System' : 'Custom',
  };
}

export interface WireFieldDef {
  [key: string]: unknown;
}

/**
 * A field definition as LeadSquared lists it, with `value` (an activity's, for GetActivityDetails;
 * "" for a type's own list). A custom field set's sub-fields carry their values from the set's, and
 * name it as their ParentField: they had all shown "" (a fresh-eyes run). `parent` is the set's
 * schema name for a sub-field.
 */
export function fieldDefToWire(d: ActivityFieldDef, i: number, value: FieldValue = '', parent = ''): WireFieldDef {
  const sub = (name: string): FieldValue => (typeof value === 'object' && value !== null && Object.hasOwn(value, name) ? (value[name] ?? '') : '');
  return {
    SchemaName: d.schemaName,
    InternalName: d.schemaName,
    DisplayName: d.displayName,
    Value: str(value) ?? '',
    DataType: d.dataType,
    IsMandatory: d.isMandatory,
    ShowInForm: true,
    Sequence: i + 1,
    // "" rather than null for none, as LeadSquared's field lists show them (Get Activity Type Details).
    ParentField: parent,
    OptionSet: d.options ? JSON.stringify(d.options.map((Value, Order) => ({ Value, Text: Value, IsDefault: false, Order }))) : '',
    MaxFieldLength: d.maxLength,
    IsMultiSelectDropdown: d.dataType.toLowerCase() === 'multiselect',
    Fields: d.fields ? d.fields.map((n, j) => fieldDefToWire(n, j, sub(n.schemaName), d.schemaName)) : undefined,
  };
}

export function activityTypeSettingToWire(t: ActivityType) {
  return {
    ID: t.code,
    Name: t.name,
    DisplayName: t.displayName,
    Description: t.description,
    Score: t.score,
    Direction: t.direction,
    ...t.settings,
    Fields: t.fields.map((d, i) => fieldDefToWire(d, i)),
  };
}

/** An activity as `ProspectActivity.svc/Retrieve` lists it (also the base of `RetrieveRecentlyModified`'s, from a whole activity: compat/activity-bulk.ts). */
export function activityToWire(a: ListedActivity, type: ActivityType | null) {
  const activityFields: Record<string, string | null> = { ActivityEvent_Note: a.note };
  const data: { Key: string; Value: string | null }[] = [{ Key: 'ActivityEvent_Note', Value: a.note }];
  for (const k in a.fields) {
    // The note is ActivityEvent_Note; one stored as a field by an earlier version is not listed again.
    if (isNoteField(k)) continue;
    const v = str(a.fields[k]);
    // "Returns the activities of a lead (including non-empty custom field values)": a field stored
    // empty is left out of both lists, as LeadSquared's Retrieve page describes them.
    if (v === null || v === '') continue;
    activityFields[k] = v;
    data.push({ Key: k, Value: v });
  }
  return {
    Id: a.id,
    EventCode: a.eventCode,
    EventName: type?.name ?? String(a.eventCode),
    ActivityScore: a.score,
    CreatedOn: formatLsqDateTime(a.occurredAt),
    ActivityType: type?.isSystem ? 1 : 2,
    Type: type?.direction === 1 ? 'Outbound' : 'Inbound',
    IsEmailType: false,
    SessionId: null,
    // 0, as LeadSquared's Retrieve page shows it (a typed client reads it as a number).
    TrackLocation: 0,
    Latitude: null,
    Longitude: null,
    ActivityOwnerEmail: a.ownerEmail,
    Data: data,
    ActivityFields: activityFields,
  };
}

/** What `Retrieve` answers: a page of a lead's activities (`activityToWire`) and how many it has in all. */
export interface RetrieveAnswer {
  RecordCount: number;
  ProspectActivities: ReturnType<typeof activityToWire>[];
}

const TEXT = { type: 'string' } as const;
const TEXT_OR_NULL = { type: ['string', 'null'] } as const;
const NUMBER = { type: 'number' } as const;
const NULL = { type: 'null' } as const;
/**
 * activityToWire's object as JSON Schema, property for property in its order (a test holds them
 * equal: test/unit/retrieve-json.test.ts).
 */
const ACTIVITY_SCHEMA = {
  type: 'object',
  properties: {
    Id: TEXT,
    EventCode: NUMBER,
    EventName: TEXT,
    ActivityScore: NUMBER,
    CreatedOn: TEXT,
    ActivityType: NUMBER,
    Type: TEXT,
    IsEmailType: { type: 'boolean' },
    SessionId: NULL,
    TrackLocation: NUMBER,
    Latitude: NULL,
    Longitude: NULL,
    ActivityOwnerEmail: TEXT_OR_NULL,
    Data: { type: 'array', items: { type: 'object', properties: { Key: TEXT, Value: TEXT_OR_NULL } } },
    ActivityFields: { type: 'object', additionalProperties: TEXT_OR_NULL },
  },
} as const;

/** The property names activityToWire gives, in order (tests compare them with what it returns). */
export const ACTIVITY_WIRE_PROPERTIES = Object.keys(ACTIVITY_SCHEMA.properties);

let compiledRetrieveAnswer: ((answer: RetrieveAnswer) => string) | null = null;

/**
 * A `Retrieve` answer as JSON text: the same text as `JSON.stringify(answer)`, made by a serializer
 * compiled from the answer's schema (fast-json-stringify, which Fastify uses for response schemas),
 * with 40–50% less CPU than JSON.stringify on Node 20 for a page of 25 (11–19 µs against 21–35 in a
 * script; docs/performance.md, thirty-second session). Only for objects built by activityToWire: a
 * property the schema does not name would be left out, which the test above guards.
 *
 * The library (with the schema validator it loads) is loaded and the serializer compiled at the
 * first call, not when this module is: every process and thread that imports the wire shapes (the
 * CLI, SQLite's writer thread) would otherwise pay for it, and most never answer a `Retrieve`.
 */
export function retrieveAnswerJson(answer: RetrieveAnswer): string {
  if (compiledRetrieveAnswer === null) {
    const fastJson = createRequire(import.meta.url)('fast-json-stringify') as typeof import('fast-json-stringify').default;
    compiledRetrieveAnswer = fastJson({
      type: 'object',
      properties: { RecordCount: NUMBER, ProspectActivities: { type: 'array', items: ACTIVITY_SCHEMA } },
    });
  }
  return compiledRetrieveAnswer(answer);
}

/** `GetActivityDetails`: the type's field list with this activity's values. */
export function activityDetailsToWire(a: Activity, type: ActivityType | null) {
  const defs = type?.fields ?? [];
  const known = new Set(defs.map((d) => d.schemaName));
  const extra = Object.keys(a.fields).filter((k) => !known.has(k) && !isNoteField(k));
  return {
    ID: a.id,
    Name: type?.name ?? String(a.eventCode),
    DisplayName: type?.displayName ?? String(a.eventCode),
    ActivityEvent: a.eventCode,
    RelatedProspectId: a.leadId,
    ActivityNote: a.note,
    ActivityDateTime: formatLsqDateTime(a.occurredAt),
    CreatedOn: formatLsqDateTime(a.createdOn),
    ActivityScore: a.score,
    ActivityOwnerEmail: a.ownerEmail,
    Fields: [
      ...defs.map((d, i) => fieldDefToWire(d, i, a.fields[d.schemaName] ?? '')),
      ...extra.map((k, i) => fieldDefToWire({ schemaName: k, displayName: k, dataType: 'String', isMandatory: false, maxLength: null, options: null, fields: null }, defs.length + i, a.fields[k])),
    ],
  };
}
