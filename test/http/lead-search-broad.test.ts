/**
 * `Leads.Get` answers the same whether its test matches few leads (answered from the value index,
 * matches sorted) or many (more than NARROW_MAX: the leads walked in sort order, each one's value
 * looked up). 2,100 leads, so both paths run, on the engine of the vitest project.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NARROW_MAX } from '../../src/storage/sql/lead-search.js';
import { LM, expectOk, secondAccount } from '../helpers/lsq.js';
import { started, type CallInit, type TestServer } from '../helpers/server.js';

const N = 2100;
let s: TestServer;
let other: CallInit;
const email = (i: number) => `b${i}@broad.example`;

const all = async (LookupName: string, SqlOperator: string, LookupValue: string, init?: CallInit): Promise<string[]> => {
  const r = expectOk(await s.call('POST', `${LM}/Leads.Get`, {
    Parameter: { LookupName, LookupValue, SqlOperator },
    Columns: { Include_CSV: 'EmailAddress' },
    Sorting: { ColumnName: 'ProspectAutoId', Direction: '0' },
    Paging: { PageIndex: 1, PageSize: 5000 },
  }, init));
  return r.map((l: any) => l.EmailAddress);
};
const expected = (keep: (i: number) => boolean) => Array.from({ length: N }, (_, i) => i).filter(keep).map(email);

beforeAll(async () => {
  expect(N).toBeGreaterThan(NARROW_MAX);
  s = await started();
  other = { keys: (await secondAccount(s)).keys };
  for (let from = 0; from < N; from += 50) {
    const rows = Array.from({ length: Math.min(50, N - from) }, (_, k) => [
      { Attribute: 'EmailAddress', Value: email(from + k) },
      { Attribute: 'FirstName', Value: 'Broad' },
      { Attribute: 'Company', Value: `co${(from + k) % 3}` },
    ]);
    const r = expectOk(await s.call('POST', `${LM}/Lead/Bulk/Create`, rows));
    expect(r.every((x: any) => x.LeadCreated)).toBe(true);
  }
}, 120_000);

describe('Leads.Get with many matches and with few', () => {
  it('= on a value every lead has (many) and on one only one lead has (few)', async () => {
    expect(await all('FirstName', '=', 'broad')).toEqual(expected(() => true));
    expect(await all('EmailAddress', '=', email(1234))).toEqual([email(1234)]);
    expect(await all('Company', '=', 'co1')).toEqual(expected((i) => i % 3 === 1));
  });

  it('LIKE with a prefix matching many (b%) and fewer (b1%), and LIKE without a prefix', async () => {
    expect(await all('EmailAddress', 'LIKE', 'b%')).toEqual(expected(() => true));
    expect(await all('EmailAddress', 'LIKE', 'b1%')).toEqual(expected((i) => String(i).startsWith('1')));
    expect(await all('EmailAddress', 'LIKE', '%7@broad.example')).toEqual(expected((i) => i % 10 === 7));
  });

  it('ranges matching many and few; <> ; Score on every lead and on none', async () => {
    const key = (i: number) => email(i);
    expect(await all('EmailAddress', '>', 'b2')).toEqual(expected((i) => key(i) > 'b2'));
    expect(await all('EmailAddress', '<=', 'b105@')).toEqual(expected((i) => key(i) <= 'b105@'));
    expect(await all('Company', '<>', 'co0')).toEqual(expected((i) => i % 3 !== 0));
    expect(await all('Score', '=', '0')).toEqual(expected(() => true));
    expect(await all('Score', '>', '0')).toEqual([]);
  });

  it('pages the same way through many matches', async () => {
    const page = async (PageIndex: number) => expectOk(await s.call('POST', `${LM}/Leads.Get`, {
      Parameter: { LookupName: 'FirstName', LookupValue: 'broad' },
      Columns: { Include_CSV: 'EmailAddress' },
      Sorting: { ColumnName: 'CreatedOn', Direction: '1' },
      Paging: { PageIndex, PageSize: 1000 },
    })).map((l: any) => l.EmailAddress);
    const pages = [...(await page(1)), ...(await page(2)), ...(await page(3))];
    expect(pages).toHaveLength(N);
    expect(new Set(pages).size).toBe(N);
  });

  it('never finds another account’s leads, many or few', async () => {
    expect(await all('FirstName', '=', 'broad', other)).toEqual([]);
    expect(await all('EmailAddress', 'LIKE', 'b%', other)).toEqual([]);
  });
});
