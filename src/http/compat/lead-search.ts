/**
 * The bulk lead reads of `/v2/LeadManagement.svc/`: `Leads.Get` (search by one field),
 * `Leads.RecentlyModified` (a ModifiedOn window) and `Leads/Retrieve/ByIds`. They share the body's
 * `Columns.Include_CSV`, `Sorting{ColumnName, Direction}` and `Paging{PageIndex, PageSize}`.
 */
import { lookupCondition, sortOrder } from '../../domain/lead-search.js';
import type { LeadFieldDef } from '../../domain/types.js';
import type { LeadCondition, LeadOrder } from '../../storage/store.js';
import { leadColumns, leadPropertyList, parseColumns, type Columns } from '../../wire/lead-columns.js';
import { readBody } from '../../schemas/endpoint.js';
import * as E from '../../schemas/lead-management.js';
import type { Handler } from '../handler.js';

interface Common {
  columns: Columns;
  offset: number;
  limit: number;
  descending: boolean;
  sortColumn: string | null;
}

type SearchBody = { Paging?: { PageIndex?: number; PageSize?: number }; Sorting?: { ColumnName: string | null; Direction: boolean }; Columns?: { Include_CSV: string | null } };

function common(body: SearchBody): Common {
  const pageIndex = body.Paging?.PageIndex ?? 1;
  const pageSize = body.Paging?.PageSize ?? E.LEAD_PAGE_SIZE_DEFAULT;
  const column = body.Sorting?.ColumnName ?? null;
  return {
    columns: parseColumns(body.Columns?.Include_CSV ?? null),
    offset: (pageIndex - 1) * pageSize,
    limit: pageSize,
    descending: body.Sorting?.Direction ?? true,
    sortColumn: column === null || column.trim() === '' ? null : column,
  };
}

const orderOf = (defs: LeadFieldDef[], c: Common, fallback: LeadOrder): LeadOrder => (c.sortColumn === null ? fallback : sortOrder(defs, c.sortColumn));

/** `Leads.Get`: the leads whose LookupName field compares with LookupValue by SqlOperator; a JSON array of flat leads. */
export const leadsGet: Handler = async (s, req) => {
  const body = readBody(E.leadsGet, req.body);
  const { LookupName: name, LookupValue: value, SqlOperator: op } = body.Parameter;
  const c = common(body);
  const accountId = req.principal.accountId;
  const defs = await s.store.leadFields.list(accountId);
  const where = [lookupCondition(defs, name, op, value)];
  const { leads } = await s.store.leads.search(accountId, {
    where,
    orderBy: orderOf(defs, c, { kind: 'column', column: 'createdOn' }),
    descending: c.descending,
    offset: c.offset,
    limit: c.limit,
    count: false,
  });
  return leads.map((l) => leadColumns(l, c.columns, defs));
};

/** `Leads.RecentlyModified`: leads whose ModifiedOn is in [FromDate, ToDate], as `{RecordCount, Leads:[{LeadPropertyList}]}`. */
export const recentlyModified: Handler = async (s, req) => {
  const body = readBody(E.leadsRecentlyModified, req.body);
  const from = body.Parameter?.FromDate ?? null;
  const to = body.Parameter?.ToDate ?? null;
  const c = common(body);
  const accountId = req.principal.accountId;
  const defs = await s.store.leadFields.list(accountId);
  const where: LeadCondition[] = [];
  if (from !== null) where.push({ kind: 'column', column: 'modifiedOn', op: '>=', value: from });
  if (to !== null) where.push({ kind: 'column', column: 'modifiedOn', op: '<=', value: to });
  const { total, leads } = await s.store.leads.search(accountId, {
    where,
    orderBy: orderOf(defs, c, { kind: 'column', column: 'modifiedOn' }),
    descending: c.descending,
    offset: c.offset,
    limit: c.limit,
    count: true,
  });
  return {
    RecordCount: total ?? 0,
    Leads: leads.map((l) => ({ LeadPropertyList: [...leadPropertyList(l, c.columns, defs), { Attribute: 'CanUpdate', Value: 'true' }] })),
  };
};

/** `Leads/Retrieve/ByIds`: the leads of `SearchParameters.LeadIds` found in the account, newest first, as `{RecordCount, Leads:[flat]}`. */
export const retrieveByIds: Handler = async (s, req) => {
  const body = readBody(E.leadsRetrieveByIds, req.body);
  const ids = body.SearchParameters.LeadIds;
  const c = common(body);
  const accountId = req.principal.accountId;
  const defs = await s.store.leadFields.list(accountId);
  const { total, leads } = await s.store.leads.search(accountId, {
    where: [{ kind: 'ids', ids }],
    orderBy: orderOf(defs, c, { kind: 'column', column: 'createdOn' }),
    descending: c.descending,
    offset: c.offset,
    limit: c.limit,
    count: true,
  });
  return { RecordCount: total ?? 0, Leads: leads.map((l) => leadColumns(l, c.columns, defs)) };
};
