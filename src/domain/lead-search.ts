/**
 * Lead search in LeadSquared's terms (Leads.Get's LookupName / SqlOperator / LookupValue, and the
 * Sorting.ColumnName of the bulk lead reads), turned into storage conditions. Lead fields are
 * searched through the lead_values index (storage/sql/lead-search.ts); the system columns through
 * the leads table's own columns.
 */
import { mx } from './errors.js';
import { LSQ_DATE_TIME_FORMS, parseLsqDateTime, scanLsqDateTime, typedForm } from './fields.js';
import { SAFE, decimalNumber, wholeNumber } from './numbers.js';
import type { LeadFieldDef } from './types.js';
import type { CompareOp, LeadCondition, LeadOrder, SearchColumn } from '../storage/store.js';

/** Largest page of the bulk lead reads (LeadSquared's documented maximum per call). */
export const LEAD_PAGE_SIZE_MAX = 5000;
/** Longest LookupValue on a lead field: values are indexed by their first 200 characters. */
export const LOOKUP_VALUE_MAX = 200;

export type SqlOperator = CompareOp | 'like' | 'in';
const OPERATORS: SqlOperator[] = ['=', '<>', '<', '>', '<=', '>=', 'like', 'in'];
/** Most values one `IN` takes. */
export const IN_VALUES_MAX = 1000;

/** `SqlOperator` as a client writes it (`=`, `LIKE`, `like`, `!=`…), or MXInvalidInputException. */
export function parseOperator(v: string | null): SqlOperator {
  const sent = (v ?? '').trim();
  const op = sent.toLowerCase();
  if (op === '') return '=';
  if (op === '!=') return '<>';
  const found = OPERATORS.find((o) => o === op);
  // Quoted as sent: `BETWEEN` is not shown back as `between`.
  if (!found) throw mx.invalidInput(`Invalid Input! 'SqlOperator' must be one of =, IN, LIKE, <, >, <=, >=, <>; got '${sent.slice(0, 20)}'.`);
  return found;
}

type Kind = 'guid' | 'number' | 'date';

/** System columns by LeadSquared name (lower case): the leads table holds them. */
const SYSTEM: Record<string, { column: SearchColumn; kind: Kind; name: string }> = {
  prospectid: { column: 'id', kind: 'guid', name: 'ProspectID' },
  prospectautoid: { column: 'autoId', kind: 'number', name: 'ProspectAutoId' },
  createdon: { column: 'createdOn', kind: 'date', name: 'CreatedOn' },
  modifiedon: { column: 'modifiedOn', kind: 'date', name: 'ModifiedOn' },
  leadlastmodifiedon: { column: 'modifiedOn', kind: 'date', name: 'LeadLastModifiedOn' },
  score: { column: 'score', kind: 'number', name: 'Score' },
  engagementscore: { column: 'engagementScore', kind: 'number', name: 'EngagementScore' },
};

const NUMERIC_TYPES = new Set(['number', 'int', 'decimal', 'float', 'money']);
const isNumeric = (d: LeadFieldDef) => NUMERIC_TYPES.has(d.dataType.toLowerCase());
const isBoolean = (d: LeadFieldDef) => ['boolean', 'bit'].includes(d.dataType.toLowerCase());
/** A boolean lookup value in every spelling writes take (true/false, 1/0, yes/no), as the "1"/"0" lead booleans are stored as. */
const booleanKey = (v: string) => (/^\s*(true|1|yes)\s*$/i.test(v) ? '1' : /^\s*(false|0|no)\s*$/i.test(v) ? '0' : v);
/** A Boolean field's lookup value as stored ("1"/"0"); one that is no boolean is MXInvalidInputException, as for other typed fields. */
function booleanLookup(def: LeadFieldDef, v: string): string {
  const key = booleanKey(v);
  if (key !== '1' && key !== '0') throw mx.invalidInput(`Invalid Input! 'LookupValue' for ${def.schemaName} (a ${def.dataType} field) must be true/false, yes/no or 1/0; got '${v.slice(0, 60)}'.`);
  return key;
}
/**
 * The system column a client's name (any case, spaces around) stands for, or undefined. An own
 * property only: `constructor` and `__proto__` are names of every object's prototype, and as a
 * `Sorting.ColumnName` or `LookupName` they had been taken for a column with no name (500
 * MXSystemException: "no such column: l.undefined"; a fresh-eyes run).
 */
function systemColumn(name: string): (typeof SYSTEM)[string] | undefined {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(SYSTEM, key) ? SYSTEM[key] : undefined;
}

const TIME_TYPES: Record<string, string> = { datetime: 'a date-time', date: 'a date as yyyy-MM-dd', time: 'a time as HH:mm:ss' };
/**
 * A lookup value for a Date, DateTime or Time field in the form such values are stored in
 * (fields.ts typedForm), so `2025-01-02T03:00` finds a value written `2025-01-02 03:00:00`; other
 * fields' values as given. A value that is not of the field's type is MXInvalidInputException.
 */
function timeKey(def: LeadFieldDef, v: string): string {
  const type = def.dataType.toLowerCase();
  if (!Object.hasOwn(TIME_TYPES, type)) return v;
  const key = typedForm(type, v);
  if (key !== null) return key;
  if (type === 'datetime') {
    // Why this text is no date-time, and the forms that are, as for every other date-time input.
    const r = scanLsqDateTime(v);
    const why = 'why' in r ? r.why : 'is not a date-time';
    throw mx.invalidInput(`Invalid Input! 'LookupValue' '${v.slice(0, 60)}' for ${def.schemaName} (a ${def.dataType} field) ${why}: ${LSQ_DATE_TIME_FORMS}.`);
  }
  throw mx.invalidInput(`Invalid Input! 'LookupValue' for ${def.schemaName} (a ${def.dataType} field) must be ${TIME_TYPES[type]}; got '${v.slice(0, 60)}'.`);
}

/** Names a search may use besides the account's lead fields: fields the server writes on each lead. */
const WRITTEN = ['CreatedBy', 'ModifiedBy', 'OwnerId'];

function fieldDef(defs: readonly LeadFieldDef[], name: string): LeadFieldDef | null {
  const lower = name.trim().toLowerCase();
  const def = defs.find((d) => d.schemaName.toLowerCase() === lower);
  if (def) return def;
  const written = WRITTEN.find((w) => w.toLowerCase() === lower);
  return written ? { schemaName: written, displayName: written, dataType: 'String', isUnique: false, isMandatory: false, maxLength: null, options: null, isSystem: true } : null;
}

/** Whether a lead search (Leads.Get's LookupName) takes the field: any but a custom field set, whose values are not indexed. LeadsMetaData.Get's IsSearchable says the same. */
export const isSearchableField = (def: LeadFieldDef): boolean => def.dataType.toLowerCase() !== 'customobject';

/** The lead field a search names: MXUnknownAttributeException when there is none, MXInvalidInputException for a custom field set (isSearchableField). */
function searchableDef(defs: readonly LeadFieldDef[], name: string): LeadFieldDef {
  const def = fieldDef(defs, name);
  if (!def) throw mx.unknownAttribute(name.trim().slice(0, 100), 'lead');
  if (!isSearchableField(def)) throw mx.invalidInput(`Invalid Input! ${def.schemaName} is a custom field set, which cannot be searched.`);
  return def;
}

/**
 * The storage condition for `name op value`. A date column compares by whole seconds when the value
 * has no milliseconds (`CreatedOn = '2024-01-01 10:00:00'` is that whole second); ProspectID takes
 * `=` and `<>`; number columns and Number/Decimal lead fields compare as numbers (a field's value
 * read as a Decimal field's is, numbers.ts `decimalNumber`: `0x16` is no number); other fields as
 * text, ignoring case. Unknown names are MXUnknownAttributeException.
 */
export function lookupCondition(defs: readonly LeadFieldDef[], name: string, op: SqlOperator, value: string | string[]): LeadCondition {
  if (op === 'in') return inCondition(defs, name, value);
  if (Array.isArray(value)) throw mx.invalidInput("Invalid Input! 'LookupValue' may be a list only with SqlOperator IN.");
  const sys = systemColumn(name);
  const refuse = (why: string) => mx.invalidInput(`Invalid Input! ${why}`);
  if (sys) {
    // The advice names only the operators the column takes: ProspectID compares with = and <> alone.
    if (op === 'like') throw refuse(`'SqlOperator' LIKE cannot be used with ${sys.name}; use ${sys.kind === 'guid' ? '= or <> (or IN)' : '=, <, >, <=, >= or <>'}.`);
    if (sys.kind === 'guid') {
      if (op !== '=' && op !== '<>') throw refuse(`ProspectID can only be compared with = or <>.`);
      return { kind: 'column', column: sys.column, op, value };
    }
    if (sys.kind === 'number') {
      const n = wholeNumber(value, SAFE);
      if (n === null) throw refuse(`'LookupValue' for ${sys.name} must be a whole number; got '${value.slice(0, 60)}'.`);
      return { kind: 'column', column: sys.column, op, value: n };
    }
    const t = parseLsqDateTime(value, 'LookupValue');
    const end = value.includes('.') ? t : t + 999;
    switch (op) {
      case '=':
        return { kind: 'column', column: sys.column, op: 'between', value: t, to: end };
      case '<>':
        return { kind: 'column', column: sys.column, op: 'outside', value: t, to: end };
      case '>':
        return { kind: 'column', column: sys.column, op: '>', value: end };
      case '<=':
        return { kind: 'column', column: sys.column, op: '<=', value: end };
      default:
        return { kind: 'column', column: sys.column, op, value: t };
    }
  }
  const def = searchableDef(defs, name);
  if (Array.from(value.trim()).length > LOOKUP_VALUE_MAX) throw refuse(`'LookupValue' may be at most ${LOOKUP_VALUE_MAX} characters.`);
  if (isBoolean(def) && op !== 'like') return { kind: 'field', field: def.schemaName, op, value: booleanLookup(def, value) };
  if (isNumeric(def) && op !== 'like') {
    const n = decimalNumber(value);
    if (n === null) throw refuse(`'LookupValue' for ${def.schemaName} (a ${def.dataType} field) must be a number; got '${value.slice(0, 60)}'.`);
    return { kind: 'field', field: def.schemaName, op, value: n };
  }
  return { kind: 'field', field: def.schemaName, op, value: op === 'like' ? value : timeKey(def, value) };
}

/**
 * `name IN (values)`: the values are a JSON list, or one text of comma-separated values (each
 * trimmed; empty ones dropped), at most IN_VALUES_MAX. ProspectID matches ids in any case;
 * ProspectAutoId, Score and EngagementScore take whole numbers; Number/Decimal fields decimal numbers; other
 * fields text ignoring case. Date columns cannot take IN (MXInvalidInputException).
 */
function inCondition(defs: readonly LeadFieldDef[], name: string, value: string | string[]): LeadCondition {
  const refuse = (why: string) => mx.invalidInput(`Invalid Input! ${why}`);
  const values = (Array.isArray(value) ? value : value.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) throw mx.mandatoryMissing("'Parameter.LookupValue' is mandatory: IN needs at least one value");
  if (values.length > IN_VALUES_MAX) throw refuse(`'SqlOperator' IN takes at most ${IN_VALUES_MAX} values; got ${values.length}.`);
  const sys = systemColumn(name);
  if (sys) {
    if (sys.kind === 'guid') return { kind: 'ids', ids: values };
    if (sys.kind === 'date') throw refuse(`'SqlOperator' IN cannot be used with ${sys.name}; use =, <, >, <=, >= or <>.`);
    const nums = values.map((v) => {
      const n = wholeNumber(v, SAFE);
      if (n === null) throw refuse(`'LookupValue' for ${sys.name} must be whole numbers; got '${v.slice(0, 60)}'.`);
      return n;
    });
    return { kind: 'columnIn', column: sys.column, values: nums };
  }
  const def = searchableDef(defs, name);
  for (const v of values) if (Array.from(v).length > LOOKUP_VALUE_MAX) throw refuse(`'LookupValue' values may be at most ${LOOKUP_VALUE_MAX} characters.`);
  if (isNumeric(def)) {
    const nums = values.map((v) => {
      const n = decimalNumber(v);
      if (n === null) throw refuse(`'LookupValue' for ${def.schemaName} (a ${def.dataType} field) must be numbers; got '${v.slice(0, 60)}'.`);
      return n;
    });
    return { kind: 'fieldIn', field: def.schemaName, values: nums };
  }
  if (isBoolean(def)) return { kind: 'fieldIn', field: def.schemaName, values: values.map((v) => booleanLookup(def, v)) };
  return { kind: 'fieldIn', field: def.schemaName, values: values.map((v) => timeKey(def, v)) };
}

/** The order for `Sorting.ColumnName`: a system column or a lead field; unknown names are MXUnknownAttributeException. */
export function sortOrder(defs: readonly LeadFieldDef[], name: string): LeadOrder {
  const sys = systemColumn(name);
  if (sys) return { kind: 'column', column: sys.column };
  const def = fieldDef(defs, name);
  if (!def) throw mx.unknownAttribute(name.trim().slice(0, 100), 'lead');
  return { kind: 'field', field: def.schemaName, numeric: isNumeric(def) };
}

/** `Sorting.Direction`: "1" (or absent) descending, "0" ascending. */
export function descending(direction: string | null): boolean {
  const d = (direction ?? '').trim().toLowerCase();
  if (d === '' || d === '1' || d === 'desc' || d === 'descending') return true;
  if (d === '0' || d === 'asc' || d === 'ascending') return false;
  throw mx.invalidInput(`Invalid Input! 'Sorting.Direction' must be 0 (ascending) or 1 (descending); got '${d.slice(0, 60)}'.`);
}
