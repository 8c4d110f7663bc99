/**
 * A lead's ModifiedOn is when the lead changed, and posting an activity changes it (its score,
 * its activity count): so an incremental reader of Leads.RecentlyModified sees the lead in the
 * window of when the activity was posted, whatever date the activity carries. Before, ModifiedOn
 * took the activity's own date: a future-dated one carried it into the future (out of every window
 * up to now), a back-dated one left it where it was while the score changed. On both engines.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, createLead, createType, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let clock = Date.UTC(2025, 5, 1, 9, 0, 0);
let code: number;

const window = async (from: string, to: string): Promise<string[]> => {
  const r = expectOk(await s.call('POST', `${LM}/Leads.RecentlyModified`, { Parameter: { FromDate: from, ToDate: to }, Columns: { Include_CSV: 'FirstName' } }));
  return r.Leads.map((l: { LeadPropertyList: { Attribute: string; Value: string }[] }) => l.LeadPropertyList.find((p) => p.Attribute === 'FirstName')!.Value).sort();
};

beforeAll(async () => {
  s = await started({}, { ctx: { now: () => clock, newId: () => randomUUID() } });
  code = await createType(s, { ActivityEventName: 'Dated', Score: 5 });
});

describe('ModifiedOn after an activity', () => {
  it.each([
    ['future-dated', '2030-06-01 00:00:00'],
    ['back-dated', '2020-01-01 00:00:00'],
    ['dated now', '2025-06-02 10:00:00'],
  ])('a %s activity puts the lead in the window of when it was posted', async (name, date) => {
    clock = Date.UTC(2025, 5, 1, 9, 0, 0);
    const id = await createLead(s, { FirstName: name });
    clock = Date.UTC(2025, 5, 2, 10, 0, 0);
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: id, ActivityEvent: code, ActivityDateTime: date }));
    const lead = await getLead(s, id);
    expect(lead).toMatchObject({ ModifiedOn: '2025-06-02 10:00:00.000', Score: '5' });
    expect(await window('2025-06-02 10:00:00', '2025-06-02 10:00:00')).toContain(name);
    // Nothing ahead of now.
    expect(await window('2025-06-02 10:00:01', '2099-01-01 00:00:00')).not.toContain(name);
  });
});
