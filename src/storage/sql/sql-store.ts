import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { Repos, Store } from '../store.js';
import { accountRepo } from './accounts.js';
import { activityRepo, activityTypeRepo } from './activities.js';
import { leadFieldRepo, leadRepo } from './leads.js';
import { requestRepo } from './requests.js';
import type { DB, Db, Engine } from './schema.js';

export function reposFor(db: Db, engine: Engine): Repos {
  return {
    accounts: accountRepo(db),
    leads: leadRepo(db),
    leadFields: leadFieldRepo(db),
    activityTypes: activityTypeRepo(db),
    activities: activityRepo(db),
    requests: requestRepo(db, engine),
  };
}

export class SchemaTooNewError extends Error {}

/**
 * Applies the numbered migrations. Kysely's migrator takes a lock (a row lock on PostgreSQL) so
 * that processes starting together apply each migration once. A database that has migrations this
 * code does not know was written by a newer leadtrail: refuse it rather than guess.
 */
export async function migrateDb(db: Kysely<DB>, migrations: Record<string, Migration>, schema?: string): Promise<void> {
  // On PostgreSQL the bookkeeping tables' schema must be named: Kysely looks for them across every
  // schema of the database, and would otherwise mistake another deployment's for ours.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: schema });
  const known = Object.keys(migrations).sort();
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const msg = error instanceof Error ? error.message : String(error);
    if (/missing|corrupted/i.test(msg)) {
      throw new SchemaTooNewError(
        `The database schema is newer than this leadtrail (it has migrations this version does not know; this version knows ${known.join(', ')}). Upgrade leadtrail or point it at another database.`,
      );
    }
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${msg}`);
  }
}

export function sqlStore(db: Kysely<DB>, engine: Engine, migrations: Record<string, Migration>, schema?: string): Store {
  return {
    engine,
    ...reposFor(db, engine),
    transaction: (fn) => db.transaction().execute((trx) => fn(reposFor(trx, engine))),
    exclusive: (fn) =>
      db.transaction().execute(async (trx) => {
        if (engine === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(STARTUP_LOCK)})`.execute(trx);
        return fn(reposFor(trx, engine));
      }),
    migrate: () => migrateDb(db, migrations, schema),
    close: () => db.destroy(),
  };
}

/** Arbitrary constant naming leadtrail's start-up lock (distinct from Kysely's migration lock). */
const STARTUP_LOCK = 7_240_118_305;

/** Migrates a freshly opened store, closing it if that fails, so no half-open store leaks out. */
export async function migrated(store: Store): Promise<Store> {
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
