/**
 * Reading LeadSquared request bodies. LeadSquared is a .NET service whose JSON reader matches
 * property names case-insensitively, so we do too. A value of the wrong JSON type is a structure
 * error (HTTP 400); a value of the right type that the rules refuse is an application error, decided
 * by the domain (HTTP 500 with an MX type).
 */
import { mx } from '../domain/errors.js';
import { absent, wholeNumber, type Range } from '../domain/numbers.js';
import type { FieldInput } from '../domain/fields.js';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObject(v: unknown, what = 'request body'): JsonObject {
  if (!isObject(v)) throw mx.badStructure(`${what} must be a JSON object`);
  return v;
}

export function asArray(v: unknown, what = 'request body'): unknown[] {
  if (!Array.isArray(v)) throw mx.badStructure(`${what} must be a JSON array`);
  return v;
}

/** Property `name` of `o`, matched case-insensitively. */
export function prop(o: JsonObject, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

/** Property `name` as an object: absent or null is an empty one, another JSON type a 400. */
export function objectProp(o: JsonObject, name: string): JsonObject {
  const v = prop(o, name);
  return v === undefined || v === null ? {} : asObject(v, `'${name}'`);
}

/**
 * A whole-number property (a number or digits) within `range`, or undefined when absent. Another
 * JSON type is a 400; a value out of range or not whole is MXInvalidInputException naming `label`.
 */
export function wholeProp(o: JsonObject, name: string, range: Range, label = name): number | undefined {
  const v = code(o, name);
  if (absent(v)) return undefined;
  const n = wholeNumber(v, range);
  if (n === null) throw mx.invalidInput(`Invalid Input! '${label}' must be a whole number from ${range.min} to ${range.max}.`);
  return n;
}

/** A scalar as text: strings as they are, numbers and booleans written out, absent or null as null. */
export function text(o: JsonObject, name: string): string | null {
  return scalar(prop(o, name), name);
}

export function scalar(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return noNul(v, name);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw mx.badStructure(`'${name}' must be a string, number or boolean`);
}

/** PostgreSQL cannot store U+0000 in text, so no engine takes it: it is an encoding mistake anyway. */
export function noNul(v: string, name: string): string {
  if (v.includes('\u0000')) throw mx.badStructure(`'${name}' must not contain the NUL character (\\u0000)`);
  return v;
}

export function flag(o: JsonObject, name: string): boolean {
  const v = prop(o, name);
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 'False' || v === 0 || v === '0' || v === '') return false;
  throw mx.badStructure(`'${name}' must be true or false`);
}

/** An integer-like value as it came (number or numeric string), for the domain to judge. */
export function code(o: JsonObject, name: string): unknown {
  const v = prop(o, name);
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'string') return v;
  throw mx.badStructure(`'${name}' must be a number`);
}

/**
 * A `Fields` / `LeadDetails` list: entries keyed `SchemaName` or `Attribute`, with `Value`, and for a
 * custom field set a nested `Fields` list (one level only).
 */
export function fieldList(v: unknown, what: string, depth = 0): FieldInput[] {
  if (v === undefined || v === null) return [];
  const items = asArray(v, `'${what}'`);
  return items.map((item, i) => {
    const entry = asObject(item, `'${what}[${i}]'`);
    const rawName = prop(entry, 'SchemaName') ?? prop(entry, 'Attribute');
    if (typeof rawName !== 'string' || rawName.trim() === '') {
      throw mx.badStructure(`'${what}[${i}]' needs a 'SchemaName' or 'Attribute' string`);
    }
    const nested = prop(entry, 'Fields');
    if (nested !== undefined && nested !== null && depth >= 1) {
      throw mx.badStructure(`'${what}[${i}].Fields': custom field sets cannot be nested more than one level`);
    }
    noNul(rawName, `${what}[${i}].SchemaName`);
    return {
      name: rawName.trim(),
      value: scalar(prop(entry, 'Value'), `${what}[${i}].Value`),
      fields: nested === undefined || nested === null ? null : fieldList(nested, `${what}[${i}].Fields`, depth + 1),
    };
  });
}

/** A lead attribute list, as the body itself or wrapped in `LeadDetails` (clients send both). */
export function leadAttributeList(body: unknown): FieldInput[] {
  const list = isObject(body) && prop(body, 'LeadDetails') !== undefined ? prop(body, 'LeadDetails') : body;
  return fieldList(asArray(list), 'request body');
}
