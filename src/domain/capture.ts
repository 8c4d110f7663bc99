/**
 * Lead.Capture: create-or-update. Match order (capture-lead page, fact sheet §6): SearchBy when given
 * (ignored when ProspectID, EmailAddress and Phone are all passed), else ProspectID, then the default
 * lookup (EmailAddress, then Phone and Mobile by the phone rule; see findByDefaultLookup).
 */
import type { Ctx } from './context.js';
import { mx } from './errors.js';
import type { FieldInput } from './fields.js';
import { createLead, fieldValue, findByDefaultLookup, findForCreate, findLead, leadFieldDefs, lockFoundLead, lockLead, lookupLockKeys, resolveAttributes, updateHeldLead } from './leads.js';
import type { FieldMap, Lead } from './types.js';
import type { Repos } from '../storage/store.js';

/** Lead.Capture's `LeadUpdateBehavior` values (fact sheet §6; `Update`, leadtrail's name for the default). */
export const UPDATE_BEHAVIORS = ['Update', 'DoNotUpdate', 'UpdateOnlyEmptyFields', 'DoNotUpdateUniqueFields'] as const;
export type UpdateBehavior = (typeof UPDATE_BEHAVIORS)[number];

/** The behavior `raw` names, in any case; `Update` when absent or empty. Throws MXInvalidInputException for another value. */
export function parseUpdateBehavior(raw: string | null): UpdateBehavior {
  if (raw === null || raw === '') return 'Update';
  const hit = UPDATE_BEHAVIORS.find((b) => b.toLowerCase() === raw.toLowerCase());
  if (!hit) throw mx.invalidInput(`LeadUpdateBehavior '${raw.slice(0, 60)}' is not one of ${UPDATE_BEHAVIORS.join(', ')}.`);
  return hit;
}

const isBlank = (v: unknown) => v === undefined || v === null || v === '';

export async function captureLead(
  tx: Repos,
  ctx: Ctx,
  accountId: string,
  attrs: FieldInput[],
  behavior: UpdateBehavior,
): Promise<{ lead: Lead; created: boolean }> {
  const r = await resolveAttributes(tx, accountId, attrs, 'always');
  const email = fieldValue(r.fields, 'EmailAddress');
  const phone = fieldValue(r.fields, 'Phone');
  let lead: Lead | null = null;
  // Found by its id alone (a SearchBy of ProspectID): no lookup value to go stale.
  let byId = false;
  const allThree = r.prospectId && email && phone;
  if (r.searchBy && !allThree) {
    byId = r.searchBy.toLowerCase() === 'prospectid';
    const value = byId ? r.prospectId : fieldValue(r.fields, r.searchBy);
    if (value) lead = await findForCreate(tx, accountId, lookupLockKeys(r.fields, r.searchBy), () => findLead(tx, accountId, r.searchBy!, value));
  } else {
    if (r.prospectId) {
      lead = await tx.leads.get(accountId, r.prospectId);
      // A ProspectID whose lead has another email is a different person: capture a new lead.
      const leadEmail = lead ? fieldValue(lead.fields, 'EmailAddress') : null;
      if (lead && email && leadEmail && leadEmail.toLowerCase() !== email.toLowerCase()) lead = null;
    }
    if (!lead) lead = await findForCreate(tx, accountId, lookupLockKeys(r.fields), () => findByDefaultLookup(tx, accountId, r.fields));
  }
  if (!lead) return { lead: await createLead(tx, ctx, accountId, r.fields), created: true };
  if (behavior === 'DoNotUpdate') return { lead, created: false };
  // What to write is decided on the lead as it is once this call holds it (PostgreSQL runs writes
  // side by side): decided on the lead as read, UpdateOnlyEmptyFields wrote over a field another call
  // had set meanwhile. The lead must also still hold the values it was found by (the email the
  // ProspectID check compared included): else the call runs again from its lookup (lockFoundLead).
  const held = byId ? await lockLead(tx, lead) : await lockFoundLead(tx, lead);
  let fields: FieldMap = r.fields;
  if (behavior === 'UpdateOnlyEmptyFields') {
    fields = Object.fromEntries(Object.entries(fields).filter(([k]) => isBlank(held.fields[k])));
  } else if (behavior === 'DoNotUpdateUniqueFields') {
    const unique = new Set((await leadFieldDefs(tx, accountId)).filter((d) => d.isUnique).map((d) => d.schemaName));
    fields = Object.fromEntries(Object.entries(fields).filter(([k]) => !unique.has(k)));
  }
  // "Re-capturing the same details doesn't update Lead Source" (capture-lead page, fact sheet §6):
  // a lead keeps the source it was first captured or created with (first-touch attribution); one
  // without a source takes the capture's. A fresh-eyes run found it overwritten at every capture.
  if (fields.Source !== undefined && !isBlank(held.fields.Source)) {
    const { Source: _kept, ...rest } = fields;
    fields = rest;
  }
  return { lead: await updateHeldLead(tx, ctx, held, fields), created: false };
}
