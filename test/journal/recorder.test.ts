/**
 * The request journal's writer (src/journal/recorder.ts) on a real store of the vitest project's
 * engine (a SQLite file with its writer thread, or a fresh PostgreSQL schema): bodies packed into
 * chunks of UTF-8 come back as the text recorded, a batch of large bodies is written without waiting
 * for the timer, chunks are reused from batch to batch, and a database that does not take writes
 * costs bounded memory.
 */
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JournalRecorder, type RecordedCall, type RecorderOptions } from '../../src/journal/recorder.js';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { openThreadedSqliteStore } from '../../src/storage/sqlite/thread-store.js';
import type { Store } from '../../src/storage/store.js';
import { STORE_CALLS, storeCalls, type JournalCall, type StoreCallsResult } from '../../src/journal/entry.js';
import { errorCodec } from '../../src/wire/thread-operations.js';
import { dropSchemas, freshSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/server.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const ACCOUNT = 'acct-recorder';
let seq = 0;
const entry = (over: Partial<RecordedCall> = {}): RecordedCall => ({
  id: `00000000-0000-7000-8000-${String(++seq).padStart(12, '0')}`,
  accountId: ACCOUNT,
  at: 1_700_000_000_000 + seq,
  method: 'POST',
  url: '/v2/ProspectActivity.svc/Retrieve',
  keys: [],
  status: 200,
  latencyMs: 1,
  requestBody: null,
  requestSize: null,
  responseBody: null,
  leadId: null,
  activityId: null,
  requestId: null,
  ...over,
});

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** The server's writer-thread operations module, which holds the journal's STORE_CALLS. */
const operations = { url: new URL('../../src/wire/thread-operations.ts', import.meta.url), errorCodec };

/**
 * A recorder on a fresh store. SQLite as the server runs it: writes on the writer thread, which reads
 * the batch's bytes in place and (`withOperations`, the default) builds the entries there; without
 * its operations module the writer thread cannot, and the recorder builds them itself.
 * `fnTimeoutMs`: the store's limit on a transaction function (its default, 15 s, when not given).
 */
async function setUp(flushAfterMs?: number, more: Partial<RecorderOptions> = {}, withOperations = true, fnTimeoutMs?: number) {
  let store: Store;
  if (onPostgres) {
    const schema = freshSchema();
    schemas.push(schema.name);
    store = await openPostgresStore(schema.url, { poolSize: 4, statementTimeoutMs: 10_000, fnTimeoutMs });
  } else {
    store = await openThreadedSqliteStore(path.join(tempDir(), 'recorder.db'), { ...(withOperations ? { operations } : {}), fnTimeoutMs });
  }
  stores.push(store);
  // Bodies up to 64 MB are kept whole: what is stored is what was recorded.
  const recorder = new JournalRecorder(store, { maxEntries: 0, maxAgeMs: 0, maxBodyBytes: 64 << 20, now: () => Date.now(), log: pino({ level: 'silent' }), flushAfterMs, ...more });
  const stored = async () => (await store.journal.list(ACCOUNT, { limit: 100_000, afterSeq: 0 })).map((e) => [e.requestBody, e.responseBody]);
  return { store, recorder, stored };
}

describe('journal recorder', () => {
  it('stores every body as recorded: any script, absent, empty (as none), and larger than a chunk', async () => {
    const { recorder, stored } = await setUp();
    const bodies: [string | null, string | null][] = [
      ['{"Note":"José – 😀 ünïcødé"}', '{"Status":"Success"}'],
      [null, '[]'],
      ['', null],
      // 1.2 MB of UTF-8, larger than a chunk (1 MB): a buffer of its own, and the bodies after it
      // go on in the chunk before it.
      ['x', `"${'ж'.repeat(600_000)}"`],
      ['{"after":"growth"}', 'ok'],
    ];
    for (const [req, res] of bodies) recorder.record(entry({ requestBody: req, responseBody: res }));
    await recorder.flush();
    expect(await stored()).toEqual(bodies.map(([req, res]) => [req || null, res || null]));
  });

  it('writes at once when a megabyte of bodies waits, without waiting for its timer', async () => {
    // The timer would start the flush only after an hour: a write now is the size's doing.
    const { recorder, stored } = await setUp(3_600_000);
    const big = `"${'a'.repeat(300_000)}"`;
    recorder.record(entry({ responseBody: 'small' }));
    await new Promise((r) => setTimeout(r, 50));
    expect(await stored()).toEqual([]);
    for (let i = 0; i < 4; i++) recorder.record(entry({ responseBody: big }));
    await expect.poll(async () => (await stored()).length, { timeout: 10_000, interval: 10 }).toBe(5);
  });

  it('stores each batch as recorded while later entries are recorded during its write', async () => {
    // On SQLite the writer thread reads the bodies where they were packed (shared memory), after
    // the flush began: entries recorded meanwhile must not land over them. (PostgreSQL makes text of
    // them as the write starts, and its other write slot does not wait: the same outcome is checked.)
    const { store, recorder, stored } = await setUp(3_600_000);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // On SQLite every write waits behind this transaction until the test releases it.
    const holding = store.exclusive(() => held);
    const recorded: (string | null)[] = [];
    const body = (i: number) => `"${String.fromCharCode(97 + (i % 26)).repeat(200_000)}${i}"`;
    // Six entries of 200 KB: past a megabyte, a flush starts (and waits); the rest fill the other
    // buffer, and more go in after the second flush was asked for.
    for (let i = 0; i < 14; i++) {
      recorded.push(body(i));
      recorder.record(entry({ responseBody: body(i), requestBody: `{"n":${i}}` }));
      await new Promise((r) => setImmediate(r));
    }
    release();
    await holding;
    await recorder.flush();
    const rows = await stored();
    expect(rows.map(([, res]) => res)).toEqual(recorded);
    expect(rows.map(([req]) => req)).toEqual(recorded.map((_, i) => `{"n":${i}}`));
  });

  it('reuses its chunks from batch to batch: five bursts of 8 MB, each waiting on a held database, allocate 8 chunks in all', async () => {
    // Before, the batch's one buffer doubled to 8 MB in every burst and was replaced after its flush:
    // malloc'ed memory the event loop's C heap kept (docs/performance.md, twenty-fifth session).
    const { store, recorder, stored } = await setUp(3_600_000);
    const recorded: string[] = [];
    for (let round = 0; round < 5; round++) {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const holding = store.exclusive(() => held);
      // 900 KB each: one to a chunk. The second starts a flush, which waits; the rest fill new chunks.
      for (let i = 0; i < 8; i++) {
        const body = `"${String.fromCharCode(97 + ((round * 8 + i) % 26)).repeat(900_000)}${round}-${i}"`;
        recorded.push(body);
        recorder.record(entry({ responseBody: body }));
        await new Promise((r) => setImmediate(r));
      }
      release();
      await holding;
      await recorder.flush();
    }
    expect((await stored()).map(([, res]) => res)).toEqual(recorded);
    expect(recorder.chunksAllocated).toBe(8);
  });

  it('while the database takes no writes, holds at most 64 MB of bodies, drops (and counts) the rest, and stores what it held', async () => {
    const { store, recorder, stored } = await setUp();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A transaction that does not end until the test says so: every write waits behind it.
    const holding = store.exclusive(() => held);
    const mb = `"${'b'.repeat((1 << 20) - 2)}"`;
    for (let i = 0; i < 70; i++) recorder.record(entry({ responseBody: mb }));
    expect(recorder.dropped).toBeGreaterThan(0);
    expect(recorder.dropped).toBeLessThan(70);
    release();
    await holding;
    await recorder.flush();
    const rows = await stored();
    expect(rows.length).toBe(70 - recorder.dropped);
    expect(rows.every(([, res]) => res === mb)).toBe(true);
  });
  it('holds only the kept part of answers over the cap while the database is slow: 1,000 answers of 1 MB wait as 16 MB', async () => {
    // Packed whole, 1,000 MB of answers would pass the 64 MB limit after 64 and the rest be dropped.
    // Each 1 MB answer is masked whole as it is recorded, all while the database is held: of `c`s,
    // a letter that begins a credential word (redact.ts credentialHint), 8-17 ms each, and CI's
    // machine took the hold past the store's 15 s limit on a transaction function (stop 63). Of
    // `x`s, which begins none, the search skips ahead; and the hold is given a minute (the test 90 s).
    const { store, recorder, stored } = await setUp(undefined, { maxBodyBytes: 16_384 }, true, 60_000);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = store.exclusive(() => held);
    const mb = `"${'x'.repeat((1 << 20) - 2)}"`;
    for (let i = 0; i < 1_000; i++) recorder.record(entry({ responseBody: mb }));
    expect(recorder.dropped).toBe(0);
    release();
    await holding;
    await recorder.flush();
    const rows = await store.journal.list(ACCOUNT, { limit: 100_000, afterSeq: 0 });
    expect(rows).toHaveLength(1_000);
    expect(rows.every((e) => e.responseBody === mb.slice(0, 16_384) && e.responseSize === 1 << 20)).toBe(true);
    expect((await stored()).length).toBe(1_000);
  }, 90_000);
});

// On SQLite, once where the server builds entries (its writer thread) and once where a store without
// that thread's operations has the recorder build them (the event loop): the same entries.
describe.each(onPostgres ? [true] : [true, false])('journal recorder: entries built at the flush (writer-thread operations: %s)', (withOperations) => {
  const KEY = 'u$rAccessKey-0123456789';
  const SECRET = 'sk-secret-abcdef987654';
  const call = (over: Partial<RecordedCall> = {}) =>
    entry({
      url: `/v2/LeadManagement.svc/Lead.GetById?accessKey=${encodeURIComponent(KEY)}&secretKey=${SECRET}&id=lead-1&note=${SECRET}`,
      keys: [KEY, SECRET],
      requestBody: `{"password":"hunter2-long","copy":"${KEY}","mx_Keyword":"kept"}`,
      responseBody: `{"token":"t-0000-1111","echo":"${SECRET}","nul":"a\u0000b"}`,
      leadId: 'lead-1',
      ...over,
    });
  const masked = {
    path: '/v2/LeadManagement.svc/Lead.GetById',
    query: 'accessKey=***&secretKey=***&id=lead-1&note=***',
    requestBody: '{"password":"***","copy":"***","mx_Keyword":"kept"}',
    requestSize: 80,
    // PostgreSQL refuses NUL in text: both engines keep U+FFFD (redact.ts, storable).
    responseBody: '{"token":"***","echo":"***","nul":"a\uFFFDb"}',
    responseSize: 67,
    leadId: 'lead-1',
  };
  const shape = (e: { path: string; query: string; requestBody: string | null; requestSize: number | null; responseBody: string | null; responseSize: number | null; leadId: string | null }) => ({
    path: e.path,
    query: e.query,
    requestBody: e.requestBody,
    requestSize: e.requestSize,
    responseBody: e.responseBody,
    responseSize: e.responseSize,
    leadId: e.leadId,
  });

  it("masks the call's keys and secret-named values, and keeps the bodies' sizes as sent; bodies with nothing to mask are stored as sent", async () => {
    const { store, recorder } = await setUp(undefined, {}, withOperations);
    const plain = '{"Status":"Success","Message":{"Id":"x"}}';
    // Between the masked ones, a body left as sent (it keeps its place in the batch's bytes).
    recorder.record(call());
    recorder.record(call({ requestBody: plain, responseBody: plain }));
    recorder.record(call());
    await recorder.flush();
    const [third, second, first] = await store.journal.list(ACCOUNT, { limit: 3 });
    expect(shape(first)).toEqual(masked);
    expect(shape(third)).toEqual(masked);
    expect([second.requestBody, second.responseBody, second.requestSize]).toEqual([plain, plain, plain.length]);
    expect(recorder.dropped).toBe(0);
  });

  it('cuts bodies over maxBodyBytes after masking, keeps those within it whole, and stores only sizes when it is 0', async () => {
    const capped = await setUp(undefined, { maxBodyBytes: 20 }, withOperations);
    capped.recorder.record(call());
    await capped.recorder.flush();
    const [e] = await capped.store.journal.list(ACCOUNT, { limit: 1 });
    expect([e.requestBody, e.responseBody, e.requestSize, e.responseSize]).toEqual(['{"password":"***","c', '{"token":"***","echo', 80, 67]);
    // Within a cap of 80 bytes (the request body is 80): stored whole, masked.
    const within = await setUp(undefined, { maxBodyBytes: 80 }, withOperations);
    within.recorder.record(call());
    await within.recorder.flush();
    const [w] = await within.store.journal.list(ACCOUNT, { limit: 1 });
    expect(shape(w)).toEqual(masked);
    const none = await setUp(undefined, { maxBodyBytes: 0 }, withOperations);
    none.recorder.record(call());
    await none.recorder.flush();
    const [n] = await none.store.journal.list(ACCOUNT, { limit: 1 });
    expect([n.requestBody, n.responseBody, n.requestSize, n.responseSize, n.query]).toEqual([null, null, 80, 67, masked.query]);
  });
});

describe('journal recorder: where the entries are built', () => {
  const KEY = 'u$rAccessKey-0123456789';
  const call = (over: Partial<RecordedCall> = {}) =>
    entry({ url: `/v2/LeadManagement.svc/Leads.GetById?accessKey=${KEY}&id=lead-2`, keys: [KEY], responseBody: `{"secret":"s-1234","echo":"${KEY}"}`, ...over });

  /** `store` with its `operate` calls for the journal counted: [sent, answered]. */
  const counting = (store: Store) => {
    const counts = { sent: 0, answered: 0 };
    const operate = store.operate;
    const watched: Store = new Proxy(store, {
      get(target, prop) {
        if (prop === 'operate' && operate)
          return async (name: string, c: Parameters<NonNullable<Store['operate']>>[1], input: unknown) => {
            if (name === STORE_CALLS) counts.sent += 1;
            const out = await operate.call(target, name, c, input);
            if (name === STORE_CALLS) counts.answered += 1;
            return out;
          };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { watched, counts };
  };

  const recorderOn = (store: Store) => new JournalRecorder(store, { maxEntries: 0, maxAgeMs: 0, maxBodyBytes: 1 << 20, now: () => Date.now(), log: pino({ level: 'silent' }) });

  it.skipIf(onPostgres)("on SQLite, has the writer thread build and store a batch in one message, masked as the event loop masks it", async () => {
    const { store } = await setUp();
    const { watched, counts } = counting(store);
    const recorder = recorderOn(watched);
    for (let i = 0; i < 5; i++) recorder.record(call());
    await recorder.flush();
    expect(counts).toEqual({ sent: 1, answered: 1 });
    const stored = await store.journal.list(ACCOUNT, { limit: 10 });
    expect(stored).toHaveLength(5);
    for (const e of stored) expect([e.query, e.responseBody]).toEqual(['accessKey=***&id=lead-2', '{"secret":"***","echo":"***"}']);
    expect(recorder.dropped).toBe(0);
  });

  it.skipIf(onPostgres)('on SQLite, builds the batch itself while writes wait on the writer thread (every caller of their batch would wait for it)', async () => {
    const { store } = await setUp();
    const { watched, counts } = counting(store);
    const recorder = recorderOn(watched);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = store.exclusive(() => held);
    expect(store.writesWaiting?.()).toBe(1);
    for (let i = 0; i < 4; i++) recorder.record(call());
    // The flush decides where to build as it starts, within this turn's microtasks, while held.
    const flushed = recorder.flush();
    await Promise.resolve();
    release();
    await Promise.all([holding, flushed]);
    expect(counts.sent).toBe(0);
    expect(store.writesWaiting?.()).toBe(0);
    expect((await store.journal.list(ACCOUNT, { limit: 10 })).map((e) => e.responseBody)).toEqual(Array(4).fill('{"secret":"***","echo":"***"}'));
    // Idle again: the next batch goes to the writer thread.
    recorder.record(call());
    await recorder.flush();
    expect(counts).toEqual({ sent: 1, answered: 1 });
  });

  it.skipIf(onPostgres)('builds and stores the batch itself when the writer thread cannot (no such operation there): nothing is lost', async () => {
    const { store } = await setUp(undefined, {}, false);
    const { watched, counts } = counting(store);
    const recorder = recorderOn(watched);
    for (let i = 0; i < 3; i++) recorder.record(call());
    await recorder.flush();
    // Asked, refused, then stored from here.
    expect(counts).toEqual({ sent: 1, answered: 0 });
    const stored = await store.journal.list(ACCOUNT, { limit: 10 });
    expect(stored.map((e) => e.responseBody)).toEqual(Array(3).fill('{"secret":"***","echo":"***"}'));
    expect(recorder.dropped).toBe(0);
  });

  it('storeCalls leaves out (and reports) a call whose body lies outside the batch, and stores the others', async () => {
    const { store } = await setUp();
    const bytes = Buffer.from('{"a":1}');
    const good = (id: string): JournalCall => ({ ...call({ id }), requestBody: [0, 0, bytes.length], responseBody: null, responseSize: null });
    const ids = ['00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-0000000000a3'];
    const calls = [good(ids[0]), { ...good(ids[1]), requestBody: [3, 0, 4] as const }, good(ids[2])];
    const input = { calls, chunks: [new Uint8Array(bytes)], maxBodyBytes: 1 << 20 };
    // Where the server runs it (SQLite: the writer thread, by name), else in a transaction here.
    const result = (store.operate ? await store.operate(STORE_CALLS, { now: Date.now(), userId: null }, input) : await store.transaction((tx) => storeCalls(tx.journal, input))) as StoreCallsResult;
    expect(result.unbuilt.map((u) => u.id)).toEqual([ids[1]]);
    expect(result.unbuilt[0].error).toMatch(/outside the batch/);
    const stored = await store.journal.list(ACCOUNT, { limit: 10, afterSeq: 0 });
    expect(stored.map((e) => [e.id, e.requestBody])).toEqual([
      [ids[0], '{"a":1}'],
      [ids[2], '{"a":1}'],
    ]);
  });
});
