/** `/v2/LeadManagement.svc/…` and `/v2/Authentication.svc/…`: one definition per endpoint. */
import { z } from 'zod';
import { INT32 } from '../domain/numbers.js';
import { IN_VALUES_MAX, LEAD_PAGE_SIZE_MAX, LOOKUP_VALUE_MAX, parseOperator } from '../domain/lead-search.js';
import { BULK_CREATE_MAX, BULK_UPDATE_MAX, BULK_UPSERT_MAX } from '../domain/lead-bulk.js';
import { parseLsqDateTime } from '../domain/fields.js';
import { isMxError, mx } from '../domain/errors.js';
import { UPDATE_BEHAVIORS } from '../domain/capture.js';
import { Lead, endpoint, success } from './endpoint.js';
import * as L from './lsq.js';
import { anchored, trimmedLengthPattern, wordsPattern } from './patterns.js';

const LM = '/v2/LeadManagement.svc';
const tag = 'Leads';

const leadIdParam = (missing: string) => z.object({ leadId: L.requiredParam(missing, { trim: true }).meta({ description: "The lead's ProspectID" }) });

/** `LeadUpdateBehavior` of Lead.Capture and the async `/lead/capture`: the values parseUpdateBehavior takes (domain/capture.ts). */
export const leadUpdateBehaviorParam = z
  .string()
  .optional()
  .meta({ examples: [...UPDATE_BEHAVIORS], description: `One of ${UPDATE_BEHAVIORS.join(', ')}, in any case; Update (the default) when absent or blank. Another value is MXInvalidInputException (on the async /lead/capture, the request ends FAILURE with it).` });

/** `postUpdatedLead` of the lead writes LeadSquared documents it for (LeadSquared asks for the updated lead in its answer; leadtrail has no automations). */
export const postUpdatedLeadParam = z.string().optional().meta({ description: 'Accepted and ignored (no automations)' });
const LeadList = z.array(Lead);

export const leadsGetById = endpoint('GET', `${LM}/Leads.GetById`, {
  operationId: 'leadsGetById',
  summary: 'A lead by its id (an empty list when there is none)',
  tag,
  query: z.object({ id: L.requiredParam("'id' query parameter is mandatory", { trim: true }) }),
  answer: LeadList,
});

export const leadsGetByEmailaddress = endpoint('GET', `${LM}/Leads.GetByEmailaddress`, {
  operationId: 'leadsGetByEmailaddress',
  summary: 'A lead by its email address',
  tag,
  query: z.object({ emailaddress: L.requiredParam("'emailaddress' query parameter is mandatory") }),
  answer: LeadList,
});

export const retrieveLeadByPhoneNumber = endpoint('GET', `${LM}/RetrieveLeadByPhoneNumber`, {
  operationId: 'retrieveLeadByPhoneNumber',
  summary: 'The lead whose Phone or Mobile is this number, however written (the most recently active one)',
  tag,
  query: z.object({ phone: L.requiredParam("'phone' query parameter is mandatory") }),
  answer: LeadList,
});

/** Longest Leads.GetByQuickSearch key. */
export const QUICK_SEARCH_KEY_MAX = 200;

export const leadsGetByQuickSearch = endpoint('GET', `${LM}/Leads.GetByQuickSearch`, {
  operationId: 'leadsGetByQuickSearch',
  summary: 'Leads whose name, email, phones, company, city or country contain the key (at most 25, newest first)',
  tag,
  query: z.object({
    // The length check is a pipe over requiredParam, whose `required` the document would not see.
    key: L.documentedAs(
      L.requiredParam("'key' query parameter is mandatory", { trim: true }).transform((key, ctx) =>
        key.length > QUICK_SEARCH_KEY_MAX ? L.fail(ctx, mx.invalidInput(`'key' may be at most ${QUICK_SEARCH_KEY_MAX} characters; got ${key.length}.`)) : key,
      ),
      { type: 'string', pattern: trimmedLengthPattern(QUICK_SEARCH_KEY_MAX, 'refused') },
    ).meta({
      param: { required: true },
      description: `At most ${QUICK_SEARCH_KEY_MAX} characters once trimmed (UTF-16 units: an emoji counts as two); not blank`,
    }),
  }),
  answer: LeadList,
});

const LeadField = z.object({
  SchemaName: z.string(),
  Name: z.string(),
  Entity: z.string(),
  DisplayName: z.string(),
  DataType: z.string(),
  IsMandatory: z.boolean(),
  MaxLength: z.string(),
  RenderType: z.number(),
  RenderTypeTextValue: z.string(),
  IsVisible: z.boolean(),
  IsSearchable: z.boolean(),
  IsSortable: z.boolean(),
  Options: z.array(z.object({ Value: z.string() })),
  IsLeadIdentifier: z.boolean(),
  IsUnique: z.boolean(),
  IsCustom: z.boolean(),
  LockAfterCreate: z.number(),
}).meta({ id: 'LeadField' });

export const leadsMetaDataGet = endpoint('GET', `${LM}/LeadsMetaData.Get`, {
  operationId: 'leadsMetaDataGet',
  summary: "The account's lead fields",
  tag,
  query: z.object({
    schemaName: z.string().optional().meta({ description: 'Only this field (any case)' }),
    excludeOptionSets: L.documentedAs(
      z
        .string()
        .optional()
        .transform((v) => v === '1' || v?.toLowerCase() === 'true'),
      L.flagParamDoc,
    ).meta({ description: '1 or true (any case): leave out dropdown options; anything else: include them' }),
  }),
  answer: z.array(LeadField),
});

/**
 * CreateLeadField's DisplayName as domain/lead-field-create.ts takes it: trimmed, each run of spaces
 * inside read as one `_`, then letters, digits and `_` only, at most 61 characters (its schema name
 * mx_… at most 64).
 */
const DISPLAY_NAME_DOC = {
  pattern: anchored('[A-Za-z0-9_](?:[A-Za-z0-9_]|\\s+(?=[A-Za-z0-9_])){0,60}', 'refused'),
  description: 'Letters, digits, spaces and _ only; at most 61 characters once trimmed, a run of spaces inside counting as one (the field is named mx_<DisplayName>, spaces as _)',
};

export const createLeadField = endpoint('POST', `${LM}/CreateLeadField`, {
  operationId: 'createLeadField',
  summary: 'Creates a custom lead field (mx_<Display_Name>)',
  tag,
  bodyRequired: true,
  body: L.object(
    {
      DisplayName: L.requiredText('DisplayName', "'DisplayName' is mandatory", DISPLAY_NAME_DOC),
      DataType: L.requiredText('DataType', "'DataType' is mandatory (Text, Number, Email, Phone, Website, Date, Time, Select or Boolean)").transform((t) => t.trim()),
      MaxLength: L.rule(L.anyJson(L.wholeDoc({ min: 1, max: INT32.max }, 'spaces')).optional(), (v) => {
        if (L.absentNumber(v) || v === '') return null;
        const n = L.wholeOrNull(v, { min: 1, max: INT32.max });
        if (n === null) throw mx.invalidInput(`'MaxLength' must be a whole number from 1 to ${INT32.max}.`);
        return n;
      }),
      RenderTypeTextValue: L.text('RenderTypeTextValue'),
      OptionsJson: L.rule(
        L.anyJson({ description: 'A list of {"Value","IsDefault","Order"} (or of strings), that list as a JSON string, or "" for none', type: ['array', 'string', 'null'] }).optional(),
        leadFieldOptions,
      ),
    },
    'request body',
  ),
  answer: success(z.object({ Id: z.string() })),
  errors: [500],
});

/** `OptionsJson`: a list of `{"Value","IsDefault","Order"}` (or of plain strings), that list as a JSON string, or `""` for none. */
function leadFieldOptions(raw: unknown): string[] | null {
  let v = raw;
  if (L.absentNumber(v) || v === '') return null;
  if (typeof v === 'string') {
    try {
      v = L.wellFormed(JSON.parse(v));
    } catch {
      throw mx.badStructure("'OptionsJson' must be a list of options, or that list written as a JSON string");
    }
  }
  if (!Array.isArray(v)) throw mx.badStructure("'OptionsJson' must be a JSON array");
  const values = v.map((item, i) => {
    const value = L.isObject(item) ? L.scalar(L.prop(item, 'Value'), 'Value') : typeof item === 'string' ? item : undefined;
    if (typeof value !== 'string') throw mx.badStructure(`'OptionsJson[${i}]' needs a 'Value' string`);
    return value.trim();
  });
  return values.filter((x) => x !== '').length ? values.filter((x) => x !== '') : null;
}

const attributeWrite = <Q extends z.ZodObject | undefined = undefined>(operationId: string, path: string, summary: string, answer: z.ZodType, query?: Q) =>
  endpoint('POST', `${LM}/${path}`, { operationId, summary, tag, bodyRequired: true, query, body: L.leadAttributeList(), answer, errors: [500] });

export const leadCreate = attributeWrite('leadCreate', 'Lead.Create', 'Creates a lead from an attribute list', success(z.object({ Id: z.string() })));

export const leadUpdate = attributeWrite(
  'leadUpdate',
  'Lead.Update',
  'Writes an attribute list to a lead',
  success(z.object({ AffectedRows: z.number() })),
  leadIdParam("'leadId' is mandatory for updating lead").extend({ postUpdatedLead: postUpdatedLeadParam }),
);

const LeadUpdateBehavior = z.object({ LeadUpdateBehavior: leadUpdateBehaviorParam });

export const leadCapture = attributeWrite(
  'leadCapture',
  'Lead.Capture',
  'Creates a lead, or updates the one found by SearchBy or the default lookup',
  success(z.object({ Id: z.string(), RelatedId: z.string(), AffectedRows: z.number(), IsCreated: z.boolean() })),
  LeadUpdateBehavior,
);

export const leadCreateOrUpdate = attributeWrite(
  'leadCreateOrUpdate',
  'Lead.CreateOrUpdate',
  'Creates or updates a lead by SearchBy or the default lookup (email, then phone numbers)',
  success(z.object({ Id: z.string(), AffectedRows: z.number(), IsCreated: z.boolean() })),
  z.object({ postUpdatedLead: postUpdatedLeadParam }),
);

export const leadConvert = attributeWrite(
  'leadConvert',
  'Lead.Convert',
  "Converts a visitor into a lead (leadtrail has no visitors: see docs/compatibility.md)",
  success(z.object({ AffectedRows: z.number(), Id: z.string(), IsCreated: z.boolean() })),
  z.object({ leadId: L.requiredParam("'leadId' query parameter is mandatory (the visitor's MXCProspectId)", { trim: true }) }),
);

/** `leadId`'s message when neither the query nor (for a POST) the body names the lead. */
export const DELETE_LEAD_ID_MISSING = "'leadId' is mandatory for deleting a lead";

const deleteSpec = {
  summary: 'Deletes a lead and its activities, for good (LeadSquared: "Delete a Lead")',
  description:
    'Everything stored for the lead goes: its activities, and its unique values (free for a new lead). Async requests, webhook events and journal entries that name it stay. An unknown lead (or another account\'s, or one deleted before) is MXInvalidEntityException.',
  tag,
  answer: z.object({ Status: z.literal('Success') }),
  errors: [500],
};

export const leadDeleteById = endpoint('GET', `${LM}/Lead/Delete/ById`, {
  operationId: 'leadDeleteById',
  ...deleteSpec,
  query: leadIdParam(DELETE_LEAD_ID_MISSING),
});

/** The body of a POST Lead/Delete/ById, read only when it is an object and the query names no lead. */
const deleteBody = z.preprocess((v) => (L.isObject(v) ? v : {}), L.object({ LeadId: L.text('LeadId').meta({ description: "The lead's ProspectID (when the query has no leadId)" }) }, 'request body'));

export const leadDeleteByIdPost = endpoint('POST', `${LM}/Lead/Delete/ById`, {
  operationId: 'leadDeleteByIdPost',
  ...deleteSpec,
  summary: `${deleteSpec.summary}; leadId in the query, or LeadId in a JSON body (leadtrail's)`,
  query: z.object({ leadId: z.string().optional().meta({ description: "The lead's ProspectID (else the body's LeadId)" }) }),
  body: deleteBody,
});

/**
 * A bulk body's rows, each an attribute list (bare, or in `{"LeadDetails":[…]}`), all read before any
 * row is written: a malformed row (wrong JSON types) is a 400 for the whole call naming the row;
 * more rows than the endpoint takes is MXInvalidInputException.
 */
const leadRows = (max: number) =>
  // Each row as Lead.Create's body (it was untyped: a generated client took any value as a row).
  L.rule(L.anyJson({ type: 'array', maxItems: max, items: { ...L.ATTRIBUTE_LIST_DOC, description: 'An attribute list, bare or as {"LeadDetails": […]}' } }), (body) => {
    if (!Array.isArray(body)) throw mx.badStructure('request body must be a JSON array');
    if (body.length > max) throw mx.invalidInput(`At most ${max} leads can be sent in one call; got ${body.length}.`);
    return body.map((row, i) => {
      try {
        return L.leadAttributeListValue(row);
      } catch (e) {
        throw isMxError(e) ? L.inRow(i, e) : e;
      }
    });
  });

const RowFailure = { ExceptionType: z.string().optional(), ExceptionMessage: z.string().optional() };

export const leadBulkCreate = endpoint('POST', `${LM}/Lead/Bulk/Create`, {
  operationId: 'leadBulkCreate',
  summary: `Creates up to ${BULK_CREATE_MAX} leads, a result per row`,
  tag,
  bodyRequired: true,
  body: leadRows(BULK_CREATE_MAX),
  answer: z.array(z.object({ RowNumber: z.number(), LeadId: z.string().nullable(), LeadCreated: z.boolean(), ...RowFailure })),
  errors: [500],
});

export const leadBulkCreateOrUpdate = endpoint('POST', `${LM}/Lead/Bulk/CreateOrUpdate`, {
  operationId: 'leadBulkCreateOrUpdate',
  summary: `Creates or updates up to ${BULK_UPSERT_MAX} leads, a result per row`,
  tag,
  bodyRequired: true,
  body: leadRows(BULK_UPSERT_MAX),
  answer: z.array(
    z.object({ RowNumber: z.number(), LeadId: z.string().nullable(), LeadCreated: z.boolean(), LeadUpdated: z.boolean(), AffectedRows: z.number(), ...RowFailure }),
  ),
  errors: [500],
});

export const leadBulkUpdate = endpoint('POST', `${LM}/Lead/Bulk/Update`, {
  operationId: 'leadBulkUpdate',
  summary: `Writes the same fields to up to ${BULK_UPDATE_MAX} leads`,
  tag,
  bodyRequired: true,
  body: L.object(
    {
      LeadIds: L.rule(L.anyJson({ type: 'array', items: { type: 'string' }, minItems: 1, maxItems: BULK_UPDATE_MAX }).optional(), (raw) => {
        if (raw === undefined || raw === null) throw mx.mandatoryMissing("'LeadIds' is mandatory");
        if (!Array.isArray(raw)) throw mx.badStructure("'LeadIds' must be a JSON array");
        const ids = raw.map((v, i) => {
          if (typeof v !== 'string') throw mx.badStructure(`'LeadIds[${i}]' must be a string`);
          return L.noNul(v, `LeadIds[${i}]`).trim();
        });
        if (ids.length === 0) throw mx.mandatoryMissing("'LeadIds' needs at least one lead id");
        if (ids.length > BULK_UPDATE_MAX) throw mx.invalidInput(`At most ${BULK_UPDATE_MAX} leads can be updated in one call; got ${ids.length}.`);
        return ids;
      }),
      LeadFields: L.rule(
        L.anyJson({ description: 'An {"Attribute","Value"} entry or a list of them', anyOf: [L.FIELD_ENTRY_DOC, { type: 'array', items: L.FIELD_ENTRY_DOC }] }).optional(),
        (raw) => {
          if (raw === undefined || raw === null) throw mx.mandatoryMissing("'LeadFields' is mandatory");
          const attrs = L.fieldListValue(L.isObject(raw) ? [raw] : raw, 'LeadFields');
          if (attrs.length === 0) throw mx.mandatoryMissing("'LeadFields' needs an Attribute and its Value");
          return attrs;
        },
      ),
    },
    'request body',
  ),
  answer: success(
    z.object({
      AffectedRows: z.number(),
      FailedLeads: z.array(z.object({ LeadId: z.string(), ExceptionType: z.string(), ExceptionMessage: z.string() })).optional(),
    }),
  ),
  errors: [500],
});

// The bulk lead reads share Columns, Sorting and Paging.

export const LEAD_PAGE_SIZE_DEFAULT = 100;
const PAGE_INDEX_MAX = 1_000_000;
/** Leads/Retrieve/ByIds takes at most this many ids (LeadSquared's documented maximum). */
export const BY_IDS_MAX = 10_000;

const searchCommon = {
  Paging: L.subObject(
    {
      PageIndex: L.whole('PageIndex', { min: 1, max: PAGE_INDEX_MAX }, 'Paging.PageIndex'),
      PageSize: L.whole('PageSize', { min: 1, max: LEAD_PAGE_SIZE_MAX }, 'Paging.PageSize'),
    },
    "'Paging'",
  ),
  Sorting: L.subObject(
    {
      ColumnName: L.text('ColumnName'),
      Direction: L.sortDirection(),
    },
    "'Sorting'",
  ),
  Columns: L.subObject({ Include_CSV: L.text('Include_CSV') }, "'Columns'"),
  // LeadSquared's object-type filter beside the search ("Attribute":"LeadType","Value":"OT_1").
  Attribute: L.text('Attribute'),
  Value: L.text('Value'),
};

/** How a date-time input is described (domain/fields.ts scanLsqDateTime reads it). */
export const DATE_TIME_INPUT = 'yyyy-MM-dd HH:mm:ss (UTC), or ISO 8601 with Z or an offset (2025-01-02T10:00:00.000Z, 2025-01-02T15:30:00+05:30)';

/**
 * A window end: a date-time in any form scanLsqDateTime takes (`yyyy-MM-dd HH:mm:ss` UTC, or ISO
 * 8601 with `Z` or an offset), as epoch ms. ToDate without milliseconds takes in its whole second.
 */
export const windowEnd = (name: 'FromDate' | 'ToDate') =>
  L.rule(L.anyJson({ type: ['string', 'null'], description: DATE_TIME_INPUT, example: '2024-01-31 18:30:00' }).optional(), (raw) => {
    const v = L.scalar(raw, name);
    if (v === null || v.trim() === '') return null;
    const t = parseLsqDateTime(v, `Parameter.${name}`);
    return name === 'ToDate' && !v.includes('.') ? t + 999 : t;
  });

/** FromDate after ToDate. */
export const windowOrder = (p: { FromDate: number | null; ToDate: number | null }): void => {
  if (p.FromDate !== null && p.ToDate !== null && p.FromDate > p.ToDate) throw mx.invalidInput("Invalid Input! 'Parameter.FromDate' is later than 'Parameter.ToDate'.");
};

export const leadsGet = endpoint('POST', `${LM}/Leads.Get`, {
  operationId: 'leadsGet',
  summary: 'Leads whose LookupName field compares with LookupValue by SqlOperator',
  tag,
  body: L.optionalBody({
    Parameter: L.requiredObject(
      {
        LookupName: L.requiredText('LookupName', "'Parameter.LookupName' is mandatory"),
        // parseOperator: trimmed, any case; blank is =.
        SqlOperator: L.rule(
          L.anyJson({
            type: ['string', 'null'],
            pattern: wordsPattern(['=', '<>', '!=', '<', '>', '<=', '>=', 'LIKE', 'IN'], 'spaces'),
            description: '=, <>, !=, <, >, <=, >=, LIKE or IN (any case, spaces around ignored); blank or absent is =',
          }).optional(),
          (v) => parseOperator(L.scalar(v, 'SqlOperator')),
        ),
        // One scalar; IN also takes a JSON list of scalars (or one comma-separated text).
        LookupValue: L.rule(
          L.anyJson({
            anyOf: [L.SCALAR_DOC, { type: 'array', items: L.SCALAR_DOC, maxItems: IN_VALUES_MAX }],
            description: `A value; for IN, a JSON list or comma-separated values. On a lead field (not ProspectID, ProspectAutoId, CreatedOn, ModifiedOn, Score and the like) a value may be at most ${LOOKUP_VALUE_MAX} characters once trimmed`,
          }).optional(),
          (v): string | unknown[] => {
            if (Array.isArray(v)) return v;
            const t = L.scalar(v, 'LookupValue');
            if (t === null || t.trim() === '') throw mx.mandatoryMissing("'Parameter.LookupValue' is mandatory");
            return t;
          },
        ),
      },
      "'Parameter'",
      // A list is IN's alone: any other operator reads LookupValue as one scalar (and refuses a list as such).
      (p) => {
        if (Array.isArray(p.LookupValue) && p.SqlOperator !== 'in') L.scalar(p.LookupValue, 'LookupValue');
      },
    ),
    ...searchCommon,
  }),
  answer: LeadList,
  errors: [500],
});

export const leadsRecentlyModified = endpoint('POST', `${LM}/Leads.RecentlyModified`, {
  operationId: 'leadsRecentlyModified',
  summary: 'Leads whose ModifiedOn is in [FromDate, ToDate]',
  tag,
  body: L.optionalBody({
    Parameter: L.subObject({ FromDate: windowEnd('FromDate'), ToDate: windowEnd('ToDate') }, "'Parameter'", windowOrder),
    ...searchCommon,
  }),
  answer: z.object({ RecordCount: z.number(), Leads: z.array(z.object({ LeadPropertyList: z.array(z.object({ Attribute: z.string(), Value: z.string().nullable() })) })) }),
  errors: [500],
});

export const leadsRetrieveByIds = endpoint('POST', `${LM}/Leads/Retrieve/ByIds`, {
  operationId: 'leadsRetrieveByIds',
  summary: `The leads of SearchParameters.LeadIds (at most ${BY_IDS_MAX}) found in the account`,
  tag,
  body: L.optionalBody({
    SearchParameters: L.requiredObject(
      {
        LeadIds: L.rule(L.anyJson({ type: 'array', items: { type: 'string' }, maxItems: BY_IDS_MAX }).optional(), (raw) => {
          if (raw === undefined || raw === null) throw mx.mandatoryMissing("'SearchParameters.LeadIds' is mandatory");
          if (!Array.isArray(raw)) throw mx.badStructure("'SearchParameters.LeadIds' must be a JSON array");
          const ids = raw.map((v, i) => {
            if (typeof v !== 'string') throw mx.badStructure(`'SearchParameters.LeadIds[${i}]' must be a string`);
            return L.noNul(v, `SearchParameters.LeadIds[${i}]`);
          });
          if (ids.length > BY_IDS_MAX) throw mx.invalidInput(`Invalid Input! At most ${BY_IDS_MAX} LeadIds can be retrieved in one call; got ${ids.length}.`);
          return ids;
        }),
      },
      "'SearchParameters'",
    ),
    ...searchCommon,
  }),
  answer: z.object({ RecordCount: z.number(), Leads: LeadList }),
  errors: [500],
});

export const userByAccessKeyGet = endpoint('GET', '/v2/Authentication.svc/UserByAccessKey.Get', {
  operationId: 'userByAccessKeyGet',
  summary: 'The user whose access key made the call, and the account',
  tag: 'Authentication',
  // Every property the handler answers (compat/lead-management.ts userByAccessKey), in its order.
  answer: z.object({
    Id: z.string().nullable().meta({ description: "The key's user; null in an account without users" }),
    FirstName: z.string().nullable(),
    LastName: z.string().nullable(),
    Name: z.string().nullable().meta({ description: 'FirstName and LastName' }),
    EmailAddress: z.string().nullable(),
    PassPhrase: z.string().nullable().meta({ description: "The user's email address, as LeadSquared answers it" }),
    Role: z.string().nullable(),
    TimeZone: z.string().meta({ example: 'UTC' }),
    OrgId: z.string(),
    OrgName: z.string().nullable(),
    OrgShortCode: z.string().meta({ description: '8 hex digits of the account id' }),
    DefaultCountryCode: z.string(),
    IsDefaultOwner: z.boolean(),
    LSQCommonServiceURLs: z.object({ api: z.string(), app: z.string(), async: z.string(), tracking: z.string() }),
  }),
});

export const LEAD_MANAGEMENT = [
  leadsGetById,
  leadsGetByEmailaddress,
  retrieveLeadByPhoneNumber,
  leadsGetByQuickSearch,
  leadsMetaDataGet,
  createLeadField,
  leadCreate,
  leadUpdate,
  leadCapture,
  leadCreateOrUpdate,
  leadConvert,
  leadDeleteById,
  leadDeleteByIdPost,
  leadBulkCreate,
  leadBulkCreateOrUpdate,
  leadBulkUpdate,
  leadsGet,
  leadsRecentlyModified,
  leadsRetrieveByIds,
  userByAccessKeyGet,
];
