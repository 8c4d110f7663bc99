/**
 * Which better-sqlite3 this Node gets. Two majors are installed side by side:
 * - 12 (`better-sqlite3`), built from source at install, for Node 20, which 13 does not support;
 * - 13 (`better-sqlite3-napi`, an npm alias), a Node-API build shipped prebuilt, for Node 22 and up.
 *   On Node 24, 12's statement finalizer aborts the process during garbage collection
 *   ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook); 13 no longer uses the
 *   ObjectWrap that does it. Their JavaScript APIs are the same.
 * Everything that opens a SQLite file (the store, tests, benchmarks) goes through here.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);

export type SqliteDatabase = BetterSqlite3.Database;
export type SqliteStatement = BetterSqlite3.Statement;
export type SqliteDriver = typeof BetterSqlite3;

export const SQLITE_PACKAGE = Number(process.versions.node.split('.')[0]) >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';

let driver: SqliteDriver | null = null;

export function sqliteDriver(): SqliteDriver {
  driver ??= require(SQLITE_PACKAGE) as SqliteDriver;
  return driver;
}

/** Where the driver's package is, for a worker thread that opens the same file (checkpointer.ts). */
export function sqliteDriverPath(): string {
  return require.resolve(SQLITE_PACKAGE);
}
