/**
 * The rules of activity type bodies (CreateType, CustomActivityType/Update): field definitions,
 * option sets, Int32 properties and the type's flags, applied by both endpoints' schemas
 * (schemas/prospect-activity.ts).
 */
import { mx } from '../domain/errors.js';
import { INT32, wholeNumber } from '../domain/numbers.js';
import type { ActivityFieldDef } from '../domain/types.js';
import { asArray, asObject, flagValue, isObject, prop, scalar, wellFormed, type JsonObject } from './lsq.js';

/** Property `name` of `o`, the definition at `at` (`Fields[1]`), as text: a wrong type names it there (`'Fields[1].SchemaName'`). */
const text = (o: JsonObject, at: string, name: string) => scalar(prop(o, name), `${at}.${name}`);

function optionsOf(v: unknown, where: string): string[] | null {
  if (v === undefined || v === null || v === '') return null;
  let list: unknown = v;
  if (typeof v === 'string') {
    try {
      list = wellFormed(JSON.parse(v));
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
    const at = `${where}[${i}]`;
    const schemaName = text(o, at, 'SchemaName');
    if (!schemaName) throw mx.invalidInput(`Invalid Input! '${where}[${i}].SchemaName' is missing.`);
    const given = text(o, at, 'MaxLength');
    const maxName = given !== null ? 'MaxLength' : 'MaxFieldLength';
    const rawMax = given ?? text(o, at, 'MaxFieldLength');
    const maxLength = rawMax === null || rawMax.trim() === '' ? null : wholeNumber(rawMax, { min: 0, max: INT32.max });
    // Named where it is, as the definition's other properties are (it had named the schema name).
    if (rawMax !== null && rawMax.trim() !== '' && maxLength === null) throw mx.invalidInput(`Invalid Input! '${at}.${maxName}' must be a whole number from 0 to ${INT32.max}.`);
    const nested = prop(o, 'Fields');
    if (nested && depth > 0) throw mx.badStructure(`'${where}[${i}].Fields' cannot be nested more than one level`);
    return {
      schemaName,
      displayName: text(o, at, 'DisplayName') ?? schemaName,
      dataType: text(o, at, 'DataType') ?? 'String',
      isMandatory: flagValue(prop(o, 'IsMandatory'), `${at}.IsMandatory`),
      maxLength,
      options: optionsOf(prop(o, 'OptionSet') ?? prop(o, 'Options'), `${where}[${i}]`),
      fields: nested ? fieldDefs(nested, `${where}[${i}].Fields`, depth + 1) : null,
    };
  });
}

/** A 32-bit whole number (LeadSquared's are .NET Int32), written as any scalar; absent or blank is undefined. */
export function int32Value(v: unknown, name: string): number | undefined {
  const t = scalar(v, name);
  if (t === null || t.trim() === '') return undefined;
  const n = wholeNumber(t, INT32);
  if (n === null) throw mx.invalidInput(`Invalid Input! '${name}' must be a whole number from ${INT32.min} to ${INT32.max}.`);
  return n;
}

export const TYPE_SETTINGS = ['TrackLocation', 'AllowAttachments', 'ShowInActivityGrid', 'CanDeleteActivity', 'ShowInForm'] as const;

/** A type flag as sent (stored as is): a nested value is refused (it would be stored as is, and a deep one overflows the stack). */
export function settingValue(v: unknown, name: string): unknown {
  if (typeof v === 'object' && v !== null) throw mx.badStructure(`'${name}' must be a string, number or boolean`);
  return v;
}
