/**
 * Named prepared statements on PostgreSQL (issue 11).
 *
 * Kysely sends every query through pg's unnamed statement, so PostgreSQL parses and plans the same
 * SQL again on every call: a sync `Create` runs three or four such statements, and on a machine that
 * PostgreSQL shares with leadtrail that planning is CPU the API does not get. Here a statement text
 * that comes back is given a name, and pg then prepares it once per connection and afterwards only
 * binds and executes it (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY).
 * Measured on the bench's `create-by-id`: about 30% more requests per second, p99 down by a third.
 *
 * Which texts get a name: those with parameters (the simple-protocol control statements have
 * none), at most `maxLength` characters long (multi-row inserts, whose text changes with the row
 * count, stay unnamed), from their `after`-th use on, and no more than `maxNames` in a process.
 * So the hot, fixed statements are named and each connection keeps a bounded set.
 *
 * A prepared statement whose table changed shape under it (another process ran a migration that
 * added a column to a `select *`) fails with "cached plan must not change result type". That call
 * fails; the connection then uses a new set of names, so its statements are prepared anew.
 *
 * Off with `LEADTRAIL_PG_PREPARED=false`, for poolers that do not carry prepared statements across
 * transactions (PgBouncer in transaction mode before 1.21).
 */
import type pg from 'pg';

export interface PreparedOptions {
  /** Uses of a text before it is named (default 2: the second use). */
  after?: number;
  /** Longest text named, in characters (default 2,000). */
  maxLength?: number;
  /** Most names in one process (default 200). */
  maxNames?: number;
}

/** A pool client, with the generation of names it uses (bumped after a stale plan). */
type Client = pg.PoolClient & { ltGeneration?: number };

const STALE_PLAN = 'cached plan must not change result type';

/** Names the statements of every client `pool` connects from now on (call before its first query). */
export function prepareStatements(pool: pg.Pool, o: PreparedOptions = {}): void {
  const after = o.after ?? 2;
  const maxLength = o.maxLength ?? 2000;
  const maxNames = o.maxNames ?? 200;
  const uses = new Map<string, number>();
  const names = new Map<string, string>();

  /** The number of `text`'s name, once it has one. */
  const numberOf = (text: string): string | undefined => {
    const known = names.get(text);
    if (known || text.length > maxLength || names.size >= maxNames) return known;
    const n = (uses.get(text) ?? 0) + 1;
    if (n < after) {
      // Bounded like the names: past that many candidates, start counting over.
      if (uses.size >= maxNames * 10) uses.clear();
      uses.set(text, n);
      return undefined;
    }
    uses.delete(text);
    const num = String(names.size + 1);
    names.set(text, num);
    return num;
  };

  pool.on('connect', (connected) => {
    const client = connected as Client;
    client.ltGeneration = 0;
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    client.query = ((text: unknown, values?: unknown, cb?: unknown) => {
      const num = typeof text === 'string' && Array.isArray(values) && values.length > 0 ? numberOf(text) : undefined;
      if (!num) return query(text, values, cb);
      const out = query({ name: `lt_${client.ltGeneration}_${num}`, text, values }, cb);
      if (out instanceof Promise) {
        return out.catch((e: unknown) => {
          if (e instanceof Error && e.message.includes(STALE_PLAN)) client.ltGeneration = (client.ltGeneration ?? 0) + 1;
          throw e;
        });
      }
      return out;
    }) as typeof client.query;
  });
}
