/**
 * The built CLI against PostgreSQL and Redis, as an operator runs it: `migrate` on a fresh schema,
 * and one clear line (no stack) with a non-zero exit when the database or Redis is unreachable, or
 * REDIS_URL asks for TLS of a Redis that speaks none.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/cli-runner.js';
import { REDIS_TEST_URL, dropSchemas, freshSchema, pgAvailable, pgQuery } from '../helpers/pg.js';
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';

await pgAvailable();
const made: string[] = [];
afterAll(() => dropSchemas(made));

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
      [{ DATABASE_URL: 'postgres://x:hunter2@127.0.0.1:99999/test' }, /^leadtrail: DATABASE_URL is not a valid URL/],
      [{ DATABASE_URL: `${s.url.split('?')[0]}?schema=bad-name` }, /^leadtrail: DATABASE_URL schema "bad-name" must be letters, digits and _/],
      [{ DATABASE_URL: s.url, REDIS_URL: `http://x:hunter2@${base.host}` }, /^leadtrail: REDIS_URL must start with redis:\/\/ or rediss:\/\/, not http:\/\//],
      [{ DATABASE_URL: s.url, REDIS_URL: `redis://${base.host}/abc` }, /^leadtrail: REDIS_URL's path must be a database number/],
      // This Redis has 16 databases (0–15): ioredis would carry on in database 0.
      [{ DATABASE_URL: s.url, REDIS_URL: `redis://${base.host}/99` }, /^leadtrail: REDIS_URL names database 99, which the Redis at .* does not have \(ERR DB index is out of range\)/],
    ];
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
