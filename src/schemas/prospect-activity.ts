/** `/v2/ProspectActivity.svc/…`: one definition per endpoint. */
import { z } from 'zod';
import { EVENT_CODE } from '../domain/activity-types.js';
import type { ActivityInput, LeadRef } from '../domain/activities.js';
import type { ActivityTypeChange } from '../domain/activity-update.js';
import { mx } from '../domain/errors.js';
import { INT32 } from '../domain/numbers.js';
import { fieldDefs, int32Value, settingValue, TYPE_SETTINGS } from './activity-type.js';
import { endpoint, success } from './endpoint.js';
import { DATE_TIME_INPUT, windowEnd, windowOrder } from './lead-management.js';
import * as L from './lsq.js';
import { trimmedLengthPattern, wordsPattern, type Blank } from './patterns.js';

const PA = '/v2/ProspectActivity.svc';
const tag = 'Activities';

/**
 * An event code as a body sends it (a number or digits), documented with the codes a type can have
 * (EVENT_CODE, as getActivityType reads them); `blank`: the blank strings the endpoint takes as absent.
 */
const eventCode = (name: string, blank: Blank) => L.code(name, L.wholeDoc(EVENT_CODE, blank));

/** ActivityEventName's longest (domain/activity-types.ts, activity-update.ts: counted once trimmed). */
const EVENT_NAME_MAX = 200;
/** A type's name: not blank, at most EVENT_NAME_MAX characters once trimmed. */
const EVENT_NAME_DOC = {
  pattern: trimmedLengthPattern(EVENT_NAME_MAX, 'refused'),
  description: `At most ${EVENT_NAME_MAX} characters once trimmed (UTF-16 units: an emoji counts as two); not blank`,
};

/** The activity part of a Create/CreateCustom/bulk row body, in the order it is read. */
export const activityFields = {
  ActivityEvent: eventCode('ActivityEvent', 'refused').meta({ description: "The activity type's event code" }),
  ActivityNote: L.text('ActivityNote'),
  ActivityDateTime: L.text('ActivityDateTime').meta({ description: `${DATE_TIME_INPUT}; now when absent` }),
  Fields: L.fieldList('Fields'),
  ActivityOwnerEmail: L.text('ActivityOwnerEmail'),
  ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
};

/** An activity as the domain posts it, but for the async request it belongs to (the caller's). */
export type ActivityFields = Omit<ActivityInput, 'requestId'>;

/** The activity part of a body, read in the order of `activityFields`. */
function activityOf(read: L.Reader<typeof activityFields>): ActivityFields {
  return {
    eventCode: read('ActivityEvent'),
    note: read('ActivityNote'),
    occurredAt: read('ActivityDateTime'),
    fields: read('Fields'),
    ownerEmail: read('ActivityOwnerEmail'),
    skipDropdownValidation: read('ValidateDropDownOptions'),
  };
}

const createShape = {
  RelatedProspectId: L.text('RelatedProspectId').meta({ description: 'The lead; or give EmailAddress (the lead is made when there is none)' }),
  EmailAddress: L.text('EmailAddress'),
  FirstName: L.text('FirstName'),
  LastName: L.text('LastName'),
  Phone: L.text('Phone'),
  Mobile: L.text('Mobile'),
  ...activityFields,
  IncludeLeadScore: L.flag('IncludeLeadScore'),
  ProcessFilesAsync: L.flag('ProcessFilesAsync'),
};

/** The lead a Create body names: by RelatedProspectId, else by EmailAddress; null when neither is given. */
function leadNamed(read: L.Reader<typeof createShape>): { by: 'id'; leadId: string } | { by: 'email'; email: string } | null {
  const leadId = read('RelatedProspectId');
  if (leadId) return { by: 'id', leadId };
  const email = read('EmailAddress');
  return email ? { by: 'email', email } : null;
}

/**
 * `Create`'s lead (leadNamed), by email with the details a new lead gets (FirstName, LastName, Phone
 * and Mobile are not read when RelatedProspectId is given), else MXMandatoryAttributeMissingException,
 * before any activity property is read.
 */
function leadRefOf(read: L.Reader<typeof createShape>): LeadRef {
  const named = leadNamed(read);
  if (!named) throw mx.mandatoryMissing("'RelatedProspectId' or 'EmailAddress' is mandatory for posting an activity");
  if (named.by === 'id') return named;
  return { ...named, firstName: read('FirstName'), lastName: read('LastName'), phone: read('Phone'), mobile: read('Mobile') };
}

/**
 * Read in LeadSquared's order: ProcessFilesAsync, IncludeLeadScore, the lead (leadRefOf), then the
 * activity; the first refusal is the answer.
 */
export const activityCreateBody = L.ordered(createShape, 'request body', (read) => {
  read('ProcessFilesAsync');
  const includeScore = read('IncludeLeadScore');
  const lead = leadRefOf(read);
  return { includeScore, lead, activity: activityOf(read) };
});

/** Only the lead a Create body names (leadNamed; the async accept orders requests by it). */
export const activityCreateLead = L.ordered(createShape, 'request body', leadNamed);

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

const leadDetails = L.fieldList('LeadDetails', "'LeadDetails' is mandatory").meta({ description: 'The lead, found by SearchBy or the default lookup, or created' });

/** Read in order: LeadDetails (mandatory), the Activity object, then ValidateDropDownOptions (which, when true, also skips the activity's dropdown checks). */
export const activityCreateCustomBody = L.object(
  {
    LeadDetails: leadDetails,
    Activity: L.ordered(activityFields, "'Activity'", activityOf),
    ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
  },
  'request body',
);

/** Only the lead of a CreateCustom body (the async accept orders requests by it). */
export const activityCreateCustomLead = L.object({ LeadDetails: leadDetails }, 'request body');

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

/**
 * A bulk post's rows, each `{ <lead>: …, ...activityFields }` read in that order into `{ lead, activity }`
 * (`lead` null when not given: that row fails alone). A row's structure error is a 400 for the whole call.
 */
const bulkRows = (lead: 'RelatedProspectId' | 'SearchByValue') => {
  const shape = { [lead]: L.text(lead), ...activityFields } as { [lead]: ReturnType<typeof L.text> } & typeof activityFields;
  const row = L.ordered(shape, 'row', (read): BulkRow => ({ lead: read(lead), activity: activityOf(read) }));
  return L.rows(row, BULK_MAX_ROWS, (n) => mx.invalidInput(`At most ${BULK_MAX_ROWS} activities can be posted in one call; got ${n}.`));
};

/** A bulk post's row as its handler gets it. */
export type BulkRow = { lead: string | null; activity: ActivityFields };

export const bulkActivityByLeadId = endpoint('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, {
  operationId: 'bulkActivityByLeadId',
  summary: `Posts up to ${BULK_MAX_ROWS} activities, each on the lead of its RelatedProspectId`,
  tag,
  bodyRequired: true,
  body: bulkRows('RelatedProspectId'),
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
  body: bulkRows('SearchByValue'),
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

/** A field definition as GetActivitySetting and GetActivityDetails answer it (wire/shapes.ts fieldDefToWire), every property named. */
const fieldDefProperties = {
  SchemaName: z.string().meta({ example: 'mx_Custom_1' }),
  InternalName: z.string(),
  DisplayName: z.string(),
  Value: z.string().meta({ description: "GetActivityDetails: the activity's value (\"\" when none); GetActivitySetting: \"\"" }),
  DataType: z.string(),
  IsMandatory: z.boolean(),
  ShowInForm: z.boolean(),
  Sequence: z.number().int().meta({ description: 'From 1, in the order of the list' }),
  ParentField: z.string(),
  OptionSet: z.string().meta({ description: 'The options as a JSON list of {"Value","Text","IsDefault","Order"}, or "" for none' }),
  MaxFieldLength: z.number().int().nullable(),
  IsMultiSelectDropdown: z.boolean(),
};
const FieldDef = z
  .object({
    ...fieldDefProperties,
    Fields: z.array(z.object(fieldDefProperties)).optional().meta({ description: 'A CustomObject field set: its fields (one level)' }),
  })
  .meta({ id: 'ActivityFieldDefinition' });
/** A setting CreateType or CustomActivityType/Update stored, answered as it was sent. */
const TypeSetting = z.union([z.boolean(), z.string(), z.number(), z.null()]).optional();
/**
 * An option set as optionsOf (schemas/activity-type.ts) reads it: a list of options (each a scalar
 * or a `{Value}` / `{Text}` object), that list as JSON text, or comma-separated values. It was
 * untyped, so a generated client typed it `unknown` and `{}` or `true` passed a document check
 * yet got 400 (found by a fresh-eyes run).
 */
const OPTION_SCALAR = { type: ['string', 'number', 'boolean', 'null'] };
const OPTION_SET_DOC = {
  type: ['array', 'string', 'null'],
  items: { anyOf: [OPTION_SCALAR, { type: 'object', properties: { Value: OPTION_SCALAR, Text: OPTION_SCALAR } }] },
  description: 'A list of options, that list as JSON, or comma-separated values',
};
/** A field definition's properties as fieldDefs (schemas/activity-type.ts) reads them, at either level. */
const FIELD_DEF_IN = {
  SchemaName: { type: 'string' },
  DisplayName: { type: 'string' },
  DataType: { type: 'string' },
  IsMandatory: L.FLAG_DOC,
  MaxLength: L.wholeDoc({ min: 0, max: INT32.max }, 'spaces'),
  // What GetActivitySetting answers it as, so that a definition read there can be sent back.
  MaxFieldLength: { ...L.wholeDoc({ min: 0, max: INT32.max }, 'spaces'), description: 'MaxLength as GetActivitySetting names it (MaxLength wins when both are given)' },
  OptionSet: OPTION_SET_DOC,
  Options: { ...OPTION_SET_DOC, description: 'OptionSet under another name (OptionSet wins when both are given)' },
};
// The nested definitions name their properties: an object schema with none is `Record<string, never>`
// to openapi-typescript 6, and the client then took only `{}` there.
const FieldDefIn = L.anyJson({
  type: ['array', 'null'],
  items: {
    type: 'object',
    properties: {
      ...FIELD_DEF_IN,
      Fields: {
        type: 'array',
        items: { type: 'object', properties: { ...FIELD_DEF_IN, Fields: { type: 'null', description: 'Not nested further: null or absent' } } },
        description: 'A CustomObject field set: its fields (one level)',
      },
    },
  },
}).optional();

/** An Int32 property (int32Value: any scalar, blank is absent), documented with `range`, what the endpoint then takes. */
const int32 = (name: string, range: { min: number; max: number } = INT32) => L.rule(L.anyJson(L.wholeDoc(range, 'spaces')).optional(), (v) => int32Value(v, name));
/** A type's direction: read as an Int32, then only 0 (inbound) or 1 (outbound) is taken (domain/activity-types.ts). */
const DIRECTION = { min: 0, max: 1 };
const setting = (name: string) => L.rule(L.anyJson({ type: ['boolean', 'string', 'integer', 'null'] }).optional(), (v) => settingValue(v, name));

export const activityTypeCreate = endpoint('POST', `${PA}/CreateType`, {
  operationId: 'activityTypeCreate',
  summary: 'Creates a custom activity type (its event code is the answer Id)',
  tag,
  bodyRequired: true,
  // In the order the checks are made: the name, the flags, a pinned code, then the rest.
  body: L.object(
    {
      ActivityEventName: L.rule(L.text('ActivityEventName', EVENT_NAME_DOC), (name) => {
        if (!name) throw mx.invalidInput('Invalid Input! Parameter Name: ActivityEventName');
        return name;
      }),
      TrackLocation: setting('TrackLocation'),
      AllowAttachments: setting('AllowAttachments'),
      ShowInActivityGrid: setting('ShowInActivityGrid'),
      CanDeleteActivity: setting('CanDeleteActivity'),
      ShowInForm: setting('ShowInForm'),
      ActivityEvent: int32('ActivityEvent', EVENT_CODE).meta({ description: 'Pin the event code (else the next free one from 201)' }),
      DisplayName: L.text('DisplayName'),
      Description: L.text('Description'),
      Score: int32('Score'),
      Direction: int32('Direction', DIRECTION).meta({ description: '0 inbound (the default), 1 outbound' }),
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
  query: z.object({
    code: L.documentedAs(L.requiredParam("'code' query parameter is mandatory"), { type: 'integer', minimum: EVENT_CODE.min, maximum: EVENT_CODE.max }).meta({ description: 'The event code' }),
  }),
  // Every property the handler answers (wire/shapes.ts activityTypeSettingToWire); the settings only once set.
  answer: z.object({
    ID: z.number().int(),
    Name: z.string(),
    DisplayName: z.string(),
    Description: z.string(),
    Score: z.number().int(),
    Direction: z.number().int().meta({ description: '0 inbound, 1 outbound' }),
    TrackLocation: TypeSetting,
    AllowAttachments: TypeSetting,
    ShowInActivityGrid: TypeSetting,
    CanDeleteActivity: TypeSetting,
    ShowInForm: TypeSetting,
    Fields: z.array(FieldDef),
  }),
  errors: [500],
});

export const RETRIEVE_PAGE_DEFAULT = 25;

/**
 * An activity as `Retrieve` lists it: activityToWire's object (src/wire/shapes.ts), every property it
 * gives (test/openapi/document.test.ts holds them equal to ACTIVITY_WIRE_PROPERTIES). Open to more, as
 * LeadSquared's own answers may carry more.
 */
export const ListedActivity = z
  .looseObject({
    Id: z.string(),
    EventCode: z.number(),
    EventName: z.string(),
    ActivityScore: z.number(),
    CreatedOn: z.string().meta({ description: 'The activity date, yyyy-MM-dd HH:mm:ss (UTC)' }),
    ActivityType: z.number().meta({ description: '1 for a system type, 2 for a custom one' }),
    Type: z.string().meta({ description: 'Inbound or Outbound' }),
    IsEmailType: z.boolean(),
    SessionId: z.null(),
    TrackLocation: z.number(),
    Latitude: z.null(),
    Longitude: z.null(),
    ActivityOwnerEmail: z.string().nullable(),
    Data: z.array(z.object({ Key: z.string(), Value: z.string().nullable() })).meta({ description: 'The note (ActivityEvent_Note) and each non-empty field, as Key/Value' }),
    ActivityFields: z.record(z.string(), z.string().nullable()).meta({ description: 'The same as Data, as an object: field name → value' }),
  })
  .meta({ id: 'ListedActivity' });

export const activityRetrieve = endpoint('POST', `${PA}/Retrieve`, {
  operationId: 'activityRetrieve',
  summary: "A lead's activities, newest first",
  tag,
  query: z.object({ leadId: L.requiredParam("'leadId' query parameter is mandatory", { trim: true }) }),
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
  answer: z.object({ RecordCount: z.number(), ProspectActivities: z.array(ListedActivity) }),
  errors: [500],
});

export const activityDetailsGet = endpoint('GET', `${PA}/GetActivityDetails`, {
  operationId: 'activityDetailsGet',
  summary: "An activity with its type's fields and their values",
  tag,
  query: z.object({ activityId: L.requiredParam("'activityId' query parameter is mandatory", { trim: true }) }),
  // Every property the handler answers (wire/shapes.ts activityDetailsToWire).
  answer: z.object({
    ID: z.string(),
    Name: z.string().meta({ description: "The type's name (its event code when the type is gone)" }),
    DisplayName: z.string(),
    ActivityEvent: z.number().int(),
    RelatedProspectId: z.string(),
    ActivityNote: z.string(),
    ActivityDateTime: z.string().meta({ description: 'yyyy-MM-dd HH:mm:ss (UTC)' }),
    CreatedOn: z.string().meta({ description: 'yyyy-MM-dd HH:mm:ss (UTC)' }),
    ActivityScore: z.number().int(),
    ActivityOwnerEmail: z.string().nullable(),
    Fields: z.array(FieldDef).meta({ description: "The type's fields with this activity's values, then any other field the activity holds" }),
  }),
  errors: [500],
});

export const ACTIVITY_PAGE_SIZE_MAX = 1000;
export const ACTIVITY_PAGE_SIZE_DEFAULT = 100;
/** Sorting.ColumnName values accepted (any case, trimmed); all sort by the activity date (activities are never modified). */
const SORT_COLUMN_NAMES = ['CreatedOn', 'ModifiedOn', 'ActivityDateTime'];
const SORT_COLUMNS = new Set(SORT_COLUMN_NAMES.map((c) => c.toLowerCase()));

/**
 * An activity as `RetrieveByActivityEvent` lists it (src/http/compat/activities-by-event.ts toWire):
 * its fixed properties, then each field it holds by name (mx_Custom_1, Owner, …) as a string or null.
 * Declared so that a generated client reads them without a cast (the list's items were an untyped
 * record, `{ [key: string]: unknown }` to openapi-typescript, found by a fresh-eyes run).
 */
const ActivityByEvent = z
  .object({
    ProspectActivityId: z.string(),
    RelatedProspectId: z.string(),
    ActivityEvent: z.number(),
    ActivityEvent_Note: z.string(),
    Status: z.string().nullable(),
    CreatedOn: z.string().meta({ description: 'The activity date, yyyy-MM-dd HH:mm:ss (UTC)' }),
    ModifiedOn: z.string().meta({ description: 'Its last CustomActivity/Update, else the activity date, yyyy-MM-dd HH:mm:ss (UTC)' }),
  })
  // Open (as ListedActivity), not catchall(string | null): a generated client's index signature
  // `[key: string]: string | null` would clash with ActivityEvent's number (TS2411).
  .catchall(z.unknown())
  .meta({ description: 'The fixed properties, then each field the activity holds by name (mx_Custom_1, Owner, …): a string (a custom field set as JSON text) or null' });

export const retrieveByActivityEvent = endpoint('POST', `${PA}/CustomActivity/RetrieveByActivityEvent`, {
  operationId: 'retrieveByActivityEvent',
  summary: 'Every activity of one type in the account, in an activity-date window, a page at a time',
  tag,
  body: L.optionalBody({
    Parameter: L.requiredObject(
      {
        ActivityEvent: L.rule(eventCode('ActivityEvent', 'refused'), (v) => {
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
        ColumnName: L.rule(L.anyJson({ type: ['string', 'null'], pattern: wordsPattern(SORT_COLUMN_NAMES, 'empty'), description: `${SORT_COLUMN_NAMES.join(', ')} (any case, spaces around ignored)` }).optional(), (v) => {
          const column = L.scalar(v, 'ColumnName');
          if (column && !SORT_COLUMNS.has(column.trim().toLowerCase())) {
            throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be CreatedOn, ModifiedOn or ActivityDateTime; got '${column.slice(0, 100)}'.`);
          }
          return column;
        }),
        Direction: L.sortDirection(),
      },
      "'Sorting'",
    ),
  }),
  answer: z.object({ RecordCount: z.number(), List: z.array(ActivityByEvent) }),
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
      ActivityEvent: eventCode('ActivityEvent', 'spaces'),
      ActivityNote: L.text('ActivityNote'),
      Fields: L.fieldList('Fields'),
      ValidateDropDownOptions: L.flag('ValidateDropDownOptions'),
    },
    'request body',
  ),
  answer: success(z.object({ Id: z.string() })),
  errors: [500],
});

const typeUpdateShape = {
  ID: eventCode('ID', 'empty').meta({ description: "The type's event code (ActivityEvent is read when ID is absent or \"\")" }),
  // Read only without ID, and then blank is MXMandatoryAttributeMissingException; with ID it is not read at all.
  ActivityEvent: eventCode('ActivityEvent', 'spaces'),
  ActivityEventName: L.text('ActivityEventName', EVENT_NAME_DOC),
  Description: L.text('Description'),
  Score: int32('Score'),
  EventDirection: int32('EventDirection', DIRECTION).meta({ description: '0 inbound, 1 outbound' }),
  Direction: int32('Direction', DIRECTION).meta({ description: 'Read when EventDirection is absent' }),
  Fields: L.rule(FieldDefIn, (v) => (v === undefined || v === null ? undefined : fieldDefs(v, 'Fields'))).meta({ description: 'Definitions to add or replace (by SchemaName); the others stay' }),
  TrackLocation: setting('TrackLocation'),
  AllowAttachments: setting('AllowAttachments'),
  ShowInActivityGrid: setting('ShowInActivityGrid'),
  CanDeleteActivity: setting('CanDeleteActivity'),
  ShowInForm: setting('ShowInForm'),
};

export const customActivityTypeUpdate = endpoint('POST', `${PA}/CustomActivityType/Update`, {
  operationId: 'customActivityTypeUpdate',
  summary: "Changes an activity type's name, score, direction, settings and fields",
  tag,
  bodyRequired: true,
  // Read in this order: the flags, ID, the name, the description, the direction (EventDirection when
  // sent, else Direction), ActivityEvent when ID is absent, Score, then Fields.
  body: L.ordered(typeUpdateShape, 'request body', (read, has): ActivityTypeChange => {
    const settings: Record<string, unknown> = {};
    for (const k of TYPE_SETTINGS) {
      const v = read(k);
      if (v !== undefined) settings[k] = v;
    }
    const id = read('ID');
    const name = read('ActivityEventName');
    const description = read('Description');
    const direction = has('EventDirection') ? read('EventDirection') : read('Direction');
    const code = id === undefined || id === null || id === '' ? read('ActivityEvent') : id;
    const score = read('Score');
    const fields = read('Fields');
    return {
      code,
      ...(name !== null ? { name } : {}),
      ...(description !== null ? { description } : {}),
      ...(direction !== undefined ? { direction } : {}),
      score,
      ...(fields !== undefined ? { fields } : {}),
      settings,
    };
  }),
  answer: z.object({ Status: z.literal('Success') }),
  errors: [500],
});

/** Most activities one Bulk/CustomActivity/Update call takes (LeadSquared's documented limit). */
export const ACTIVITY_UPDATE_BULK_MAX = 25;

const bulkUpdateRow = L.object(
  {
    ProspectActivityId: L.text('ProspectActivityId').meta({ description: 'The activity (a row without it fails alone)' }),
    ProcessFilesAsync: L.flag('ProcessFilesAsync'),
    ActivityEvent: eventCode('ActivityEvent', 'spaces'),
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
  body: L.rows(
    bulkUpdateRow,
    ACTIVITY_UPDATE_BULK_MAX,
    (n) => mx.invalidInput(`Invalid Input! At most ${ACTIVITY_UPDATE_BULK_MAX} activities can be updated in one call; got ${n}.`),
    true,
  ),
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
        ActivityEvent: eventCode('ActivityEvent', 'empty').meta({ description: 'Only activities of this event code' }),
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
        ColumnName: L.rule(L.anyJson({ type: ['string', 'null'], pattern: wordsPattern(['ModifiedOn', 'CreatedOn', 'ActivityDateTime'], 'spaces'), description: 'ModifiedOn (the default); CreatedOn and ActivityDateTime sort by the activity date (any case, spaces around ignored)' }).optional(), (v) => {
          const c = L.scalar(v, 'ColumnName')?.trim().toLowerCase() ?? '';
          if (c === '' || c === 'modifiedon') return 'modifiedOn' as const;
          if (c === 'createdon' || c === 'activitydatetime') return 'occurredAt' as const;
          throw mx.invalidInput(`Invalid Input! 'Sorting.ColumnName' must be ModifiedOn, CreatedOn or ActivityDateTime; got '${c.slice(0, 100)}'.`);
        }),
        Direction: L.sortDirection(),
      },
      "'Sorting'",
    ),
  }),
  answer: z.object({
    RecordCount: z.number(),
    ProspectActivities: z.array(
      ListedActivity.extend({ RelatedProspectId: z.string(), ModifiedOn: z.string() }),
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
