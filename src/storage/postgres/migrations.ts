/**
 * PostgreSQL schema, numbered like ../sqlite/migrations.ts and describing the same tables. Rules:
 * never edit a migration that has shipped; add the next number to both engines. Times are epoch
 * milliseconds (BIGINT), JSON is TEXT, flags are 0/1 INTEGERs, so the shared queries in ../sql/
 * run unchanged. The partial unique indexes mirror SQLite's.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { backfillValues, defaultContactFlags } from '../sql/lead-search.js';
import type { DB } from '../sql/schema.js';

const run = (statements: string[]) => async (db: Kysely<unknown>) => {
  for (const s of statements) await sql.raw(s).execute(db);
};

export const postgresMigrations: Record<string, Migration> = {
  '0001_init': {
    up: run([
      `CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE TABLE users (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), email TEXT NOT NULL,
        first_name TEXT NOT NULL, last_name TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE TABLE credentials (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), user_id TEXT,
        kind TEXT NOT NULL, lookup TEXT NOT NULL, label TEXT NOT NULL, secret_hash TEXT, rate_limit TEXT,
        created_at BIGINT NOT NULL, revoked_at BIGINT)`,
      `CREATE UNIQUE INDEX credentials_lookup ON credentials(kind, lookup)`,
      `CREATE TABLE lead_fields (account_id TEXT NOT NULL, schema_name TEXT NOT NULL, display_name TEXT NOT NULL,
        data_type TEXT NOT NULL, is_unique INTEGER NOT NULL, is_mandatory INTEGER NOT NULL, max_length INTEGER,
        options TEXT, is_system INTEGER NOT NULL, PRIMARY KEY (account_id, schema_name))`,
      `CREATE TABLE leads (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
        fields TEXT NOT NULL, score BIGINT NOT NULL, engagement_score BIGINT NOT NULL, created_on BIGINT NOT NULL,
        modified_on BIGINT NOT NULL, last_activity_id TEXT, last_activity_name TEXT, last_activity_on BIGINT)`,
      `CREATE INDEX leads_account ON leads(account_id, seq)`,
      `CREATE TABLE lead_keys (account_id TEXT NOT NULL, lead_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
        is_unique INTEGER NOT NULL)`,
      `CREATE INDEX lead_keys_lookup ON lead_keys(account_id, field, value)`,
      `CREATE INDEX lead_keys_lead ON lead_keys(account_id, lead_id)`,
      `CREATE UNIQUE INDEX lead_keys_unique ON lead_keys(account_id, field, value) WHERE is_unique = 1`,
      `CREATE TABLE activity_types (account_id TEXT NOT NULL, code INTEGER NOT NULL, name TEXT NOT NULL,
        display_name TEXT NOT NULL, description TEXT NOT NULL, score BIGINT NOT NULL, direction INTEGER NOT NULL,
        is_system INTEGER NOT NULL, fields TEXT NOT NULL, settings TEXT NOT NULL, created_on BIGINT NOT NULL,
        PRIMARY KEY (account_id, code))`,
      `CREATE TABLE activities (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
        lead_id TEXT NOT NULL, event_code INTEGER NOT NULL, note TEXT NOT NULL, occurred_at BIGINT NOT NULL,
        owner_email TEXT, fields TEXT NOT NULL, score BIGINT NOT NULL, created_on BIGINT NOT NULL, request_id TEXT)`,
      `CREATE INDEX activities_lead ON activities(account_id, lead_id, occurred_at)`,
      `CREATE UNIQUE INDEX activities_request ON activities(request_id) WHERE request_id IS NOT NULL`,
      `CREATE TABLE async_requests (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
        kind TEXT NOT NULL, body TEXT NOT NULL, params TEXT NOT NULL, order_key TEXT NOT NULL, status TEXT NOT NULL,
        status_reason TEXT, message TEXT, attempts INTEGER NOT NULL, run_at BIGINT NOT NULL, locked_by TEXT,
        locked_until BIGINT, last_error TEXT, created_at BIGINT NOT NULL, finished_at BIGINT)`,
      `CREATE INDEX async_requests_due ON async_requests(status, run_at, seq)`,
      `CREATE INDEX async_requests_order ON async_requests(account_id, order_key, seq)`,
      `CREATE INDEX async_requests_kind ON async_requests(account_id, kind, status)`,
      `CREATE INDEX async_requests_finished ON async_requests(finished_at)`,
    ]),
  },
  // RetrieveByActivityEvent reads one event code of a whole account in a date window.
  '0002_activities_by_event': {
    up: run([`CREATE INDEX activities_event ON activities(account_id, event_code, occurred_at)`]),
  },
  // ProspectAutoId counts each account's leads from 1 (it was one counter for the whole database);
  // the account row holds the last number given. Phone keys follow a new rule (domain/phone.ts):
  // accounts that existed before are marked version 1 and re-keyed once at start; accounts made
  // from now on start at version 2. Async requests remember the user who submitted them.
  '0003_per_account_lead_numbers': {
    up: run([
      `ALTER TABLE accounts ADD COLUMN last_lead_auto_id BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE accounts ADD COLUMN lead_keys_version INTEGER NOT NULL DEFAULT 2`,
      `UPDATE accounts SET lead_keys_version = 1`,
      `ALTER TABLE leads ADD COLUMN auto_id BIGINT NOT NULL DEFAULT 0`,
      `UPDATE leads SET auto_id = r.n FROM (SELECT seq, row_number() OVER (PARTITION BY account_id ORDER BY seq) AS n FROM leads) AS r
        WHERE leads.seq = r.seq`,
      `UPDATE accounts SET last_lead_auto_id = (SELECT COALESCE(MAX(auto_id), 0) FROM leads WHERE leads.account_id = accounts.id)`,
      `CREATE UNIQUE INDEX leads_auto_id ON leads(account_id, auto_id)`,
      `ALTER TABLE async_requests ADD COLUMN user_id TEXT`,
    ]),
  },
  // Lead search (Leads.Get, Leads.RecentlyModified): every text field value of every lead in an
  // indexed table, written with the lead (../sql/lead-search.ts), and the leads already stored are
  // indexed here. Searches and windows on CreatedOn and ModifiedOn get their own indexes.
  '0004_lead_search': {
    up: async (db) => {
      await run([
        `CREATE TABLE lead_values (account_id TEXT NOT NULL, lead_id TEXT NOT NULL, field TEXT NOT NULL,
          value TEXT COLLATE "C" NOT NULL, num DOUBLE PRECISION)`,
        `CREATE UNIQUE INDEX lead_values_lead ON lead_values(account_id, lead_id, field)`,
        `CREATE INDEX lead_values_value ON lead_values(account_id, field, value)`,
        `CREATE INDEX lead_values_num ON lead_values(account_id, field, num)`,
        `CREATE INDEX leads_created ON leads(account_id, created_on)`,
        `CREATE INDEX leads_modified ON leads(account_id, modified_on)`,
      ])(db);
      await backfillValues(db as Kysely<DB>, 'postgres');
    },
  },
  // Retrieve answers RecordCount with every page: counting a lead's activities each time took 0.4 s
  // for a lead with a million of them. The lead row keeps the count (see leads.addScore).
  '0005_lead_activity_count': {
    up: run([
      `ALTER TABLE leads ADD COLUMN activity_count BIGINT NOT NULL DEFAULT 0`,
      `UPDATE leads SET activity_count = c.n FROM (SELECT account_id, lead_id, COUNT(*) AS n FROM activities GROUP BY account_id, lead_id) AS c
        WHERE leads.account_id = c.account_id AND leads.id = c.lead_id`,
    ]),
  },
  // Webhooks (issue 14): each account's webhooks; the outbox of events, one row per webhook an
  // event goes to, written in the transaction of the change that caused it; and every delivery attempt.
  '0006_webhooks': {
    up: run([
      `CREATE TABLE webhooks (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, description TEXT NOT NULL, url TEXT NOT NULL,
        method TEXT NOT NULL, content_type TEXT NOT NULL, event_code INTEGER NOT NULL, custom_headers TEXT NOT NULL,
        notify_on_failure INTEGER NOT NULL, delay_seconds INTEGER NOT NULL, secret TEXT, status INTEGER NOT NULL,
        consecutive_failures INTEGER NOT NULL, created_on BIGINT NOT NULL, modified_on BIGINT NOT NULL)`,
      `CREATE INDEX webhooks_account ON webhooks(account_id, status, event_code)`,
      `CREATE TABLE webhook_events (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, account_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
        order_key TEXT NOT NULL, event_code INTEGER NOT NULL, snapshot TEXT NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL, due_at BIGINT NOT NULL, locked_by TEXT, locked_until BIGINT, last_error TEXT,
        created_at BIGINT NOT NULL, finished_at BIGINT)`,
      `CREATE UNIQUE INDEX webhook_events_id ON webhook_events(webhook_id, id)`,
      `CREATE INDEX webhook_events_due ON webhook_events(status, due_at, seq)`,
      `CREATE INDEX webhook_events_order ON webhook_events(webhook_id, order_key, seq)`,
      `CREATE TABLE webhook_deliveries (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
        webhook_id TEXT NOT NULL, event_seq BIGINT NOT NULL, event_id TEXT NOT NULL, event_code INTEGER NOT NULL,
        attempt INTEGER NOT NULL, at BIGINT NOT NULL, url TEXT NOT NULL, status_code INTEGER, latency_ms DOUBLE PRECISION NOT NULL,
        response TEXT, error TEXT, outcome TEXT NOT NULL)`,
      `CREATE INDEX webhook_deliveries_account ON webhook_deliveries(account_id, seq)`,
      `CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_seq)`,
      `CREATE INDEX webhook_deliveries_at ON webhook_deliveries(at)`,
      `CREATE INDEX webhook_events_finished ON webhook_events(finished_at)`,
    ]),
  },
  // The request journal (issue 15): one row per API call of an account, read newest first by
  // (account_id, seq). No other index: each one costs every API call (an index on `at` and one on
  // lead_id made a journal row 2.5 times as dear to write); the age limit walks seq order instead
  // (journal.ts), and the lead filter reads the account's entries (a few thousand) by seq.
  '0007_journal': {
    up: run([
      `CREATE TABLE journal (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
        at BIGINT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL, status INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL, request_body TEXT, request_size BIGINT, response_body TEXT, response_size BIGINT,
        lead_id TEXT, activity_id TEXT, request_id TEXT)`,
      `CREATE INDEX journal_account ON journal(account_id, seq)`,
    ]),
  },
  // Forced-fault rules (the sandbox's /_leadtrail/faults) in the database instead of one process's
  // memory: every API and worker process on the database sees them, and a rule's remaining uses are
  // counted down by one conditional UPDATE, so "the next N calls" holds across processes.
  '0008_fault_rules': {
    up: run([
      `CREATE TABLE fault_rules (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, target TEXT NOT NULL, operation TEXT,
        path TEXT, body_match TEXT, status INTEGER, retry_after INTEGER, latency_ms INTEGER, drop_connection INTEGER NOT NULL,
        remaining INTEGER, percent DOUBLE PRECISION, message TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE INDEX fault_rules_account ON fault_rules(account_id, target, created_at)`,
    ]),
  },
  // The lead and activity surface: activities remember when they were last changed (CustomActivity/
  // Update; null until then), and ProspectActivity.svc/RetrieveRecentlyModified reads an account's
  // activities by that time (their creation until changed) through an index, optionally of one
  // event code. Leads.Get on Score and EngagementScore gets its indexes.
  '0009_lead_activity_surface': {
    up: run([
      `ALTER TABLE activities ADD COLUMN modified_on BIGINT`,
      `CREATE INDEX activities_modified ON activities(account_id, (COALESCE(modified_on, created_on)))`,
      `CREATE INDEX activities_event_modified ON activities(account_id, event_code, (COALESCE(modified_on, created_on)))`,
      `CREATE INDEX leads_score ON leads(account_id, score)`,
      `CREATE INDEX leads_engagement_score ON leads(account_id, engagement_score)`,
    ]),
  },
  // Reference data (keys, lead fields, activity types) is cached in each process (sql/ref-cache.ts).
  // Any change to it gives ref_version a new token in the same transaction; a process compares the
  // token before using its cache. From a sequence, which a rollback does not rewind: a rolled-back
  // change never leaves a token that a later, different change could take again.
  '0010_ref_version': {
    up: run([
      `CREATE SEQUENCE ref_version_seq`,
      `CREATE TABLE ref_version (id INTEGER PRIMARY KEY CHECK (id = 1), token BIGINT NOT NULL)`,
      `INSERT INTO ref_version (id, token) VALUES (1, nextval('ref_version_seq'))`,
      `CREATE FUNCTION lt_bump_ref_version() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN UPDATE ref_version SET token = nextval('ref_version_seq') WHERE id = 1; RETURN NULL; END $$`,
      `CREATE TRIGGER credentials_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON credentials FOR EACH STATEMENT EXECUTE FUNCTION lt_bump_ref_version()`,
      `CREATE TRIGGER lead_fields_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_fields FOR EACH STATEMENT EXECUTE FUNCTION lt_bump_ref_version()`,
      `CREATE TRIGGER activity_types_ref AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON activity_types FOR EACH STATEMENT EXECUTE FUNCTION lt_bump_ref_version()`,
    ]),
  },
  // Enabled webhooks are cached reference data too (see the SQLite migration of the same name).
  '0011_webhooks_ref_version': {
    up: run([
      `CREATE TRIGGER webhooks_ref AFTER INSERT OR DELETE OR TRUNCATE ON webhooks FOR EACH STATEMENT EXECUTE FUNCTION lt_bump_ref_version()`,
      `CREATE TRIGGER webhooks_update_ref AFTER UPDATE ON webhooks FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.event_code IS DISTINCT FROM NEW.event_code OR OLD.delay_seconds IS DISTINCT FROM NEW.delay_seconds
          OR OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.id IS DISTINCT FROM NEW.id)
        EXECUTE FUNCTION lt_bump_ref_version()`,
    ]),
  },
  // Leads without DoNotEmail/DoNotCall read them as "0" but a search for "0" missed them: store the
  // "0" (../sql/lead-search.ts, defaultContactFlags).
  '0012_lead_contact_flags': {
    up: async (db) => defaultContactFlags(db as Kysely<DB>, 'postgres'),
  },
  // Console sessions that were signed out before they expired (as in ../sqlite/migrations.ts).
  '0013_console_sign_outs': {
    up: run([`CREATE TABLE console_sign_outs (session_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, expires_at BIGINT NOT NULL)`]),
  },
  // Webhook failures in a row count attempts in sequence (../sql/webhooks.ts, finishAttempt): a
  // number that every counted failure and every success that ends a row moves on, which the claim
  // reads with the event, so that attempts already on their way then do not count again; the time
  // before which a failing webhook gets no probe (its pacing along the retry schedule); and the
  // index by which a failing webhook's claim finds its waiting event that has waited longest (its probe).
  '0014_webhook_failure_epoch': {
    up: run([
      `ALTER TABLE webhooks ADD COLUMN failure_epoch BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE webhooks ADD COLUMN next_probe_at BIGINT`,
      `CREATE INDEX webhook_events_webhook_pending ON webhook_events(webhook_id, status, due_at, seq)`,
    ]),
  },
  // The async claim asks whether any earlier request of the same order key is unfinished
  // (../sql/requests.ts, dueRequests): with the status in the index that is two seeks (queued,
  // running), however many finished requests the key has. It replaces the index by key and seq
  // alone, which only that question used.
  '0015_async_order_status': {
    // Without the pool's statement timeout (the migrations run in one transaction, ../sql/sql-store.ts):
    // finished requests are kept 30 days, and building the index over millions of them can take
    // longer than 15 s, which would fail the migration and stop the server from starting (a review).
    up: run([
      `SET LOCAL statement_timeout = 0`,
      `CREATE INDEX async_requests_order_status ON async_requests(account_id, order_key, status, seq)`,
      `DROP INDEX async_requests_order`,
    ]),
  },
};
