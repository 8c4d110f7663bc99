/**
 * Whether a SQLite path can hold a database, checked before any connection is opened (on the
 * caller's thread: the writer thread's errors would not carry the path). Light: node's fs only, so
 * that a start with the writer thread does not load the SQLite adapter on the event loop for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UnusableDatabaseError } from '../store.js';

/** The first 16 bytes of every SQLite database file (sqlite.org/fileformat.html, 1.3.1). */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Throws UnusableDatabaseError, having changed nothing, when `file` cannot be a SQLite database: a
 * folder, a file of something else (its first 16 bytes are not SQLite's header; an empty file is
 * fine), or a path under a file. A missing file is fine (it is made). A stat and a 16-byte read,
 * on the caller's thread, before any connection is opened (the writer thread's errors would not
 * carry the path).
 */
export function checkSqlitePath(file: string): void {
  if (file === ':memory:') return;
  const where = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(where);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UnusableDatabaseError(where, 'a part of its folder path is a file, not a folder');
    if (code === 'ENOENT') {
      // Made with its folders, unless one of those is a file.
      for (let dir = path.dirname(where); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const up = fs.statSync(dir, { throwIfNoEntry: false });
        if (up && !up.isDirectory()) throw new UnusableDatabaseError(where, `${dir} is a file, not a folder`);
        if (up) break;
      }
      return;
    }
    throw e;
  }
  if (stat.isDirectory()) throw new UnusableDatabaseError(where, 'it is a folder; name a file in it, e.g. ' + path.join(where, 'leadtrail.db'));
  if (stat.size === 0) return;
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(where, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) throw new UnusableDatabaseError(where, 'the file is not a SQLite database (another program\'s file?)');
}
