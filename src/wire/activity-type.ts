/** CreateType bodies (LeadSquared's shape) → a new activity type; shared by the API and the CLI. */
import type { NewActivityType } from '../domain/activity-types.js';
import { mx } from '../domain/errors.js';
import { INT32, wholeNumber } from '../domain/numbers.js';
import type { ActivityFieldDef } from '../domain/types.js';
import { asArray, asObject, flag, isObject, prop, scalar, text, type JsonObject } from './parse.js';

function optionsOf(v: unknown, where: string): string[] | null {
  if (v === undefined || v === null || v === '') return null;
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      list = v.split(',').map((x) => x.trim()).filter(Boolean);
    }
  }
  if (!Array.isArray(list)) throw mx.badStructure(`'${where}.OptionSet' must be a list of options`);
  // scalar(), not String(): String() of a deeply nested array recurses until the stack overflows.
  return list
    .map((o, i) => (isObject(o) ? scalar(prop(o, 'Value') ?? prop(o, 'Text'), `${where}.OptionSet[${i}].Value`) : scalar(o, `${where}.OptionSet[${i}]`)) ?? '')
    .filter((x) => x !== '');
}

/** A `Fields` list of activity field definitions (CreateType, CustomActivityType/Update). */
export function fieldDefs(v: unknown, where: string, depth = 0): ActivityFieldDef[] {
  if (v === undefined || v === null) return [];
  return asArray(v, `'${where}'`).map((item, i) => {
    const o = asObject(item, `'${where}[${i}]'`);
    const schemaName = text(o, 'SchemaName');
    if (!schemaName) throw mx.invalidInput(`Invalid Input! '${where}[${i}].SchemaName' is missing.`);
    const rawMax = text(o, 'MaxLength') ?? text(o, 'MaxFieldLength');
    const maxLength = rawMax === null || rawMax.trim() === '' ? null : wholeNumber(rawMax, { min: 0, max: INT32.max });
    if (rawMax !== null && rawMax.trim() !== '' && maxLength === null) throw mx.invalidInput(`Invalid Input! '${schemaName}.MaxLength' must be a whole number from 0 to ${INT32.max}.`);
    const nested = prop(o, 'Fields');
    if (nested && depth > 0) throw mx.badStructure(`'${where}[${i}].Fields' cannot be nested more than one level`);
    return {
      schemaName,
      displayName: text(o, 'DisplayName') ?? schemaName,
      dataType: text(o, 'DataType') ?? 'String',
      isMandatory: flag(o, 'IsMandatory'),
      maxLength,
      options: optionsOf(prop(o, 'OptionSet') ?? prop(o, 'Options'), `${where}[${i}]`),
      fields: nested ? fieldDefs(nested, `${where}[${i}].Fields`, depth + 1) : null,
    };
  });
}

/** A 32-bit whole number property (LeadSquared's are .NET Int32); the domain narrows the range further. */
export function intOf(o: JsonObject, name: string): number | undefined {
  const v = text(o, name);
  if (v === null || v.trim() === '') return undefined;
  const n = wholeNumber(v, INT32);
  if (n === null) throw mx.invalidInput(`Invalid Input! '${name}' must be a whole number from ${INT32.min} to ${INT32.max}.`);
  return n;
}

const TYPE_SETTINGS = ['TrackLocation', 'AllowAttachments', 'ShowInActivityGrid', 'CanDeleteActivity', 'ShowInForm'];

/** The type's flags (TYPE_SETTINGS) present in a CreateType or CustomActivityType/Update body, as sent. */
export function typeSettings(o: JsonObject): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const k of TYPE_SETTINGS) {
    const v = prop(o, k);
    // Settings are flags; a nested value would be stored as is (and a deep one overflows the stack).
    if (typeof v === 'object' && v !== null) throw mx.badStructure(`'${k}' must be a string, number or boolean`);
    if (v !== undefined) settings[k] = v;
  }
  return settings;
}

export function parseCreateType(body: unknown): NewActivityType {
  const o = asObject(body);
  const name = text(o, 'ActivityEventName');
  if (!name) throw mx.invalidInput('Invalid Input! Parameter Name: ActivityEventName');
  const settings = typeSettings(o);
  const pinned = intOf(o, 'ActivityEvent');
  return {
    name,
    displayName: text(o, 'DisplayName') ?? undefined,
    description: text(o, 'Description') ?? undefined,
    score: intOf(o, 'Score'),
    direction: intOf(o, 'Direction'),
    fields: fieldDefs(prop(o, 'Fields'), 'Fields'),
    settings,
    ...(pinned !== undefined ? { code: pinned } : {}),
  };
}
