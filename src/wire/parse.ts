/**
 * Property accessors for the bodies not yet read through an endpoint schema (activity posts and
 * updates, activity types, the async operations' activity halves). They hold no rule
 * of their own: each finds a property in any case (schemas/lsq.ts `prop`) and applies the same
 * normalisation rule the endpoint schemas use (schemas/lsq.ts), so a value is judged the same way
 * whichever path reads it.
 */
import type { FieldInput } from '../domain/fields.js';
import { asArray, asObject, codeValue, fieldListValue, flagValue, isObject, leadAttributeListValue, prop, scalar, type JsonObject } from '../schemas/lsq.js';

export { asArray, asObject, isObject, prop, scalar, type JsonObject };

/** A scalar property as text (schemas/lsq.ts `scalar`). */
export const text = (o: JsonObject, name: string): string | null => scalar(prop(o, name), name);

/** A flag property (schemas/lsq.ts `flagValue`). */
export const flag = (o: JsonObject, name: string): boolean => flagValue(prop(o, name), name);

/** An integer-like property as it came, for the domain to judge (schemas/lsq.ts `codeValue`). */
export const code = (o: JsonObject, name: string): unknown => codeValue(prop(o, name), name);

/** A `Fields` / `LeadDetails` list (schemas/lsq.ts `fieldListValue`). */
export const fieldList = (v: unknown, what: string): FieldInput[] => fieldListValue(v, what);

/** A lead attribute list body, bare or wrapped in `LeadDetails` (schemas/lsq.ts `leadAttributeListValue`). */
export const leadAttributeList = (body: unknown): FieldInput[] => leadAttributeListValue(body);
