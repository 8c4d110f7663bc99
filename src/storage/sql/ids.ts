/**
 * An id (a lead's, an activity's, a request's, a webhook's…) as the store keys it: ours are
 * lower-case GUIDs, which LeadSquared clients may send in upper case or with spaces around (.NET's
 * Guid.Parse, which LeadSquared's API reads them with, takes both). Before it trimmed, an id with a
 * space around found its lead through Lead.Update and Leads/Retrieve/ByIds but not through
 * Leads.GetById, Retrieve or an activity's RelatedProspectId (a fresh-eyes run), while the async
 * queue already ordered it with the id without spaces.
 */
export const idKey = (id: string): string => id.trim().toLowerCase();
