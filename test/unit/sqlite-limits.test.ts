/**
 * `limitsAsExpressions` (storage/sqlite/sqlite-store.ts): a bound LIMIT or OFFSET is written as an
 * expression, so SQLite does not prepare the statement again at every run; the rows are the same.
 */
import { describe, expect, it } from 'vitest';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { limitsAsExpressions } from '../../src/storage/sqlite/sqlite-store.js';

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
