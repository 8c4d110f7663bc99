/**
 * The bulk lead reads' `Columns.Include_CSV`: which of a lead's read-shape properties (leadToWire)
 * to answer, by name in any case, in the order asked. A name the lead has no value for is answered
 * as null, under the account's spelling of the field when it has one, else as the client wrote it.
 */
import type { Lead, LeadFieldDef } from '../domain/types.js';
import { LEAD_READ_FIELDS, leadToWire } from './shapes.js';

export type Columns = string[] | null;

/** The column names of an Include_CSV (blank or absent: every column, as null). */
export function parseColumns(csv: string | null): Columns {
  if (csv === null) return null;
  const names = csv.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const seen = new Set<string>();
  const unique = names.filter((n) => !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
  return unique.length === 0 ? null : unique;
}

/**
 * Each read-shape and account field name by its lower case, as the account spells it: one map per
 * cached field list (the reference-data cache hands out the same frozen array until it changes),
 * not one per lead of a page.
 */
const namesByLower = new WeakMap<readonly LeadFieldDef[], Map<string, string>>();
function spellings(defs: readonly LeadFieldDef[]): Map<string, string> {
  let m = namesByLower.get(defs);
  if (m === undefined) {
    m = new Map(LEAD_READ_FIELDS.map((k) => [k.toLowerCase(), k]));
    for (const d of defs) if (!m.has(d.schemaName.toLowerCase())) m.set(d.schemaName.toLowerCase(), d.schemaName);
    namesByLower.set(defs, m);
  }
  return m;
}

/** The lead as a flat object of the asked columns (all of the read shape, every field of the account, when `columns` is null). */
export function leadColumns(lead: Lead, columns: Columns, defs: readonly LeadFieldDef[]): Record<string, string | null> {
  if (columns === null) return leadToWire(lead, defs);
  // The lead's own values only: the columns not among them are answered null below, so the
  // template of every account field (up to 1,000) is not copied for each lead of a page (a review).
  const full = leadToWire(lead);
  const byLower = spellings(defs);
  // Own properties only, read and written: a column asked as `constructor` or `__proto__` is a name
  // the lead has no value for, answered null (read as a plain property, the first was the object's
  // constructor, which JSON leaves out, and the second set the answer's prototype: a fresh-eyes run).
  const out: Record<string, string | null> = {};
  for (const name of columns) {
    const lower = name.toLowerCase();
    const key = byLower.get(lower) ?? Object.keys(full).find((k) => k.toLowerCase() === lower) ?? name;
    const value = Object.hasOwn(full, key) ? (full[key] ?? null) : null;
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

/** The same, as LeadSquared's `LeadPropertyList` of `{Attribute, Value}` (Leads.RecentlyModified). */
export function leadPropertyList(lead: Lead, columns: Columns, defs: readonly LeadFieldDef[]): { Attribute: string; Value: string | null }[] {
  return Object.entries(leadColumns(lead, columns, defs)).map(([Attribute, Value]) => ({ Attribute, Value }));
}
