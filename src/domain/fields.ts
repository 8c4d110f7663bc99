/**
 * Field validation driven by a definition (an activity type's custom fields, or the account's lead
 * fields): data type, dropdown options, mandatory flag, length, custom field sets. One table of
 * data-type checks; the messages name the field and say why.
 */
import { mx } from './errors.js';
import type { ActivityFieldDef, FieldMap, FieldValue } from './types.js';

/** A field as it arrives: `SchemaName` or `Attribute`, a value, maybe nested CFS fields. */
export interface FieldInput {
  name: string;
  value: string | null;
  fields: FieldInput[] | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const TIME = /^\d{2}:\d{2}(:\d{2})?$/;

function validDate(v: string): boolean {
  const d = new Date(`${v.slice(0, 10)}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v.slice(0, 10);
}

/** data type (lower case) → check returning a reason, or null when the value is fine. */
const CHECKS: Record<string, (v: string) => string | null> = {
  number: (v) => (/^[+-]?\d+$/.test(v.trim()) ? null : 'is not a whole number'),
  decimal: (v) => (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v.trim()) ? null : 'is not a number'),
  date: (v) => (DATE.test(v) && validDate(v) ? null : 'is not a date in yyyy-MM-dd format'),
  datetime: (v) => (DATETIME.test(v) && validDate(v) ? null : 'is not a date-time in yyyy-MM-dd HH:mm:ss format'),
  time: (v) => (TIME.test(v) ? null : 'is not a time in HH:mm or HH:mm:ss format'),
  boolean: (v) => (/^(true|false|1|0|yes|no)$/i.test(v) ? null : 'is not a boolean (true/false)'),
  email: (v) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? null : 'is not an email address'),
  // At least 3 digits: a value such as "---" would otherwise key (and match) every other digit-less phone.
  phone: (v) => (/^\+?[\d\s\-().]{3,32}$/.test(v) && (v.match(/\d/g)?.length ?? 0) >= 3 ? null : 'is not a phone number'),
  website: (v) => (/^\S+\.\S+$/.test(v) ? null : 'is not a web address'),
};
CHECKS.int = CHECKS.number;
CHECKS.float = CHECKS.decimal;
CHECKS.money = CHECKS.decimal;
CHECKS.bit = CHECKS.boolean;

const DROPDOWNS = new Set(['dropdown', 'searchabledropdown', 'select', 'radiobutton', 'multiselect']);
export const CUSTOM_OBJECT = 'customobject';

export interface ValidateOptions {
  /** Skip the dropdown check (LeadSquared's `ValidateDropDownOptions: true`). */
  skipDropdown: boolean;
  /** What the fields belong to, for messages: "activity type 201", "lead". */
  owner: string;
  /** Names always accepted besides the definitions (system fields such as Status, Owner). */
  systemNames?: readonly string[];
}

/** Checks one value against its definition; returns the value to store. */
export function checkValue(def: ActivityFieldDef, value: string | null, opts: ValidateOptions, label = def.schemaName): string | null {
  if (value === null || value === '') return value;
  const type = def.dataType.toLowerCase();
  const check = CHECKS[type];
  if (check) {
    const reason = check(value);
    if (reason) throw mx.invalidInput(`Value '${clip(value)}' of field '${label}' ${reason}.`);
  }
  if (DROPDOWNS.has(type) && def.options && def.options.length > 0 && !opts.skipDropdown) {
    const values = type === 'multiselect' ? value.split(';').map((s) => s.trim()) : [value];
    const ok = values.every((x) => def.options!.some((o) => o.toLowerCase() === x.toLowerCase()));
    if (!ok) {
      throw mx.invalidInput(
        `Value '${clip(value)}' of field '${label}' is not one of its options (${def.options.join(', ')}). Pass "ValidateDropDownOptions": true to skip this check.`,
      );
    }
  }
  if (def.maxLength !== null && def.maxLength > 0 && value.length > def.maxLength) {
    throw mx.invalidInput(`Value of field '${label}' is ${value.length} characters long; its maximum length is ${def.maxLength}.`);
  }
  return value;
}

function clip(v: string): string {
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}

/**
 * Validates `inputs` against `defs` and returns the stored map. Unknown names are refused, every
 * mandatory field must have a value, and a custom field set's nested fields are checked against
 * its own definitions.
 */
export function validateFields(defs: ActivityFieldDef[], inputs: FieldInput[], opts: ValidateOptions): FieldMap {
  const byName = new Map(defs.map((d) => [d.schemaName.toLowerCase(), d]));
  const system = new Set((opts.systemNames ?? []).map((n) => n.toLowerCase()));
  const out: FieldMap = {};
  for (const input of inputs) {
    const def = byName.get(input.name.toLowerCase());
    if (!def) {
      if (system.has(input.name.toLowerCase())) {
        out[input.name] = input.value;
        continue;
      }
      throw mx.unknownAttribute(input.name, opts.owner);
    }
    if (def.dataType.toLowerCase() === CUSTOM_OBJECT) {
      out[def.schemaName] = validateSet(def, input, opts);
    } else if (input.fields && input.fields.length > 0) {
      // Otherwise a plain field (even EmailAddress) would be stored as an object.
      throw mx.invalidInput(`Field '${def.schemaName}' is not a custom field set; it cannot take nested 'Fields'.`);
    } else {
      out[def.schemaName] = checkValue(def, input.value, opts);
    }
  }
  for (const def of defs) {
    if (def.isMandatory && isEmpty(out[def.schemaName])) {
      throw mx.mandatoryMissing(`'${def.schemaName}' (${def.displayName}) is mandatory for ${opts.owner}`);
    }
  }
  return out;
}

function validateSet(def: ActivityFieldDef, input: FieldInput, opts: ValidateOptions): FieldValue {
  const nestedDefs = def.fields ?? [];
  const byName = new Map(nestedDefs.map((d) => [d.schemaName.toLowerCase(), d]));
  const out: Record<string, string | null> = {};
  for (const f of input.fields ?? []) {
    if (f.fields && f.fields.length > 0) throw mx.invalidInput(`Custom field set '${def.schemaName}' cannot nest another set ('${f.name}').`);
    const nd = byName.get(f.name.toLowerCase());
    if (!nd) {
      if (f.name.toLowerCase() === 'status' || nestedDefs.length === 0) {
        out[f.name] = f.value;
        continue;
      }
      throw mx.unknownAttribute(`${def.schemaName}.${f.name}`, opts.owner);
    }
    out[nd.schemaName] = checkValue(nd, f.value, opts, `${def.schemaName}.${nd.schemaName}`);
  }
  for (const nd of nestedDefs) {
    if (nd.isMandatory && isEmpty(out[nd.schemaName] ?? null)) {
      throw mx.mandatoryMissing(`'${def.schemaName}.${nd.schemaName}' (${nd.displayName}) is mandatory for ${opts.owner}`);
    }
  }
  return out;
}

function isEmpty(v: FieldValue | undefined): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (typeof v === 'object') return Object.values(v).every((x) => x === null || x === '');
  return false;
}

/** Parses LeadSquared's UTC `yyyy-MM-dd HH:mm:ss` (seconds optional) into epoch ms. */
export function parseLsqDateTime(v: string, field: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(v.trim());
  if (!m) throw mx.invalidInput(`'${field}' value '${clip(v)}' is not in the UTC format yyyy-MM-dd HH:mm:ss.`);
  const [, y, mo, d, h, mi, s, ms] = m;
  // Not Date.UTC: it maps years 0–99 to 1900–1999 ("0001-01-01" would be stored as 1901).
  const back = new Date(0);
  back.setUTCFullYear(+y, +mo - 1, +d);
  const t = back.setUTCHours(+h, +mi, +(s ?? 0), +(ms ?? 0).toString().padEnd(3, '0'));
  if (Number.isNaN(t) || back.getUTCDate() !== +d || back.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +(s ?? 0) > 59) {
    throw mx.invalidInput(`'${field}' value '${clip(v)}' is not a valid date-time.`);
  }
  return t;
}

/** Formats epoch ms as LeadSquared's `yyyy-MM-dd HH:mm:ss` (UTC). */
export function formatLsqDateTime(t: number, withMillis = false): string {
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${withMillis ? `.${iso.slice(20, 23)}` : ''}`;
}
