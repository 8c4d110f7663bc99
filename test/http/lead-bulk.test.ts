/** `POST Lead/Bulk/Create` (≤50), `Lead/Bulk/CreateOrUpdate` (≤25), `Lead/Bulk/Update` (≤50 ids): a result per row, each row its own write. */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, SYNC_ENDPOINTS, accountIdOf, counts, createLead, defineLeadField, expectKeysRequired, expectMx, expectNoChange, expectOk, getLead, leadByEmail, secondAccount } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let accountId: string;

const CREATE = `${LM}/Lead/Bulk/Create`;
const UPSERT = `${LM}/Lead/Bulk/CreateOrUpdate`;
const UPDATE = `${LM}/Lead/Bulk/Update`;

/** An attribute list from an object (in key order). */
const attrs = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
  await defineLeadField(s, accountId, { schemaName: 'mx_Customer_No', isUnique: true });
});

describe('Lead/Bulk/Create', () => {
  it('creates every row (the docs example, custom field set included) and answers RowNumber, LeadId, LeadCreated per row', async () => {
    const body = [
      [...attrs({ EmailAddress: 'king@bulk.example', FirstName: 'Martin Luther', LastName: 'King', Phone: '8888800001', mx_City: 'New York' }),
        { Attribute: 'mx_KYC', Value: '', Fields: [{ Attribute: 'Status', Value: 'Pending' }] }],
      attrs({ EmailAddress: 'gandhi@bulk.example', FirstName: 'Mahatma', LastName: 'Gandhi', Phone: '8888800002', mx_City: 'Sabarmati' }),
    ];
    const r = expectOk(await s.call('POST', CREATE, body));
    expect(r).toEqual([
      { RowNumber: 1, LeadId: expect.any(String), LeadCreated: true },
      { RowNumber: 2, LeadId: expect.any(String), LeadCreated: true },
    ]);
    expect(await getLead(s, r[0].LeadId)).toMatchObject({ EmailAddress: 'king@bulk.example', FirstName: 'Martin Luther', mx_City: 'New York' });
    expect(await getLead(s, r[1].LeadId)).toMatchObject({ EmailAddress: 'gandhi@bulk.example', Phone: '8888800002' });
  });

  it('a row that fails among rows that succeed fails alone with its MX error; the others are created', async () => {
    const existing = await createLead(s, { EmailAddress: 'taken@bulk.example' });
    const before = await counts(s, accountId);
    const r = expectOk(
      await s.call('POST', CREATE, [
        attrs({ EmailAddress: 'ok1@bulk.example' }),
        attrs({ EmailAddress: 'TAKEN@bulk.example' }),
        attrs({ Company: 'No name or contact' }),
        attrs({ EmailAddress: 'ok2@bulk.example', NoSuchField: 'x' }),
        attrs({ EmailAddress: 'ok3@bulk.example' }),
        attrs({ EmailAddress: 'ok3@bulk.example' }),
      ]),
    );
    expect(r.map((x: any) => x.LeadCreated)).toEqual([true, false, false, false, true, false]);
    expect(r[1]).toEqual({ RowNumber: 2, LeadId: null, LeadCreated: false, ExceptionType: 'MXDuplicateEntryException', ExceptionMessage: 'A Lead with same Email already exists.' });
    expect(r[2]).toMatchObject({ RowNumber: 3, ExceptionType: 'MXMandatoryAttributeMissingException' });
    expect(r[3]).toMatchObject({ RowNumber: 4, ExceptionType: 'MXUnknownAttributeException', ExceptionMessage: expect.stringMatching(/NoSuchField/) });
    // A value repeated within the call: the first row takes it, the later one is a duplicate.
    expect(r[5]).toMatchObject({ RowNumber: 6, ExceptionType: 'MXDuplicateEntryException' });
    expect((await counts(s, accountId)).leads).toBe(before.leads + 2);
    expect((await leadByEmail(s, 'taken@bulk.example'))!.ProspectID).toBe(existing);
    expect(await leadByEmail(s, 'ok2@bulk.example')).toBeNull();
  });

  it('takes 50 rows; 51 is MXInvalidInputException and writes nothing', async () => {
    const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => attrs({ EmailAddress: `${tag}-${i}@bulk.example` }));
    const r = expectOk(await s.call('POST', CREATE, rows(50, 'fifty')));
    expect(r).toHaveLength(50);
    expect(r.every((x: any) => x.LeadCreated)).toBe(true);
    expect(r[49].RowNumber).toBe(50);
    await expectNoChange(s, [], async () => {
      expectMx(await s.call('POST', CREATE, rows(51, 'too-many')), 500, 'MXInvalidInputException', /At most 50/);
    });
  });

  it('a malformed row (wrong JSON types) is a 400 naming the row, before any row is written', async () => {
    await expectNoChange(s, [], async () => {
      expectMx(await s.call('POST', CREATE, [attrs({ EmailAddress: 'never@bulk.example' }), [{ Attribute: 5, Value: 'x' }]]), 400, 'MXInvalidInputException', /row 2/);
      expectMx(await s.call('POST', CREATE, [attrs({ EmailAddress: 'never@bulk.example' }), 'not a row']), 400, 'MXInvalidInputException', /row 2/);
      expectMx(await s.call('POST', CREATE, { EmailAddress: 'never@bulk.example' }), 400, 'MXInvalidInputException');
    });
  });

  it('an empty array answers an empty array', async () => {
    expect(expectOk(await s.call('POST', CREATE, []))).toEqual([]);
  });
});

describe('Lead/Bulk/CreateOrUpdate', () => {
  it('updates rows whose lead is found (by SearchBy, or the default lookup: email, then phone) and creates the others', async () => {
    const byEmail = await createLead(s, { EmailAddress: 'upsert-a@bulk.example', FirstName: 'A' });
    const byPhone = await createLead(s, { Phone: '+91-9700000001', FirstName: 'P' });
    const byCustom = await createLead(s, { FirstName: 'C', mx_Customer_No: 'CUST-7' });
    const r = expectOk(
      await s.call('POST', UPSERT, [
        [...attrs({ EmailAddress: 'UPSERT-A@bulk.example', Company: 'Acme' }), { Attribute: 'SearchBy', Value: 'EmailAddress' }],
        attrs({ Phone: '9700000001', Company: 'Phone Co' }),
        [...attrs({ mx_Customer_No: 'CUST-7', Company: 'Custom Co' }), { Attribute: 'SearchBy', Value: 'mx_Customer_No' }],
        attrs({ EmailAddress: 'upsert-new@bulk.example', FirstName: 'New' }),
      ]),
    );
    expect(r).toEqual([
      { RowNumber: 1, LeadId: byEmail, LeadCreated: false, LeadUpdated: true, AffectedRows: 1 },
      { RowNumber: 2, LeadId: byPhone, LeadCreated: false, LeadUpdated: true, AffectedRows: 1 },
      { RowNumber: 3, LeadId: byCustom, LeadCreated: false, LeadUpdated: true, AffectedRows: 1 },
      { RowNumber: 4, LeadId: expect.any(String), LeadCreated: true, LeadUpdated: false, AffectedRows: 1 },
    ]);
    expect(await getLead(s, byEmail)).toMatchObject({ FirstName: 'A', Company: 'Acme' });
    expect(await getLead(s, byPhone)).toMatchObject({ Company: 'Phone Co' });
    expect(await getLead(s, byCustom)).toMatchObject({ Company: 'Custom Co' });
    expect((await leadByEmail(s, 'upsert-new@bulk.example'))!.ProspectID).toBe(r[3].LeadId);
  });

  it('a failing row fails alone, with LeadUpdated false, AffectedRows 0 and its MX error', async () => {
    const keep = await createLead(s, { EmailAddress: 'upsert-keep@bulk.example', mx_Customer_No: 'CUST-KEEP' });
    const r = expectOk(
      await s.call('POST', UPSERT, [
        attrs({ EmailAddress: 'upsert-b@bulk.example', FirstName: 'B' }),
        attrs({ FirstName: 'Nothing to find me by' }),
        [...attrs({ FirstName: 'X' }), { Attribute: 'SearchBy', Value: 'ProspectID' }, { Attribute: 'ProspectID', Value: '12345678-0000-0000-0000-000000000000' }],
        // Found by nothing (SearchBy email), so created, but its unique customer number is taken.
        [...attrs({ EmailAddress: 'upsert-c@bulk.example', mx_Customer_No: 'CUST-KEEP' }), { Attribute: 'SearchBy', Value: 'EmailAddress' }],
        attrs({ EmailAddress: 'upsert-d@bulk.example' }),
      ]),
    );
    expect(r.map((x: any) => x.AffectedRows)).toEqual([1, 0, 0, 0, 1]);
    expect(r[1]).toEqual({
      RowNumber: 2, LeadId: null, LeadCreated: false, LeadUpdated: false, AffectedRows: 0,
      ExceptionType: 'MXMandatoryAttributeMissingException', ExceptionMessage: expect.any(String),
    });
    expect(r[2]).toMatchObject({ ExceptionType: 'MXInvalidEntityException', ExceptionMessage: expect.stringMatching(/12345678/) });
    expect(r[3]).toMatchObject({ ExceptionType: 'MXDuplicateEntryException' });
    expect(await leadByEmail(s, 'upsert-c@bulk.example')).toBeNull();
    expect((await getLead(s, keep))!.EmailAddress).toBe('upsert-keep@bulk.example');
  });

  it('takes 25 rows; 26 is MXInvalidInputException and writes nothing', async () => {
    const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => attrs({ EmailAddress: `${tag}-${i}@bulk.example` }));
    expect(expectOk(await s.call('POST', UPSERT, rows(25, 'up25')))).toHaveLength(25);
    await expectNoChange(s, [], async () => {
      expectMx(await s.call('POST', UPSERT, rows(26, 'up26')), 500, 'MXInvalidInputException', /At most 25/);
    });
  });

  it('rows may come wrapped in LeadDetails, and property names in any case', async () => {
    const r = expectOk(await s.call('POST', UPSERT, [{ leaddetails: [{ attribute: 'EmailAddress', value: 'wrapped@bulk.example' }, { ATTRIBUTE: 'FirstName', VALUE: 'W' }] }]));
    expect(r[0]).toMatchObject({ LeadCreated: true });
    expect(await leadByEmail(s, 'wrapped@bulk.example')).toMatchObject({ FirstName: 'W' });
  });
});

describe('Lead/Bulk/Update', () => {
  it("sets one field on every lead listed and answers the docs' AffectedRows", async () => {
    const a = await createLead(s, { FirstName: 'U1', mx_City: 'Pune' });
    const b = await createLead(s, { FirstName: 'U2' });
    const r = expectOk(await s.call('POST', UPDATE, { LeadIds: [a, b], LeadFields: { Attribute: 'mx_City', Value: 'Bangalore' } }));
    expect(r).toEqual({ Status: 'Success', Message: { AffectedRows: 2 } });
    expect(await getLead(s, a)).toMatchObject({ FirstName: 'U1', mx_City: 'Bangalore' });
    expect(await getLead(s, b)).toMatchObject({ FirstName: 'U2', mx_City: 'Bangalore' });
  });

  it('an unknown lead, or a unique value a second lead cannot take, fails that lead alone (FailedLeads); the rest are updated', async () => {
    const a = await createLead(s, { FirstName: 'V1' });
    const b = await createLead(s, { FirstName: 'V2' });
    const unknown = '12345678-0000-0000-0000-000000000000';
    const r = expectOk(await s.call('POST', UPDATE, { LeadIds: [a, unknown, b, a], LeadFields: { Attribute: 'mx_Customer_No', Value: 'CUST-SHARED' } }));
    expect(r.Message.AffectedRows).toBe(1);
    expect(r.Message.FailedLeads).toEqual([
      { LeadId: unknown, ExceptionType: 'MXInvalidEntityException', ExceptionMessage: `Lead does not exist in the system: ${unknown}` },
      { LeadId: b, ExceptionType: 'MXDuplicateEntryException', ExceptionMessage: expect.stringMatching(/mx_Customer_No/) },
    ]);
    expect((await getLead(s, a))!.mx_Customer_No).toBe('CUST-SHARED');
    expect((await getLead(s, b))!.mx_Customer_No ?? null).toBeNull();
  });

  it('LeadFields may be a list of attributes; property names in any case', async () => {
    const a = await createLead(s, { FirstName: 'W1' });
    const r = expectOk(await s.call('POST', UPDATE, { leadids: [a], leadfields: [{ attribute: 'Company', value: 'ListCo' }, { Attribute: 'JobTitle', Value: 'CTO' }] }));
    expect(r.Message.AffectedRows).toBe(1);
    expect(await getLead(s, a)).toMatchObject({ Company: 'ListCo', JobTitle: 'CTO' });
  });

  it('attributes the rules refuse fail the whole call and write nothing; missing parts are MXMandatoryAttributeMissingException', async () => {
    const a = await createLead(s, { FirstName: 'X1' });
    await expectNoChange(s, [a], async () => {
      expectMx(await s.call('POST', UPDATE, { LeadIds: [a], LeadFields: { Attribute: 'NoSuchField', Value: 'x' } }), 500, 'MXUnknownAttributeException');
      expectMx(await s.call('POST', UPDATE, { LeadIds: [a], LeadFields: { Attribute: 'EmailAddress', Value: 'not-an-email' } }), 500, 'MXInvalidInputException');
      expectMx(await s.call('POST', UPDATE, { LeadIds: [a], LeadFields: { Attribute: 'ProspectAutoId', Value: '9' } }), 500, 'MXInvalidInputException', /read-only/);
      expectMx(await s.call('POST', UPDATE, { LeadFields: { Attribute: 'FirstName', Value: 'x' } }), 500, 'MXMandatoryAttributeMissingException', /LeadIds/);
      expectMx(await s.call('POST', UPDATE, { LeadIds: [], LeadFields: { Attribute: 'FirstName', Value: 'x' } }), 500, 'MXMandatoryAttributeMissingException', /LeadIds/);
      expectMx(await s.call('POST', UPDATE, { LeadIds: [a] }), 500, 'MXMandatoryAttributeMissingException', /LeadFields/);
      expectMx(await s.call('POST', UPDATE, { LeadIds: [a, 7], LeadFields: { Attribute: 'FirstName', Value: 'x' } }), 400, 'MXInvalidInputException', /LeadIds\[1\]/);
      expectMx(await s.call('POST', UPDATE, { LeadIds: a, LeadFields: { Attribute: 'FirstName', Value: 'x' } }), 400, 'MXInvalidInputException');
      expectMx(await s.call('POST', UPDATE, [a]), 400, 'MXInvalidInputException');
    });
  });

  it('takes 50 lead ids; 51 is MXInvalidInputException', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
    expect(expectOk(await s.call('POST', UPDATE, { LeadIds: ids.slice(0, 50), LeadFields: { Attribute: 'FirstName', Value: 'x' } })).Message.AffectedRows).toBe(0);
    expectMx(await s.call('POST', UPDATE, { LeadIds: ids, LeadFields: { Attribute: 'FirstName', Value: 'x' } }), 500, 'MXInvalidInputException', /At most 50/);
  });
});

describe('every bulk lead endpoint', () => {
  it('paths match in any case', async () => {
    const r = expectOk(await s.call('POST', `${LM.toLowerCase()}/lead/bulk/create`, [attrs({ EmailAddress: 'lower@bulk.example' })]));
    expect(r[0].LeadCreated).toBe(true);
    const u = expectOk(await s.call('POST', `${LM.toUpperCase()}/LEAD/BULK/CREATEORUPDATE`, [attrs({ EmailAddress: 'lower@bulk.example', FirstName: 'Up' })]));
    expect(u[0]).toMatchObject({ LeadId: r[0].LeadId, LeadUpdated: true });
    expect(expectOk(await s.call('POST', `${LM}/lead/BULK/update`, { LeadIds: [r[0].LeadId], LeadFields: { Attribute: 'LastName', Value: 'Case' } })).Message.AffectedRows).toBe(1);
    expect(await getLead(s, r[0].LeadId)).toMatchObject({ FirstName: 'Up', LastName: 'Case' });
  });

  it("accounts are isolated: another account's leads are neither found nor updated, and its values are not duplicates", async () => {
    const mine = await createLead(s, { EmailAddress: 'iso@bulk.example', FirstName: 'Mine' });
    const b = await secondAccount(s);
    const keys = { keys: b.keys };
    // The same email in the other account is a new lead there, not an update of mine nor a duplicate.
    const c = expectOk(await s.call('POST', CREATE, [attrs({ EmailAddress: 'iso@bulk.example', FirstName: 'Theirs' })], keys));
    expect(c[0].LeadCreated).toBe(true);
    const u = expectOk(await s.call('POST', UPSERT, [attrs({ EmailAddress: 'iso@bulk.example', Company: 'Theirs Inc' })], keys));
    expect(u[0]).toMatchObject({ LeadId: c[0].LeadId, LeadUpdated: true });
    const up = expectOk(await s.call('POST', UPDATE, { LeadIds: [mine], LeadFields: { Attribute: 'FirstName', Value: 'Hijacked' } }, keys));
    expect(up.Message).toMatchObject({ AffectedRows: 0, FailedLeads: [{ LeadId: mine, ExceptionType: 'MXInvalidEntityException' }] });
    expect(await getLead(s, mine)).toMatchObject({ FirstName: 'Mine', Company: null });
    expect(await getLead(s, c[0].LeadId)).toBeNull();
  });

  it('need keys', async () => {
    for (const p of ['Lead/Bulk/Create', 'Lead/Bulk/CreateOrUpdate', 'Lead/Bulk/Update']) {
      await expectKeysRequired(s, SYNC_ENDPOINTS.find((e) => e.path.endsWith(p))!, KEYS);
    }
  });
});
