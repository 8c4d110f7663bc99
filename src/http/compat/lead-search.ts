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
import * as L from '../../schemas/lsq.js';
import { mx } from '../../domain/errors.js';
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

/**
 * The body's top-level `Attribute`/`Value` filter (LeadSquared's object-type filter, `"Attribute":
 * "LeadType","Value":"OT_1"`). leadtrail has one lead type: `LeadType` `OT_0` (or blank) keeps every
 * lead and another type none. Any other attribute is an extra `=` test on that field.
 */
function attributeFilter(defs: readonly LeadFieldDef[], body: { Attribute?: string | null; Value?: string | null }): LeadCondition[] {
  const attr = body.Attribute ?? null;
  if (attr === null || attr.trim() === '') return [];
  const value = (body.Value ?? '').trim();
  if (attr.trim().toLowerCase() === 'leadtype') return value === '' || value.toUpperCase() === 'OT_0' ? [] : [{ kind: 'ids', ids: [] }];
  if (value === '') throw mx.mandatoryMissing("'Value' is mandatory with 'Attribute'");
  return [lookupCondition(defs, attr, '=', value)];
}

const orderOf = (defs: readonly LeadFieldDef[], c: Common, fallback: LeadOrder): LeadOrder => (c.sortColumn === null ? fallback : sortOrder(defs, c.sortColumn));

/** `Leads.Get`: the leads whose LookupName field compares with LookupValue by SqlOperator; a JSON array of flat leads. */
export const leadsGet: Handler = async (s, req) => {
  const body = readBody(E.leadsGet, req.body);
  const { LookupName: name, SqlOperator: op } = body.Parameter;
  const raw = body.Parameter.LookupValue;
  const value = Array.isArray(raw) ? raw.map((v, i) => L.scalar(v, `Parameter.LookupValue[${i}]`) ?? '') : raw;
  const c = common(body);
  const accountId = req.principal.accountId;
  const defs = await s.store.leadFields.list(accountId);
  const where = [lookupCondition(defs, name, op, value), ...attributeFilter(defs, body)];
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
  const where: LeadCondition[] = attributeFilter(defs, body);
  // One condition for a closed window, so that the search judges the window's size, not each end's.
  if (from !== null && to !== null) where.push({ kind: 'column', column: 'modifiedOn', op: 'between', value: from, to });
  else if (from !== null) where.push({ kind: 'column', column: 'modifiedOn', op: '>=', value: from });
  else if (to !== null) where.push({ kind: 'column', column: 'modifiedOn', op: '<=', value: to });
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
    where: [{ kind: 'ids', ids }, ...attributeFilter(defs, body)],
    orderBy: orderOf(defs, c, { kind: 'column', column: 'createdOn' }),
    descending: c.descending,
    offset: c.offset,
    limit: c.limit,
    count: true,
  });
  return { RecordCount: total ?? 0, Leads: leads.map((l) => leadColumns(l, c.columns, defs)) };
};
