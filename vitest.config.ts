/**
 * Two projects run the same suite: `sqlite` (the default store) and `postgres` (every test server on
 * a fresh PostgreSQL schema, via LEADTRAIL_TEST_STORE). Tests that are about one engine only are
 * left out of the other project. Under CI=true an unreachable PostgreSQL fails the run; locally the
 * postgres project is left out with a loud message.
 */
import pg from 'pg';
import { configDefaults, defineConfig } from 'vitest/config';

const PG_URL = process.env.LEADTRAIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const IN_CI = /^(1|true)$/i.test(process.env.CI ?? '');

/** Inherently single-engine files: SQLite's crash/restart semantics, CLI runs on a SQLite file. */
const SQLITE_ONLY = ['test/contract/sqlite.test.ts', 'test/contract/sqlite-thread.test.ts', 'test/http/sqlite-writer-thread.test.ts', 'test/async/crash.test.ts', 'test/cli/**', 'test/storage/wal-sync.test.ts', 'test/storage/read-turns.test.ts'];
const POSTGRES_ONLY = ['test/contract/postgres.test.ts', 'test/scale/**', 'test/storage/pg-prepared.test.ts', 'test/storage/pg-write-batches.test.ts'];

async function pgReachable(): Promise<boolean> {
  if (IN_CI) return true; // the tests themselves fail loudly if it is not there
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (e) {
    process.stderr.write(`\n!!!!! PostgreSQL unreachable (${(e as Error).message}): SKIPPING the postgres test project. CI=true would fail. !!!!!\n\n`);
    return false;
  }
}

export default defineConfig(async () => {
  const withPg = await pgReachable();
  return {
    test: {
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      fileParallelism: true,
      projects: [
        {
          extends: true,
          test: {
            name: 'sqlite',
            include: ['test/**/*.test.ts'],
            exclude: [...configDefaults.exclude, ...POSTGRES_ONLY],
            env: { LEADTRAIL_TEST_STORE: 'sqlite' },
          },
        },
        ...(withPg
          ? [
              {
                extends: true,
                test: {
                  name: 'postgres',
                  include: ['test/**/*.test.ts'],
                  exclude: [...configDefaults.exclude, ...SQLITE_ONLY],
                  env: { LEADTRAIL_TEST_STORE: 'postgres' },
                  setupFiles: ['test/helpers/pg-cleanup.ts'],
                },
              },
            ]
          : []),
      ],
    },
  };
});
