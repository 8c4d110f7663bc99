/**
 * CreateLeadField: a custom lead field made through the API. LeadSquared names it from its display
 * name ("My Custom Field" ⇒ `mx_My_Custom_Field`) and refuses a name already in use; the field is
 * then defined as the operator's `leadtrail lead-fields set` defines one (defineLeadField).
 */
import { mx } from './errors.js';
import { CUSTOM_FIELD_NAME, defineLeadField, leadFieldDefs, lockLeadFields } from './leads.js';
import type { LeadFieldDef } from './types.js';
import type { Repos } from '../storage/store.js';

export interface CreateLeadFieldInput {
  displayName: string;
  dataType: string;
  /** LeadSquared's RenderTypeTextValue: `DateTime` with DataType `Date` makes a date-and-time field. */
  renderType: string | null;
  maxLength: number | null;
  options: string[] | null;
}

/** The schema name LeadSquared gives a field with this display name. */
export function schemaNameFor(displayName: string): string {
  return `mx_${displayName.trim().replace(/\s+/g, '_')}`;
}

export async function createCustomLeadField(tx: Repos, accountId: string, input: CreateLeadFieldInput): Promise<LeadFieldDef> {
  const displayName = input.displayName.trim();
  if (displayName === '') throw mx.mandatoryMissing("'DisplayName' is mandatory");
  const schemaName = schemaNameFor(displayName);
  if (!CUSTOM_FIELD_NAME.test(schemaName)) {
    throw mx.invalidInput(`'DisplayName' may hold letters, digits, spaces and _ only, at most 61 characters; got '${displayName.slice(0, 80)}'.`);
  }
  // The name is checked once this call holds the lead fields' turn: checked before it, two creates
  // of one name side by side (PostgreSQL) both answered success, the later one's type kept.
  await lockLeadFields(tx, accountId);
  const taken = (await leadFieldDefs(tx, accountId)).find((d) => d.schemaName.toLowerCase() === schemaName.toLowerCase());
  if (taken) throw mx.duplicateName(`A lead field named '${taken.schemaName}' already exists.`);
  const dataType = input.dataType.toLowerCase() === 'date' && input.renderType?.toLowerCase() === 'datetime' ? 'DateTime' : input.dataType;
  return defineLeadField(tx, accountId, { schemaName, displayName, dataType, maxLength: input.maxLength, options: input.options });
}
