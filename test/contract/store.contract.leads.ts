/** The storage contract for leads, lead fields, activity types and activities (see store.contract.ts). */
import { describe, expect, it } from 'vitest';
import type { Activity } from '../../src/domain/types.js';
import { SCAN_SPAN } from '../../src/storage/sql/seq-ranges.js';
import { UniqueViolation, type LeadSearch, type Store } from '../../src/storage/store.js';
import { T0, activityType, lead, newAccount, turnsDuring, uid } from './store.contract.js';

function activity(accountId: string, leadId: string, over: Partial<Activity> = {}): Omit<Activity, 'seq'> {
  return { id: uid(), accountId, leadId, eventCode: 201, note: 'n', occurredAt: T0, ownerEmail: null, fields: {}, score: 0, createdOn: T0, requestId: null, ...over };
}

const key = (field: string, value: string, unique = true) => ({ field, value, unique });

export function leadAndActivityContract(store: () => Store): void {
  describe('leads', () => {
    it('inserts and reads a lead with its fields and a numeric auto id', async () => {
      const s = store();
      const a = await newAccount(s);
      const l = lead(a, { FirstName: 'Ada', mx_Nested: { Sub: 'v', Empty: null }, Blank: null });
      await s.leads.insert(l, [key('emailaddress', 'ada@x.io')]);
      const got = await s.leads.get(a, l.id);
      expect(got).toMatchObject({ id: l.id, accountId: a, fields: l.fields, score: 0, createdOn: T0, modifiedOn: T0, lastActivityId: null });
      expect(typeof got?.autoId).toBe('number');
      expect(await s.leads.get(uid(), l.id)).toBeNull();
    });

    it('finds leads by key and knows who owns a unique value, per account', async () => {
      const s = store();
      const a = await newAccount(s);
      const b = await newAccount(s);
      const l1 = lead(a);
      const l2 = lead(a);
      await s.leads.insert(l1, [key('emailaddress', 'one@x.io'), key('phone', '555', false)]);
      await s.leads.insert(l2, [key('emailaddress', 'two@x.io'), key('phone', '555', false)]);
      // The same unique value in another account is another lead.
      await s.leads.insert(lead(b), [key('emailaddress', 'one@x.io')]);
      expect((await s.leads.findByKey(a, 'phone', '555')).map((l) => l.id)).toEqual([l1.id, l2.id]);
      expect(await s.leads.keyOwner(a, 'emailaddress', 'one@x.io')).toBe(l1.id);
      expect(await s.leads.keyOwner(a, 'phone', '555')).toBeNull();
      expect(await s.leads.keyOwner(a, 'emailaddress', 'none@x.io')).toBeNull();
    });

    it('refuses a taken unique value (partial unique index) but allows repeated non-unique ones', async () => {
      const s = store();
      const a = await newAccount(s);
      await s.leads.insert(lead(a), [key('emailaddress', 'dup@x.io'), key('city', 'Pune', false)]);
      const refused = lead(a, { EmailAddress: 'dup@x.io' });
      await expect(s.leads.insert(refused, [key('emailaddress', 'dup@x.io')])).rejects.toBeInstanceOf(UniqueViolation);
      // Nothing of the refused lead stays: neither its row nor its indexed values.
      expect(await s.leads.get(a, refused.id)).toBeNull();
      expect(await s.leads.count(a)).toBe(1);
      await s.leads.insert(lead(a), [key('city', 'Pune', false), key('emailaddress', 'dup@x.io', false)]);
      expect(await s.leads.findByKey(a, 'city', 'Pune')).toHaveLength(2);
    });

    it('update replaces fields and keys (freeing the old unique value); false for an unknown lead', async () => {
      const s = store();
      const a = await newAccount(s);
      const l = lead(a, { EmailAddress: 'old@x.io' });
      await s.leads.insert(l, [key('emailaddress', 'old@x.io')]);
      expect(await s.leads.update(a, l.id, { EmailAddress: 'new@x.io' }, [key('emailaddress', 'new@x.io')], T0 + 9)).toBe(true);
      expect(await s.leads.get(a, l.id)).toMatchObject({ fields: { EmailAddress: 'new@x.io' }, modifiedOn: T0 + 9 });
      expect(await s.leads.keyOwner(a, 'emailaddress', 'old@x.io')).toBeNull();
      expect(await s.leads.keyOwner(a, 'emailaddress', 'new@x.io')).toBe(l.id);
      await s.leads.insert(lead(a), [key('emailaddress', 'old@x.io')]);
      expect(await s.leads.update(a, uid(), {}, [], T0)).toBe(false);
      expect(await s.leads.update(uid(), l.id, {}, [], T0)).toBe(false);
    });

    it('remove deletes the lead (id in any case) with its activities, keys and indexed values; others stay; false for an unknown lead', async () => {
      const s = store();
      const a = await newAccount(s);
      const b = await newAccount(s);
      const gone = lead(a, { EmailAddress: 'gone@x.io', City: 'Pune' });
      const kept = lead(a, { EmailAddress: 'kept@x.io', City: 'Pune' });
      const theirs = lead(b, { EmailAddress: 'gone@x.io', City: 'Pune' });
      await s.leads.insert(kept, [key('emailaddress', 'kept@x.io'), key('city', 'pune', false)]);
      // The account's last ProspectAutoId: a counter that took the highest number left plus one would give it again.
      const goneAutoId = await s.leads.insert(gone, [key('emailaddress', 'gone@x.io'), key('city', 'pune', false)]);
      await s.leads.insert(theirs, [key('emailaddress', 'gone@x.io'), key('city', 'pune', false)]);
      const acts = [activity(a, gone.id, { score: 2 }), activity(a, gone.id, { eventCode: 202 }), activity(a, kept.id), activity(b, theirs.id)];
      for (const x of acts) expect(await s.leads.addActivity(x, 'n')).not.toBeNull();
      const byCity: LeadSearch = { where: [{ kind: 'field', field: 'City', op: '=', value: 'pune' }], orderBy: { kind: 'column', column: 'createdOn' }, descending: false, offset: 0, limit: 5, count: true };

      // Another account's id, and an unknown one: nothing is deleted.
      expect(await s.transaction((tx) => tx.leads.remove(b, gone.id))).toBe(false);
      expect(await s.transaction((tx) => tx.leads.remove(a, uid()))).toBe(false);
      expect(await s.leads.count(a)).toBe(2);

      expect(await s.transaction((tx) => tx.leads.remove(a, gone.id.toUpperCase()))).toBe(true);
      expect(await s.leads.get(a, gone.id)).toBeNull();
      expect(await s.leads.keyOwner(a, 'emailaddress', 'gone@x.io')).toBeNull();
      expect((await s.leads.findByKey(a, 'city', 'pune')).map((l) => l.id)).toEqual([kept.id]);
      expect((await s.leads.search(a, byCity)).leads.map((l) => l.id)).toEqual([kept.id]);
      expect(await s.activities.get(a, acts[0].id)).toBeNull();
      expect(await s.activities.get(a, acts[1].id)).toBeNull();
      expect(await s.activities.count(a)).toBe(1);
      expect((await s.activities.listForLead(a, { leadId: gone.id, offset: 0, limit: 10 })).activities).toEqual([]);
      expect((await s.activities.listByEvent(a, { eventCode: 201, from: null, to: null, offset: 0, limit: 10, descending: true })).activities.map((x) => x.id)).toEqual([acts[2].id]);
      // The rest of the account, and the other account, as they were.
      expect(await s.leads.get(a, kept.id)).toMatchObject({ fields: kept.fields });
      expect(await s.activities.get(a, acts[2].id)).toMatchObject({ leadId: kept.id });
      expect(await s.leads.keyOwner(b, 'emailaddress', 'gone@x.io')).toBe(theirs.id);
      expect((await s.leads.search(b, byCity)).leads.map((l) => l.id)).toEqual([theirs.id]);
      expect(await s.activities.count(b)).toBe(1);

      // Gone for good: a second remove finds nothing; the unique value is free; its ProspectAutoId is not given again.
      expect(await s.transaction((tx) => tx.leads.remove(a, gone.id))).toBe(false);
      const again = lead(a, { EmailAddress: 'gone@x.io' });
      const autoId = await s.leads.insert(again, [key('emailaddress', 'gone@x.io')]);
      expect(autoId).toBeGreaterThan(goneAutoId);
      expect(await s.leads.keyOwner(a, 'emailaddress', 'gone@x.io')).toBe(again.id);
    });

    it('replaceKeys replaces only the keys: fields, indexed values and ModifiedOn stay', async () => {
      const s = store();
      const a = await newAccount(s);
      const l = lead(a, { mx_Code: 'A-1', City: 'Pune' });
      await s.leads.insert(l, [key('mx_Code', 'a-1', false)]);
      await s.leads.replaceKeys(a, l.id, [key('mx_Code', 'a-1')]);
      expect(await s.leads.keyOwner(a, 'mx_Code', 'a-1')).toBe(l.id);
      expect(await s.leads.get(a, l.id)).toMatchObject({ fields: l.fields, modifiedOn: T0 });
      const search: LeadSearch = { where: [{ kind: 'field', field: 'City', op: '=', value: 'pune' }], orderBy: { kind: 'column', column: 'createdOn' }, descending: false, offset: 0, limit: 5, count: false };
      expect((await s.leads.search(a, search)).leads.map((x) => x.id)).toEqual([l.id]);
      // A unique value another lead holds is refused.
      const other = lead(a);
      await s.leads.insert(other, []);
      await expect(s.leads.replaceKeys(a, other.id, [key('mx_Code', 'a-1')])).rejects.toBeInstanceOf(UniqueViolation);
    });

    it('lockedAfter pages through the account\'s leads in ProspectAutoId order, each once', async () => {
      const s = store();
      const a = await newAccount(s);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const l = lead(a, { FirstName: `L${i}` });
        await s.leads.insert(l, []);
        ids.push(l.id);
      }
      await s.leads.insert(lead(await newAccount(s)), []);
      const seen: string[] = [];
      await s.transaction(async (tx) => {
        for (let after = 0; ; ) {
          const page = await tx.leads.lockedAfter(a, after, 2);
          seen.push(...page.map((l) => l.id));
          if (page.length < 2) break;
          after = page[page.length - 1].autoId;
        }
      });
      expect(seen).toEqual(ids);
    });

    it('adds score and records the last activity; ModifiedOn is when the lead changed, whatever the activity date', async () => {
      const s = store();
      const a = await newAccount(s);
      const l = lead(a);
      await s.leads.insert(l, []);
      const post = (id: string, name: string, score: number, on: number, now: number) => s.leads.addActivity(activity(a, l.id, { id, score, occurredAt: on, createdOn: now }), name);
      expect(await post('act1', 'Visit', 5, T0 + 1, T0 + 10)).toMatchObject({ id: l.id, score: 5, lastActivityId: 'act1' });
      await post('act2', 'Call', -2, T0 + 2, T0 + 20);
      expect(await s.leads.get(a, l.id)).toMatchObject({ score: 3, engagementScore: 3, lastActivityId: 'act2', lastActivityName: 'Call', lastActivityOn: T0 + 2, modifiedOn: T0 + 20 });
      // A back-dated activity is not the latest, but it changed the lead: ModifiedOn moves.
      await post('old', 'Old', 1, T0 - 1000, T0 + 30);
      expect(await s.leads.get(a, l.id)).toMatchObject({ score: 4, lastActivityId: 'act2', modifiedOn: T0 + 30 });
      // A future-dated one does not carry ModifiedOn into the future; nor does ModifiedOn go back.
      await post('future', 'Later', 1, T0 + 10_000_000, T0 + 40);
      expect(await s.leads.get(a, l.id)).toMatchObject({ lastActivityId: 'future', modifiedOn: T0 + 40 });
      await post('late', 'Late', 1, T0, T0 + 35);
      expect(await s.leads.get(a, l.id)).toMatchObject({ modifiedOn: T0 + 40 });
      // Every one was stored, with its own date and score.
      expect(await s.activities.get(a, 'old')).toMatchObject({ leadId: l.id, occurredAt: T0 - 1000, score: 1, createdOn: T0 + 30 });
      expect((await s.activities.listForLead(a, { leadId: l.id, offset: 0, limit: 10 })).total).toBe(5);
    });

    it('records an activity only on a lead of the account: none, or another account\'s, writes nothing', async () => {
      const s = store();
      const a = await newAccount(s);
      const b = await newAccount(s);
      const l = lead(a);
      await s.leads.insert(l, []);
      const stray = activity(b, l.id, { score: 3 });
      expect(await s.leads.addActivity(stray, 'n')).toBeNull();
      expect(await s.leads.addActivity(activity(a, uid(), { score: 3 }), 'n')).toBeNull();
      expect(await s.activities.get(b, stray.id)).toBeNull();
      expect(await s.activities.count(a)).toBe(0);
      expect(await s.activities.count(b)).toBe(0);
      expect(await s.leads.get(a, l.id)).toMatchObject({ score: 0, lastActivityId: null });
    });

    it('records an activity on a lead named in upper case, stored under the lead\'s id as stored', async () => {
      const s = store();
      const a = await newAccount(s);
      const l = lead(a);
      await s.leads.insert(l, []);
      const act = activity(a, l.id.toUpperCase(), { score: 2 });
      expect(await s.leads.addActivity(act, 'Visit')).toMatchObject({ id: l.id, score: 2, lastActivityName: 'Visit' });
      expect(await s.activities.get(a, act.id)).toMatchObject({ leadId: l.id });
      expect((await s.activities.listForLead(a, { leadId: l.id, offset: 0, limit: 10 })).activities.map((x) => x.id)).toEqual([act.id]);
    });

    it('records one activity per async request id: a second is a UniqueViolation that leaves the lead as it was', async () => {
      const s = store();
      const a = await newAccount(s);
      const l = lead(a);
      await s.leads.insert(l, []);
      const rid = uid();
      await s.leads.addActivity(activity(a, l.id, { requestId: rid, score: 4 }), 'n');
      await expect(s.transaction((tx) => tx.leads.addActivity(activity(a, l.id, { requestId: rid, score: 4 }), 'n'))).rejects.toBeInstanceOf(UniqueViolation);
      expect(await s.leads.get(a, l.id)).toMatchObject({ score: 4 });
      expect(await s.activities.countForRequest(a, rid)).toBe(1);
    });

    it('lists newest first with paging, total and search; counts per account', async () => {
      const s = store();
      const a = await newAccount(s);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const l = lead(a, { FirstName: i % 2 ? `Odd${i}` : `Even${i}` });
        ids.push(l.id);
        await s.leads.insert(l, []);
      }
      const page = await s.leads.list(a, { offset: 1, limit: 2 });
      expect(page.total).toBe(5);
      expect(page.leads.map((l) => l.id)).toEqual([ids[3], ids[2]]);
      const found = await s.leads.list(a, { offset: 0, limit: 10, search: 'oDD' });
      expect(found.leads.map((l) => l.id)).toEqual([ids[3], ids[1]]);
      expect(await s.leads.count(a)).toBe(5);
      expect(await s.leads.count(uid())).toBe(0);
    });

    it('quickSearch: chosen fields only, any case, wildcards and quotes as plain text, newest first, capped, per account', async () => {
      const s = store();
      const a = await newAccount(s);
      const add = async (fields: Record<string, string>, account = a) => {
        const l = lead(account, fields);
        await s.leads.insert(l, []);
        return l.id;
      };
      const pune = await add({ FirstName: 'Ada', mx_City: 'PUNE' });
      const percent = await add({ FirstName: '100% Pure_Name' });
      const quoted = await add({ Company: 'Say "Hi" \\ Co', Notes: 'pune' });
      const accented = await add({ LastName: 'ÉCOLE' });
      await add({ mx_City: 'Pune' }, await newAccount(s));
      const only = (name: string) => ['FirstName', 'LastName', 'Company', 'mx_City'].includes(name);
      const find = async (text: string, limit = 10) => (await s.leads.quickSearch(a, { text, inField: only, limit })).map((l) => l.id);
      // Notes is not searched, so the third lead's "pune" does not count; the other account's never does.
      expect(await find('pUnE')).toEqual([pune]);
      // % and _ match themselves only (a LIKE wildcard would match every lead).
      expect(await find('0% p')).toEqual([percent]);
      expect(await find('e_n')).toEqual([percent]);
      expect(await find('%')).toEqual([percent]);
      expect(await find('_')).toEqual([percent]);
      expect(await find('"hi" \\')).toEqual([quoted]);
      expect(await find('école')).toEqual([accented]);
      // Field names are not values: "FirstName" is in every stored row.
      expect(await find('firstname')).toEqual([]);
      expect(await find("' OR 1=1 --")).toEqual([]);
      expect(await find('a', 2)).toEqual([quoted, percent]);
    });

    it('quickSearch reads past a batch of candidates that only look like matches', async () => {
      const s = store();
      const a = await newAccount(s);
      const target = lead(a, { FirstName: 'Zed' });
      await s.leads.insert(target, []);
      // 250 newer leads whose stored JSON contains "zed" outside a searched field (more than one batch).
      for (let i = 0; i < 250; i++) await s.leads.insert(lead(a, { Notes: `zed ${i}` }), []);
      const got = await s.leads.quickSearch(a, { text: 'zed', inField: (n) => n === 'FirstName', limit: 25 });
      expect(got.map((l) => l.id)).toEqual([target.id]);
    });

    it('a search reads the account a stretch at a time: matches in every stretch, and the event loop turns between them', async () => {
      const s = store();
      const a = await newAccount(s);
      const other = await newAccount(s);
      // Two full stretches and part of a third, with another account's leads (which also match)
      // in between, so the stretches are counted in this account's leads only.
      const n = SCAN_SPAN * 2 + 100;
      const ids: string[] = [];
      await s.transaction(async (tx) => {
        for (let i = 0; i < n; i++) {
          const l = lead(a, { FirstName: i === 0 ? 'Oldest Zed' : i === SCAN_SPAN + 50 ? 'Middle Zed' : `Lead ${i}` });
          ids.push(l.id);
          await tx.leads.insert(l, []);
          if (i % 10 === 0) await tx.leads.insert(lead(other, { FirstName: 'Zed elsewhere' }), []);
        }
      });
      const [oldest, middle] = [ids[0], ids[SCAN_SPAN + 50]];
      const everyField = () => true;
      // Newest first, across stretches (the oldest lead is in the last one read).
      expect((await s.leads.quickSearch(a, { text: 'zED', inField: everyField, limit: 10 })).map((l) => l.id)).toEqual([middle, oldest]);
      expect((await s.leads.quickSearch(a, { text: 'zed', inField: everyField, limit: 1 })).map((l) => l.id)).toEqual([middle]);
      // The console's list counts the matches of every stretch and pages across them.
      const page = await s.leads.list(a, { offset: 1, limit: 1, search: 'zed' });
      expect(page.total).toBe(2);
      expect(page.leads.map((l) => l.id)).toEqual([oldest]);
      const named4 = ids.filter((_, i) => i !== 0 && i !== SCAN_SPAN + 50 && String(i).startsWith('4')).length;
      expect((await s.leads.list(a, { offset: 0, limit: 10, search: 'lead 4' })).total).toBe(named4);

      // A text no lead holds reads every stretch. Meanwhile the event loop keeps turning: other
      // requests are answered (on SQLite a single statement held it for the whole account).
      const { result: none, turns } = await turnsDuring(() => s.leads.quickSearch(a, { text: 'nobody has this', inField: everyField, limit: 10 }));
      expect(none).toEqual([]);
      expect(turns).toBeGreaterThanOrEqual(2);

      // A search whose client leaves (its signal aborts) stops before its next stretch.
      const leaving = new AbortController();
      setImmediate(() => leaving.abort());
      await expect(s.leads.quickSearch(a, { text: 'nobody has this', inField: everyField, limit: 10, signal: leaving.signal })).rejects.toMatchObject({ name: 'AbortError' });
      // Searches take turns, in the order asked: each reads its three stretches (two turns of the
      // event loop at least) after the one before it ended, rather than all ending together. One
      // that is left while it waits leaves the queue at once.
      const order: string[] = [];
      const endedAt: number[] = [];
      const search = (name: string, signal?: AbortSignal) =>
        s.leads.list(a, { offset: 0, limit: 10, search: 'nobody has this', signal }).then(
          () => order.push(`${name} done`) && endedAt.push(turnsNow()),
          (e: Error) => order.push(`${name} ${e.name}`),
        );
      const waiting = new AbortController();
      let turnsNow = () => 0;
      const { turns: total } = await turnsDuring(async () => {
        const all = [search('first'), search('second'), search('waiting', waiting.signal), search('last')];
        waiting.abort();
        await Promise.all(all);
      }, (read) => (turnsNow = read));
      expect(order).toEqual(['waiting AbortError', 'first done', 'second done', 'last done']);
      expect(endedAt[1] - endedAt[0]).toBeGreaterThanOrEqual(2);
      expect(endedAt[2] - endedAt[1]).toBeGreaterThanOrEqual(2);
      expect(total).toBeGreaterThanOrEqual(6);
    });
  });

  describe('lead search (Leads.Get and friends)', () => {
    it('is answered while a write transaction is open, sees only what was committed, and agrees with its count', async () => {
      const s = store();
      const a = await newAccount(s);
      const committed = lead(a, { FirstName: 'Committed' });
      await s.leads.insert(committed, []);
      const byCreatedOn: LeadSearch = { where: [], orderBy: { kind: 'column', column: 'createdOn' }, descending: true, offset: 0, limit: 10, count: true };
      // A write transaction holds the writer (on SQLite, the writer thread) until `release`. A search
      // may read much of an account: it must not wait for writes, nor make them wait.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let inserted!: () => void;
      const writing = new Promise<void>((r) => (inserted = r));
      const open = s.transaction(async (tx) => {
        await tx.leads.insert(lead(a, { FirstName: 'Uncommitted' }), []);
        inserted();
        await held;
      });
      await writing;
      const during = await Promise.race([s.leads.search(a, byCreatedOn), new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5_000))]);
      release();
      await open;
      expect(during).not.toBe('waited');
      expect(during).toMatchObject({ total: 1, leads: [{ id: committed.id }] });
      expect((await s.leads.search(a, byCreatedOn)).total).toBe(2);
    });
  });

  describe('lead fields', () => {
    it('upserts and lists definitions by schema name', async () => {
      const s = store();
      const a = await newAccount(s);
      const def = { schemaName: 'mx_B', displayName: 'B', dataType: 'String', isUnique: false, isMandatory: false, maxLength: 50, options: null, isSystem: false };
      await s.leadFields.upsert(a, def);
      await s.leadFields.upsert(a, { ...def, schemaName: 'mx_A', options: ['x', 'y'], isUnique: true });
      await s.leadFields.upsert(a, { ...def, displayName: 'B2', maxLength: null });
      const list = await s.leadFields.list(a);
      expect(list.map((d) => d.schemaName)).toEqual(['mx_A', 'mx_B']);
      expect(list[0]).toMatchObject({ options: ['x', 'y'], isUnique: true });
      expect(list[1]).toMatchObject({ displayName: 'B2', maxLength: null, isUnique: false });
    });
  });

  describe('activity types', () => {
    it('stores types, lists by code, finds by name in any case, and refuses a taken code', async () => {
      const s = store();
      const a = await newAccount(s);
      const t = activityType(a, 205, 'Webinar');
      await s.activityTypes.insert(t);
      await s.activityTypes.insert(activityType(a, 201, 'Visit'));
      expect(await s.activityTypes.get(a, 205)).toEqual(t);
      expect((await s.activityTypes.list(a)).map((x) => x.code)).toEqual([201, 205]);
      expect((await s.activityTypes.findByName(a, 'WEBINAR'))?.code).toBe(205);
      expect(await s.activityTypes.findByName(a, 'nope')).toBeNull();
      await expect(s.activityTypes.insert(activityType(a, 205, 'Other'))).rejects.toBeInstanceOf(UniqueViolation);
      // Another account may use the same code.
      await s.activityTypes.insert(activityType(await newAccount(s), 205));
    });

    it('next custom code is 201, then one past the highest custom code', async () => {
      const s = store();
      const a = await newAccount(s);
      expect(await s.activityTypes.nextCustomCode(a)).toBe(201);
      await s.activityTypes.insert({ ...activityType(a, 21), isSystem: true });
      expect(await s.activityTypes.nextCustomCode(a)).toBe(201);
      await s.activityTypes.insert(activityType(a, 230));
      expect(await s.activityTypes.nextCustomCode(a)).toBe(231);
    });
  });

  describe('activities', () => {
    it('lists a lead\'s activities newest first with paging, total and event filter', async () => {
      const s = store();
      const a = await newAccount(s);
      const theLead = lead(a);
      await s.leads.insert(theLead, []);
      const l = theLead.id;
      const made: string[] = [];
      // As the domain posts an activity: recorded on its lead (which counts it).
      for (let i = 0; i < 5; i++) {
        const act = activity(a, l, { occurredAt: T0 + i, eventCode: i < 3 ? 201 : 202, fields: { mx_Custom_1: `v${i}` }, score: i, ownerEmail: 'o@x.io', requestId: `req-${i}` });
        made.push(act.id);
        await s.leads.addActivity(act, 'n');
      }
      await s.activities.insert(activity(a, uid()));
      const page = await s.activities.listForLead(a, { leadId: l, offset: 1, limit: 2 });
      expect(page.total).toBe(5);
      expect(page.activities.map((x) => x.id)).toEqual([made[3], made[2]]);
      const only = await s.activities.listForLead(a, { leadId: l, eventCode: 202, offset: 0, limit: 10 });
      expect(only.activities.map((x) => x.id)).toEqual([made[4], made[3]]);
      expect(only.total).toBe(2);
      // A listed activity is read from a few of the row's columns (ListedActivity): each one it has
      // is the activity's own, with its type, whichever query (with an event code or without) read it.
      const full = (await s.activities.get(a, made[4]))!;
      const listed = { id: full.id, seq: full.seq, eventCode: 202, note: 'n', occurredAt: T0 + 4, ownerEmail: 'o@x.io', fields: { mx_Custom_1: 'v4' }, score: 4, requestId: 'req-4' };
      expect(only.activities[0]).toEqual(listed);
      expect((await s.activities.listForLead(a, { leadId: l, offset: 0, limit: 1 })).activities).toEqual([listed]);
      expect(await s.activities.get(a, made[4])).toMatchObject({ fields: { mx_Custom_1: 'v4' }, score: 4, occurredAt: T0 + 4, eventCode: 202 });
      expect(await s.activities.get(uid(), made[4])).toBeNull();
      expect(await s.activities.count(a)).toBe(6);
    });

    it('lists one event code account-wide within an inclusive date window, paged, either direction', async () => {
      const s = store();
      const a = await newAccount(s);
      const made: string[] = [];
      for (let i = 0; i < 6; i++) {
        // Two leads, one code; the same date twice (ties go by insertion order).
        const act = activity(a, i % 2 ? 'lead-1' : 'lead-2', { occurredAt: T0 + Math.min(i, 4) * 1000, eventCode: 205 });
        made.push(act.id);
        await s.activities.insert(act);
      }
      await s.activities.insert(activity(a, 'lead-1', { occurredAt: T0 + 2000, eventCode: 206 }));
      await s.activities.insert(activity(await newAccount(s), 'lead-1', { occurredAt: T0 + 2000, eventCode: 205 }));
      const q = { eventCode: 205, from: null, to: null, offset: 0, limit: 100, descending: false };
      const all = await s.activities.listByEvent(a, q);
      expect(all.total).toBe(6);
      expect(all.activities.map((x) => x.id)).toEqual(made);
      const window = await s.activities.listByEvent(a, { ...q, from: T0 + 1000, to: T0 + 3000 });
      expect(window.total).toBe(3);
      expect(window.activities.map((x) => x.id)).toEqual(made.slice(1, 4));
      const page = await s.activities.listByEvent(a, { ...q, descending: true, offset: 1, limit: 2 });
      expect(page.total).toBe(6);
      expect(page.activities.map((x) => x.id)).toEqual([made[4], made[3]]);
      expect((await s.activities.listByEvent(a, { ...q, from: T0 + 5000 })).total).toBe(0);
      expect((await s.activities.listByEvent(uid(), q)).activities).toEqual([]);
    });

    it('one activity per async request id (unique), any number without one', async () => {
      const s = store();
      const a = await newAccount(s);
      const rid = uid();
      await s.activities.insert(activity(a, uid(), { requestId: rid }));
      await expect(s.activities.insert(activity(a, uid(), { requestId: rid }))).rejects.toBeInstanceOf(UniqueViolation);
      await s.activities.insert(activity(a, uid()));
      await s.activities.insert(activity(a, uid()));
      expect(await s.activities.countForRequest(a, rid)).toBe(1);
      expect(await s.activities.countForRequest(a, uid())).toBe(0);
    });
  });
}
