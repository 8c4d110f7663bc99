/**
 * Updates of one lead, one activity or one activity type, sent side by side, each naming other fields: every one is
 * kept. On PostgreSQL, whose write batches run side by side, each update merged its fields into the
 * lead (activity) as read before the others committed, so the later ones dropped the earlier ones'
 * fields while every call was answered success (12 parallel Lead.Update kept 2 fields of 12; SQLite
 * kept all 12). Found by sending the same requests to a SQLite and a PostgreSQL server.
 */
import { describe, expect, it } from 'vitest';
import { LM, PA, createLead, createType, expectOk, getLead } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';

const N = 12;

describe('updates side by side', () => {
  it('Lead.Update, Lead/Bulk/Update and Lead.CreateOrUpdate of one lead keep every field each one set', async () => {
    const s = await started();
    const lead = await createLead(s, { FirstName: 'Race', EmailAddress: 'race@example.com' });
    const calls = Array.from({ length: N }, (_, i) => {
      const body = [{ Attribute: `mx_Race_${i}`, Value: `v${i}` }];
      if (i % 3 === 0) return s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, body);
      if (i % 3 === 1) return s.call('POST', `${LM}/Lead/Bulk/Update`, { LeadIds: [lead], LeadFields: body[0] });
      return s.call('POST', `${LM}/Lead.CreateOrUpdate`, [...body, { Attribute: 'EmailAddress', Value: 'race@example.com' }, { Attribute: 'SearchBy', Value: 'EmailAddress' }]);
    });
    for (const r of await Promise.all(calls)) expectOk(r);
    const read = await getLead(s, lead);
    for (let i = 0; i < N; i++) expect(read?.[`mx_Race_${i}`], `mx_Race_${i}`).toBe(`v${i}`);
  });

  it('CustomActivity/Update of one activity keeps every field each one set', async () => {
    const s = await started();
    const code = await createType(s, { ActivityEventName: 'Race', Fields: Array.from({ length: N }, (_, i) => ({ SchemaName: `mx_Custom_${i + 1}`, DataType: 'String' })) });
    const lead = await createLead(s, { FirstName: 'Race' });
    const id = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code })).Message.Id;
    const calls = Array.from({ length: N }, (_, i) =>
      s.call('POST', `${PA}/CustomActivity/Update`, { ProspectActivityId: i % 2 ? id.toUpperCase() : id, Fields: [{ SchemaName: `mx_Custom_${i + 1}`, Value: `v${i}` }] }),
    );
    for (const r of await Promise.all(calls)) expectOk(r);
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${id}`));
    const values = Object.fromEntries(details.Fields.map((f: { SchemaName: string; Value: string }) => [f.SchemaName, f.Value]));
    for (let i = 0; i < N; i++) expect(values[`mx_Custom_${i + 1}`], `mx_Custom_${i + 1}`).toBe(`v${i}`);
  });

  it('CustomActivityType/Update of one type keeps every field each one added', async () => {
    const s = await started();
    const code = await createType(s, { ActivityEventName: 'Growing' });
    const calls = Array.from({ length: N }, (_, i) =>
      s.call('POST', `${PA}/CustomActivityType/Update`, { ID: code, Fields: [{ SchemaName: `mx_Custom_${i + 1}`, DisplayName: `F${i}`, DataType: 'String' }] }),
    );
    for (const r of await Promise.all(calls)) expectOk(r);
    const setting = expectOk(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${code}`));
    expect(setting.Fields.map((f: { SchemaName: string }) => f.SchemaName)).toEqual(Array.from({ length: N }, (_, i) => `mx_Custom_${i + 1}`));
  });
});
