/** `POST Lead.Convert?leadId=<visitor id>`: no visitors in leadtrail, so the lead by id, else by the default lookup, is updated; else one is created. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, SYNC_ENDPOINTS, accountIdOf, counts, createLead, expectKeysRequired, expectMx, expectNoChange, expectOk, getLead, leadByEmail, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let accountId: string;
const CONVERT = `${LM}/Lead.Convert`;
const attrs = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
});

describe('Lead.Convert', () => {
  it('updates the lead leadId names and answers the documented AffectedRows (docs example body)', async () => {
    const id = await createLead(s, { EmailAddress: 'visitor1@convert.example', FirstName: 'V' });
    const r = expectOk(await s.call('POST', `${CONVERT}?leadId=${id}`, attrs({ Company: 'MarketXpander Services' })));
    expect(r).toEqual({ Status: 'Success', Message: { AffectedRows: 1, Id: id, IsCreated: false } });
    expect(await getLead(s, id)).toMatchObject({ FirstName: 'V', Company: 'MarketXpander Services' });
  });

  it('a leadId naming no lead: the lead the default lookup finds by the body is updated', async () => {
    const id = await createLead(s, { EmailAddress: 'visitor2@convert.example' });
    const r = expectOk(await s.call('POST', `${CONVERT}?leadId=12345678-0000-0000-0000-000000000000`, attrs({ EmailAddress: 'VISITOR2@convert.example', LastName: 'Found' })));
    expect(r.Message).toEqual({ AffectedRows: 1, Id: id, IsCreated: false });
    expect((await getLead(s, id))!.LastName).toBe('Found');
  });

  it('otherwise a new lead is created from the body, with a new id', async () => {
    const before = await counts(s, accountId);
    const visitor = '87654321-0000-0000-0000-000000000000';
    const r = expectOk(await s.call('POST', `${CONVERT}?leadId=${visitor}`, attrs({ EmailAddress: 'visitor3@convert.example', FirstName: 'New' })));
    expect(r.Message).toMatchObject({ AffectedRows: 1, IsCreated: true });
    expect(r.Message.Id).not.toBe(visitor);
    expect((await counts(s, accountId)).leads).toBe(before.leads + 1);
    expect((await leadByEmail(s, 'visitor3@convert.example'))!.ProspectID).toBe(r.Message.Id);
  });

  it('errors: missing leadId, nothing to create a lead from, a taken unique value, an unknown attribute; none writes', async () => {
    const a = await createLead(s, { EmailAddress: 'visitor4@convert.example' });
    const b = await createLead(s, { EmailAddress: 'visitor5@convert.example' });
    await expectNoChange(s, [a, b], async () => {
      expectMx(await s.call('POST', CONVERT, attrs({ FirstName: 'x' })), 500, 'MXMandatoryAttributeMissingException', /leadId/);
      expectMx(await s.call('POST', `${CONVERT}?leadId=nobody`, attrs({ Company: 'No name' })), 500, 'MXMandatoryAttributeMissingException');
      expectMx(await s.call('POST', `${CONVERT}?leadId=${b}`, attrs({ EmailAddress: 'visitor4@convert.example' })), 500, 'MXDuplicateEntryException');
      expectMx(await s.call('POST', `${CONVERT}?leadId=${a}`, attrs({ NoSuchField: 'x' })), 500, 'MXUnknownAttributeException');
      expectMx(await s.call('POST', `${CONVERT}?leadId=${a}`, { not: 'a list' }), 400, 'MXInvalidInputException');
    });
  });

  it('path, query name and body properties in any case; LeadDetails wrapper', async () => {
    const id = await createLead(s, { EmailAddress: 'visitor6@convert.example' });
    const r = expectOk(await s.call('POST', `${LM.toLowerCase()}/lead.convert?LEADID=${id}`, { leaddetails: [{ attribute: 'JobTitle', value: 'CEO' }] }));
    expect(r.Message.Id).toBe(id);
    expect((await getLead(s, id))!.JobTitle).toBe('CEO');
  });

  it("accounts are isolated: another account's leadId is not found, nor its email", async () => {
    const mine = await createLead(s, { EmailAddress: 'visitor7@convert.example', FirstName: 'Mine' });
    const b = await secondAccount(s);
    const r = expectOk(await s.call('POST', `${CONVERT}?leadId=${mine}`, attrs({ EmailAddress: 'visitor7@convert.example', FirstName: 'Theirs' }), { keys: b.keys }));
    expect(r.Message.IsCreated).toBe(true);
    expect(r.Message.Id).not.toBe(mine);
    expect((await getLead(s, mine))!.FirstName).toBe('Mine');
  });

  it('needs keys', async () => {
    await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.includes('Lead.Convert'))!, KEYS);
  });
});
