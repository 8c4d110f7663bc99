/**
 * Every spelling of a flag the server reads, against each flag input of the client's types. Compiled
 * by tsc in input-types.test.ts (and by `npm run typecheck`): an input that refuses a spelling fails
 * to compile, the error naming the input and the spellings it refuses.
 */
import type { Args, operations } from '../../src/client/index.js';
import type { OPERATIONS } from '../../src/client/operations.js';

/**
 * A flag as src/schemas/lsq.ts flagValue reads it: the first five are true, the next six false, and
 * null is as absent (false on a create; Webhook.svc/Update leaves the flag as it was).
 */
export const FLAG_SPELLINGS = [true, 'true', 'True', 1, '1', false, 'false', 'False', 0, '0', '', null] as const;
type Spelling = (typeof FLAG_SPELLINGS)[number];

type Body<K extends keyof typeof OPERATIONS & keyof operations> = NonNullable<Args<K>['body']>;
type Item<T> = T extends readonly (infer I)[] ? I : never;

/** Each flag input of the client (the document's every property with a flag's spellings). */
type FlagInputs = {
  'Webhook.svc/Create NotifyOnFailure': Body<'webhookCreate'>['NotifyOnFailure'];
  'Webhook.svc/Update NotifyOnFailure': Body<'webhookUpdate'>['NotifyOnFailure'];
  'ProspectActivity.svc/Create ValidateDropDownOptions': Body<'activityCreate'>['ValidateDropDownOptions'];
  'ProspectActivity.svc/Create IncludeLeadScore': Body<'activityCreate'>['IncludeLeadScore'];
  'ProspectActivity.svc/Create ProcessFilesAsync': Body<'activityCreate'>['ProcessFilesAsync'];
  'ProspectActivity.svc/CreateCustom ValidateDropDownOptions': Body<'activityCreateCustom'>['ValidateDropDownOptions'];
  'ProspectActivity.svc/CreateCustom Activity.ValidateDropDownOptions': NonNullable<Body<'activityCreateCustom'>['Activity']>['ValidateDropDownOptions'];
  'Bulk/CustomActivity/Add/ByLeadId ValidateDropDownOptions': Item<Body<'bulkActivityByLeadId'>>['ValidateDropDownOptions'];
  'Bulk/CustomActivity/Add/ByLeadField ValidateDropDownOptions': Item<Body<'bulkActivityByLeadField'>>['ValidateDropDownOptions'];
  'CreateType Fields[].IsMandatory': Item<NonNullable<Body<'activityTypeCreate'>['Fields']>>['IsMandatory'];
  'CreateType Fields[].Fields[].IsMandatory': Item<NonNullable<Item<NonNullable<Body<'activityTypeCreate'>['Fields']>>['Fields']>>['IsMandatory'];
  'CustomActivity/Update ValidateDropDownOptions': Body<'customActivityUpdate'>['ValidateDropDownOptions'];
  'CustomActivity/Update ProcessFilesAsync': Body<'customActivityUpdate'>['ProcessFilesAsync'];
  'CustomActivityType/Update Fields[].IsMandatory': Item<NonNullable<Body<'customActivityTypeUpdate'>['Fields']>>['IsMandatory'];
  'Bulk/CustomActivity/Update ValidateDropDownOptions': Item<Body<'bulkActivityUpdate'>>['ValidateDropDownOptions'];
  'Bulk/CustomActivity/Update ProcessFilesAsync': Item<Body<'bulkActivityUpdate'>>['ProcessFilesAsync'];
  'RetrieveRecentlyModified Parameter.IncludeCustomFields': NonNullable<Body<'activitiesRecentlyModified'>['Parameter']>['IncludeCustomFields'];
  '/activity/create ValidateDropDownOptions': Body<'asyncActivityCreate'>['ValidateDropDownOptions'];
  '/activity/create IncludeLeadScore': Body<'asyncActivityCreate'>['IncludeLeadScore'];
  '/activity/create ProcessFilesAsync': Body<'asyncActivityCreate'>['ProcessFilesAsync'];
  '/activity/createcustom ValidateDropDownOptions': Body<'asyncActivityCreateCustom'>['ValidateDropDownOptions'];
  '/activity/createcustom Activity.ValidateDropDownOptions': NonNullable<Body<'asyncActivityCreateCustom'>['Activity']>['ValidateDropDownOptions'];
};

/** A spelling as the compiler's message shows it: `refuses 0`, `refuses null`, `refuses ""`. */
type Shown<S> = S extends string ? `refuses "${S}"` : S extends number | boolean | null ? `refuses ${S}` : never;
/** `'none'` when input T takes every spelling; else the spellings it refuses (then `'none'` does not compile, and tsc names them). */
type Refused<T> = [Exclude<Spelling, T>] extends [never] ? 'none' : Shown<Exclude<Spelling, T>>;

export const REFUSED_SPELLINGS: { [K in keyof FlagInputs]: Refused<FlagInputs[K]> } = {
  'Webhook.svc/Create NotifyOnFailure': 'none',
  'Webhook.svc/Update NotifyOnFailure': 'none',
  'ProspectActivity.svc/Create ValidateDropDownOptions': 'none',
  'ProspectActivity.svc/Create IncludeLeadScore': 'none',
  'ProspectActivity.svc/Create ProcessFilesAsync': 'none',
  'ProspectActivity.svc/CreateCustom ValidateDropDownOptions': 'none',
  'ProspectActivity.svc/CreateCustom Activity.ValidateDropDownOptions': 'none',
  'Bulk/CustomActivity/Add/ByLeadId ValidateDropDownOptions': 'none',
  'Bulk/CustomActivity/Add/ByLeadField ValidateDropDownOptions': 'none',
  'CreateType Fields[].IsMandatory': 'none',
  'CreateType Fields[].Fields[].IsMandatory': 'none',
  'CustomActivity/Update ValidateDropDownOptions': 'none',
  'CustomActivity/Update ProcessFilesAsync': 'none',
  'CustomActivityType/Update Fields[].IsMandatory': 'none',
  'Bulk/CustomActivity/Update ValidateDropDownOptions': 'none',
  'Bulk/CustomActivity/Update ProcessFilesAsync': 'none',
  'RetrieveRecentlyModified Parameter.IncludeCustomFields': 'none',
  '/activity/create ValidateDropDownOptions': 'none',
  '/activity/create IncludeLeadScore': 'none',
  '/activity/create ProcessFilesAsync': 'none',
  '/activity/createcustom ValidateDropDownOptions': 'none',
  '/activity/createcustom Activity.ValidateDropDownOptions': 'none',
};
