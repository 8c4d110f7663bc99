/**
 * The built CLI against PostgreSQL and Redis, as an operator runs it: `migrate` on a fresh schema,
 * the other commands refusing a database, schema or leadtrail database that is not there, and one
 * clear line (no stack) with a non-zero exit when the database or Redis is unreachable, or
 * REDIS_URL asks for TLS of a Redis that speaks none.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SEED_EXAMPLE, freePort, refusingCommands, runCli, type CliResult } from '../cli/cli-runner.js';
import { tempDir } from '../helpers/server.js';
import { PG_BASE_URL, REDIS_TEST_URL, dropSchemas, freshSchema, pgAvailable, pgQuery } from '../helpers/pg.js';
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';

await pgAvailable();
// Some tests run every admin command, each a Node process; under a full parallel run each can take seconds.
vi.setConfig({ testTimeout: 180_000 });
const made: string[] = [];
const databases: string[] = [];
afterAll(async () => {
  await dropSchemas(made);
  for (const d of databases) await pgQuery('public', `DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
});

/** Runs each of `runs` (args and DATABASE_URL), three at a time: every run starts a Node process. */
async function runAll(runs: { args: string[]; url: string }[]): Promise<CliResult[]> {
  const out: CliResult[] = new Array(runs.length);
  let next = 0;
  const lane = async () => {
    while (next < runs.length) {
      const i = next++;
      out[i] = await runCli(runs[i].args, { DATABASE_URL: runs[i].url });
    }
  };
  await Promise.all([lane(), lane(), lane()]);
  return out;
}

const base = new URL(PG_BASE_URL);
/** How the CLI names the test server: host:port, never the user or password. */
const server = `${base.hostname}:${base.port || '5432'}`;
const testDb = decodeURIComponent(base.pathname.slice(1));
const refused = (where: string, why: string, make = 'make one with leadtrail migrate or leadtrail account create') =>
  `leadtrail: No database at ${server}, ${where} (--database-url, DATABASE_URL): ${why}; check the URL, or ${make}\n`;
/** Tables in `schema` of the test database, or of database `db`. */
async function tablesIn(schema: string, db?: string): Promise<number> {
  const sql = 'SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1';
  if (db === undefined) return (await pgQuery(schema, sql, [schema]))[0].n;
  const c = new pg.Client({ connectionString: urlOf(db) });
  await c.connect();
  try {
    return (await c.query<{ n: number }>(sql, [schema])).rows[0].n;
  } finally {
    await c.end();
  }
}
/** The test server's URL with database `db` instead. */
function urlOf(db: string): string {
  const u = new URL(PG_BASE_URL);
  u.pathname = `/${db}`;
  return u.toString();
}
const schemaExists = async (name: string) => (await pgQuery('public', 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).length === 1;

describe('leadtrail CLI on PostgreSQL', () => {
  it('migrate creates the schema and applies the migrations, then is a no-op', async () => {
    const s = freshSchema();
    made.push(s.name);
    const first = await runCli(['migrate'], { DATABASE_URL: s.url });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('migrations applied (postgres)');
    expect((await pgQuery(s.name, 'SELECT name FROM kysely_migration')).map((r) => r.name)).toEqual(Object.keys(postgresMigrations).sort());
    expect((await runCli(['migrate'], { DATABASE_URL: s.url })).code).toBe(0);
  });

  it('migrate and an account on a ?schema= with capitals: the schema made is the one used (found by a fresh-eyes run)', async () => {
    const s = freshSchema();
    const name = s.name.replace('lt_test_', 'Lt_Test_Mixed_');
    made.push(name);
    const url = s.url.replace(s.name, name);
    const first = await runCli(['migrate'], { DATABASE_URL: url });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect((await runCli(['account', 'create', '--name', 'Mixed'], { DATABASE_URL: url })).code).toBe(0);
    expect((await pgQuery(name, 'SELECT name FROM accounts')).map((r) => r.name)).toContain('Mixed');
  });

  // A mistyped ?schema= was made, migrated (19 tables) and listed as holding no accounts; seed and
  // reset built the schema before refusing (found by a fresh-eyes run).
  it('every command but serve, migrate and account create refuses a ?schema= that does not exist, naming it, and creates no schema', async () => {
    const typo = freshSchema();
    made.push(typo.name); // dropped after, should a failing run have made it
    const commands = refusingCommands(tempDir('leadtrail-pg-nodb-'));
    const results = await runAll(commands.map((args) => ({ args, url: typo.url })));
    for (const [i, r] of results.entries()) {
      expect(r.code, `${commands[i].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, commands[i].join(' ')).toBe(refused(`database ${testDb}, schema ${typo.name}`, 'the schema does not exist'));
      expect(r.stdout).toBe('');
    }
    expect(await schemaExists(typo.name), 'no schema was created').toBe(false);
  });

  it("every such command refuses a schema without leadtrail's tables, and adds none to it", async () => {
    const empty = freshSchema();
    made.push(empty.name);
    await pgQuery('public', `CREATE SCHEMA "${empty.name}"`);
    const commands = refusingCommands(tempDir('leadtrail-pg-empty-'));
    const results = await runAll(commands.map((args) => ({ args, url: empty.url })));
    for (const [i, r] of results.entries()) {
      expect(r.code, `${commands[i].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, commands[i].join(' ')).toBe(refused(`database ${testDb}, schema ${empty.name}`, 'the schema holds no leadtrail tables'));
    }
    expect(await tablesIn(empty.name)).toBe(0);
  });

  it("every command, serve, migrate and account create too, refuses a schema holding another program's tables, and adds none to it", async () => {
    // serve and migrate had added leadtrail's 19 tables beside them (a fresh-eyes run, on SQLite).
    const theirs = freshSchema();
    made.push(theirs.name);
    await pgQuery('public', `CREATE SCHEMA "${theirs.name}"; CREATE TABLE "${theirs.name}".orders (id int); CREATE TABLE "${theirs.name}".users (id int)`);
    const port = String(await freePort());
    const commands = [['serve', '--port', port], ['migrate'], ['account', 'create', '--name', 'X'], ...refusingCommands(tempDir('leadtrail-pg-theirs-'))];
    const results = await runAll(commands.map((args) => ({ args, url: theirs.url })));
    for (const [i, r] of results.entries()) {
      expect(r.code, `${commands[i].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, commands[i].join(' ')).toBe(
        `leadtrail: Cannot use ${server}, database ${testDb}, schema ${theirs.name} as a database (--database-url, DATABASE_URL): the schema holds another program's tables (such as orders, users), none of leadtrail's, and leadtrail does not add its tables to it; name a schema of its own with ?schema=; check the URL\n`,
      );
    }
    expect(await tablesIn(theirs.name)).toBe(2);
  });

  it("without ?schema=, a database whose default schema (public) has no leadtrail tables is refused by every such command, and public stays empty", async () => {
    const db = `lt_test_db_${randomBytes(6).toString('hex')}`;
    databases.push(db);
    await pgQuery('public', `CREATE DATABASE "${db}"`);
    const commands = refusingCommands(tempDir('leadtrail-pg-public-'));
    const results = await runAll(commands.map((args) => ({ args, url: urlOf(db) })));
    for (const [i, r] of results.entries()) {
      expect(r.code, `${commands[i].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, commands[i].join(' ')).toBe(refused(`database ${db}, schema public`, 'the schema holds no leadtrail tables'));
    }
    expect(await tablesIn('public', db)).toBe(0);
  });

  it('a database PostgreSQL does not have is refused with exit 2 and what to do, and no password is shown', async () => {
    const db = `lt_test_nodb_${randomBytes(6).toString('hex')}`;
    const url = new URL(urlOf(db));
    url.password = 'hunter2';
    url.searchParams.set('schema', 'anything');
    const commands = [['account', 'list'], ['seed', '--file', SEED_EXAMPLE]];
    const results = await runAll(commands.map((args) => ({ args, url: url.toString() })));
    for (const [i, r] of results.entries()) {
      expect(r.code, `${commands[i].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(refused(`database ${db}`, 'the database does not exist', 'create that database (leadtrail makes its schema and tables, not the database)'));
      expect(r.stderr).not.toContain('hunter2');
    }
  });

  it('seed on a migrated schema without accounts names the database it looked at', async () => {
    const s = freshSchema();
    made.push(s.name);
    expect((await runCli(['migrate'], { DATABASE_URL: s.url })).code).toBe(0);
    const r = await runCli(['seed', '--file', SEED_EXAMPLE], { DATABASE_URL: s.url });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`leadtrail: The database at ${server}, database ${testDb}, schema ${s.name} has no account yet: start the server on it once, or run leadtrail account create\n`);
  });

  it("a DATABASE_URL without a user logs in as the system's user when USER is unset, as psql does (found by a fresh-eyes run)", async () => {
    const s = freshSchema();
    made.push(s.name);
    const url = s.url.replace(/\/\/[^@/]*@/, '//');
    expect(url).not.toContain('@');
    const r = await runCli(['migrate'], { DATABASE_URL: url, USER: '', PGUSER: '' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('serve exits non-zero with one line naming host:port when PostgreSQL is unreachable', async () => {
    const r = await runCli(['serve', '--port', '0'], { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/test' });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^leadtrail: Cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\)\. Check .*DATABASE_URL/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('serve exits non-zero with one line when the schema is newer than the code', async () => {
    const s = freshSchema();
    made.push(s.name);
    expect((await runCli(['migrate'], { DATABASE_URL: s.url })).code).toBe(0);
    await pgQuery(s.name, 'INSERT INTO kysely_migration (name, timestamp) VALUES ($1, $2)', ['0999_future', new Date().toISOString()]);
    const r = await runCli(['serve', '--port', '0'], { DATABASE_URL: s.url });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^leadtrail: The database schema is newer than this leadtrail \(it has migration 0999_future, which this version does not know; /);
  });

  it('a DATABASE_URL or REDIS_URL that is not a usable value: exit 2, one line naming it, no password echoed (found by a fresh-eyes run)', async () => {
    const s = freshSchema();
    made.push(s.name);
    const base = new URL(REDIS_TEST_URL);
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATABASE_URL: 'mysql://x:hunter2@h/db' }, /^leadtrail: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
      [{ DATABASE_URL: 'postgres://x:hunter2@127.0.0.1:99999/test' }, /^leadtrail: DATABASE_URL \(--database-url\) is not a valid URL/],
      [{ DATABASE_URL: `${s.url.split('?')[0]}?schema=bad-name` }, /^leadtrail: DATABASE_URL \(--database-url\): its schema "bad-name" must be letters, digits and _/],
      [{ DATABASE_URL: s.url, REDIS_URL: `http://x:hunter2@${base.host}` }, /^leadtrail: REDIS_URL \(--redis-url\) must start with redis:\/\/ or rediss:\/\/, not http:\/\//],
      [{ DATABASE_URL: s.url, REDIS_URL: `redis://${base.host}/abc` }, /^leadtrail: REDIS_URL \(--redis-url\): its path must be a database number/],
      // This Redis has 16 databases (0–15): ioredis would carry on in database 0.
      [{ DATABASE_URL: s.url, REDIS_URL: `redis://${base.host}/99` }, /^leadtrail: REDIS_URL \(--redis-url\) names database 99, which the Redis at .* does not have \(ERR DB index is out of range\)/],
    ];
    // Given as a flag, the flag is named (it had said DATABASE_URL for --database-url: a fresh-eyes run).
    const flagged = await runCli(['serve', '--port', '0', '--database-url', 'mysql://x:hunter2@h/db']);
    expect(flagged.code, flagged.stderr).toBe(2);
    expect(flagged.stderr.trim()).toBe('leadtrail: --database-url must start with postgres:// or postgresql://');
    for (const [env, message] of cases) {
      const r = await runCli(['serve', '--port', '0', '--role', 'api'], env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('hunter2');
    }
  });

  it('serve exits non-zero with one line when REDIS_URL points nowhere', async () => {
    const s = freshSchema();
    made.push(s.name);
    const r = await runCli(['serve', '--port', '0', '--role', 'api'], { DATABASE_URL: s.url, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^leadtrail: Cannot reach Redis at 127\.0\.0\.1:1 \(ECONNREFUSED\).*REDIS_URL/);
    // And no log line contradicting it (it said the process would count alone "until it is back").
    expect(r.stdout).not.toMatch(/Redis unavailable/);
  });

  it('serve with rediss:// against a Redis without TLS exits 1 with one line naming the TLS handshake, not a bare ETIMEDOUT', async () => {
    const s = freshSchema();
    made.push(s.name);
    // The test Redis speaks no TLS: it takes the TLS hello for the start of a command and waits.
    const plain = new URL(REDIS_TEST_URL);
    const at = `${plain.hostname}:${plain.port || 6379}`;
    const r = await runCli(['serve', '--port', '0', '--role', 'api'], { DATABASE_URL: s.url, REDIS_URL: `rediss://${at}` });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain(`leadtrail: The TLS handshake with the Redis at ${at} did not complete (ETIMEDOUT)`);
    expect(r.stderr).toMatch(/is it a TLS Redis\? If not, use redis:\/\/\.$/m);
    expect(r.stdout).not.toMatch(/Redis unavailable/);
  });
});
