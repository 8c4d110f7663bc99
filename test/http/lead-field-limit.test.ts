/**
 * An account holds at most MAX_CUSTOM_LEAD_FIELDS custom lead fields, however they are made: a lead
 * write naming new `mx_` attributes (sync and async), CreateLeadField, the CLI and seed files (the
 * domain's defineLeadField). Found by a new-user trial: one Lead.Create naming 22,000 new attributes
 * made as many fields in its transaction, which took PostgreSQL past the transaction timeout (a 500,
 * and an async request retried for hours) and held every write on SQLite for seconds. On both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/domain/accounts.js';
import { MAX_CUSTOM_LEAD_FIELDS, defineLeadField } from '../../src/domain/leads.js';
import { accept, settled, stored } from '../async/helpers.js';
import { LM, expectMx, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;

const customFields = async (): Promise<string[]> =>
  (expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`)) as { SchemaName: string; IsCustom: boolean }[]).filter((f) => f.IsCustom).map((f) => f.SchemaName);

/** `n` attributes with new names, `mx_<prefix>0…`, each with a value. */
const attributes = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ Attribute: `mx_${prefix}${i}`, Value: `v${i}` }));

const LIMIT_MESSAGE = new RegExp(`An account holds at most ${MAX_CUSTOM_LEAD_FIELDS} custom lead fields; this one holds \\d+, and this call would add \\d+ .*Nothing was changed`);

beforeAll(async () => {
  s = await started();
});

describe(`at most ${MAX_CUSTOM_LEAD_FIELDS} custom lead fields per account`, () => {
  it('a lead write naming more new mx_ attributes than the account has room for changes nothing: no field, no lead', async () => {
    const before = await customFields();
    const r = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'too-many@example.com' }, ...attributes('Over', MAX_CUSTOM_LEAD_FIELDS - before.length + 1)]);
    expectMx(r, 500, 'MXInvalidInputException', LIMIT_MESSAGE);
    expect(await customFields()).toEqual(before);
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=too-many@example.com`))).toEqual([]);
  });

  it('two calls adding fields at once cannot pass the limit together: one of them is refused whole', async () => {
    const room = MAX_CUSTOM_LEAD_FIELDS - (await customFields()).length;
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'nearly@example.com' }, ...attributes('Near', room - 10)]));
    // Each fits alone (6 of the 10 left); both would not.
    const [a, b] = await Promise.all(['A', 'B'].map((p) => s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `race${p}@example.com` }, ...attributes(`Race${p}`, 6)])));
    expect([a.status, b.status].sort()).toEqual([200, 500]);
    expectMx(a.status === 500 ? a : b, 500, 'MXInvalidInputException', LIMIT_MESSAGE);
    const after = await customFields();
    expect(after.length).toBe(MAX_CUSTOM_LEAD_FIELDS - 4);
    // The refused call left none of its fields.
    const loser = a.status === 500 ? 'RaceA' : 'RaceB';
    expect(after.filter((n) => n.startsWith(`mx_${loser}`))).toEqual([]);
  });

  it('a transaction adding a field while another that adds one is open waits for it, then counts its field (PostgreSQL: two transactions side by side)', async () => {
    // An account of its own, one field short of the limit.
    const store = s.services.store;
    const { account, keys } = await store.transaction((tx) => createAccount(tx, s.services.ctx, { name: 'Limit race' }));
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'race@example.com' }, ...attributes('Pre', MAX_CUSTOM_LEAD_FIELDS - 1)], { keys }));
    const custom = async () => (await store.leadFields.list(account.id)).filter((d) => !d.isSystem).map((d) => d.schemaName);
    expect((await custom()).length).toBe(MAX_CUSTOM_LEAD_FIELDS - 1);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let firstWrote!: () => void;
    const wrote = new Promise<void>((r) => (firstWrote = r));
    const first = store.transaction(async (tx) => {
      await defineLeadField(tx, account.id, { schemaName: 'mx_First' });
      firstWrote();
      await held;
    });
    await wrote;
    const second = store.transaction((tx) => defineLeadField(tx, account.id, { schemaName: 'mx_Second' })).then(
      () => 'made',
      (e: Error) => e.message,
    );
    // The second is not done while the first holds its transaction open (SQLite: the one writer; PostgreSQL: the lock).
    const early = await Promise.race([second, new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    release();
    await first;
    expect(early).toBe('waiting');
    expect(await second).toMatch(LIMIT_MESSAGE);
    const names = await custom();
    expect(names.length).toBe(MAX_CUSTOM_LEAD_FIELDS);
    expect(names).toContain('mx_First');
    expect(names).not.toContain('mx_Second');
  });

  it('fills up to the limit in one call; past it every way of making a field is refused, and the fields held still work', async () => {
    const room = MAX_CUSTOM_LEAD_FIELDS - (await customFields()).length;
    expect(room).toBeGreaterThanOrEqual(2);
    // The same new name twice, in two spellings, is one field.
    const made = expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'full@example.com' }, ...attributes('Fill', room), { Attribute: 'mx_FILL0', Value: 'again' }]));
    expect(made.Status).toBe('Success');
    expect((await customFields()).length).toBe(MAX_CUSTOM_LEAD_FIELDS);

    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'one-more@example.com' }, { Attribute: 'mx_OneMore', Value: 'x' }]), 500, 'MXInvalidInputException', LIMIT_MESSAGE);
    expectMx(await s.call('POST', `${LM}/CreateLeadField`, { DisplayName: 'One More', DataType: 'Text' }), 500, 'MXInvalidInputException', LIMIT_MESSAGE);
    // The CLI's and the seed file's door.
    const [account] = await s.services.store.accounts.list();
    await expect(s.services.store.transaction((tx) => defineLeadField(tx, account.id, { schemaName: 'mx_FromCli' }))).rejects.toMatchObject({
      type: 'MXInvalidInputException',
      message: expect.stringMatching(LIMIT_MESSAGE),
    });
    expect((await customFields()).length).toBe(MAX_CUSTOM_LEAD_FIELDS);

    // Fields the account holds are written and changed as before.
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'still@example.com' }, { Attribute: 'mx_Fill1', Value: 'kept' }]));
    const lead = expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=still@example.com`));
    expect(lead[0].mx_Fill1).toBe('kept');
    await s.services.store.transaction((tx) => defineLeadField(tx, account.id, { schemaName: 'mx_Fill1', displayName: 'Second' }));

    // An async capture over the limit ends FAILURE at its first attempt: a client mistake is not retried.
    const id = await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'async-over@example.com' }, { Attribute: 'mx_AsyncOver', Value: 'x' }]);
    const st = await settled(s.url, id, undefined, '/lead/status');
    expect(st.TaskStatus.Status).toBe('FAILURE');
    expect(st.TaskStatus.StatusReason).toMatch(/MXInvalidInputException/);
    expect((await stored(s, id))?.attempts).toBe(0);
  });
});
