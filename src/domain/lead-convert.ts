/**
 * Lead.Convert ("convert a visitor to a lead"). LeadSquared turns a tracked web visitor, named by its
 * tracking id (`MXCProspectId`, passed as `leadId`), into a lead. leadtrail tracks no visitors, so:
 * the lead with that id is updated; failing that, the lead the default lookup finds by the body's
 * email and phone numbers; failing that, a new lead is created from the body. As with Lead.Capture,
 * a new lead gets a new id, not the visitor's (there is no visitor behind it).
 */
import type { Ctx } from './context.js';
import type { FieldInput } from './fields.js';
import { createLead, findByDefaultLookup, findForCreate, lockFoundLead, lookupLockKeys, resolveAttributes, updateFieldsFor, updateLead, updateHeldLead } from './leads.js';
import type { Lead } from './types.js';
import type { Repos } from '../storage/store.js';

export async function convertVisitor(tx: Repos, ctx: Ctx, accountId: string, visitorId: string, attrs: FieldInput[]): Promise<{ lead: Lead; created: boolean }> {
  const resolved = await resolveAttributes(tx, accountId, attrs, 'always');
  const { fields } = resolved;
  const byId = await tx.leads.get(accountId, visitorId);
  // A body ProspectID naming another lead is refused, as on Lead.Update (updateFieldsFor).
  if (byId) return { lead: await updateLead(tx, ctx, byId, updateFieldsFor(byId, resolved)), created: false };
  const found = await findForCreate(tx, accountId, lookupLockKeys(fields), () => findByDefaultLookup(tx, accountId, fields));
  // Found by its email or phone: still found by them once held, or the call runs again (lockFoundLead).
  if (found) return { lead: await updateHeldLead(tx, ctx, await lockFoundLead(tx, found), fields), created: false };
  return { lead: await createLead(tx, ctx, accountId, fields), created: true };
}
