/**
 * An account holds at most MAX_CUSTOM_LEAD_FIELDS custom lead fields, however they are made: a lead
 * write naming new `mx_` attributes (sync and async), CreateLeadField, the CLI and seed files (the
 * domain's defineLeadField). Found by a new-user trial: one Lead.Create naming 22,000 new attributes
 * made as many fields in its transaction, which took PostgreSQL past the transaction timeout (a 500,
 * and an async request retried for hours) and held every write on SQLite for seconds. On both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
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

  it('fills up to the limit in one call; past it every way of making a field is refused, and the fields held still work', async () => {
    const room = MAX_CUSTOM_LEAD_FIELDS - (await customFields()).length;
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
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'still@example.com' }, { Attribute: 'mx_Fill7', Value: 'kept' }]));
    const lead = expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=still@example.com`));
    expect(lead[0].mx_Fill7).toBe('kept');
    await s.services.store.transaction((tx) => defineLeadField(tx, account.id, { schemaName: 'mx_Fill7', displayName: 'Seventh' }));

    // An async capture over the limit ends FAILURE at its first attempt: a client mistake is not retried.
    const id = await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'async-over@example.com' }, { Attribute: 'mx_AsyncOver', Value: 'x' }]);
    const st = await settled(s.url, id, undefined, '/lead/status');
    expect(st.TaskStatus.Status).toBe('FAILURE');
    expect(st.TaskStatus.StatusReason).toMatch(/MXInvalidInputException/);
    expect((await stored(s, id))?.attempts).toBe(0);
  });
});
