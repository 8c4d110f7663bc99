/**
 * Updates of one lead, one activity or one activity type, sent side by side, each naming other fields: every one is
 * kept. On PostgreSQL, whose write batches run side by side, each update merged its fields into the
 * lead (activity) as read before the others committed, so the later ones dropped the earlier ones'
 * fields while every call was answered success (12 parallel Lead.Update kept 2 fields of 12; SQLite
 * kept all 12). Found by sending the same requests to a SQLite and a PostgreSQL server.
 */
import { describe, expect, it } from 'vitest';
import { LM, PA, createLead, createType, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';

const N = 12;
/** Bursts of the decision tests: one burst shows its race about every other time on PostgreSQL. */
const ROUNDS = 6;

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

/**
 * Decisions made on what a call read, side by side with another call changing it. On PostgreSQL each
 * of these decided on the lead (webhook, lead field list) as read before its turn, and wrote over what another call
 * had committed meanwhile: no serial order of the calls gives that result. Many calls at once, so
 * that without the turn some call reads before another commits (failed on every run on PostgreSQL).
 */
describe('decisions side by side', () => {
  it('Lead.Capture with UpdateOnlyEmptyFields leaves a field that Lead.Update set meanwhile', async () => {
    const s = await started();
    const slots = Array.from({ length: N }, (_, i) => `mx_Slot_${i}`);
    const leads: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const email = `empty${round}@example.com`;
      const lead = await createLead(s, { FirstName: 'Empty', EmailAddress: email });
      leads.push(lead);
      expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, slots.map((a) => ({ Attribute: a, Value: '' }))));
      const capture = [{ Attribute: 'EmailAddress', Value: email }, ...slots.map((a) => ({ Attribute: a, Value: 'capture' }))];
      const calls = slots.flatMap((a) => [
        s.call('POST', `${LM}/Lead.Capture?LeadUpdateBehavior=UpdateOnlyEmptyFields`, capture),
        s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, [{ Attribute: a, Value: 'update' }]),
      ]);
      for (const r of await Promise.all(calls)) expectOk(r);
    }
    // In either order each Lead.Update's value stays: a capture after it leaves the field alone.
    for (const lead of leads) {
      const read = await getLead(s, lead);
      for (const a of slots) expect(read?.[a], `${lead} ${a}`).toBe('update');
    }
  });

  it('a lead found by its Mobile, whose Mobile changes meanwhile, is not given the old number back (Capture, CreateOrUpdate, Convert)', async () => {
    const s = await started();
    const leads: { id: string; now: string }[] = [];
    for (let round = 0; round < 3 * ROUNDS; round++) {
      // Mobile, not EmailAddress: no unique key stops the old value from being written back.
      const old = `+91-9800${String(round).padStart(2, '0')}0000`;
      const now = `+91-9700${String(round).padStart(2, '0')}0000`;
      const id = await createLead(s, { FirstName: 'Moving', Mobile: old });
      leads.push({ id, now });
      const found = [{ Attribute: 'Mobile', Value: old }, { Attribute: 'mx_Seen', Value: 'yes' }];
      // Six pairs a burst: more calls at once made the race rarer on some runs (the doors queue
      // behind the lead's updates instead of reading beside them).
      const calls = Array.from({ length: 6 }, (_, i) => [
        s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [i === 1 ? { Attribute: 'Mobile', Value: now } : { Attribute: `mx_Other_${i}`, Value: 'x' }]),
        i % 3 === 0
          ? s.call('POST', `${LM}/Lead.Capture`, found)
          : i % 3 === 1
            ? s.call('POST', `${LM}/Lead.CreateOrUpdate`, [...found, { Attribute: 'SearchBy', Value: 'Mobile' }])
            : s.call('POST', `${LM}/Lead.Convert?leadId=00000000-0000-0000-0000-000000000000`, found),
      ]).flat();
      for (const r of await Promise.all(calls)) expectOk(r);
    }
    // In either order the lead ends with its new number: a lookup after the change finds no lead by
    // the old one (and creates one), a lookup before it is followed by the change.
    for (const { id, now } of leads) expect((await getLead(s, id))?.Mobile, id).toBe(now);
  });

  it('CreateLeadField beside writes naming the same new mx_ attribute: a field it answered success for has the type it asked for', async () => {
    const s = await started();
    const created: { schema: string; made: Awaited<ReturnType<typeof s.call>>[] }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const burst = await Promise.all(
        Array.from({ length: 3 }, async (_, k) => {
          const i = round * 3 + k;
          const schema = `mx_Race_Field_${i}`;
          const [made, ...writes] = await Promise.all([
            s.call('POST', `${LM}/CreateLeadField`, { DisplayName: `Race Field ${i}`, DataType: 'Number' }),
            s.call('POST', `${LM}/CreateLeadField`, { DisplayName: `Race Field ${i}`, DataType: 'Date' }),
            ...Array.from({ length: 3 }, (_, w) => s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: `F${i}-${w}` }, { Attribute: schema, Value: '7' }])),
          ]);
          return { schema, made: [made, writes[0]] };
        }),
      );
      created.push(...burst);
    }
    for (const { schema, made } of created) {
      // Serially a second create of one name is refused, and a write before it makes the field a
      // String that the create then refuses: at most one create succeeds, and its type is kept.
      const ok = made.map((r, k) => (r.status === 200 ? (k === 0 ? 'Number' : 'Date') : null)).filter((t) => t !== null);
      expect(ok.length, schema).toBeLessThanOrEqual(1);
      for (const r of made) if (r.status !== 200) expectMx(r, 500, 'MXDuplicateEntityNameException');
      const [field] = expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=${schema}`));
      if (ok.length === 1) expect(field.DataType, schema).toBe(ok[0]);
    }
  });

  it('Webhook.svc/Update calls of one webhook, each setting another property, keep every one', async () => {
    const s = await started();
    const hooks = await Promise.all(
      Array.from({ length: 4 }, async () => expectOk(await s.call('POST', '/v2/Webhook.svc/Create', { URL: 'http://127.0.0.1:9/hook', WebhookEvent: 3 })).Message.Id as string),
    );
    const changes: Record<string, unknown>[] = [
      { Description: 'described' },
      { URL: 'http://127.0.0.1:9/moved' },
      { ContentType: 'text/plain' },
      { WebhookEvent: 6 },
      { CustomHeaders: [{ Key: 'X-Race', Value: 'kept' }] },
      { NotifyOnFailure: true },
      { ExecutionDelay: 42 },
      { StatusCode: 1 },
    ];
    const calls = hooks.flatMap((WebhookId) => changes.map((c) => s.call('POST', '/v2/Webhook.svc/Update', { WebhookId, ...c })));
    for (const r of await Promise.all(calls)) expectOk(r);
    for (const WebhookId of hooks) {
      const [w] = expectOk(await s.call('POST', '/v2/Webhook.svc/Retrieve', { Parameter: { WebhookId } })).Response;
      expect(w, WebhookId).toMatchObject({
        Description: 'described',
        URL: 'http://127.0.0.1:9/moved',
        ContentType: 'text/plain',
        WebhookEvent: 6,
        CustomHeaders: [{ Key: 'X-Race', Value: 'kept' }],
        NotifyOnFailure: true,
        ExecutionDelay: 42,
        StatusCode: 1,
      });
    }
  });
});
