/** The bulk lead reads: `Leads.Get`, `Leads.RecentlyModified` and `Leads/Retrieve/ByIds`. */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, SYNC_ENDPOINTS, accountIdOf, createLead, defineLeadField, expectKeysRequired, expectMx, expectOk, getLead, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;
let other: CallInit;
/** The server's clock: each lead below is made at a chosen time. */
let clock = Date.UTC(2025, 0, 1, 10, 0, 0);
const at = (iso: string) => (clock = Date.parse(`${iso}Z`));

/** Leads by name, made at 2025-01-0N 10:00:00 (N = 1..5). */
const who: Record<string, string> = {};

const get = (body: unknown, init?: CallInit) => s.call('POST', `${LM}/Leads.Get`, body, init);
const search = async (LookupName: string, SqlOperator: string, LookupValue: unknown, rest: Record<string, unknown> = {}, init?: CallInit): Promise<any[]> =>
  expectOk(await get({ Parameter: { LookupName, LookupValue, SqlOperator }, Columns: { Include_CSV: 'ProspectID,FirstName' }, ...rest }, init));
const names = (r: any[]) => r.map((l) => l.FirstName);
const recent = (body: unknown, init?: CallInit) => s.call('POST', `${LM}/Leads.RecentlyModified`, body, init);
const byIds = (body: unknown, init?: CallInit) => s.call('POST', `${LM}/Leads/Retrieve/ByIds`, body, init);
const props = (l: { LeadPropertyList: { Attribute: string; Value: string | null }[] }) => Object.fromEntries(l.LeadPropertyList.map((p) => [p.Attribute, p.Value]));

beforeAll(async () => {
  s = await started({}, { ctx: { now: () => clock, newId: () => randomUUID() } });
  other = { keys: (await secondAccount(s)).keys };
  await defineLeadField(s, await accountIdOf(s), { schemaName: 'mx_Age', dataType: 'Number' });
  const people: [string, Record<string, string>][] = [
    ['Ada', { LastName: 'Lovelace', EmailAddress: 'ada@example.com', Company: 'Analytical', mx_Age: '36' }],
    ['Bob', { LastName: 'Builder', EmailAddress: 'bob@example.com', Company: 'Builders Ltd', mx_Age: '3' }],
    ['carol', { LastName: 'Lovelace', EmailAddress: 'carol@example.com', mx_Age: '22' }],
    ['Dan', { LastName: 'Day', Phone: '+91-9000000001', Company: 'analytical engines' }],
    ['Émile', { LastName: 'Zola', EmailAddress: 'emile@example.com', mx_Age: '100' }],
  ];
  for (const [i, [name, attrs]] of people.entries()) {
    at(`2025-01-0${i + 1}T10:00:00`);
    who[name] = await createLead(s, { FirstName: name, ...attrs });
  }
  at('2025-02-01T00:00:00');
});

describe('Leads.Get', () => {
  it('finds leads by one field, ignoring case, answering a JSON array of flat leads with the columns asked, in their order', async () => {
    const r = expectOk(await get({
      Parameter: { LookupName: 'EmailAddress', LookupValue: 'ADA@example.com', SqlOperator: '=' },
      Columns: { Include_CSV: 'emailaddress, ProspectID ,firstname,mx_age,mx_Nothing' },
      Sorting: { ColumnName: 'CreatedOn', Direction: '1' },
      Paging: { PageIndex: 1, PageSize: 10 },
    }));
    // Names come back as the account spells them; a column the lead has no value for is null.
    expect(r).toEqual([{ EmailAddress: 'ada@example.com', ProspectID: who.Ada, FirstName: 'Ada', mx_Age: '36', mx_Nothing: null }]);
    expect(Object.keys(r[0])).toEqual(['EmailAddress', 'ProspectID', 'FirstName', 'mx_Age', 'mx_Nothing']);
    expect(expectOk(await get({ Parameter: { LookupName: 'EmailAddress', LookupValue: 'nobody@example.com' } }))).toEqual([]);
  });

  it('answers the whole lead read shape (as Leads.GetById) without Columns, and SqlOperator defaults to =', async () => {
    const r = expectOk(await get({ Parameter: { LookupName: 'LastName', LookupValue: ' builder ' } }));
    expect(r).toEqual([await getLead(s, who.Bob)]);
  });

  it('compares text with =, <>, <, >, <=, >= ignoring case, and LIKE with % and _ as wildcards', async () => {
    expect(names(await search('LastName', '=', 'LOVELACE', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Ada', 'carol']);
    expect(names(await search('LastName', '<>', 'lovelace', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Bob', 'Dan', 'Émile']);
    expect(names(await search('FirstName', '<', 'c', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Ada', 'Bob']);
    expect(names(await search('FirstName', '>=', 'Carol', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['carol', 'Dan', 'Émile']);
    expect(names(await search('Company', 'LIKE', 'analytical%', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Ada', 'Dan']);
    expect(names(await search('Company', 'like', '%LTD'))).toEqual(['Bob']);
    expect(names(await search('FirstName', 'LIKE', '_mile'))).toEqual(['Émile']);
    // A literal prefix is an index range by code point, also past ASCII and in any case.
    expect(names(await search('FirstName', 'LIKE', 'ÉMI%'))).toEqual(['Émile']);
    expect(names(await search('LastName', 'like', 'lovelac_', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Ada', 'carol']);
    // Without a wildcard LIKE is an exact match, as in SQL.
    expect(names(await search('Company', 'LIKE', 'analytical'))).toEqual(['Ada']);
    // A field a lead has no value for matches nothing, not even <>.
    expect(names(await search('Company', '<>', 'nothing', { Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Ada', 'Bob', 'Dan']);
  });

  it('compares Number fields as numbers (3 < 22 < 36 < 100)', async () => {
    expect(names(await search('mx_Age', '>', '22', { Sorting: { ColumnName: 'mx_Age', Direction: '0' } }))).toEqual(['Ada', 'Émile']);
    expect(names(await search('mx_Age', '<=', 22, { Sorting: { ColumnName: 'mx_Age', Direction: '1' } }))).toEqual(['carol', 'Bob']);
    expectMx(await get({ Parameter: { LookupName: 'mx_Age', LookupValue: 'old', SqlOperator: '>' } }), 500, 'MXInvalidInputException', /number/);
  });

  it("reads a Number field's LookupValue as a decimal (22, 22.0, 2.2e1), as a Decimal field's value is read; hex, octal, binary and Infinity, which JavaScript's Number() reads, are refused", async () => {
    for (const v of ['22', ' 22.0 ', '2.2e1', '+22', 22]) expect({ v, got: names(await search('mx_Age', '=', v)) }).toEqual({ v, got: ['carol'] });
    expect(names(await search('mx_Age', 'IN', ['0022', '3.0e0'], { Sorting: { ColumnName: 'mx_Age', Direction: '0' } }))).toEqual(['Bob', 'carol']);
    for (const v of ['0x16', '0b10110', '0o26', 'Infinity', '-Infinity']) {
      expectMx(await get({ Parameter: { LookupName: 'mx_Age', LookupValue: v, SqlOperator: '=' } }), 500, 'MXInvalidInputException', `'LookupValue' for mx_Age (a Number field) must be a number; got '${v}'.`);
      expectMx(await get({ Parameter: { LookupName: 'mx_Age', LookupValue: `3,${v}`, SqlOperator: 'IN' } }), 500, 'MXInvalidInputException', `'LookupValue' for mx_Age (a Number field) must be numbers; got '${v}'.`);
    }
  });

  it('IN takes comma-separated values or a JSON list, on text fields (ignoring case), Number fields, ids and numbers', async () => {
    const asc = { Sorting: { ColumnName: 'FirstName', Direction: '0' } };
    expect(names(await search('EmailAddress', 'IN', 'ADA@example.com, bob@example.com ,nobody@example.com', asc))).toEqual(['Ada', 'Bob']);
    expect(names(await search('EmailAddress', 'in', ['carol@example.com', ' Emile@Example.com '], asc))).toEqual(['carol', 'Émile']);
    expect(names(await search('mx_Age', 'IN', '3,100,22.0', asc))).toEqual(['Bob', 'carol', 'Émile']);
    expect(names(await search('ProspectID', 'IN', `${who.Dan.toUpperCase()},${who.Ada}`, asc))).toEqual(['Ada', 'Dan']);
    expect(names(await search('ProspectAutoId', 'IN', [1, 5].map(String), asc))).toEqual(['Ada', 'Émile']);
    expect(await search('LastName', 'IN', 'nobody,none')).toEqual([]);
    // Paging and RecordCount-free answer as for =.
    expect(names(await search('LastName', 'IN', 'lovelace,zola', { Sorting: { ColumnName: 'FirstName', Direction: '0' }, Paging: { PageIndex: 2, PageSize: 2 } }))).toEqual(['Émile']);
    expectMx(await get({ Parameter: { LookupName: 'CreatedOn', LookupValue: '2025-01-01 10:00:00', SqlOperator: 'IN' } }), 500, 'MXInvalidInputException', /IN/);
    expectMx(await get({ Parameter: { LookupName: 'mx_Age', LookupValue: '3,old', SqlOperator: 'IN' } }), 500, 'MXInvalidInputException', /number/);
    expectMx(await get({ Parameter: { LookupName: 'FirstName', LookupValue: ' , ', SqlOperator: 'IN' } }), 500, 'MXMandatoryAttributeMissingException', /IN/);
    expectMx(await get({ Parameter: { LookupName: 'FirstName', LookupValue: Array.from({ length: 1001 }, (_, i) => `n${i}`), SqlOperator: 'IN' } }), 500, 'MXInvalidInputException', /1000/);
    expectMx(await get({ Parameter: { LookupName: 'FirstName', LookupValue: ['a', { b: 1 }], SqlOperator: 'IN' } }), 400, 'MXInvalidInputException', /LookupValue/);
    expectMx(await get({ Parameter: { LookupName: 'FirstName', LookupValue: ['a', 'b'], SqlOperator: '=' } }), 400, 'MXInvalidInputException', /LookupValue/);
  });

  it('takes the Attribute/Value filter: LeadType OT_0 keeps every lead, another type none; another attribute is an = test', async () => {
    const asc = { Sorting: { ColumnName: 'FirstName', Direction: '0' } };
    expect(names(await search('LastName', '=', 'lovelace', { ...asc, Attribute: 'LeadType', Value: 'OT_0' }))).toEqual(['Ada', 'carol']);
    expect(await search('LastName', '=', 'lovelace', { Attribute: 'LeadType', Value: 'OT_1' })).toEqual([]);
    expect(names(await search('LastName', '=', 'lovelace', { attribute: 'EmailAddress', value: 'CAROL@example.com' }))).toEqual(['carol']);
    expectMx(await get({ Parameter: { LookupName: 'FirstName', LookupValue: 'Ada' }, Attribute: 'mx_Nope', Value: 'x' }), 500, 'MXUnknownAttributeException');
    const window = { Parameter: { FromDate: '2025-01-01 00:00:00', ToDate: '2025-01-05 23:59:59' } };
    expect(expectOk(await recent({ ...window, Attribute: 'LeadType', Value: 'OT_2' }))).toEqual({ RecordCount: 0, Leads: [] });
    expect(expectOk(await recent({ ...window, Attribute: 'LeadType', Value: 'OT_0' })).RecordCount).toBeGreaterThan(0);
  });

  it('compares CreatedOn by whole seconds, ProspectAutoId as a number, ProspectID by = and <>', async () => {
    expect(names(await search('CreatedOn', '>', '2025-01-03 10:00:00', { Sorting: { ColumnName: 'CreatedOn', Direction: '0' } }))).toEqual(['Dan', 'Émile']);
    expect(names(await search('CreatedOn', '>=', '2025-01-03 10:00:00', { Sorting: { ColumnName: 'CreatedOn', Direction: '0' } }))).toEqual(['carol', 'Dan', 'Émile']);
    expect(names(await search('createdon', '<', '2025-01-02 10:00:00'))).toEqual(['Ada']);
    expect(names(await search('CreatedOn', '<=', '2025-01-02 10:00:00'))).toEqual(['Bob', 'Ada']);
    expect(names(await search('CreatedOn', '=', '2025-01-04 10:00:00'))).toEqual(['Dan']);
    expect(names(await search('CreatedOn', '<>', '2025-01-04 10:00:00'))).toEqual(['Émile', 'carol', 'Bob', 'Ada']);
    expect(names(await search('ProspectAutoId', '>', '3'))).toEqual(['Émile', 'Dan']);
    expect(names(await search('ProspectID', '=', who.carol.toUpperCase()))).toEqual(['carol']);
  });

  it('a refused operator on a system column names only operators that column takes, and each of them works', async () => {
    const value: Record<string, string> = { ProspectID: who.carol, ProspectAutoId: '2', CreatedOn: '2025-01-03 10:00:00', ModifiedOn: '2025-01-03 10:00:00', LeadLastModifiedOn: '2025-01-03 10:00:00', Score: '0', EngagementScore: '0' };
    const refused: [string, string][] = [...Object.keys(value).map((c): [string, string] => [c, 'LIKE']), ['CreatedOn', 'IN'], ['ModifiedOn', 'IN']];
    for (const [column, op] of refused) {
      const message = expectMx(await get({ Parameter: { LookupName: column, LookupValue: value[column], SqlOperator: op } }), 500, 'MXInvalidInputException', new RegExp(`${op} cannot be used with ${column}; use `));
      const advised = [...message.split('; use ')[1].matchAll(/<>|<=|>=|=|<|>|\bIN\b/g)].map((m) => m[0]);
      expect(advised.length, message).toBeGreaterThan(0);
      for (const ok of advised) expect((await get({ Parameter: { LookupName: column, LookupValue: value[column], SqlOperator: ok } })).status, `${column} ${ok} (advised: ${message})`).toBe(200);
    }
  });

  it('sorts by any column (Direction "1" descending, the default, "0" ascending) and pages', async () => {
    const all = (rest: Record<string, unknown>) => search('CreatedOn', '>', '2000-01-01 00:00:00', rest);
    expect(names(await all({}))).toEqual(['Émile', 'Dan', 'carol', 'Bob', 'Ada']);
    expect(names(await all({ Sorting: { ColumnName: 'FirstName', Direction: '0' } }))).toEqual(['Ada', 'Bob', 'carol', 'Dan', 'Émile']);
    // Leads without an email sort as the smallest value.
    expect(names(await all({ Sorting: { ColumnName: 'EmailAddress', Direction: 0 } }))).toEqual(['Dan', 'Ada', 'Bob', 'carol', 'Émile']);
    expect(names(await all({ Sorting: { ColumnName: 'EmailAddress', Direction: '1' } }))).toEqual(['Émile', 'carol', 'Bob', 'Ada', 'Dan']);
    expect(names(await all({ Paging: { PageIndex: 2, PageSize: 2 } }))).toEqual(['carol', 'Bob']);
    expect(names(await all({ Paging: { PageIndex: '3', PageSize: '2' } }))).toEqual(['Ada']);
    expect(await all({ Paging: { PageIndex: 4, PageSize: 2 } })).toEqual([]);
  });

  it('follows lead updates: the old value no longer finds the lead, the new one does', async () => {
    at('2025-03-01T00:00:00');
    const id = await createLead(s, { FirstName: 'Moving', Company: 'Old Co' });
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'Company', Value: 'New Co' }]));
    expect(await search('Company', '=', 'old co')).toEqual([]);
    expect(await search('Company', '=', 'new co')).toEqual([{ ProspectID: id, FirstName: 'Moving' }]);
  });

  it('refuses a bad operator, an unknown field, a page over 5000 and other bad values, naming the problem', async () => {
    const p = (Parameter: Record<string, unknown>, rest: Record<string, unknown> = {}) => get({ Parameter: { LookupName: 'FirstName', LookupValue: 'Ada', ...Parameter }, ...rest });
    expectMx(await p({ SqlOperator: 'BETWEEN' }), 500, 'MXInvalidInputException', /'Parameter\.SqlOperator' must be one of .*; got 'BETWEEN'/);
    expectMx(await p({ SqlOperator: 'NOT IN' }), 500, 'MXInvalidInputException', /SqlOperator/);
    expectMx(await p({ SqlOperator: '=; DROP TABLE leads' }), 500, 'MXInvalidInputException', /SqlOperator/);
    expectMx(await p({ LookupName: 'mx_NoSuchField' }), 500, 'MXUnknownAttributeException', /mx_NoSuchField/);
    expectMx(await p({}, { Paging: { PageSize: 5001 } }), 500, 'MXInvalidInputException', /PageSize.*5000/);
    expectMx(await p({}, { Paging: { PageSize: 0 } }), 500, 'MXInvalidInputException', /PageSize/);
    expectMx(await p({}, { Paging: { PageIndex: -1 } }), 500, 'MXInvalidInputException', /PageIndex/);
    expectMx(await p({}, { Sorting: { ColumnName: 'Nope' } }), 500, 'MXUnknownAttributeException', /Nope/);
    expectMx(await p({}, { Sorting: { Direction: 'up' } }), 500, 'MXInvalidInputException', /Direction/);
    expectMx(await p({ LookupName: 'CreatedOn', LookupValue: '2025-13-01 00:00:00', SqlOperator: '>' }), 500, 'MXInvalidInputException', /LookupValue/);
    expectMx(await p({ LookupName: 'CreatedOn', LookupValue: '2025-01-01 00:00:00', SqlOperator: 'LIKE' }), 500, 'MXInvalidInputException', /LIKE/);
    expectMx(await p({ LookupName: 'ProspectAutoId', LookupValue: 'x' }), 500, 'MXInvalidInputException', /whole number/);
    expectMx(await p({ LookupValue: 'x'.repeat(201) }), 500, 'MXInvalidInputException', /200/);
    expectMx(await get({ Parameter: { LookupValue: 'x' } }), 500, 'MXMandatoryAttributeMissingException', /LookupName/);
    expectMx(await get({ Parameter: { LookupName: 'FirstName' } }), 500, 'MXMandatoryAttributeMissingException', /LookupValue/);
    expectMx(await get({}), 500, 'MXMandatoryAttributeMissingException', /LookupName/);
    expectMx(await get([]), 400, 'MXInvalidInputException');
    expectMx(await get({ Parameter: [] }), 400, 'MXInvalidInputException', /Parameter/);
    expectMx(await p({ LookupValue: { a: 1 } }), 400, 'MXInvalidInputException', /LookupValue/);
  });

  it("names every object's prototype has (constructor, __proto__, toString) are unknown columns, found nowhere and answered null", async () => {
    // They had been found in the table of system columns: 500 MXSystemException "no such column:
    // l.undefined" as a sort or lookup, a date error for a value, and columns left out or with no
    // Value in the answer (a fresh-eyes run).
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expectMx(await get({ Parameter: { LookupName: name, LookupValue: '1' } }), 500, 'MXUnknownAttributeException', new RegExp(name));
      expectMx(await get({ Parameter: { LookupName: name, LookupValue: '1,2', SqlOperator: 'IN' } }), 500, 'MXUnknownAttributeException', new RegExp(name));
      expectMx(await get({ Parameter: { LookupName: 'FirstName', LookupValue: 'Ada' }, Sorting: { ColumnName: name } }), 500, 'MXUnknownAttributeException', new RegExp(name));
      expectMx(await recent({ Parameter: { FromDate: '2000-01-01 00:00:00' }, Sorting: { ColumnName: name } }), 500, 'MXUnknownAttributeException', new RegExp(name));
      expectMx(await byIds({ SearchParameters: { LeadIds: [who.Ada] }, Sorting: { ColumnName: name } }), 500, 'MXUnknownAttributeException', new RegExp(name));
    }
    const columns = { Include_CSV: 'FirstName,constructor,__proto__,toString' };
    const found = await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'FirstName', LookupValue: 'Ada' }, Columns: columns });
    expect(found.text).toBe('[{"FirstName":"Ada","constructor":null,"__proto__":null,"toString":null}]');
    const read = await byIds({ SearchParameters: { LeadIds: [who.Ada] }, Columns: columns });
    expect(read.text).toContain('"FirstName":"Ada","constructor":null,"__proto__":null,"toString":null');
    const listed = expectOk(await recent({ Parameter: { FromDate: '2000-01-01 00:00:00' }, Columns: columns, Paging: { PageIndex: 1, PageSize: 200 } }));
    const ada = listed.Leads.find((l: any) => props(l).FirstName === 'Ada');
    expect(ada.LeadPropertyList).toEqual([
      { Attribute: 'FirstName', Value: 'Ada' },
      { Attribute: 'constructor', Value: null },
      { Attribute: '__proto__', Value: null },
      { Attribute: 'toString', Value: null },
      { Attribute: 'CanUpdate', Value: 'true' },
    ]);
  });

  it('matches paths and property names in any case', async () => {
    const r = await s.call('POST', `${LM.toLowerCase()}/leads.get`, { parameter: { lookupname: 'emailaddress', LOOKUPVALUE: 'bob@example.com', sqloperator: '=' }, columns: { include_csv: 'FirstName' } });
    expect(expectOk(r)).toEqual([{ FirstName: 'Bob' }]);
  });

  it('never finds another account’s leads', async () => {
    expect(await search('EmailAddress', '=', 'ada@example.com', {}, other)).toEqual([]);
    expect(await search('CreatedOn', '>', '2000-01-01 00:00:00', {}, other)).toEqual([]);
    const theirs = await createLead(s, { FirstName: 'Ada', EmailAddress: 'ada@example.com' }, other);
    expect(await search('EmailAddress', '=', 'ada@example.com', {}, other)).toEqual([{ ProspectID: theirs, FirstName: 'Ada' }]);
    expect(await search('EmailAddress', '=', 'ada@example.com')).toEqual([{ ProspectID: who.Ada, FirstName: 'Ada' }]);
    // mx_Age is a Number field only in the first account; the second has no such field.
    expectMx(await get({ Parameter: { LookupName: 'mx_Age', LookupValue: '3' } }, other), 500, 'MXUnknownAttributeException');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('Leads.Get'))!, KEYS);
  });
});

describe('Leads.RecentlyModified', () => {
  it('lists the leads modified in [FromDate, ToDate] with RecordCount, each as a LeadPropertyList', async () => {
    const r = expectOk(await recent({
      Parameter: { FromDate: '2025-01-02 10:00:00', ToDate: '2025-01-04 10:00:00' },
      Columns: { Include_CSV: 'ProspectID,FirstName,ModifiedOn' },
      Paging: { PageIndex: 1, PageSize: 100 },
      Sorting: { ColumnName: 'ProspectAutoId', Direction: '1' },
    }));
    expect(r.RecordCount).toBe(3);
    expect(r.Leads.map((l: any) => props(l).FirstName)).toEqual(['Dan', 'carol', 'Bob']);
    expect(r.Leads[0].LeadPropertyList).toEqual([
      { Attribute: 'ProspectID', Value: who.Dan },
      { Attribute: 'FirstName', Value: 'Dan' },
      { Attribute: 'ModifiedOn', Value: '2025-01-04 10:00:00.000' },
      { Attribute: 'CanUpdate', Value: 'true' },
    ]);
  });

  it('pages (RecordCount counts every match), sorts by ModifiedOn descending by default, takes open ends', async () => {
    const page = expectOk(await recent({ Parameter: { FromDate: '2025-01-01 00:00:00', ToDate: '2025-01-31 00:00:00' }, Columns: { Include_CSV: 'FirstName' }, Paging: { PageIndex: 2, PageSize: 2 } }));
    expect(page.RecordCount).toBe(5);
    expect(page.Leads.map((l: any) => props(l).FirstName)).toEqual(['carol', 'Bob']);
    const asc = expectOk(await recent({ Parameter: { ToDate: '2025-01-02 10:00:00' }, Columns: { Include_CSV: 'FirstName' }, Sorting: { ColumnName: 'ModifiedOn', Direction: '0' } }));
    expect(asc.Leads.map((l: any) => props(l).FirstName)).toEqual(['Ada', 'Bob']);
    expect(expectOk(await recent({ Parameter: { FromDate: '2030-01-01 00:00:00' } }))).toEqual({ RecordCount: 0, Leads: [] });
  });

  it('finds a lead by the time of its last update', async () => {
    at('2025-04-01T12:00:00');
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${who.Ada}`, [{ Attribute: 'JobTitle', Value: 'Countess' }]));
    const r = expectOk(await recent({ Parameter: { FromDate: '2025-04-01 12:00:00', ToDate: '2025-04-01 12:00:00' }, Columns: { Include_CSV: 'FirstName,JobTitle' } }));
    expect(r.RecordCount).toBe(1);
    expect(props(r.Leads[0])).toEqual({ FirstName: 'Ada', JobTitle: 'Countess', CanUpdate: 'true' });
  });

  it('refuses bad dates, a window that ends before it starts, and pages over 5000', async () => {
    expectMx(await recent({ Parameter: { FromDate: '2025-02-30 00:00:00' } }), 500, 'MXInvalidInputException', /FromDate/);
    expectMx(await recent({ Parameter: { FromDate: '2025-02-02 00:00:00', ToDate: '2025-02-01 00:00:00' } }), 500, 'MXInvalidInputException', /later/);
    expectMx(await recent({ Paging: { PageSize: 5001 } }), 500, 'MXInvalidInputException', /5000/);
    expectMx(await recent({ Parameter: 'x' }), 400, 'MXInvalidInputException');
  });

  it('matches paths and property names in any case, and never lists another account’s leads', async () => {
    const r = expectOk(await s.call('POST', `${LM}/leads.recentlymodified`, { parameter: { fromdate: '2025-01-05 10:00:00', todate: '2025-01-05 10:00:00' }, columns: { INCLUDE_CSV: 'firstname' } }));
    expect(r).toEqual({ RecordCount: 1, Leads: [{ LeadPropertyList: [{ Attribute: 'FirstName', Value: 'Émile' }, { Attribute: 'CanUpdate', Value: 'true' }] }] });
    const theirs = expectOk(await recent({ Parameter: { FromDate: '2000-01-01 00:00:00' }, Columns: { Include_CSV: 'ProspectID' } }, other));
    expect(theirs.Leads.map((l: any) => props(l).ProspectID)).not.toContain(who.Ada);
    expect(theirs.RecordCount).toBe(theirs.Leads.length);
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('Leads.RecentlyModified'))!, KEYS);
  });
});

describe('Leads/Retrieve/ByIds', () => {
  it('answers the leads found, newest first, with the columns asked, and RecordCount', async () => {
    const r = expectOk(await byIds({
      SearchParameters: { LeadIds: [who.Ada, who.carol.toUpperCase(), '00000000-0000-0000-0000-000000000000', who.Ada, 'not-a-guid'] },
      Columns: { Include_CSV: 'CreatedOn, EmailAddress, ProspectId, FirstName, CompanyType' },
      Paging: { PageIndex: 1, PageSize: 1000 },
    }));
    expect(r).toEqual({
      RecordCount: 2,
      Leads: [
        { CreatedOn: '2025-01-03 10:00:00.000', EmailAddress: 'carol@example.com', ProspectID: who.carol, FirstName: 'carol', CompanyType: null },
        { CreatedOn: '2025-01-01 10:00:00.000', EmailAddress: 'ada@example.com', ProspectID: who.Ada, FirstName: 'Ada', CompanyType: null },
      ],
    });
  });

  it('pages, and answers the whole read shape without Columns', async () => {
    const ids = [who.Ada, who.Bob, who.carol, who.Dan];
    const r = expectOk(await byIds({ SearchParameters: { LeadIds: ids }, Paging: { PageIndex: 2, PageSize: 3 } }));
    expect(r).toEqual({ RecordCount: 4, Leads: [await getLead(s, who.Ada)] });
    expect(expectOk(await byIds({ SearchParameters: { LeadIds: [] } }))).toEqual({ RecordCount: 0, Leads: [] });
  });

  it('refuses a missing or malformed id list, and more than 10000 ids', async () => {
    expectMx(await byIds({}), 500, 'MXMandatoryAttributeMissingException', /LeadIds/);
    expectMx(await byIds({ SearchParameters: { LeadIds: 'abc' } }), 400, 'MXInvalidInputException', /LeadIds/);
    expectMx(await byIds({ SearchParameters: { LeadIds: [1] } }), 400, 'MXInvalidInputException', /LeadIds\[0\]/);
    expectMx(await byIds({ SearchParameters: { LeadIds: Array.from({ length: 10_001 }, (_, i) => `id-${i}`) } }), 500, 'MXInvalidInputException', /10000/);
    expectMx(await byIds({ SearchParameters: { LeadIds: [who.Ada] }, Paging: { PageSize: 5001 } }), 500, 'MXInvalidInputException', /5000/);
  });

  it('matches paths and property names in any case, and never answers another account’s leads', async () => {
    const mine = { searchparameters: { leadids: [who.Bob] }, COLUMNS: { include_csv: 'firstname' } };
    expect(expectOk(await s.call('POST', `${LM}/leads/retrieve/byids`, mine))).toEqual({ RecordCount: 1, Leads: [{ FirstName: 'Bob' }] });
    expect(expectOk(await byIds(mine, other))).toEqual({ RecordCount: 0, Leads: [] });
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith('Leads/Retrieve/ByIds'))!, KEYS);
  });
});
