/**
 * DoNotEmail and DoNotCall: every read shows "0" for a lead that never had the flag written, and a
 * search finds the same leads (it used to find only leads whose flag had been written: a "leads we
 * may email" query missed most). Lookup values take every spelling writes take. A custom field set
 * cannot be searched. On both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, createLead, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
const ids: Record<string, string> = {};

const found = async (LookupName: string, SqlOperator: string, LookupValue: unknown): Promise<string[]> => {
  const r = expectOk(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName, LookupValue, SqlOperator }, Columns: { Include_CSV: 'ProspectID,FirstName' } }));
  return (r as { FirstName: string }[]).map((l) => l.FirstName).sort();
};

beforeAll(async () => {
  s = await started();
  ids.Plain = await createLead(s, { FirstName: 'Plain', EmailAddress: 'plain@example.com' });
  ids.Opted = await createLead(s, { FirstName: 'Opted', EmailAddress: 'opted@example.com', DoNotEmail: 'true' });
  ids.Quiet = await createLead(s, { FirstName: 'Quiet', EmailAddress: 'quiet@example.com', DoNotCall: 'Yes' });
  ids.Cleared = await createLead(s, { FirstName: 'Cleared', EmailAddress: 'cleared@example.com', DoNotEmail: '1' });
  // Clearing the flag makes it "0" again, in the read and in the search.
  expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${ids.Cleared}`, [{ Attribute: 'DoNotEmail', Value: '' }]));
});

describe('DoNotEmail / DoNotCall search', () => {
  it('reads show "0" and "1" as the search finds them', async () => {
    expect(await getLead(s, ids.Plain)).toMatchObject({ DoNotEmail: '0', DoNotCall: '0' });
    expect(await getLead(s, ids.Opted)).toMatchObject({ DoNotEmail: '1', DoNotCall: '0' });
    expect(await getLead(s, ids.Cleared)).toMatchObject({ DoNotEmail: '0' });
  });

  it.each(['0', 'false', 'No', 0, false])('DoNotEmail = %s finds every lead without the flag', async (v) => {
    expect(await found('DoNotEmail', '=', v)).toEqual(['Cleared', 'Plain', 'Quiet']);
  });

  it.each(['1', 'TRUE', 'yes', 1, true])('DoNotEmail = %s finds the lead with it', async (v) => {
    expect(await found('DoNotEmail', '=', v)).toEqual(['Opted']);
  });

  it('<> and IN read the flags the same way', async () => {
    expect(await found('DoNotCall', '<>', 'true')).toEqual(['Cleared', 'Opted', 'Plain']);
    expect(await found('DoNotCall', 'IN', 'yes,1')).toEqual(['Quiet']);
    expect(await found('DoNotEmail', 'IN', ['false'])).toEqual(['Cleared', 'Plain', 'Quiet']);
  });

  it('a lookup value that is no boolean is MXInvalidInputException, not an empty answer (found by a fresh-eyes run)', async () => {
    for (const [op, v] of [['=', 'maybe'], ['<>', '2'], ['IN', 'yes,perhaps']]) {
      const r = await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'DoNotEmail', LookupValue: v, SqlOperator: op } });
      expect(r.status, r.text).toBe(500);
      expect(r.body).toMatchObject({ ExceptionType: 'MXInvalidInputException', ExceptionMessage: expect.stringMatching(/DoNotEmail .*must be true\/false/) });
    }
  });

  it('a custom field set cannot be searched: MXInvalidInputException, not an empty answer', async () => {
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${ids.Plain}`, [{ Attribute: 'mx_Docs', Value: '', Fields: [{ Attribute: 'mx_CustomObject_1', Value: 'x' }] }]));
    for (const op of ['=', 'IN']) {
      const r = await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'mx_Docs', LookupValue: 'x', SqlOperator: op } });
      expect(r.status, r.text).toBe(500);
      expect(r.body).toMatchObject({ ExceptionType: 'MXInvalidInputException', ExceptionMessage: expect.stringMatching(/mx_Docs is a custom field set/) });
    }
    // And LeadsMetaData.Get says so, where it had said IsSearchable true (a fresh-eyes run).
    const [docs] = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=mx_Docs`));
    expect(docs).toMatchObject({ DataType: 'CustomObject', IsSearchable: false });
    const [plain] = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=FirstName`));
    expect(plain.IsSearchable).toBe(true);
  });
});
