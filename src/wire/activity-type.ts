/** CreateType bodies (LeadSquared's shape) → a new activity type; shared by the API and the CLI. */
import type { NewActivityType } from '../domain/activity-types.js';
import { int32Value, settingValue, TYPE_SETTINGS, fieldDefs } from '../schemas/activity-type.js';
import { readBody } from '../schemas/endpoint.js';
import { activityTypeCreate } from '../schemas/prospect-activity.js';
import { prop, type JsonObject } from './parse.js';

export { fieldDefs };

/** A 32-bit whole number property (schemas/activity-type.ts `int32Value`). */
export const intOf = (o: JsonObject, name: string): number | undefined => int32Value(prop(o, name), name);

/** The type's flags (TYPE_SETTINGS) present in a CustomActivityType/Update body, as sent. */
export function typeSettings(o: JsonObject): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const k of TYPE_SETTINGS) {
    const v = settingValue(prop(o, k), k);
    if (v !== undefined) settings[k] = v;
  }
  return settings;
}

/** A CreateType body, read by its endpoint schema (schemas/prospect-activity.ts `activityTypeCreate`). */
export function parseCreateType(body: unknown): NewActivityType {
  const b = readBody(activityTypeCreate, body);
  const settings: Record<string, unknown> = {};
  for (const k of TYPE_SETTINGS) if (b[k] !== undefined) settings[k] = b[k];
  return {
    name: b.ActivityEventName,
    displayName: b.DisplayName ?? undefined,
    description: b.Description ?? undefined,
    score: b.Score,
    direction: b.Direction,
    fields: b.Fields,
    settings,
    ...(b.ActivityEvent !== undefined ? { code: b.ActivityEvent } : {}),
  };
}
