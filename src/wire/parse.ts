/**
 * Property accessors for the bodies not yet read through an endpoint schema (activity posts and
 * updates, activity types, the async operations' activity halves, the faults API). They hold no rule
 * of their own: each finds a property in any case (schemas/lsq.ts `prop`) and applies the same
 * normalisation rule the endpoint schemas use (schemas/lsq.ts), so a value is judged the same way
 * whichever path reads it.
 */
import type { FieldInput } from '../domain/fields.js';
import type { Range } from '../domain/numbers.js';
import { asArray, asObject, codeValue, fieldListValue, flagValue, isObject, leadAttributeListValue, parseInput, prop, scalar, whole, type JsonObject } from '../schemas/lsq.js';

export { asArray, asObject, isObject, prop, scalar, type JsonObject };

/** A scalar property as text (schemas/lsq.ts `scalar`). */
export const text = (o: JsonObject, name: string): string | null => scalar(prop(o, name), name);

/** A flag property (schemas/lsq.ts `flagValue`). */
export const flag = (o: JsonObject, name: string): boolean => flagValue(prop(o, name), name);

/** An integer-like property as it came, for the domain to judge (schemas/lsq.ts `codeValue`). */
export const code = (o: JsonObject, name: string): unknown => codeValue(prop(o, name), name);

/** A `Fields` / `LeadDetails` list (schemas/lsq.ts `fieldListValue`). */
export const fieldList = (v: unknown, what: string): FieldInput[] => fieldListValue(v, what);

/** An object property, `{}` when absent or null; another JSON type is a 400 naming it. */
export function objectProp(o: JsonObject, name: string): JsonObject {
  const v = prop(o, name);
  return v === undefined || v === null ? {} : asObject(v, `'${name}'`);
}

/** A whole-number property within `range`, undefined when absent (schemas/lsq.ts `whole`). */
export const wholeProp = (o: JsonObject, name: string, range: Range, label = name): number | undefined =>
  parseInput(whole(name, range, label), prop(o, name));

/** A lead attribute list body, bare or wrapped in `LeadDetails` (schemas/lsq.ts `leadAttributeListValue`). */
export const leadAttributeList = (body: unknown): FieldInput[] => leadAttributeListValue(body);
