/**
 * One serving process per SQLite file (docs/deploy.md): the process that serves a file owns it, and
 * its start requeues every request and webhook delivery left `running` (interrupted by the last
 * stop), which would take them from under a second server on the same file and apply them twice.
 * The owner holds an exclusive lock on a small file beside the database, `<file>-lock`: a second
 * `leadtrail serve` finds it held and refuses to start, naming the file. The lock is SQLite's own
 * (an EXCLUSIVE transaction on that file, a POSIX advisory lock underneath), so the operating
 * system drops it when the owner exits, even by SIGKILL: no stale lock to clean up after a crash.
 * The CLI's other commands (keys, seed, reset, migrate) do not take it: they run beside a server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sqliteDriver } from './driver.js';
import { refuseForeignFile } from './own-file.js';
import { checkSqlitePath } from './path-check.js';

/** The database file is served by another process (or another server in this one). */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
}

/**
 * The lock file of a database file: `<file>-lock`, beside the file itself, its path's symbolic links
 * followed (a link to a served file had named a lock of its own, and a second server wrote to the
 * file; a fresh-eyes run). A hard link is another name of the file that no path shows: not caught.
 */
export const ownerLockFile = (file: string): string => `${realFile(file)}-lock`;

/** `file`'s absolute path with its symbolic links followed, as far as the file or its folder exist. */
function realFile(file: string): string {
  const abs = path.resolve(file);
  try {
    return fs.realpathSync(abs);
  } catch {
    // Not there yet (a first start): its folder may be.
  }
  try {
    return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs;
  }
}

/**
 * Takes `file`'s owner lock ⇒ `release()`, which is safe to call more than once. Throws
 * DatabaseInUseError at once (no waiting) when another connection holds it, UnusableDatabaseError
 * (store.ts) for a path that cannot hold a database or holding another program's. `:memory:` needs none.
 */
export function takeOwnerLock(file: string): { release(): void } {
  if (file === ':memory:') return { release() {} };
  // A path that cannot hold a database, and another program's database, are refused before a lock
  // file is made beside them.
  checkSqlitePath(file);
  refuseForeignFile(file);
  const lockFile = ownerLockFile(file);
  // Before the store opens, which makes the folder too (a first start on ./data/leadtrail.db).
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const Database = sqliteDriver();
  const db = new Database(lockFile, { timeout: 0 });
  try {
    // The rollback journal in memory: nothing is written, so a `-lock-journal` file would only be clutter.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DatabaseInUseError(
        `Another leadtrail serve is using ${path.resolve(file)} (LEADTRAIL_DB, --db; that process holds ${lockFile}). One process serves a SQLite file: stop the other, or give this one a file of its own.`,
      );
    }
    throw e;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close(); // ends the transaction and its lock
    },
  };
}
