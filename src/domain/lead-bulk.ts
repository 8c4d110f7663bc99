/**
 * The bulk lead writes (Lead/Bulk/Create, Lead/Bulk/CreateOrUpdate, Lead/Bulk/Update): every row is
 * its own write (runWrite), so a row the rules refuse fails alone, with its MX error, and the rows
 * around it are kept.
 */
import type { Ctx } from './context.js';
import { isMxError, mx, type MxError } from './errors.js';
import type { FieldInput } from './fields.js';
import { createLead, resolveAttributes, updateFieldsFor, updateLead, upsertLead } from './leads.js';
import { runWrite } from './run.js';
import type { Lead } from './types.js';
import type { Repos, Store } from '../storage/store.js';

/** Rows per call, as LeadSquared's pages state them. */
export const BULK_CREATE_MAX = 50;
export const BULK_UPSERT_MAX = 25;
export const BULK_UPDATE_MAX = 50;

export type RowOutcome<T> = { ok: true; value: T } | { ok: false; error: MxError };

/**
 * Runs `fn` for each row, in order, each in its own transaction (with runWrite's rerun after a lost
 * race). An application error fails that row only; anything else (a system error) fails the call.
 */
export async function eachRow<I, T>(store: Pick<Store, 'transaction'>, rows: readonly I[], fn: (tx: Repos, row: I) => Promise<T>): Promise<RowOutcome<T>[]> {
  const out: RowOutcome<T>[] = [];
  for (const row of rows) {
    try {
      out.push({ ok: true, value: await runWrite(store, (tx) => fn(tx, row)) });
    } catch (e) {
      if (!isMxError(e)) throw e;
      out.push({ ok: false, error: e });
    }
  }
  return out;
}

/** Lead/Bulk/Create: each row creates a lead, as Lead.Create does. */
export function bulkCreateLeads(store: Pick<Store, 'transaction'>, ctx: Ctx, accountId: string, rows: FieldInput[][]): Promise<RowOutcome<Lead>[]> {
  return eachRow(store, rows, async (tx, attrs) => createLead(tx, ctx, accountId, (await resolveAttributes(tx, accountId, attrs, 'always')).fields));
}

/** Lead/Bulk/CreateOrUpdate: each row is Lead.CreateOrUpdate's upsert (its SearchBy, else the default lookup). */
export function bulkUpsertLeads(
  store: Pick<Store, 'transaction'>,
  ctx: Ctx,
  accountId: string,
  rows: FieldInput[][],
): Promise<RowOutcome<{ lead: Lead; created: boolean }>[]> {
  return eachRow(store, rows, async (tx, attrs) => upsertLead(tx, ctx, accountId, await resolveAttributes(tx, accountId, attrs, 'always')));
}

/**
 * Lead/Bulk/Update: the same attributes written to each lead. The attributes are checked once first,
 * in their own transaction: when the rules refuse them they would fail every lead alike, so the call
 * fails as a whole. Then each lead is its own write; an id naming no lead of the account, or a unique
 * value another lead holds, fails that lead alone. An id given twice is updated once.
 */
export async function bulkUpdateLeads(
  store: Pick<Store, 'transaction'>,
  ctx: Ctx,
  accountId: string,
  leadIds: string[],
  attrs: FieldInput[],
): Promise<{ affected: number; failed: { leadId: string; error: MxError }[] }> {
  await runWrite(store, (tx) => resolveAttributes(tx, accountId, attrs, 'always'));
  const ids = [...new Set(leadIds)];
  const outcomes = await eachRow(store, ids, async (tx, leadId) => {
    const lead = await tx.leads.get(accountId, leadId);
    if (!lead) throw mx.unknownLead(leadId);
    return updateLead(tx, ctx, lead, updateFieldsFor(lead, await resolveAttributes(tx, accountId, attrs, 'always')));
  });
  const failed = outcomes.flatMap((o, i) => (o.ok ? [] : [{ leadId: ids[i], error: o.error }]));
  return { affected: ids.length - failed.length, failed };
}
