/**
 * SQLite's reader shares one read transaction between statements that run close together
 * (src/storage/sqlite/read-turns.ts), and never longer than is safe: a commit by another connection
 * is seen once the shared transaction is older than its bound, once the event loop reaches its
 * check phase, or as soon as `end()` is called (a write of this process, `Store.newReadSnapshot`).
 * The threaded store (the server's) ends it when its own write completes; requests handled close
 * together share it, and a store that wrote waits out the bound twice before its close() resolves.
 * Real SQLite files and a real server; the clock and the check phase are injected (frozen), so that
 * only the ends under test can end a shared snapshot. SQLite only.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteDriver, type SqliteDatabase } from '../../src/storage/sqlite/driver.js';
import { COMMIT_SETTLE_MS, ReadTurns, settleSince, type ReadTurnOptions } from '../../src/storage/sqlite/read-turns.js';
import { connect, openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { openThreadedSqliteStore } from '../../src/storage/sqlite/thread-store.js';
import { errorCodec } from '../../src/wire/thread-operations.js';
import { KEYS, startServer, storeBeside, tempDir } from '../helpers/server.js';

const checkPhase = () => new Promise((r) => setImmediate(r));

describe('ReadTurns', () => {
  const open: SqliteDatabase[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
  });

  /** A reader with turns on a fresh file, and a second connection that writes (another process). */
  function files(maxAgeMs = 1) {
    const file = path.join(tempDir(), 'turns.db');
    const other = connect(file, 'FULL');
    other.exec('create table t (n integer not null); insert into t values (1)');
    const reader = connect(file, 'FULL');
    open.push(reader, other);
    let now = 0;
    const turns = new ReadTurns(reader, { maxAgeMs, now: () => now });
    const count = reader.prepare('select count(*) from t').pluck();
    const read = () => {
      turns.enter();
      return count.get() as number;
    };
    return { other, reader, turns, read, advance: (ms: number) => (now += ms) };
  }

  it('statements close together share one snapshot; one older than the bound sees the other commit', () => {
    const { other, reader, turns, read, advance } = files(1);
    expect(read()).toBe(1);
    other.exec('insert into t values (2)');
    advance(0.5);
    // Within the bound: the same read transaction, begun before the commit.
    expect(read()).toBe(1);
    expect(reader.inTransaction).toBe(true);
    expect(turns.stats.begun).toBe(1);
    advance(0.6);
    // Past it: a new one, which sees the commit.
    expect(read()).toBe(2);
    expect(turns.stats.begun).toBe(2);
  });

  it('end() makes the next statement see what was committed before it', () => {
    const { other, turns, read } = files(60_000);
    expect(read()).toBe(1);
    other.exec('insert into t values (2)');
    turns.end();
    expect(read()).toBe(2);
  });

  it('ends by itself at the check phase of the event loop, whatever the clock says', async () => {
    const { other, reader, read } = files(60_000);
    expect(read()).toBe(1);
    other.exec('insert into t values (2)');
    await checkPhase();
    expect(reader.inTransaction).toBe(false);
    expect(read()).toBe(2);
  });

  it('a statement still stepping keeps its snapshot, without an error, and the end follows it', async () => {
    const { other, reader, turns } = files(60_000);
    other.exec('insert into t values (2), (3)');
    turns.enter();
    const rows = reader.prepare('select n from t order by n').pluck().iterate();
    expect(rows.next().value).toBe(1);
    turns.end(); // cannot end now: the statement steps
    await checkPhase(); // nor here
    expect(turns.stats.deferredEnds).toBeGreaterThanOrEqual(2);
    expect(reader.inTransaction).toBe(true);
    expect([...rows]).toEqual([2, 3]);
    await checkPhase();
    expect(reader.inTransaction).toBe(false);
  });

  it('a connection closed with a transaction open is not an error at the check phase', async () => {
    const { reader, read } = files(60_000);
    read();
    reader.close();
    await checkPhase();
  });
});

describe('the threaded SQLite store', () => {
  const operations = { url: new URL('../../src/wire/thread-operations.ts', import.meta.url), errorCodec };

  it("a new read snapshot sees another process's commit; the store's own writes are seen by the next read", async () => {
    const file = path.join(tempDir(), 'snapshot.db');
    // A shared read transaction that neither ages nor reaches a check phase: only the store's own
    // ends (a request's new snapshot, a write's outcome) may end it.
    const store = await openThreadedSqliteStore(file, { operations, readTurns: { now: () => 0, schedule: () => {} } });
    const other = new (sqliteDriver())(file);
    try {
      const ids = async () => (await store.accounts.list()).map((a) => a.id);
      await ids(); // a shared snapshot is open from here
      const elsewhere = crypto.randomUUID();
      other.prepare('insert into accounts (id, name, created_at) values (?, ?, ?)').run(elsewhere, 'elsewhere', Date.now());
      // Still the snapshot begun before that commit: what the sharing is.
      expect(await ids()).not.toContain(elsewhere);
      store.newReadSnapshot!();
      expect(await ids()).toContain(elsewhere);

      const mine = crypto.randomUUID();
      await store.accounts.create({ id: mine, name: 'mine', createdAt: Date.now() });
      expect(await ids()).toContain(mine);
    } finally {
      other.close();
      await store.close();
    }
  });
});

describe('the SQLite store with its writer on the event loop (LEADTRAIL_SQLITE_WRITER=loop)', () => {
  it('a reference-data change another process commits is seen by the next cached lookup, inside a shared snapshot too', async () => {
    const file = path.join(tempDir(), 'loop.db');
    // The reader's shared read transaction never ages nor ends by itself here.
    const store = await openSqliteStore(file, { readTurns: { now: () => 0, schedule: () => {} } });
    const other = await openSqliteStore(file);
    try {
      const accountId = crypto.randomUUID();
      await other.accounts.create({ id: accountId, name: 'turns', createdAt: Date.now() });
      // The writer's data_version is watched; the token is read on the reader, in its shared snapshot.
      expect((await store.leadFields.list(accountId)).map((d) => d.schemaName)).not.toContain('mx_Elsewhere');
      await other.leadFields.upsert(accountId, { schemaName: 'mx_Elsewhere', displayName: 'Elsewhere', dataType: 'String', isUnique: false, isMandatory: false, maxLength: null, options: null, isSystem: false });
      expect((await store.leadFields.list(accountId)).map((d) => d.schemaName)).toContain('mx_Elsewhere');
      // Its own commit ends the shared snapshot too: an uncached read after a write sees it.
      await store.accounts.list();
      const mine = crypto.randomUUID();
      await store.accounts.create({ id: mine, name: 'mine', createdAt: Date.now() });
      expect((await store.accounts.list()).map((a) => a.id)).toContain(mine);
    } finally {
      await other.close();
      await store.close();
    }
  });
});

describe('the server', () => {
  it('a key revoked by another process is refused by the next call once the shared snapshot is over 1 ms old', async () => {
    let now = 0;
    // Without the journal and the async worker, whose writes would end the shared snapshot at
    // moments of their own (any write of the process ends it); the check phase never ends it here.
    // Whether the call right after the revoke still shares the old snapshot depends on what else
    // the server wrote meanwhile (its start-up work, under a loaded machine), so it is not asserted:
    // the sharing itself is ReadTurns' first test.
    const server = await startServer({ LEADTRAIL_JOURNAL: 'false', LEADTRAIL_WORKER: 'false' }, { sqliteReadTurns: { now: () => now, schedule: () => {} } });
    const other = await storeBeside(server);
    try {
      const { addAccessKey } = await import('../../src/domain/accounts.js');
      const accountId = (await other.accounts.findCredential('access', KEYS.accessKey))!.accountId;
      const keys = await other.transaction((tx) => addAccessKey(tx, { now: () => Date.now(), newId: () => crypto.randomUUID() } as never, accountId, null));
      const types = () => server.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get', undefined, { keys });
      // The key is read, cached, and a shared snapshot is left open (only its age can end it).
      expect((await types()).status).toBe(200);
      expect(await other.accounts.revokeCredential(accountId, keys.accessKey, Date.now())).toBe(true);
      now += 1.5;
      expect((await types()).status).toBe(401);
    } finally {
      await other.close();
      await server.close();
    }
  });
});

describe('settleSince', () => {
  it('resolves once the time has passed by its own clock, not by one timer; at once when nothing was committed', async () => {
    let now = 100;
    const timers: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    // Each timer "fires" having let only 0.5 ms pass: the settle must keep waiting until 2 ms have.
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      timers.push(ms);
      now += 0.5;
      return realSetTimeout(fn, 0);
    }) as typeof setTimeout;
    try {
      await settleSince(null, 2, () => now);
      expect(timers).toEqual([]);
      await settleSince(100, 2, () => now);
      expect(now).toBeGreaterThanOrEqual(102);
      expect(timers).toEqual([2, 2, 1, 1]);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  });

  it('a SQLite store that wrote resolves close() only once COMMIT_SETTLE_MS have passed on its clock; one that only read at once', async () => {
    const operations = { url: new URL('../../src/wire/thread-operations.ts', import.meta.url), errorCodec };
    const stores = [
      (f: string, readTurns: ReadTurnOptions) => openThreadedSqliteStore(f, { operations, readTurns }),
      (f: string, readTurns: ReadTurnOptions) => openSqliteStore(f, { readTurns }),
    ];
    for (const open of stores) {
      const file = path.join(tempDir(), 'settle.db');
      let now = 0;
      const wrote = await open(file, { settleNow: () => now });
      await wrote.accounts.create({ id: crypto.randomUUID(), name: 'settle', createdAt: Date.now() });
      let closed = false;
      const closing = wrote.close().then(() => (closed = true));
      // The settle's clock stands still: however many timers fire, it is not over.
      for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
      expect(closed).toBe(false);
      now += COMMIT_SETTLE_MS;
      await closing;

      // Only reads: nothing to wait for, even with a clock that stands still.
      const read = await open(file, { settleNow: () => 0 });
      await read.accounts.list();
      await read.close();
    }
  });
});
