/** `/v2/ProspectActivity.svc/…`: one definition per endpoint. */
import { z } from 'zod';
import { EVENT_CODE } from '../domain/activity-types.js';
import { isMxError, mx } from '../domain/errors.js';
import { INT32 } from '../domain/numbers.js';
import { fieldDefs, int32Value, settingValue } from './activity-type.js';
import { endpoint, success, FieldsAny } from './endpoint.js';
import { descending } from '../domain/lead-search.js';
import { windowEnd, windowOrder } from './lead-management.js';
import * as L from './lsq.js';

const PA = '/v2/ProspectActivity.svc';
const tag = 'Activities';

/** The activity part of a Create/CreateCustom/bulk row body (documentation of what wire/operations.ts reads). */
export const activityFields = {
  ActivityEvent: L.code('ActivityEvent').meta({ description: "The activity type's event code" }),
  ActivityNote: L.text('ActivityNote'),
  ActivityDateTime: L.text('ActivityDateTime').meta({ description: 'yyyy-MM-dd HH:mm:ss (UTC); now when absent' }),
  Fields: L.fieldList('Fields'),
  ActivityOwnerEmail: L.text('ActivityOwnerEmail'),
  ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
};

export const activityCreateBody = L.object(
  {
    RelatedProspectId: L.text('RelatedProspectId').meta({ description: 'The lead; or give EmailAddress (the lead is made when there is none)' }),
    EmailAddress: L.text('EmailAddress'),
    FirstName: L.text('FirstName'),
    LastName: L.text('LastName'),
    Phone: L.text('Phone'),
    Mobile: L.text('Mobile'),
    ...activityFields,
    IncludeLeadScore: L.flag('IncludeLeadScore'),
    ProcessFilesAsync: L.flag('ProcessFilesAsync'),
  },
  'request body',
);

export const activityCreateAnswer = success(z.object({ Id: z.string(), RelatedId: z.string(), LeadScore: z.number().optional() }));

export const activityCreate = endpoint('POST', `${PA}/Create`, {
  operationId: 'activityCreate',
  summary: 'Posts an activity on a lead (by RelatedProspectId, or by EmailAddress creating the lead)',
  tag,
  bodyRequired: true,
  body: activityCreateBody,
  answer: activityCreateAnswer,
  errors: [500],
});

export const activityCreateCustomBody = L.object(
  {
    LeadDetails: L.fieldList('LeadDetails').meta({ description: 'The lead, found by SearchBy or the default lookup, or created' }),
    Activity: L.object(activityFields, "'Activity'"),
    ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
  },
  'request body',
);

export const activityCreateCustomAnswer = success(z.object({ Id: z.string(), RelatedId: z.string(), IsLeadCreated: z.boolean() }));

export const activityCreateCustom = endpoint('POST', `${PA}/CreateCustom`, {
  operationId: 'activityCreateCustom',
  summary: 'Creates or updates a lead and posts an activity on it',
  tag,
  bodyRequired: true,
  body: activityCreateCustomBody,
  answer: activityCreateCustomAnswer,
  errors: [500],
});

export const BULK_MAX_ROWS = 25;

const bulkAnswer = z.object({
  Response: z.array(
    z.object({
      RowNumber: z.number(),
      ActivityCreated: z.boolean(),
      ProspectActivityId: z.string().nullable(),
      RelatedProspectId: z.string().optional(),
      ExceptionType: z.string().optional(),
      ExceptionMessage: z.string().optional(),
    }),
  ),
});

export const bulkActivityByLeadId = endpoint('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, {
  operationId: 'bulkActivityByLeadId',
  summary: `Posts up to ${BULK_MAX_ROWS} activities, each on the lead of its RelatedProspectId`,
  tag,
  bodyRequired: true,
  body: L.arrayOf(L.object({ RelatedProspectId: L.text('RelatedProspectId'), ...activityFields }, 'row'), 'request body'),
  answer: bulkAnswer,
  errors: [500],
});

export const bulkActivityByLeadField = endpoint('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadField`, {
  operationId: 'bulkActivityByLeadField',
  summary: `Posts up to ${BULK_MAX_ROWS} activities, each on the lead whose searchBy field is its SearchByValue`,
  tag,
  bodyRequired: true,
  query: z.object({
    searchBy: L.requiredParam("'searchBy' query parameter is mandatory (e.g. searchBy=EmailAddress)").meta({ description: 'The lead field to look leads up by, e.g. EmailAddress' }),
  }),
  body: L.arrayOf(L.object({ SearchByValue: L.text('SearchByValue'), ...activityFields }, 'row'), 'request body'),
  answer: bulkAnswer,
  errors: [500],
});

const ActivityType = z
  .object({
    ActivityEvent: z.number(),
    ActivityEventName: z.string(),
    DisplayName: z.string(),
    Description: z.string().nullable(),
    Score: z.number(),
    Direction: z.number(),
    IsSystem: z.boolean(),
    Category: z.string(),
  })
  .meta({ id: 'ActivityType' });

export const activityTypesGet = endpoint('GET', `${PA}/ActivityTypes.Get`, {
  operationId: 'activityTypesGet',
  summary: "The account's activity types",
  tag,
  answer: z.array(ActivityType),
});

const FieldDef = z.looseObject({ SchemaName: z.string(), DisplayName: z.string().optional(), DataType: z.string().optional() });
const FieldDefIn = L.anyJson({
  type: ['array', 'null'],
  items: {
    type: 'object',
    properties: {
      SchemaName: { type: 'string' },
      DisplayName: { type: 'string' },
      DataType: { type: 'string' },
      IsMandatory: { type: ['boolean', 'string', 'integer'] },
      MaxLength: { type: ['integer', 'string'] },
      OptionSet: { description: 'A list of options, that list as JSON, or comma-separated values' },
      Fields: { type: 'array', items: { type: 'object' } },
    },
  },
}).optional();

const typeSettings = {
  TrackLocation: L.anyJson({ type: ['boolean', 'string', 'integer'] }).optional(),
  AllowAttachments: L.anyJson({ type: ['boolean', 'string', 'integer'] }).optional(),
  ShowInActivityGrid: L.anyJson({ type: ['boolean', 'string', 'integer'] }).optional(),
  CanDeleteActivity: L.anyJson({ type: ['boolean', 'string', 'integer'] }).optional(),
  ShowInForm: L.anyJson({ type: ['boolean', 'string', 'integer'] }).optional(),
};

const int32 = (name: string) => L.rule(L.anyJson({ type: ['integer', 'string', 'null'], minimum: INT32.min, maximum: INT32.max }).optional(), (v) => int32Value(v, name));
const setting = (name: string) => L.rule(L.anyJson({ type: ['boolean', 'string', 'integer', 'null'] }).optional(), (v) => settingValue(v, name));

export const activityTypeCreate = endpoint('POST', `${PA}/CreateType`, {
  operationId: 'activityTypeCreate',
  summary: 'Creates a custom activity type (its event code is the answer Id)',
  tag,
  bodyRequired: true,
  // In the order the checks are made: the name, the flags, a pinned code, then the rest.
  body: L.object(
    {
      ActivityEventName: L.rule(L.text('ActivityEventName'), (name) => {
        if (!name) throw mx.invalidInput('Invalid Input! Parameter Name: ActivityEventName');
        return name;
      }),
      TrackLocation: setting('TrackLocation'),
      AllowAttachments: setting('AllowAttachments'),
      ShowInActivityGrid: setting('ShowInActivityGrid'),
      CanDeleteActivity: setting('CanDeleteActivity'),
      ShowInForm: setting('ShowInForm'),
      ActivityEvent: int32('ActivityEvent').meta({ description: 'Pin the event code (else the next free one from 201)' }),
      DisplayName: L.text('DisplayName'),
      Description: L.text('Description'),
      Score: int32('Score'),
      Direction: int32('Direction'),
      Fields: L.rule(FieldDefIn, (v) => fieldDefs(v, 'Fields')),
    },
    'request body',
  ),
  answer: success(z.object({ Id: z.number() })),
  errors: [500],
});

export const activitySettingGet = endpoint('GET', `${PA}/CustomActivity/GetActivitySetting`, {
  operationId: 'activitySettingGet',
  summary: "An activity type's settings and field definitions",
  tag,
  query: z.object({ code: L.requiredParam("'code' query parameter is mandatory").meta({ description: 'The event code' }) }),
  answer: z.looseObject({ ID: z.number(), Name: z.string(), DisplayName: z.string(), Fields: z.array(FieldDef) }),
  errors: [500],
});

export const RETRIEVE_PAGE_DEFAULT = 25;

export const activityRetrieve = endpoint('POST', `${PA}/Retrieve`, {
  operationId: 'activityRetrieve',
  summary: "A lead's activities, newest first",
  tag,
  query: z.object({ leadId: L.requiredParam("'leadId' query parameter is mandatory") }),
  body: L.optionalBody({
    Paging: L.subObject(
      {
        Offset: L.whole('Offset', { min: 0, max: 1_000_000 }, 'Paging.Offset'),
        RowCount: L.whole('RowCount', { min: 0, max: 1000 }, 'Paging.RowCount'),
      },
      "'Paging'",
    ),
    Parameter: L.subObject({ ActivityEvent: L.whole('ActivityEvent', EVENT_CODE, 'Parameter.ActivityEvent') }, "'Parameter'"),
  }),
  answer: z.object({ RecordCount: z.number(), ProspectActivities: z.array(z.looseObject({ Id: z.string(), EventCode: z.number(), EventName: z.string(), CreatedOn: z.string() })) }),
  errors: [500],
});

export const activityDetailsGet = endpoint('GET', `${PA}/GetActivityDetails`, {
  operationId: 'activityDetailsGet',
  summary: "An activity with its type's fields and their values",
  tag,
  query: z.object({ activityId: L.requiredParam("'activityId' query parameter is mandatory") }),
  answer: z.looseObject({ ID: z.string(), ActivityEvent: z.number(), RelatedProspectId: z.string(), Fields: z.array(FieldDef) }),
  errors: [500],
});

export const ACTIVITY_PAGE_SIZE_MAX = 1000;
export const ACTIVITY_PAGE_SIZE_DEFAULT = 100;
/** Sorting.ColumnName values accepted; all sort by the activity date (activities are never modified). */
const SORT_COLUMNS = new Set(['createdon', 'modifiedon', 'activitydatetime']);

export const retrieveByActivityEvent = endpoint('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, {
  operationId: 'retrieveByActivityEvent',
  summary: 'Every activity of one type in the account, in an activity-date window, a page at a time',
  tag,
  body: L.optionalBody({
    Parameter: L.requiredObject(
      {
        ActivityEvent: L.rule(L.code('ActivityEvent'), (v) => {
          if (v === undefined || v === null || v === '') throw mx.invalidEvent();
          return v;
        }),
        FromDate: windowEnd('FromDate'),
        ToDate: windowEnd('ToDate'),
      },
      "'Parameter'",
      windowOrder,
    ),
    Paging: L.subObject(
      {
        PageIndex: L.whole('PageIndex', { min: 1, max: 1_000_000 }),
        PageSize: L.whole('PageSize', { min: 1, max: ACTIVITY_PAGE_SIZE_MAX }),
      },
      "'Paging'",
    ),
    Sorting: L.subObject(
      {
        ColumnName: L.rule(L.anyJson({ type: ['string', 'null'], enum: ['CreatedOn', 'ModifiedOn', 'ActivityDateTime', null] }).optional(), (v) => {
          const column = L.scalar(v, 'ColumnName');
          if (column && !SORT_COLUMNS.has(column.trim().toLowerCase())) {
            throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be CreatedOn, ModifiedOn or ActivityDateTime; got '${column.slice(0, 100)}'.`);
          }
          return column;
        }),
        Direction: L.rule(L.anyJson({ type: ['string', 'integer', 'null'], description: '0/asc/ascending or 1/desc/descending (the default)' }).optional(), (v) => {
          const dir = L.scalar(v, 'Direction')?.trim().toLowerCase() ?? '';
          if (dir === '' || dir === '1' || dir === 'desc' || dir === 'descending') return true;
          if (dir === '0' || dir === 'asc' || dir === 'ascending') return false;
          throw mx.invalidInput(`Invalid Input! 'Sorting.Direction' must be 0 (ascending) or 1 (descending); got '${dir.slice(0, 100)}'.`);
        }),
      },
      "'Sorting'",
    ),
  }),
  answer: z.object({ RecordCount: z.number(), List: z.array(FieldsAny) }),
  errors: [500],
});

export const customActivityUpdate = endpoint('POST', `${PA}/CustomActivity/Update`, {
  operationId: 'customActivityUpdate',
  summary: "Changes an activity's note and fields",
  tag,
  bodyRequired: true,
  body: L.object(
    {
      ProspectActivityId: L.requiredText('ProspectActivityId', "'ProspectActivityId' is mandatory").transform((id) => id.trim()),
      ProcessFilesAsync: L.flag('ProcessFilesAsync'),
      ActivityEvent: L.code('ActivityEvent'),
      ActivityNote: L.text('ActivityNote'),
      Fields: L.fieldList('Fields'),
      ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
    },
    'request body',
  ),
  answer: success(z.object({ Id: z.string() })),
  errors: [500],
});

export const customActivityTypeUpdate = endpoint('POST', `${PA}/CustomActivityType/Update`, {
  operationId: 'customActivityTypeUpdate',
  summary: "Changes an activity type's name, score, direction, settings and fields",
  tag,
  bodyRequired: true,
  body: L.object({
    ID: L.code('ID').meta({ description: "The type's event code (ActivityEvent is read when ID is absent)" }),
    ActivityEvent: L.code('ActivityEvent'),
    ActivityEventName: L.text('ActivityEventName'),
    Description: L.text('Description'),
    Score: L.code('Score'),
    EventDirection: L.code('EventDirection'),
    Direction: L.code('Direction'),
    Fields: FieldDefIn,
    ...typeSettings,
  }, 'request body'),
  answer: z.object({ Status: z.literal('Success') }),
  errors: [500],
});

/** Most activities one Bulk/CustomActivity/Update call takes (LeadSquared's documented limit). */
export const ACTIVITY_UPDATE_BULK_MAX = 25;

const bulkUpdateRow = L.object(
  {
    ProspectActivityId: L.text('ProspectActivityId').meta({ description: 'The activity (a row without it fails alone)' }),
    ProcessFilesAsync: L.flag('ProcessFilesAsync'),
    ActivityEvent: L.code('ActivityEvent'),
    ActivityNote: L.text('ActivityNote'),
    Fields: L.fieldList('Fields'),
    ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
  },
  'row',
);

export const bulkActivityUpdate = endpoint('POST', `${PA}/Bulk/CustomActivity/Update`, {
  operationId: 'bulkActivityUpdate',
  summary: `Updates up to ${ACTIVITY_UPDATE_BULK_MAX} activities' notes and fields, each row on its own, answered row by row`,
  description:
    'Every row is read before any is written (a malformed row is a 400 naming it); a row the rules refuse, or without ProspectActivityId, ' +
    'fails alone with its ExceptionType and ExceptionMessage. More than 25 rows is MXInvalidInputException.',
  tag,
  bodyRequired: true,
  body: z
    .preprocess((v, ctx) => {
      if (!Array.isArray(v)) return L.fail(ctx, mx.badStructure('request body must be a JSON array'));
      const rows: unknown[] = v;
      if (rows.length > ACTIVITY_UPDATE_BULK_MAX) {
        return L.fail(ctx, mx.invalidInput(`Invalid Input! At most ${ACTIVITY_UPDATE_BULK_MAX} activities can be updated in one call; got ${rows.length}.`));
      }
      // Every row's structure is read before any is written; a malformed row is a 400 naming it.
      for (const [i, r] of rows.entries()) {
        try {
          L.parseInput(bulkUpdateRow, L.asObject(r, `row ${i + 1}`));
        } catch (e) {
          if (!isMxError(e)) throw e;
          return L.fail(ctx, e.status === 400 ? mx.badStructure(`row ${i + 1}: ${e.message.replace(/^Invalid request body: /, '')}`) : e);
        }
      }
      return rows;
    }, z.array(bulkUpdateRow))
    .meta({ description: `At most ${ACTIVITY_UPDATE_BULK_MAX} rows` }),
  answer: z.object({
    Response: z.array(
      z.object({
        RowNumber: z.number(),
        ProspectActivityId: z.string().nullable(),
        ActivityUpdated: z.boolean(),
        ExceptionType: z.string().optional(),
        ExceptionMessage: z.string().optional(),
      }),
    ),
  }),
  errors: [500],
});

export const RECENT_PAGE_SIZE_MAX = 1000;
export const RECENT_PAGE_SIZE_DEFAULT = 100;

export const activitiesRecentlyModified = endpoint('POST', `${PA}/RetrieveRecentlyModified`, {
  operationId: 'activitiesRecentlyModified',
  summary: 'Every activity of the account whose ModifiedOn falls in a window (both ends inclusive), a page at a time',
  tag,
  body: L.optionalBody({
    Parameter: L.subObject(
      {
        FromDate: windowEnd('FromDate'),
        ToDate: windowEnd('ToDate'),
        ActivityEvent: L.code('ActivityEvent').meta({ description: 'Only activities of this event code' }),
        IncludeCustomFields: L.flag('IncludeCustomFields').meta({ description: 'Include the mx_ custom fields' }),
      },
      "'Parameter'",
      windowOrder,
    ),
    Paging: L.subObject(
      {
        PageIndex: L.whole('PageIndex', { min: 1, max: 1_000_000 }, 'Paging.PageIndex'),
        PageSize: L.whole('PageSize', { min: 1, max: RECENT_PAGE_SIZE_MAX }, 'Paging.PageSize').meta({ description: `Default ${RECENT_PAGE_SIZE_DEFAULT}` }),
      },
      "'Paging'",
    ),
    Sorting: L.subObject(
      {
        ColumnName: L.rule(L.anyJson({ type: ['string', 'null'], enum: ['ModifiedOn', 'CreatedOn', 'ActivityDateTime', null], description: 'ModifiedOn (the default); CreatedOn and ActivityDateTime sort by the activity date' }).optional(), (v) => {
          const c = L.scalar(v, 'ColumnName')?.trim().toLowerCase() ?? '';
          if (c === '' || c === 'modifiedon') return 'modifiedOn' as const;
          if (c === 'createdon' || c === 'activitydatetime') return 'occurredAt' as const;
          throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be ModifiedOn, CreatedOn or ActivityDateTime; got '${c.slice(0, 100)}'.`);
        }),
        Direction: L.rule(L.anyJson({ type: ['string', 'integer', 'null'], description: '0/asc/ascending or 1/desc/descending (the default)' }).optional(), (v) =>
          descending(L.scalar(v, 'Direction')),
        ),
      },
      "'Sorting'",
    ),
  }),
  answer: z.object({
    RecordCount: z.number(),
    ProspectActivities: z.array(
      z.looseObject({ Id: z.string(), EventCode: z.number(), EventName: z.string(), CreatedOn: z.string(), RelatedProspectId: z.string(), ModifiedOn: z.string() }),
    ),
  }),
  errors: [500],
});

export const PROSPECT_ACTIVITY = [
  activityCreate,
  activityCreateCustom,
  bulkActivityByLeadId,
  bulkActivityByLeadField,
  activityTypesGet,
  activityTypeCreate,
  activitySettingGet,
  activityRetrieve,
  activityDetailsGet,
  retrieveByActivityEvent,
  customActivityUpdate,
  customActivityTypeUpdate,
  bulkActivityUpdate,
  activitiesRecentlyModified,
];
