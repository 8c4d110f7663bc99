/**
 * The bulk lead reads of `/v2/LeadManagement.svc/`: `Leads.Get` (search by one field),
 * `Leads.RecentlyModified` (a ModifiedOn window) and `Leads/Retrieve/ByIds`. They share the body's
 * `Columns.Include_CSV`, `Sorting{ColumnName, Direction}` and `Paging{PageIndex, PageSize}`.
 */
import { LEAD_PAGE_SIZE_MAX, descending, lookupCondition, parseOperator, sortOrder } from '../../domain/lead-search.js';
import { parseLsqDateTime } from '../../domain/fields.js';
import { mx } from '../../domain/errors.js';
import type { LeadFieldDef } from '../../domain/types.js';
import type { LeadCondition, LeadOrder } from '../../storage/store.js';
import { leadColumns, leadPropertyList, parseColumns, type Columns } from '../../wire/lead-columns.js';
import { asArray, asObject, objectProp, prop, scalar, text, wholeProp, type JsonObject } from '../../wire/parse.js';
import type { Handler } from '../handler.js';

export const PAGE_SIZE_DEFAULT = 100;
const PAGE_INDEX_MAX = 1_000_000;
/** Leads/Retrieve/ByIds takes at most this many ids (LeadSquared's documented maximum). */
export const BY_IDS_MAX = 10_000;

const bodyOf = (body: unknown): JsonObject => (body === undefined || body === null || body === '' ? {} : asObject(body));

const sub = objectProp;
const whole = (o: JsonObject, name: string, min: number, max: number, fallback: number): number => wholeProp(o, name, { min, max }, `Paging.${name}`) ?? fallback;

interface Common {
  columns: Columns;
  offset: number;
  limit: number;
  descending: boolean;
  sortColumn: string | null;
}

function common(body: JsonObject): Common {
  const paging = sub(body, 'Paging');
  const pageIndex = whole(paging, 'PageIndex', 1, PAGE_INDEX_MAX, 1);
  const pageSize = whole(paging, 'PageSize', 1, LEAD_PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT);
  const sorting = sub(body, 'Sorting');
  const column = text(sorting, 'ColumnName');
  return {
    columns: parseColumns(text(sub(body, 'Columns'), 'Include_CSV')),
    offset: (pageIndex - 1) * pageSize,
    limit: pageSize,
    descending: descending(text(sorting, 'Direction')),
    sortColumn: column === null || column.trim() === '' ? null : column,
  };
}

/**
 * The body's top-level `Attribute`/`Value` filter (LeadSquared's object-type filter, `"Attribute":
 * "LeadType","Value":"OT_1"`). leadtrail has one lead type: `LeadType` `OT_0` (or blank) keeps every
 * lead and another type none. Any other attribute is an extra `=` test on that field.
 */
function attributeFilter(defs: LeadFieldDef[], body: JsonObject): LeadCondition[] {
  const attr = text(body, 'Attribute');
  if (attr === null || attr.trim() === '') return [];
  const value = (text(body, 'Value') ?? '').trim();
  if (attr.trim().toLowerCase() === 'leadtype') return value === '' || value.toUpperCase() === 'OT_0' ? [] : [{ kind: 'ids', ids: [] }];
  if (value === '') throw mx.mandatoryMissing("'Value' is mandatory with 'Attribute'");
  return [lookupCondition(defs, attr, '=', value)];
}

const orderOf = (defs: LeadFieldDef[], c: Common, fallback: LeadOrder): LeadOrder => (c.sortColumn === null ? fallback : sortOrder(defs, c.sortColumn));

/** `Leads.Get`: the leads whose LookupName field compares with LookupValue by SqlOperator; a JSON array of flat leads. */
export const leadsGet: Handler = async (s, req) => {
  const body = bodyOf(req.body);
  const param = sub(body, 'Parameter');
  const name = text(param, 'LookupName');
  if (name === null || name.trim() === '') throw mx.mandatoryMissing("'Parameter.LookupName' is mandatory");
  const op = parseOperator(text(param, 'SqlOperator'));
  // IN also takes its values as a JSON list; every other operator one scalar.
  const raw = prop(param, 'LookupValue');
  const value = op === 'in' && Array.isArray(raw) ? raw.map((v, i) => scalar(v, `Parameter.LookupValue[${i}]`) ?? '') : text(param, 'LookupValue');
  if (value === null || (typeof value === 'string' && value.trim() === '')) throw mx.mandatoryMissing("'Parameter.LookupValue' is mandatory");
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

/** A window end: `yyyy-MM-dd HH:mm:ss` UTC. ToDate without milliseconds takes in its whole second. */
function windowEnd(o: JsonObject, name: string, isEnd: boolean): number | null {
  const v = text(o, name);
  if (v === null || v.trim() === '') return null;
  const t = parseLsqDateTime(v, `Parameter.${name}`);
  return isEnd && !v.includes('.') ? t + 999 : t;
}

/** `Leads.RecentlyModified`: leads whose ModifiedOn is in [FromDate, ToDate], as `{RecordCount, Leads:[{LeadPropertyList}]}`. */
export const recentlyModified: Handler = async (s, req) => {
  const body = bodyOf(req.body);
  const param = sub(body, 'Parameter');
  const from = windowEnd(param, 'FromDate', false);
  const to = windowEnd(param, 'ToDate', true);
  if (from !== null && to !== null && from > to) throw mx.invalidInput("Invalid Input! 'Parameter.FromDate' is later than 'Parameter.ToDate'.");
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
  const body = bodyOf(req.body);
  const raw = prop(sub(body, 'SearchParameters'), 'LeadIds');
  if (raw === undefined || raw === null) throw mx.mandatoryMissing("'SearchParameters.LeadIds' is mandatory");
  const ids = asArray(raw, "'SearchParameters.LeadIds'").map((v, i) => {
    if (typeof v !== 'string') throw mx.badStructure(`'SearchParameters.LeadIds[${i}]' must be a string`);
    return scalar(v, `SearchParameters.LeadIds[${i}]`) as string;
  });
  if (ids.length > BY_IDS_MAX) throw mx.invalidInput(`Invalid Input! At most ${BY_IDS_MAX} LeadIds can be retrieved in one call; got ${ids.length}.`);
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
