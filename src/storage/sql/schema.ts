/**
 * Table shapes shared by both SQL adapters. The schema is portable on purpose: times are epoch
 * milliseconds in BIGINT columns, JSON is TEXT, booleans are 0/1 integers, so one set of queries
 * serves SQLite and PostgreSQL alike.
 */
import type { Generated, Kysely, Transaction } from 'kysely';
import type { FaultRulesTable } from './fault-rules.js';

export interface AccountsTable {
  id: string;
  name: string;
  created_at: number;
  /** The last ProspectAutoId given to a lead of this account (migration 0003). */
  last_lead_auto_id: Generated<number>;
  /** Version of the rule the account's lead keys were written by (migration 0003). */
  lead_keys_version: Generated<number>;
}

export interface UsersTable {
  id: string;
  account_id: string;
  email: string;
  first_name: string;
  last_name: string;
  role: string;
  created_at: number;
}

export interface CredentialsTable {
  id: string;
  account_id: string;
  user_id: string | null;
  kind: string;
  lookup: string;
  label: string;
  secret_hash: string | null;
  rate_limit: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface LeadFieldsTable {
  account_id: string;
  schema_name: string;
  display_name: string;
  data_type: string;
  is_unique: number;
  is_mandatory: number;
  max_length: number | null;
  options: string | null;
  is_system: number;
}

export interface LeadsTable {
  seq: Generated<number>;
  /** ProspectAutoId: numbers the leads of one account from 1 (migration 0003). */
  auto_id: number;
  /** How many activities the lead has (migration 0005; kept by addScore, which every activity post calls once). */
  activity_count: Generated<number>;
  id: string;
  account_id: string;
  fields: string;
  score: number;
  engagement_score: number;
  created_on: number;
  modified_on: number;
  last_activity_id: string | null;
  last_activity_name: string | null;
  last_activity_on: number | null;
}

/** A leads row as read back (numbers as numbers). */
export type LeadRow = Omit<LeadsTable, 'seq' | 'activity_count'> & { seq: number; activity_count?: number };

export interface LeadKeysTable {
  account_id: string;
  lead_id: string;
  field: string;
  value: string;
  is_unique: number;
}

/** Every text field value of every lead, indexed for search (migration 0004; see lead-search.ts). */
export interface LeadValuesTable {
  account_id: string;
  lead_id: string;
  field: string;
  /** Trimmed, lower-cased, at most 200 characters (a longer value is cut and marked). */
  value: string;
  /** The value as a number, when it reads as one. */
  num: number | null;
}

export interface ActivityTypesTable {
  account_id: string;
  code: number;
  name: string;
  display_name: string;
  description: string;
  score: number;
  direction: number;
  is_system: number;
  fields: string;
  settings: string;
  created_on: number;
}

export interface ActivitiesTable {
  seq: Generated<number>;
  id: string;
  account_id: string;
  lead_id: string;
  event_code: number;
  note: string;
  occurred_at: number;
  owner_email: string | null;
  fields: string;
  score: number;
  created_on: number;
  request_id: string | null;
  /** When CustomActivity/Update last changed it; null until then (migration 0009). */
  modified_on: number | null;
}

export interface AsyncRequestsTable {
  seq: Generated<number>;
  id: string;
  account_id: string;
  kind: string;
  body: string;
  params: string;
  order_key: string;
  status: string;
  status_reason: string | null;
  message: string | null;
  attempts: number;
  run_at: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
  /** The user whose keys submitted the request; the worker acts as them (migration 0003). */
  user_id: string | null;
}

/** The request journal: one row per API call (migration 0007; see journal.ts). */
export interface JournalTable {
  seq: Generated<number>;
  id: string;
  account_id: string;
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  latency_ms: number;
  request_body: string | null;
  request_size: number | null;
  response_body: string | null;
  response_size: number | null;
  lead_id: string | null;
  activity_id: string | null;
  request_id: string | null;
}

/** A webhook (migration 0006): where and how one account's events of one code are posted. */
export interface WebhooksTable {
  id: string;
  account_id: string;
  description: string;
  url: string;
  method: string;
  content_type: string;
  event_code: number;
  custom_headers: string;
  notify_on_failure: number;
  delay_seconds: number;
  secret: string | null;
  status: number;
  consecutive_failures: number;
  /** Moved on by every counted failure and every success that ends a row (migration 0014; see WebhookRepo.finishAttempt). */
  failure_epoch?: number;
  /** While failing, no probe is claimed before this time (ms; migration 0014; see WebhookRepo.claim); null when none is set. */
  next_probe_at?: number | null;
  created_on: number;
  modified_on: number;
}

/** The webhook outbox (migration 0006): one row per event and webhook, written with the change. */
export interface WebhookEventsTable {
  seq: Generated<number>;
  id: string;
  account_id: string;
  webhook_id: string;
  order_key: string;
  event_code: number;
  snapshot: string;
  status: string;
  attempts: number;
  due_at: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

/** One delivery attempt of an outbox event (migration 0006). */
export interface WebhookDeliveriesTable {
  seq: Generated<number>;
  id: string;
  account_id: string;
  webhook_id: string;
  event_seq: number;
  event_id: string;
  event_code: number;
  attempt: number;
  at: number;
  url: string;
  status_code: number | null;
  latency_ms: number;
  response: string | null;
  error: string | null;
  outcome: string;
}

export interface ConsoleSignOutsTable {
  session_id: string;
  account_id: string;
  expires_at: number;
}

export interface DB {
  accounts: AccountsTable;
  users: UsersTable;
  credentials: CredentialsTable;
  lead_fields: LeadFieldsTable;
  leads: LeadsTable;
  lead_keys: LeadKeysTable;
  lead_values: LeadValuesTable;
  activity_types: ActivityTypesTable;
  activities: ActivitiesTable;
  async_requests: AsyncRequestsTable;
  journal: JournalTable;
  fault_rules: FaultRulesTable;
  console_sign_outs: ConsoleSignOutsTable;
  webhooks: WebhooksTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type Db = Kysely<DB> | Transaction<DB>;
export type Engine = 'sqlite' | 'postgres';

/** True when `e` is a unique-constraint violation from either driver. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export const json = {
  write: (v: unknown): string => JSON.stringify(v),
  read: <T>(s: string | null, fallback: T): T => (s === null || s === '' ? fallback : (JSON.parse(s) as T)),
};
