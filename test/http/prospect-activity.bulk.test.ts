/** `POST …/Bulk/CustomActivity/Add/ByLeadId` and `…/Add/ByLeadField?searchBy=`: at most 25 rows, a result per row. */
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, accountIdOf, activitiesOf, counts, createLead, createType, defineLeadField, expectMx, expectNoChange, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;
let leadA: string;
let leadB: string;
let accountId: string;

const BY_ID = `${PA}/Bulk/CustomActivity/Add/ByLeadId`;
const BY_FIELD = `${PA}/Bulk/CustomActivity/Add/ByLeadField`;

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
  code = await createType(s, {
    Score: 2,
    Fields: [
      { SchemaName: 'mx_Custom_1', DataType: 'Number' },
      { SchemaName: 'mx_Custom_2', DataType: 'Dropdown', OptionSet: ['Open', 'Closed'] },
    ],
  });
  await defineLeadField(s, accountId, { schemaName: 'mx_Account_No', isUnique: true });
  leadA = await createLead(s, { FirstName: 'A', EmailAddress: 'bulk-a@example.com', Phone: '9811111111', Mobile: '9822222222', mx_Account_No: 'ACC-1' });
  leadB = await createLead(s, { FirstName: 'B', EmailAddress: 'bulk-b@example.com' });
});

/** A row as in the docs' bulk example. */
const row = (ref: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...ref,
  ActivityEvent: code,
  ActivityNote: 'Bulk note',
  ActivityOwnerEmail: 'owner@example.com',
  ActivityDateTime: '2024-05-06 07:08:09',
  Fields: [
    { SchemaName: 'mx_Custom_1', Value: '12' },
    { SchemaName: 'mx_Custom_2', Value: 'Open' },
  ],
  ...extra,
});

describe('Bulk ByLeadId', () => {
  it('posts every row and answers a result per row', async () => {
    const before = await activitiesOf(s, leadA);
    const r = expectOk(await s.call('POST', BY_ID, [row({ RelatedProspectId: leadA }), row({ RelatedProspectId: leadB })]));
    expect(r.Response).toHaveLength(2);
    expect(r.Response[0]).toMatchObject({ RowNumber: 1, ActivityCreated: true, ProspectActivityId: expect.any(String), RelatedProspectId: leadA });
    expect(r.Response[1]).toMatchObject({ RowNumber: 2, ActivityCreated: true, RelatedProspectId: leadB });
    const after = await activitiesOf(s, leadA);
    expect(after.RecordCount).toBe(before.RecordCount + 1);
    expect(after.ProspectActivities[0]).toMatchObject({ Id: r.Response[0].ProspectActivityId, ActivityOwnerEmail: 'owner@example.com', CreatedOn: '2024-05-06 07:08:09' });
  });

  it('a bad row fails alone, says why, and writes nothing; the good rows are kept', async () => {
    const scoreB = (await getLead(s, leadB))!.Score;
    const r = expectOk(
      await s.call('POST', BY_ID, [
        row({ RelatedProspectId: leadA }),
        row({ RelatedProspectId: leadB }, { Fields: [{ SchemaName: 'mx_Custom_1', Value: 'twelve' }] }),
        row({ RelatedProspectId: '12345678-0000-0000-0000-000000000000' }),
        row({ RelatedProspectId: leadB }, { ActivityEvent: 9999 }),
        row({}),
        row({ RelatedProspectId: leadB }, { Fields: [{ SchemaName: 'mx_Custom_2', Value: 'Maybe' }] }),
        row({ RelatedProspectId: leadB }, { Fields: [{ SchemaName: 'mx_Custom_2', Value: 'Maybe' }], ValidateDropDownOptions: true }),
      ]),
    );
    expect(r.Response.map((x: any) => x.ActivityCreated)).toEqual([true, false, false, false, false, false, true]);
    expect(r.Response[1]).toMatchObject({ RowNumber: 2, ExceptionType: 'MXInvalidInputException', ExceptionMessage: expect.stringMatching(/mx_Custom_1/) });
    expect(r.Response[2]).toMatchObject({ ExceptionType: 'MXInvalidEntityException', ExceptionMessage: expect.stringMatching(/12345678/) });
    expect(r.Response[3]).toMatchObject({ ExceptionType: 'MXInvalidActivityException' });
    expect(r.Response[4]).toMatchObject({ ExceptionType: 'MXMandatoryAttributeMissingException', ExceptionMessage: expect.stringMatching(/RelatedProspectId/) });
    expect(r.Response[5]).toMatchObject({ ExceptionType: 'MXInvalidInputException', ExceptionMessage: expect.stringMatching(/mx_Custom_2/) });
    // Only the one good row on B scored.
    expect(Number((await getLead(s, leadB))!.Score)).toBe(Number(scoreB) + 2);
  });

  it('takes 25 rows', async () => {
    const before = (await activitiesOf(s, leadB)).RecordCount;
    const r = expectOk(await s.call('POST', BY_ID, Array.from({ length: 25 }, () => row({ RelatedProspectId: leadB }))));
    expect(r.Response).toHaveLength(25);
    expect(r.Response.every((x: any) => x.ActivityCreated)).toBe(true);
    expect(r.Response[24].RowNumber).toBe(25);
    expect((await activitiesOf(s, leadB)).RecordCount).toBe(before + 25);
  });

  it('refuses 26 rows as a whole and writes nothing (checklist 25)', async () => {
    await expectNoChange(s, [leadA, leadB], async () => {
      const r = await s.call('POST', BY_ID, Array.from({ length: 26 }, () => row({ RelatedProspectId: leadB })));
      expectMx(r, 500, 'MXInvalidInputException', /25.*26/);
    });
  });

  it('an empty list answers an empty Response', async () => {
    expect(expectOk(await s.call('POST', BY_ID, [])).Response).toEqual([]);
  });

  it('a body that is not a list of objects is 400 and writes nothing', async () => {
    await expectNoChange(s, [leadA], async () => {
      expectMx(await s.call('POST', BY_ID, row({ RelatedProspectId: leadA })), 400, 'MXInvalidInputException', /array/);
      expectMx(await s.call('POST', BY_ID, [row({ RelatedProspectId: leadA }), 'x']), 400, 'MXInvalidInputException', /row 2/);
      expectMx(await s.call('POST', BY_ID, [row({ RelatedProspectId: leadA }), row({ RelatedProspectId: leadA }, { Fields: 'mx_Custom_1=1' })]), 400, 'MXInvalidInputException', /row 2.*Fields/);
      expectMx(await s.call('POST', `${BY_FIELD}?searchBy=EmailAddress`, [row({ SearchByValue: 'bulk-a@example.com' }), row({ SearchByValue: { v: 1 } })]), 400, 'MXInvalidInputException', /row 2.*SearchByValue/);
    });
  });
});

describe('Bulk ByLeadField', () => {
  it('searchBy=EmailAddress with 2 rows (checklist 25)', async () => {
    const r = expectOk(await s.call('POST', `${BY_FIELD}?searchBy=EmailAddress`, [row({ SearchByValue: 'bulk-a@example.com' }), row({ SearchByValue: 'BULK-B@example.com' })]));
    expect(r.Response).toMatchObject([
      { RowNumber: 1, ActivityCreated: true, ProspectActivityId: expect.any(String), RelatedProspectId: leadA },
      { RowNumber: 2, ActivityCreated: true, ProspectActivityId: expect.any(String), RelatedProspectId: leadB },
    ]);
  });

  for (const [field, value] of [['Phone', '+91-9811111111'], ['Mobile', '9822222222'], ['mx_Account_No', 'acc-1']]) {
    it(`searchBy=${field} finds the lead`, async () => {
      const r = expectOk(await s.call('POST', `${BY_FIELD}?SEARCHBY=${field}`, [row({ SearchByValue: value })]));
      expect(r.Response[0]).toMatchObject({ ActivityCreated: true, RelatedProspectId: leadA });
    });
  }

  it('a value no lead has fails that row only and creates no lead', async () => {
    const before = await counts(s, accountId);
    const r = expectOk(await s.call('POST', `${BY_FIELD}?searchBy=EmailAddress`, [row({ SearchByValue: 'nobody@example.com' }), row({ SearchByValue: 'bulk-a@example.com' }), row({})]));
    expect(r.Response.map((x: any) => x.ActivityCreated)).toEqual([false, true, false]);
    expect(r.Response[0]).toMatchObject({ ExceptionType: 'MXInvalidEntityException', ExceptionMessage: expect.stringMatching(/nobody@example.com/) });
    expect(r.Response[2]).toMatchObject({ ExceptionType: 'MXMandatoryAttributeMissingException', ExceptionMessage: expect.stringMatching(/SearchByValue/) });
    expect(await counts(s, accountId)).toEqual({ leads: before.leads, activities: before.activities + 1 });
  });

  it('a searchBy field that is not unique fails each row and says which field', async () => {
    const r = expectOk(await s.call('POST', `${BY_FIELD}?searchBy=FirstName`, [row({ SearchByValue: 'A' })]));
    expect(r.Response[0]).toMatchObject({ ActivityCreated: false, ExceptionMessage: expect.stringMatching(/FirstName/) });
  });

  it('without searchBy, or with 26 rows, the request fails as a whole and writes nothing', async () => {
    await expectNoChange(s, [leadA], async () => {
      expectMx(await s.call('POST', BY_FIELD, [row({ SearchByValue: 'bulk-a@example.com' })]), 500, 'MXMandatoryAttributeMissingException', /searchBy/);
      const many = Array.from({ length: 26 }, () => row({ SearchByValue: 'bulk-a@example.com' }));
      expectMx(await s.call('POST', `${BY_FIELD}?searchBy=EmailAddress`, many), 500, 'MXInvalidInputException', /25/);
    });
  });
});
