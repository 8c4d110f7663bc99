/** The storage contract for the request journal (see store.contract.ts). */
import { describe, expect, it } from 'vitest';
import { SCAN_SPAN } from '../../src/storage/sql/seq-ranges.js';
import type { JournalEntry, Store } from '../../src/storage/store.js';
import { T0, newAccount, turnsDuring, uid } from './store.contract.js';

type NewEntry = Omit<JournalEntry, 'seq'>;

function entry(accountId: string, over: Partial<NewEntry> = {}): NewEntry {
  return {
    id: uid(),
    accountId,
    at: T0,
    method: 'POST',
    path: '/v2/ProspectActivity.svc/Create',
    query: 'accessKey=***&secretKey=***',
    status: 200,
    latencyMs: 1.25,
    requestBody: '{"a":1}',
    responseBody: '{"Status":"Success"}',
    requestSize: 7,
    responseSize: 20,
    leadId: null,
    activityId: null,
    requestId: null,
    ...over,
  };
}

export function journalContract(store: () => Store): void {
  describe('request journal', () => {
    it('stores entries and reads them back whole, newest first, per account', async () => {
      const s = store();
      const a = await newAccount(s);
      const b = await newAccount(s);
      const lead = uid();
      const first = entry(a, { at: T0, leadId: lead.toUpperCase(), activityId: 'ACT-1', requestId: null, requestBody: null, requestSize: null });
      const second = entry(a, { at: T0 + 1, method: 'GET', status: 404, latencyMs: 0.5, responseBody: 'x'.repeat(100), responseSize: 5000, requestId: 'REQ-1' });
      const theirs = entry(b, { at: T0 + 2 });
      await s.transaction((tx) => tx.journal.insertMany([first, second, theirs]));

      const mine = await s.journal.list(a, { limit: 10 });
      expect(mine.map((e) => e.id)).toEqual([second.id, first.id]);
      expect(mine[0].seq).toBeGreaterThan(mine[1].seq);
      // Ids are kept lower-case, as leads and activities are.
      expect(mine[1]).toEqual({ ...first, seq: mine[1].seq, leadId: lead.toLowerCase(), activityId: 'act-1' });
      expect(mine[0]).toEqual({ ...second, seq: mine[0].seq, requestId: 'req-1' });
      expect(await s.journal.get(a, first.id)).toEqual(mine[1]);
      // Another account's entry is not found by its id.
      expect(await s.journal.get(a, theirs.id)).toBeNull();
      expect(await s.journal.get(b, first.id)).toBeNull();
      expect((await s.journal.list(b, { limit: 10 })).map((e) => e.id)).toEqual([theirs.id]);
    });

    it('stores a large batch whole and in order', async () => {
      const s = store();
      const a = await newAccount(s);
      const batch = Array.from({ length: 70 }, (_, i) => entry(a, { at: T0 + i, status: 200 + (i % 3), leadId: i % 2 ? uid() : null }));
      await s.transaction((tx) => tx.journal.insertMany(batch));
      const got = await s.journal.list(a, { limit: 100, afterSeq: 0 });
      expect(got.map((e) => [e.id, e.at, e.status, e.leadId])).toEqual(batch.map((e) => [e.id, e.at, e.status, e.leadId]));
      for (let i = 1; i < got.length; i++) expect(got[i].seq).toBeGreaterThan(got[i - 1].seq);
    });

    it('stores bodies given as places in a batch of UTF-8 chunks as the same text', async () => {
      const s = store();
      const a = await newAccount(s);
      const req = '{"Note":"Jos\u00e9 \u2013 \ud83d\ude00"}';
      const res = '{"Status":"Success","Message":{"Id":"\u00fcber"}}';
      // Two chunks, as the recorder gives them: the request's body in the second, the answer's in the first.
      const chunks = [new Uint8Array(Buffer.from(`x${res}`, 'utf8')), new Uint8Array(Buffer.from(`xx${req}`, 'utf8'))];
      const packed = { ...entry(a), requestBody: [1, 2, Buffer.byteLength(req)] as const, responseBody: [0, 1, Buffer.byteLength(res)] as const };
      const plain = entry(a, { at: T0 + 1, requestBody: 'plain', responseBody: null });
      await s.transaction((tx) => tx.journal.insertMany([packed, plain], chunks));
      const got = await s.journal.list(a, { limit: 10, afterSeq: 0 });
      expect(got.map((e) => [e.requestBody, e.responseBody])).toEqual([
        [req, res],
        ['plain', null],
      ]);
      // Stored as text, not as a BLOB (which SQLite would give back as bytes).
      expect(typeof got[0].requestBody).toBe('string');
      // A place outside its chunk, or in a chunk the batch does not have, is refused, and nothing of the batch is stored.
      const outside = { ...entry(a), requestBody: [0, chunks[0].byteLength - 1, 2] as const };
      await expect(s.transaction((tx) => tx.journal.insertMany([entry(a), outside], chunks))).rejects.toThrow(/outside the batch's/);
      const noChunk = { ...entry(a), responseBody: [2, 0, 1] as const };
      await expect(s.transaction((tx) => tx.journal.insertMany([entry(a), noChunk], chunks))).rejects.toThrow(/outside the batch's/);
      expect(await s.journal.list(a, { limit: 10 })).toHaveLength(2);
    });

    it('filters by path (substring, any case, % and _ literal), status, lead and time, and pages by seq', async () => {
      const s = store();
      const a = await newAccount(s);
      const lead = uid();
      const rows = [
        entry(a, { at: T0, path: '/v2/LeadManagement.svc/Lead.Create', leadId: lead }),
        entry(a, { at: T0 + 10, path: '/v2/ProspectActivity.svc/Create', status: 400 }),
        entry(a, { at: T0 + 20, path: '/activity/create', leadId: lead, status: 200 }),
        entry(a, { at: T0 + 30, path: '/v2/LeadManagement.svc/Leads.GetById', status: 200 }),
        entry(a, { at: T0 + 40, path: '/odd%_path', status: 500 }),
      ];
      await s.journal.insertMany(rows);
      const ids = async (f: Parameters<Store['journal']['list']>[1]) => (await s.journal.list(a, f)).map((e) => rows.findIndex((r) => r.id === e.id));

      expect(await ids({ limit: 10 })).toEqual([4, 3, 2, 1, 0]);
      expect(await ids({ limit: 10, path: 'CREATE' })).toEqual([2, 1, 0]);
      expect(await ids({ limit: 10, path: 'leadmanagement.svc/lead' })).toEqual([3, 0]);
      expect(await ids({ limit: 10, path: '%' })).toEqual([4]);
      expect(await ids({ limit: 10, path: 'd_p' })).toEqual([]);
      expect(await ids({ limit: 10, status: 200 })).toEqual([3, 2, 0]);
      expect(await ids({ limit: 10, leadId: lead.toUpperCase() })).toEqual([2, 0]);
      expect(await ids({ limit: 10, from: T0 + 10, to: T0 + 30 })).toEqual([3, 2, 1]);
      expect(await ids({ limit: 10, status: 200, path: 'create' })).toEqual([2, 0]);

      // Paging newest first: a page, then the next before its last seq.
      const page1 = await s.journal.list(a, { limit: 2 });
      expect(page1.map((e) => e.id)).toEqual([rows[4].id, rows[3].id]);
      const page2 = await s.journal.list(a, { limit: 2, beforeSeq: page1[1].seq });
      expect(page2.map((e) => e.id)).toEqual([rows[2].id, rows[1].id]);
      // Tailing: what came after a seq, oldest first.
      const tail = await s.journal.list(a, { limit: 10, afterSeq: page2[1].seq });
      expect(tail.map((e) => e.id)).toEqual([rows[2].id, rows[3].id, rows[4].id]);
      expect(await s.journal.list(a, { limit: 10, afterSeq: page1[0].seq })).toEqual([]);
    });

    it('a path filter reads the account a stretch at a time: matches found across stretches, either way, the event loop turning between them', async () => {
      const s = store();
      const a = await newAccount(s);
      const other = await newAccount(s);
      const rows = Array.from({ length: SCAN_SPAN * 2 + 100 }, (_, i) => entry(a, { path: i === 0 ? '/Needle/oldest' : i === SCAN_SPAN + 50 ? '/needle/middle' : `/v2/call/${i}` }));
      // Another account's entries, matching too, in between.
      await s.journal.insertMany(rows.slice(0, SCAN_SPAN));
      await s.journal.insertMany([entry(other, { path: '/needle/elsewhere' })]);
      await s.journal.insertMany(rows.slice(SCAN_SPAN));
      const ids = async (f: Parameters<Store['journal']['list']>[1]) => (await s.journal.list(a, f)).map((e) => e.path);
      expect(await ids({ limit: 10, path: 'NEEDLE' })).toEqual(['/needle/middle', '/Needle/oldest']);
      expect(await ids({ limit: 1, path: 'needle' })).toEqual(['/needle/middle']);
      const [middle, oldest] = await s.journal.list(a, { limit: 10, path: 'needle' });
      expect(await ids({ limit: 10, path: 'needle', beforeSeq: middle.seq })).toEqual(['/Needle/oldest']);
      // Oldest first after a seq (the console's live tail), across stretches.
      expect(await ids({ limit: 10, path: 'needle', afterSeq: oldest.seq - 1 })).toEqual(['/Needle/oldest', '/needle/middle']);
      expect(await ids({ limit: 10, path: 'needle', afterSeq: oldest.seq })).toEqual(['/needle/middle']);
      expect(await ids({ limit: 10, path: 'needle', afterSeq: middle.seq })).toEqual([]);
      // A path no entry holds reads every stretch, the event loop turning between them.
      const { result: none, turns } = await turnsDuring(() => s.journal.list(a, { limit: 10, path: 'nowhere' }));
      expect(none).toEqual([]);
      expect(turns).toBeGreaterThanOrEqual(2);
    });

    it('trims an account to its newest entries, purges by age, clears one account; others keep theirs', async () => {
      const s = store();
      const a = await newAccount(s);
      const b = await newAccount(s);
      // Later than every other test's entries: the age purge is across accounts.
      const T1 = T0 + 1_000_000;
      const mine = Array.from({ length: 6 }, (_, i) => entry(a, { at: T1 + i }));
      const theirs = Array.from({ length: 3 }, (_, i) => entry(b, { at: T1 + i }));
      // Written in time order, as the journal writes them.
      await s.journal.insertMany([...mine, ...theirs].sort((x, y) => x.at - y.at));

      expect(await s.journal.trim(a, 4)).toBe(2);
      expect((await s.journal.list(a, { limit: 10 })).map((e) => e.id)).toEqual(mine.slice(2).reverse().map((e) => e.id));
      expect(await s.journal.trim(a, 4)).toBe(0);
      expect(await s.journal.trim(a, 100)).toBe(0);
      expect(await s.journal.list(b, { limit: 10 })).toHaveLength(3);

      // Age: across accounts, oldest first.
      await s.journal.purgeBefore(T1 + 3);
      expect((await s.journal.list(a, { limit: 10 })).map((e) => e.at)).toEqual([T1 + 5, T1 + 4, T1 + 3]);
      expect(await s.journal.list(b, { limit: 10 })).toEqual([]);
      expect(await s.journal.purgeBefore(T1 + 3)).toBe(0);
      // Everything old: all of it goes.
      const d = await newAccount(s);
      await s.journal.insertMany([entry(d, { at: T1 + 6 }), entry(d, { at: T1 + 7 })]);
      expect(await s.journal.purgeBefore(T1 + 8)).toBeGreaterThanOrEqual(5);
      expect(await s.journal.list(a, { limit: 10 })).toEqual([]);
      expect(await s.journal.list(d, { limit: 10 })).toEqual([]);
      await s.journal.insertMany([entry(a, { at: T1 + 3 }), entry(a, { at: T1 + 4 }), entry(a, { at: T1 + 5 })]);

      const c = await newAccount(s);
      await s.journal.insertMany([entry(c, { at: T1 + 100 })]);
      expect(await s.journal.clear(a)).toBe(3);
      expect(await s.journal.list(a, { limit: 10 })).toEqual([]);
      expect(await s.journal.list(c, { limit: 10 })).toHaveLength(1);
      // Seqs are never reused: a new entry comes after every deleted one.
      const [last] = await s.journal.list(c, { limit: 1 });
      await s.journal.insertMany([entry(a, { at: T1 + 101 })]);
      expect((await s.journal.list(a, { limit: 1 }))[0].seq).toBeGreaterThan(last.seq);
    });

    it("an account's data reset empties its journal too", async () => {
      const s = store();
      const a = await newAccount(s);
      const b = await newAccount(s);
      await s.journal.insertMany([entry(a), entry(a), entry(b)]);
      await s.transaction((tx) => tx.accounts.deleteData(a));
      expect(await s.journal.list(a, { limit: 10 })).toEqual([]);
      expect(await s.journal.list(b, { limit: 10 })).toHaveLength(1);
    });

    it('an insert rolled back with its transaction leaves no entry', async () => {
      const s = store();
      const a = await newAccount(s);
      await expect(
        s.transaction(async (tx) => {
          await tx.journal.insertMany([entry(a)]);
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await s.journal.list(a, { limit: 10 })).toEqual([]);
    });
  });
}
