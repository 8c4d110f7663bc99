/**
 * The storage contract on PostgreSQL (each store on a fresh schema, dropped when the file passed),
 * plus PostgreSQL's start-up behaviour: concurrent migrations, a too-new schema, an unreachable server.
 * Under CI=true an unreachable PostgreSQL fails this file; locally it is skipped with a loud message.
 */
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';
import { randomUUID as uid } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseUnreachableError, createPool, openPostgresStore, parsePostgresUrl } from '../../src/storage/postgres/postgres-store.js';
import { SchemaTooNewError } from '../../src/storage/sql/sql-store.js';
import { PG_BASE_URL, dropSchemas, freshSchema, pgAvailable, pgQuery } from '../helpers/pg.js';
import { storeContract } from './store.contract.js';

const available = await pgAvailable();
const opts = { poolSize: 4, statementTimeoutMs: 10_000 };
const schemas: string[] = [];
let failed = false;

function schema() {
  const s = freshSchema();
  schemas.push(s.name);
  return s;
}

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});
afterAll(async () => {
  // A failing run keeps its schemas for a look; a passing one leaves nothing behind.
  if (failed) process.stderr.write(`postgres contract failed; schemas kept: ${schemas.join(', ')}\n`);
  else await dropSchemas(schemas);
});

describe.skipIf(!available)('postgres', () => {
  storeContract('postgres', async (more) => {
    const { url, name } = schema();
    return {
      store: await openPostgresStore(url, { ...opts, ...more }),
      reopen: () => openPostgresStore(url, opts),
      deferUserAccountCheck: async () => {
        await pgQuery(
          name,
          `ALTER TABLE users DROP CONSTRAINT users_account_id_fkey,
             ADD CONSTRAINT users_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id) DEFERRABLE INITIALLY DEFERRED`,
        );
      },
    };
  });

  describe('postgres wake-ups (LISTEN/NOTIFY)', () => {
    it('wakes each queue\'s workers for its own queue only: an accept does not wake the webhook workers, nor a webhook event the async ones', async () => {
      const { url } = schema();
      const store = await openPostgresStore(url, opts);
      try {
        const woken = { requests: 0, 'webhook-events': 0 };
        const until = async (ok: () => boolean) => {
          while (!ok()) await new Promise((r) => setTimeout(r, 5));
        };
        store.onQueued!('requests', () => (woken.requests += 1));
        store.onQueued!('webhook-events', () => (woken['webhook-events'] += 1));
        // Once listening, the listener calls every subscriber once (work queued before it listened).
        await until(() => woken.requests > 0 && woken['webhook-events'] > 0);
        woken.requests = 0;
        woken['webhook-events'] = 0;

        const a = uid();
        await store.accounts.create({ id: a, name: 'wake', createdAt: 1 });
        await store.requests.insertMany([{ id: uid(), accountId: a, kind: 'activity.create', body: '{}', params: {}, orderKey: 'k', createdAt: 1 }]);
        await until(() => woken.requests === 1);
        // One notification is handed to its subscribers in one go: had it woken the webhook workers, they would count it now.
        expect(woken['webhook-events']).toBe(0);

        const hook = {
          id: uid(), accountId: a, description: '', url: 'http://127.0.0.1:9/x', method: 'POST' as const, contentType: 'application/json' as const, eventCode: 1,
          customHeaders: [], notifyOnFailure: false, delaySeconds: 0, secret: null, status: 0 as const, consecutiveFailures: 0, createdOn: 1, modifiedOn: 1,
        };
        await store.transaction((tx) => tx.webhooks.insert(hook));
        expect(await store.transaction((tx) => tx.webhooks.enqueue([{ id: uid(), accountId: a, eventCode: 1, orderKey: 'k', snapshot: '{}', createdAt: 1 }]))).toBe(1);
        await until(() => woken['webhook-events'] === 1);
        // Notifications arrive in commit order on the one LISTEN connection: this one came after the accept's.
        expect(woken.requests).toBe(1);
      } finally {
        await store.close();
      }
    });
  });

  describe('postgres queue order with concurrent writers', () => {
    it('a request accepted after an earlier one committed waits for it, even when sequence order and commit order differ', async () => {
      // Two API processes accept side by side: r1 takes its sequence number first but commits after
      // r2. A worker may run r2 first (they were concurrent: no order between them), but r3, accepted
      // after both, must wait for r1 too, not only for the request just before it in sequence.
      const { url } = schema();
      const store = await openPostgresStore(url, opts);
      try {
        const a = uid();
        await store.accounts.create({ id: a, name: 'order', createdAt: 1 });
        const mk = (id: string) => ({ id, accountId: a, kind: 'activity.create' as const, body: '{}', params: {}, orderKey: 'lead', createdAt: 1 });
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let inserted!: () => void;
        const r1Inserted = new Promise<void>((r) => (inserted = r));
        const slow = store.transaction(async (tx) => {
          await tx.requests.insertMany([mk('r1')]);
          inserted();
          await gate;
        });
        await r1Inserted;
        await store.requests.insertMany([mk('r2')]);
        const first = await store.requests.claim('w', 10, 10, 1_000);
        expect(first.map((r) => r.id)).toEqual(['r2']);
        await store.requests.finish('r2', 'w', { status: 'succeeded', statusReason: 'ok', message: null, at: 5 });
        release();
        await slow;
        await store.requests.insertMany([mk('r3')]);
        const next = await store.requests.claim('w', 10, 10, 1_000);
        expect(next.map((r) => r.id)).toEqual(['r1']);
        await store.requests.finish('r1', 'w', { status: 'succeeded', statusReason: 'ok', message: null, at: 6 });
        expect((await store.requests.claim('w', 10, 10, 1_000)).map((r) => r.id)).toEqual(['r3']);
      } finally {
        await store.close();
      }
    });
  });

  describe('postgres start-up', () => {
    it('four processes migrating one fresh schema at once apply each migration exactly once', async () => {
      const { url, name } = schema();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url, opts)));
      try {
        const rows = await pgQuery<{ name: string }>(name, 'SELECT name FROM kysely_migration ORDER BY name');
        expect(rows.map((r) => r.name)).toEqual(Object.keys(postgresMigrations).sort());
        await stores[0].accounts.create({ id: 'a', name: 'x', createdAt: 1 });
        expect(await stores[3].accounts.get('a')).toMatchObject({ name: 'x' });
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('refuses a schema migrated by a newer leadtrail', async () => {
      const { url, name } = schema();
      await (await openPostgresStore(url, opts)).close();
      await pgQuery(name, 'INSERT INTO kysely_migration (name, timestamp) VALUES ($1, $2)', ['9999_from_the_future', new Date().toISOString()]);
      const err = await openPostgresStore(url, opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaTooNewError);
      expect((err as Error).message).toMatch(/newer than this leadtrail.*0001_init/);
    });

    it('keeps schemas apart: the same ids in two schemas do not meet', async () => {
      const one = await openPostgresStore(schema().url, opts);
      const two = await openPostgresStore(schema().url, opts);
      try {
        await one.accounts.create({ id: 'same', name: 'one', createdAt: 1 });
        await two.accounts.create({ id: 'same', name: 'two', createdAt: 1 });
        expect(await one.accounts.get('same')).toMatchObject({ name: 'one' });
        expect(await two.accounts.count()).toBe(1);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('sets the statement timeout and the ?schema= search_path on every pooled connection', async () => {
      const { url, name } = schema();
      const pool = createPool(parsePostgresUrl(url), { poolSize: 3, statementTimeoutMs: 250 });
      try {
        const clients = await Promise.all([0, 1, 2].map(() => pool.connect()));
        for (const c of clients) {
          const r = await c.query('SELECT current_setting($1) AS t, current_setting($2) AS p', ['statement_timeout', 'search_path']);
          expect(r.rows[0]).toEqual({ t: '250ms', p: name });
          await expect(c.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
        }
        clients.forEach((c) => c.release());
      } finally {
        await pool.end();
      }
    });

    it('says where it tried when the server is unreachable', async () => {
      const err = await openPostgresStore('postgres://postgres@127.0.0.1:1/test', opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseUnreachableError);
      expect((err as Error).message).toMatch(/Cannot reach PostgreSQL at 127\.0\.0\.1:1 .*ECONNREFUSED.*DATABASE_URL/);
    });

    it('names a Unix-socket URL by its directory when the socket is missing, never by localhost', async () => {
      for (const url of ['postgres://postgres@%2Fno%2Fsuch%2Fdir/test', 'postgres:///test?host=/no/such/dir&user=postgres']) {
        const err = await openPostgresStore(url, opts).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DatabaseUnreachableError);
        expect((err as Error).message).toMatch(/^Cannot reach PostgreSQL at \/no\/such\/dir \(Unix socket\) \(ENOENT\)/);
      }
      expect(parsePostgresUrl('postgres://u:pw@db.internal:6543/x?schema=s').where).toBe('db.internal:6543');
    });

    // The server's own socket, in the libpq URL forms that name a socket directory (docs/deploy.md:
    // on the same machine it costs less CPU per query than TCP). Where the test server has no socket
    // in that directory (another machine, LEADTRAIL_TEST_PG_URL elsewhere), there is nothing to open.
    const socketDir = process.env.LEADTRAIL_TEST_PG_SOCKET_DIR ?? '/var/run/postgresql';
    const hasSocket = existsSync(`${socketDir}/.s.PGSQL.5432`) && PG_BASE_URL.includes('127.0.0.1:5432');
    it.skipIf(!hasSocket)('opens a store over the Unix socket, in both URL forms', async () => {
      const db = new URL(PG_BASE_URL).pathname;
      for (const base of [`postgres://postgres@${encodeURIComponent(socketDir)}${db}?`, `postgres://${db}?host=${socketDir}&user=postgres&`]) {
        const { name } = schema();
        const store = await openPostgresStore(`${base}schema=${name}`, opts);
        try {
          await store.accounts.create({ id: 'over-the-socket', name: base, createdAt: 1 });
          // The same rows as over TCP: one database, reached another way.
          expect(await pgQuery(name, 'SELECT name FROM accounts WHERE id = $1', ['over-the-socket'])).toEqual([{ name: base }]);
        } finally {
          await store.close();
        }
      }
    });

    it('rejects a schema name that is not a plain identifier', async () => {
      await expect(openPostgresStore('postgres://postgres@127.0.0.1:5432/test?schema=a;drop', opts)).rejects.toThrow(/schema "a;drop" must be letters/);
    });
  });
});
