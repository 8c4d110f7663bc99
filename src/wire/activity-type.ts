/** CreateType bodies (LeadSquared's shape) → a new activity type; shared by the API and the CLI. */
import type { NewActivityType } from '../domain/activity-types.js';
import { TYPE_SETTINGS } from '../schemas/activity-type.js';
import { readBody } from '../schemas/endpoint.js';
import { activityTypeCreate } from '../schemas/prospect-activity.js';

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
