/** Domain records, in our own words. LeadSquared's spelling lives in src/http/compat/ only. */

/** A field value: text, empty, or a custom field set (nested attribute → text). */
export type FieldValue = string | null | { [attribute: string]: string | null };
export type FieldMap = Record<string, FieldValue>;

export interface Account {
  id: string;
  name: string;
  createdAt: number;
}

export interface User {
  id: string;
  accountId: string;
  email: string;
  firstName: string;
  lastName: string;
  role: string;
  createdAt: number;
}

export type CredentialKind = 'access' | 'api';

export interface Credential {
  id: string;
  accountId: string;
  userId: string | null;
  kind: CredentialKind;
  /** Access key (kind access) or sha256 of the api key (kind api); what requests are looked up by. */
  lookup: string;
  /** Shown in listings: the access key itself, or the first characters of the api key. */
  label: string;
  /** sha256 of the secret key (kind access); null for api keys. */
  secretHash: string | null;
  /** Per-key sync rate limit such as `100/5s`; null means the server default. */
  rateLimit: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface LeadFieldDef {
  schemaName: string;
  displayName: string;
  dataType: string;
  isUnique: boolean;
  isMandatory: boolean;
  maxLength: number | null;
  options: string[] | null;
  isSystem: boolean;
}

export interface Lead {
  id: string;
  accountId: string;
  autoId: number;
  fields: FieldMap;
  score: number;
  engagementScore: number;
  createdOn: number;
  modifiedOn: number;
  lastActivityId: string | null;
  lastActivityName: string | null;
  lastActivityOn: number | null;
}

export interface ActivityFieldDef {
  schemaName: string;
  displayName: string;
  /** String, Text, Number, Decimal, Date, DateTime, Time, Dropdown, SearchableDropdown, Boolean, Email, Phone, Website, CustomObject. */
  dataType: string;
  isMandatory: boolean;
  maxLength: number | null;
  options: string[] | null;
  /** For a custom field set (dataType CustomObject): its nested fields. */
  fields: ActivityFieldDef[] | null;
}

export interface ActivityType {
  accountId: string;
  code: number;
  name: string;
  displayName: string;
  description: string;
  score: number;
  /** 0 inbound, 1 outbound. */
  direction: number;
  isSystem: boolean;
  fields: ActivityFieldDef[];
  /** Flags LeadSquared keeps per type (TrackLocation, AllowAttachments, …), echoed back. */
  settings: Record<string, unknown>;
  createdOn: number;
}

export interface Activity {
  id: string;
  accountId: string;
  leadId: string;
  seq: number;
  eventCode: number;
  note: string;
  occurredAt: number;
  ownerEmail: string | null;
  fields: FieldMap;
  score: number;
  createdOn: number;
  /** The async request that created it, if any: at most one activity per request. */
  requestId: string | null;
  /** When it was last updated (CustomActivity/Update); null or absent until then. */
  modifiedOn?: number | null;
}

/**
 * An activity as a lead's timeline lists it (`ActivityRepo.listForLead`: `Retrieve`, the console's
 * lead page): without its account, lead, creation and change times, which those never show (the
 * caller named the lead; `Retrieve`'s CreatedOn is the activity's date). Four columns fewer a row
 * take about a quarter off SQLite's part of a page of 25 (docs/performance.md, thirty-second
 * session).
 */
export type ListedActivity = Omit<Activity, 'accountId' | 'leadId' | 'createdOn' | 'modifiedOn'>;

export type RequestKind = 'activity.create' | 'activity.createcustom' | 'lead.capture' | 'lead.update';
export type RequestStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'errored';

export interface AsyncRequest {
  id: string;
  accountId: string;
  seq: number;
  kind: RequestKind;
  /** The body exactly as received. */
  body: string;
  /** Query parameters that change the operation (e.g. LeadUpdateBehavior), lower-cased names. */
  params: Record<string, string>;
  /** Requests with the same key are applied in the order they were accepted. */
  orderKey: string;
  status: RequestStatus;
  statusReason: string | null;
  /** The sync API's response, serialized; set on success only. */
  message: string | null;
  /** System-error attempts so far. */
  attempts: number;
  /** Not processed before this time (retry back-off). */
  runAt: number;
  /** Worker that holds the request while running. */
  lockedBy: string | null;
  /** When that worker's lease runs out and another may take the request. */
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  finishedAt: number | null;
  /** The user whose keys submitted the request; the worker acts as them. */
  userId: string | null;
}
