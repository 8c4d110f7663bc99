import { sql } from 'kysely';
import type { Account, Credential, CredentialKind, User } from '../../domain/types.js';
import { UniqueViolation, type AccountRepo } from '../store.js';
import { precompiled } from './compiled.js';
import { isUniqueViolation, type CredentialsTable, type Db, type Engine } from './schema.js';

/** An account, and one of its users (UserByAccessKey.Get reads both on every call). */
const accountById = precompiled((db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id));
const userById = precompiled((db, accountId: string, id: string) => db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('id', '=', id));
/** Every authenticated request looks its key up: built and compiled once. */
const credentialByLookup = precompiled((db, kind: string, lookup: string) =>
  db.selectFrom('credentials').selectAll().where('kind', '=', kind).where('lookup', '=', lookup).where('revoked_at', 'is', null),
);

const toCredential = (r: CredentialsTable): Credential => ({
  id: r.id,
  accountId: r.account_id,
  userId: r.user_id,
  kind: r.kind as CredentialKind,
  lookup: r.lookup,
  label: r.label,
  secretHash: r.secret_hash,
  rateLimit: r.rate_limit,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/**
 * The PostgreSQL advisory lock (one bigint, from the schema's name) that write batches take shared
 * at their BEGIN (sql-store.ts) and a reset takes exclusive first (`holdWrites`): the reset then
 * waits for every write transaction in flight, in every process, including one that has so far only
 * read (a Create by email that found its lead), and transactions that begin meanwhile wait at their
 * BEGIN, before they read anything. By schema: deployments (and test runs) sharing a database do
 * not hold each other's writes.
 */
export const WRITES_LOCK_KEY = "hashtextextended('leadtrail.writes.' || current_schema(), 0)";

/** Taken by each PostgreSQL write batch right after BEGIN (WRITES_LOCK_KEY). */
export const WRITES_SHARED_LOCK_SQL = `select pg_advisory_xact_lock_shared(${WRITES_LOCK_KEY})`;

export function accountRepo(db: Db, engine: Engine): AccountRepo {
  return {
    async holdWrites() {
      if (engine === 'postgres') await sql.raw(`select pg_advisory_xact_lock(${WRITES_LOCK_KEY})`).execute(db);
    },
    async deleteData(accountId) {
      const count = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
      if (engine === 'postgres') {
        // Other connections write these tables meanwhile (API processes, workers). Row by row, a
        // DELETE does not see a row inserted by a transaction that commits while it runs, and waits
        // for the rows such a transaction holds: a worker's activity was left on a lead this reset
        // then deleted. Locked first, for the reset's transaction: the writes in flight commit before
        // the first DELETE, and the next wait for the reset (reads go on). SQLite has one writer.
        // (The write batches' transactions have ended already, holdWrites: this holds the writes
        // made outside them, such as the workers' claims.)
        await sql`LOCK TABLE leads, lead_keys, lead_values, activities, webhook_events, webhook_deliveries, async_requests IN SHARE ROW EXCLUSIVE MODE`.execute(db);
      }
      await db.deleteFrom('lead_values').where('account_id', '=', accountId).execute();
      await db.deleteFrom('lead_keys').where('account_id', '=', accountId).execute();
      const activities = count(await db.deleteFrom('activities').where('account_id', '=', accountId).executeTakeFirst());
      const requests = count(await db.deleteFrom('async_requests').where('account_id', '=', accountId).executeTakeFirst());
      const leads = count(await db.deleteFrom('leads').where('account_id', '=', accountId).executeTakeFirst());
      await db.updateTable('accounts').set({ last_lead_auto_id: 0 }).where('id', '=', accountId).execute();
      await db.deleteFrom('journal').where('account_id', '=', accountId).execute();
      return { leads, activities, requests };
    },
    async create(a: Account) {
      await db.insertInto('accounts').values({ id: a.id, name: a.name, created_at: a.createdAt }).execute();
    },
    async get(id) {
      const r = (await accountById(db, engine, id)).rows[0];
      return r ? { id: r.id, name: r.name, createdAt: Number(r.created_at) } : null;
    },
    async list() {
      const rows = await db.selectFrom('accounts').selectAll().orderBy('created_at').execute();
      return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at) }));
    },
    async count() {
      const r = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async createUser(u: User) {
      await db
        .insertInto('users')
        .values({ id: u.id, account_id: u.accountId, email: u.email, first_name: u.firstName, last_name: u.lastName, role: u.role, created_at: u.createdAt })
        .execute();
    },
    async getUser(accountId, userId) {
      const r = (await userById(db, engine, accountId, userId)).rows[0];
      return r ? toUser(r) : null;
    },
    async firstUser(accountId) {
      const r = await db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('created_at').executeTakeFirst();
      return r ? toUser(r) : null;
    },
    async createCredential(c: Credential) {
      // Revoked keys keep their row: a lookup any key ever had is taken for good.
      await db
        .insertInto('credentials')
        .values({
          id: c.id,
          account_id: c.accountId,
          user_id: c.userId,
          kind: c.kind,
          lookup: c.lookup,
          label: c.label,
          secret_hash: c.secretHash,
          rate_limit: c.rateLimit,
          created_at: c.createdAt,
          revoked_at: c.revokedAt,
        })
        .execute()
        .catch((e: unknown) => {
          if (isUniqueViolation(e)) throw new UniqueViolation(`${c.kind} key`);
          throw e;
        });
    },
    async findCredential(kind, lookup) {
      const [r] = (await credentialByLookup(db, engine, kind, lookup)).rows;
      return r ? toCredential(r) : null;
    },
    async lookupTaken(lookup) {
      return (await db.selectFrom('credentials').select('id').where('lookup', '=', lookup).limit(1).executeTakeFirst()) !== undefined;
    },
    async listCredentials(accountId) {
      const rows = await db.selectFrom('credentials').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
      return rows.map(toCredential);
    },
    async revokeCredential(accountId, idOrLabel, at) {
      const r = await db
        .updateTable('credentials')
        .set({ revoked_at: at })
        .where('account_id', '=', accountId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('id', '=', idOrLabel), eb('label', '=', idOrLabel), eb('lookup', '=', idOrLabel)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async endConsoleSession(accountId, sessionId, expiresAt, now) {
      await db.deleteFrom('console_sign_outs').where('expires_at', '<=', now).execute();
      await db.insertInto('console_sign_outs').values({ session_id: sessionId, account_id: accountId, expires_at: expiresAt }).onConflict((oc) => oc.column('session_id').doNothing()).execute();
    },
    async consoleSessionEnded(sessionId) {
      const r = await db.selectFrom('console_sign_outs').select('session_id').where('session_id', '=', sessionId).executeTakeFirst();
      return r !== undefined;
    },
    async setCredentialRateLimit(accountId, idOrLabel, rateLimit) {
      const r = await db
        .updateTable('credentials')
        .set({ rate_limit: rateLimit })
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('id', '=', idOrLabel), eb('label', '=', idOrLabel)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}

function toUser(r: { id: string; account_id: string; email: string; first_name: string; last_name: string; role: string; created_at: number }): User {
  return {
    id: r.id,
    accountId: r.account_id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    role: r.role,
    createdAt: Number(r.created_at),
  };
}
