/**
 * A re-key of an account's leads (an operator's `leadtrail lead-fields set --unique`, the start-up
 * re-key of keys written by an older rule) from a store beside a running server, while the API
 * updates those leads: every update answered success is kept, and every lead is found by the
 * re-keyed field. On PostgreSQL the re-key read a page of 500 leads and wrote each one's whole field
 * map back as read, without the lead's turn: a Lead.Update committed in between was lost (about half
 * of the updates sent during the re-key, both answered success). SQLite's one writer runs the re-key
 * alone: there it never lost one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeLeadField, createLead, defineLeadField, findLead, leadFieldDefs, rekeyStaleAccounts } from '../../src/domain/leads.js';
import type { Store } from '../../src/storage/store.js';
import { LM, accountIdOf, expectOk, getLead } from '../helpers/lsq.js';
import { callWhileHeld } from '../helpers/held.js';
import { started, storeBeside, type TestServer } from '../helpers/server.js';

/** Fewer than the re-key's page (500): the old one read them all before writing the first. */
const LEADS = 300;
/** Updates in flight at once: enough to land many while the re-key runs, few enough to land between its reads and writes. */
const LANES = 4;

describe('a re-key beside lead updates', () => {
  let s: TestServer;
  let cli: Store;
  let accountId: string;
  beforeAll(async () => {
    s = await started();
    cli = await storeBeside(s);
    accountId = await accountIdOf(s);
  });
  afterAll(() => cli?.close());

  /** LEADS leads, each with its own `code` value, oldest first. */
  async function leadsWith(code: string): Promise<{ id: string; code: string }[]> {
    const ctx = s.services.ctx;
    return cli.transaction(async (tx) => {
      const made: { id: string; code: string }[] = [];
      for (let i = 0; i < LEADS; i++) {
        const value = `${code}-${i}`;
        made.push({ id: (await createLead(tx, ctx, accountId, { FirstName: `R${i}`, [code]: value })).id, code: value });
      }
      return made;
    });
  }

  /**
   * Runs `rekey` while Lead.Update calls set `field` on the leads, oldest first, LANES at a time,
   * until the re-key has ended. Returns the leads whose update was answered success.
   */
  async function updateDuring(leads: { id: string }[], field: string, rekey: () => Promise<unknown>): Promise<{ updated: string[]; rekeyed: unknown }> {
    let over = false;
    const running = rekey().finally(() => (over = true));
    const updated: string[] = [];
    let next = 0;
    const lane = async () => {
      while (!over && next < leads.length) {
        const { id } = leads[next++];
        expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: field, Value: `set-${id}` }]));
        updated.push(id);
      }
    };
    const [rekeyed] = await Promise.all([running, ...Array.from({ length: LANES }, lane)]);
    // Every lane sent an update while the re-key ran, or the test shows nothing. (Where the re-key
    // holds the leads, as SQLite's one writer does, each waits for it and is the lane's only one.)
    expect(updated.length).toBeGreaterThanOrEqual(LANES);
    return { updated, rekeyed };
  }

  /**
   * Every update answered success is kept, and the re-key wrote the keys: each lead is found by its
   * code. `heldWrites`: the change held the writes (changeLeadField, as `lead-fields set` runs it),
   * so the updated leads too; the start-up re-key holds only the leads it reads, and an update that
   * waited for it still writes keys by the definitions it read before.
   */
  async function expectKept(leads: { id: string; code: string }[], codeField: string, field: string, updated: string[], heldWrites: boolean): Promise<void> {
    const lost: string[] = [];
    for (const id of updated) if ((await getLead(s, id))?.[field] !== `set-${id}`) lost.push(id);
    expect(lost, `${lost.length} of ${updated.length} updates lost`).toEqual([]);
    const touched = new Set(heldWrites ? [] : updated);
    for (const { id, code } of leads) if (!touched.has(id)) expect((await findLead(s.services.store, accountId, codeField, code))?.id, code).toBe(id);
  }

  it('lead-fields set --unique keeps every Lead.Update made while it re-keys', async () => {
    const leads = await leadsWith('mx_Set_Code');
    // The updated field exists already: a write adding a field would wait for the re-key's turn on the fields.
    await cli.transaction((tx) => defineLeadField(tx, accountId, { schemaName: 'mx_Set_Note' }));
    const { updated } = await updateDuring(leads, 'mx_Set_Note', () => changeLeadField(cli, accountId, { schemaName: 'mx_Set_Code', isUnique: true }));
    await expectKept(leads, 'mx_Set_Code', 'mx_Set_Note', updated, true);
  });

  it('lead-fields set --unique waits for a lead being written, then sees its value (two leads never share a unique value)', async () => {
    // On PostgreSQL the change did not wait: a lead created beside it, keyed by the definitions as
    // they were (the field not unique), was not seen by the re-key, and once both committed two
    // leads held one value of a unique field. Now the change holds the database's writes first
    // (changeLeadField): it waits for the lead's transaction, and refuses the shared value.
    const ctx = s.services.ctx;
    await cli.transaction(async (tx) => {
      await defineLeadField(tx, accountId, { schemaName: 'mx_Race_Code' });
      await createLead(tx, ctx, accountId, { FirstName: 'First', mx_Race_Code: 'same' });
    });
    // The server's own store makes the change (on SQLite its writer thread waits for the file's
    // lock; a second store beside would wait on this event loop, and the held write with it).
    const store = s.services.store;
    const outcome = await callWhileHeld(
      s,
      cli,
      (tx) => createLead(tx, ctx, accountId, { FirstName: 'Second', mx_Race_Code: 'same' }),
      () => changeLeadField(store, accountId, { schemaName: 'mx_Race_Code', isUnique: true }).then(() => 'made unique', (e: unknown) => e),
    );
    expect(outcome).toMatchObject({ type: 'MXDuplicateEntryException' });
    const def = (await store.transaction((tx) => leadFieldDefs(tx, accountId))).find((d) => d.schemaName === 'mx_Race_Code');
    expect(def?.isUnique).toBe(false);
  });

  it('the start-up re-key keeps every Lead.Update made while it re-keys', async () => {
    const leads = await leadsWith('mx_Start_Code');
    await cli.transaction(async (tx) => {
      await defineLeadField(tx, accountId, { schemaName: 'mx_Start_Note' });
      await defineLeadField(tx, accountId, { schemaName: 'mx_Start_Code', isUnique: true });
      // As migration 0003 left an account keyed by the older phone rule.
      await tx.leads.setKeysVersion(accountId, 1);
    });
    const { updated, rekeyed } = await updateDuring(leads, 'mx_Start_Note', () => rekeyStaleAccounts(cli));
    expect(rekeyed).toBe(1);
    await expectKept(leads, 'mx_Start_Code', 'mx_Start_Note', updated, false);
  });

  it('the start-up re-key of an account takes as long as it needs: the limit on a transaction (LEADTRAIL_TX_TIMEOUT_MS) does not roll it back', async () => {
    // Its time grows with the account's leads: under the limit, a large account was rolled back at
    // every start (TransactionTimeout), and the server never started. Here a 1 ms limit stands for
    // an account too large for 15 s.
    const leads = await leadsWith('mx_Long_Code');
    await cli.transaction(async (tx) => {
      await defineLeadField(tx, accountId, { schemaName: 'mx_Long_Code', isUnique: true });
      await tx.leads.setKeysVersion(accountId, 1);
    });
    // SQLite as the server runs it, its writes on the writer thread: on the event loop, a function
    // whose statements never wait for I/O ends before any timer can fire.
    const hurried = await storeBeside(s, { txTimeoutMs: 1, sqliteWriter: 'thread' });
    try {
      expect(await rekeyStaleAccounts(hurried)).toBe(1);
      expect(await hurried.leads.accountsKeyedBefore(2)).not.toContain(accountId);
    } finally {
      await hurried.close();
    }
    for (const { id, code } of leads) expect((await findLead(s.services.store, accountId, 'mx_Long_Code', code))?.id, code).toBe(id);
  });
});
