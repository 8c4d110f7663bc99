/**
 * `limitsAsExpressions` (storage/sqlite/sqlite-store.ts): a bound LIMIT or OFFSET is written as an
 * expression, so SQLite does not prepare the statement again at every run; the rows are the same.
 */
import { describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { limitsAsExpressions, withStatementCache } from '../../src/storage/sqlite/sqlite-store.js';

describe('limitsAsExpressions', () => {
  it("rewrites Kysely's limit and offset placeholders, in subqueries too, and nothing else", () => {
    expect(limitsAsExpressions('select * from "activities" where "a" = ? order by "seq" desc limit ? offset ?')).toBe(
      'select * from "activities" where "a" = ? order by "seq" desc limit +? offset +?',
    );
    expect(limitsAsExpressions('select "seq" from "j" where "s" < (select "seq" from "j" order by "seq" limit ?) limit ?')).toBe(
      'select "seq" from "j" where "s" < (select "seq" from "j" order by "seq" limit +?) limit +?',
    );
    expect(limitsAsExpressions('SELECT 1 LIMIT ?\nOFFSET ?')).toBe('SELECT 1 LIMIT +?\nOFFSET +?');
    for (const same of ['select * from t limit 5 offset 2', 'select * from t where unlimited = ?', 'select * from t where x = ? limit ?5', 'insert into t values (?, ?)']) {
      expect(limitsAsExpressions(same)).toBe(same);
    }
  });

  it('gives the same rows for every limit and offset, including 0, -1 (no limit) and past the end', () => {
    const Database = sqliteDriver();
    const db = new Database(':memory:');
    try {
      db.exec('create table t (n integer primary key); with recursive s(n) as (select 1 union all select n + 1 from s where n < 10) insert into t (n) select n from s');
      const text = 'select n from t order by n limit ? offset ?';
      const bare = db.prepare(text).pluck();
      const rewritten = db.prepare(limitsAsExpressions(text)).pluck();
      for (const [limit, offset] of [[3, 0], [3, 8], [0, 0], [-1, 4], [25, 20], [2, 1]]) {
        expect(rewritten.all(limit, offset)).toEqual(bare.all(limit, offset));
      }
      // And those rows are the page asked for, not merely the same as the bare statement's.
      expect(rewritten.all(3, 8)).toEqual([9, 10]);
      expect(rewritten.all(-1, 7)).toEqual([8, 9, 10]);
      expect(rewritten.all(0, 0)).toEqual([]);
    } finally {
      db.close();
    }
  });
});

/**
 * Parameters reach better-sqlite3 as separate arguments where they can (`withStatementCache`,
 * storage/sqlite/sqlite-store.ts), and as one array otherwise: the same values bound either way.
 */
describe('parameters bound as arguments', () => {
  const open = () => {
    const db = new (sqliteDriver())(':memory:');
    db.exec('create table t (n integer, s text, b blob)');
    return { db, cached: withStatementCache(db) };
  };

  it('binds numbers, text, null and bytes as given, in writes and reads', () => {
    const { db, cached } = open();
    try {
      const bytes = Buffer.from('héllo');
      cached.prepare('insert into t (n, s, b) values (?, ?, ?)').run([7, 'x', bytes]);
      cached.prepare('insert into t (n, s, b) values (?, ?, ?)').run([1.5, null, new Uint8Array([1, 2])]);
      expect(cached.prepare('select n, s, b from t where n > ? order by n').all([0])).toEqual([
        { n: 1.5, s: null, b: Buffer.from([1, 2]) },
        { n: 7, s: 'x', b: bytes },
      ]);
    } finally {
      db.close();
    }
  });

  it('takes a list longer than a call should carry (2,000 values), as one array', () => {
    const { db, cached } = open();
    try {
      const values = Array.from({ length: 2000 }, (_, i) => i);
      const rows = cached.prepare(`select count(*) as c from (select 1 where 1999 in (${values.map(() => '?').join(', ')}))`).all(values);
      expect(rows).toEqual([{ c: 1 }]);
    } finally {
      db.close();
    }
  });

  it('refuses an object, a Date or an array as a value, as the driver does for a value in an array', () => {
    const { db, cached } = open();
    try {
      const insert = cached.prepare('insert into t (n, s, b) values (?, ?, ?)');
      expect(() => insert.run([1, { a: 1 }, null])).toThrow(/can only bind/);
      expect(() => insert.run([1, [2, 3], null])).toThrow(/can only bind/);
      // As separate arguments, the inner array would have been bound as the two values.
      expect(() => cached.prepare('insert into t (n, s) values (?, ?)').run([[1, 2]])).toThrow(/can only bind/);
      expect(() => insert.run([1, new Date(0), null])).toThrow(/can only bind/);
      expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: 0 });
    } finally {
      db.close();
    }
  });
});

describe('rows made into objects by the statement cache', () => {
  it("are better-sqlite3's own objects: names with quotes, backslashes, line separators and digits, a name twice, `__proto__`, a wide row", () => {
    const Database = sqliteDriver();
    const db = new Database(':memory:');
    try {
      const cached = withStatementCache(db);
      const texts = [
        `select 1 as "a", 'x' as "it's", 2 as "back\\slash", 3 as "line${'\u2028'}sep", 4 as "0", 5 as "", null as "a b", x'00ff' as "bytes"`,
        'select 1 as "a", 2 as "b", 3 as "a"',
        'select 1 as "__proto__", 2 as "ok"',
        'select "n", "n" * 2 as "double" from (select 1 as "n" union all select 2) order by "n"',
        `select ${Array.from({ length: 250 }, (_, i) => `${i} as "c${i}"`).join(', ')}`,
      ];
      for (const text of texts) {
        const own = db.prepare(text).all() as Record<string, unknown>[];
        const built = cached.prepare(text).all([]) as Record<string, unknown>[];
        expect(built).toEqual(own);
        // The same properties in the same order, and the same prototype (`__proto__` as better-sqlite3 sets it).
        expect(built.map((r) => Object.keys(r))).toEqual(own.map((r) => Object.keys(r)));
        expect(built.map((r) => Object.getPrototypeOf(r))).toEqual(own.map((r) => Object.getPrototypeOf(r)));
      }
      expect((cached.prepare(texts[1]).all([]) as unknown[])[0]).toEqual({ a: 3, b: 2 });
    } finally {
      db.close();
    }
  });
});
