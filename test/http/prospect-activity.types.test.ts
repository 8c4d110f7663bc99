/** Activity types: `GET ActivityTypes.Get`, `POST CreateType`, `GET CustomActivity/GetActivitySetting?code=`. */
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, createLead, createType, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await started();
});

const list = async () => expectOk(await s.call('GET', `${PA}/ActivityTypes.Get`)) as any[];
const setting = (code: number | string) => s.call('GET', `${PA}/CustomActivity/GetActivitySetting?code=${code}`);

describe('ActivityTypes.Get', () => {
  it('lists the system types a new account starts with, each with ActivityEvent and ActivityEventName (checklist 20)', async () => {
    const types = await list();
    expect(Array.isArray(types)).toBe(true);
    for (const t of types) expect(t).toMatchObject({ ActivityEvent: expect.any(Number), ActivityEventName: expect.any(String) });
    const codes = types.map((t) => t.ActivityEvent);
    expect(codes).toEqual(expect.arrayContaining([21, 22, 23]));
    expect(types.find((t) => t.ActivityEvent === 22)).toMatchObject({ ActivityEventName: 'Outbound Phone Call Activity', Direction: 1, IsSystem: true });
  });
});

describe('CreateType', () => {
  it('with only ActivityEventName answers Message.Id ≥ 201, and the type appears in the list (checklist 21)', async () => {
    const r = expectOk(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Webinar Attended' }));
    expect(r.Status).toBe('Success');
    expect(r.Message.Id).toBeGreaterThanOrEqual(201);
    expect((await list()).find((t) => t.ActivityEvent === r.Message.Id)).toMatchObject({ ActivityEventName: 'Webinar Attended', Score: 0, Direction: 0, IsSystem: false });
    const next = expectOk(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Webinar Registered' }));
    expect(next.Message.Id).toBe(r.Message.Id + 1);
  });

  it('stores Score, Direction, Description and every field property; GetActivitySetting returns them', async () => {
    const body = {
      ActivityEventName: 'Loan Application',
      DisplayName: 'Loan application',
      Description: 'A loan was applied for',
      Score: -3,
      Direction: 1,
      TrackLocation: 1,
      Fields: [
        { SchemaName: 'mx_Custom_1', DisplayName: 'Amount', DataType: 'Number', IsMandatory: true },
        { SchemaName: 'mx_Custom_2', DisplayName: 'Product', DataType: 'Dropdown', OptionSet: JSON.stringify([{ Value: 'Home' }, { Value: 'Car' }]) },
        { SchemaName: 'mx_Custom_3', DisplayName: 'Remarks', DataType: 'String', MaxLength: 10 },
        { SchemaName: 'mx_Custom_4', DisplayName: 'Applied on', DataType: 'Date' },
        { SchemaName: 'mx_Custom_5', DisplayName: 'Docs', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DisplayName: 'File' }] },
      ],
    };
    const code = expectOk(await s.call('POST', `${PA}/CreateType`, body)).Message.Id;
    const st = expectOk(await setting(code));
    expect(st).toMatchObject({ ID: code, Name: 'Loan Application', DisplayName: 'Loan application', Description: 'A loan was applied for', Score: -3, Direction: 1, TrackLocation: 1 });
    expect(st.Fields).toHaveLength(5);
    expect(st.Fields[0]).toMatchObject({ SchemaName: 'mx_Custom_1', DisplayName: 'Amount', DataType: 'Number', IsMandatory: true, Sequence: 1 });
    expect(JSON.parse(st.Fields[1].OptionSet).map((o: any) => o.Value)).toEqual(['Home', 'Car']);
    expect(st.Fields[2]).toMatchObject({ MaxFieldLength: 10, IsMandatory: false });
    expect(st.Fields[4].Fields[0]).toMatchObject({ SchemaName: 'mx_CustomObject_1', DisplayName: 'File' });
  });

  it('the new type validates posts by its definition and a negative Score lowers the lead score', async () => {
    const code = await createType(s, {
      Score: -4,
      Fields: [
        { SchemaName: 'mx_Custom_1', DataType: 'Number', IsMandatory: true },
        { SchemaName: 'mx_Custom_2', DataType: 'Dropdown', OptionSet: ['Yes', 'No'] },
        { SchemaName: 'mx_Custom_3', MaxLength: 3 },
      ],
    });
    const lead = await createLead(s, { FirstName: 'Neg' });
    const post = (fields: Record<string, string>) =>
      s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: Object.entries(fields).map(([SchemaName, Value]) => ({ SchemaName, Value })) });
    expectMx(await post({ mx_Custom_2: 'Yes' }), 500, 'MXMandatoryAttributeMissingException', /mx_Custom_1/);
    expectMx(await post({ mx_Custom_1: '1', mx_Custom_2: 'Maybe' }), 500, 'MXInvalidInputException', /mx_Custom_2/);
    expectMx(await post({ mx_Custom_1: '1', mx_Custom_3: 'long' }), 500, 'MXInvalidInputException', /mx_Custom_3/);
    expectOk(await post({ mx_Custom_1: '1', mx_Custom_2: 'no', mx_Custom_3: 'abc' }));
    expect(await getLead(s, lead)).toMatchObject({ Score: '-4', EngagementScore: '-4' });
  });

  it('keeps a data type it does not know (e.g. Product) and checks its values as text only', async () => {
    const code = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Product', MaxLength: 4 }] });
    expect(expectOk(await setting(code)).Fields[0]).toMatchObject({ DataType: 'Product', MaxFieldLength: 4 });
    const lead = await createLead(s, { FirstName: 'Prod' });
    const post = (v: string) => s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: v }] });
    expectOk(await post('SKU1'));
    expectMx(await post('SKU-12'), 500, 'MXInvalidInputException', /mx_Custom_1.*maximum length is 4/);
  });

  it('a data type named like a property of every object (__proto__, constructor) is one it does not know, checked as text', async () => {
    // Looked up in the table of checks as a plain property, "__proto__" answered 500
    // MXSystemException for every value and "constructor" refused every value (a review).
    const lead = await createLead(s, { FirstName: 'Proto' });
    for (const DataType of ['__proto__', 'constructor', 'toString']) {
      const code = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DataType }] });
      const r = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: 'text' }] });
      expect(r.status, `${DataType}: ${r.text}`).toBe(200);
    }
  });

  it('takes 50 custom fields and refuses 51, creating nothing', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => ({ SchemaName: `mx_Custom_${i + 1}`, DataType: 'String' }));
    const code = expectOk(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Fifty', Fields: fields(50) })).Message.Id;
    expect(expectOk(await setting(code)).Fields).toHaveLength(50);
    const before = await list();
    const tooMany = [...fields(50), { SchemaName: 'mx_Custom_50', DataType: 'String' }];
    expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Fifty-one', Fields: tooMany }), 500, 'MXInvalidInputException', /at most 50.*51/);
    expect(await list()).toEqual(before);
  });

  const refused: [string, Record<string, unknown>, string, RegExp][] = [
    ['no ActivityEventName', { Score: 1 }, 'MXInvalidInputException', /ActivityEventName/],
    ['a blank ActivityEventName', { ActivityEventName: '   ' }, 'MXInvalidInputException', /ActivityEventName/],
    ['Direction 2', { ActivityEventName: 'Dir', Direction: 2 }, 'MXInvalidInputException', /Direction/],
    ['a pinned ActivityEvent below 1', { ActivityEventName: 'Neg', ActivityEvent: -5 }, 'MXInvalidInputException', /ActivityEvent/],
    ['a pinned ActivityEvent already in use', { ActivityEventName: 'Pin21', ActivityEvent: 21 }, 'MXDuplicateEntityNameException', /21/],
    ['a Score that is not a number', { ActivityEventName: 'Sc', Score: 'ten' }, 'MXInvalidInputException', /Score/],
    ['a field outside mx_Custom_1..50', { ActivityEventName: 'F51', Fields: [{ SchemaName: 'mx_Custom_51' }] }, 'MXInvalidInputException', /mx_Custom_51/],
    ['a field named like a lead field', { ActivityEventName: 'Fx', Fields: [{ SchemaName: 'mx_City' }] }, 'MXInvalidInputException', /mx_City/],
    ['the same field twice', { ActivityEventName: 'Twice', Fields: [{ SchemaName: 'mx_Custom_1' }, { SchemaName: 'MX_CUSTOM_1' }] }, 'MXInvalidInputException', /mx_Custom_1/],
    ['a field without SchemaName', { ActivityEventName: 'NoName', Fields: [{ DisplayName: 'x' }] }, 'MXInvalidInputException', /SchemaName/],
    ['a MaxLength that is not a number', { ActivityEventName: 'Len', Fields: [{ SchemaName: 'mx_Custom_1', MaxLength: 'ten' }] }, 'MXInvalidInputException', /MaxLength/],
    ['a CFS field not named mx_CustomObject_N', { ActivityEventName: 'Cfs', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_Custom_2' }] }] }, 'MXInvalidInputException', /mx_Custom_2/],
  ];
  for (const [what, body, type, message] of refused) {
    it(`refuses ${what} (500 ${type}) and creates nothing`, async () => {
      const before = await list();
      expectMx(await s.call('POST', `${PA}/CreateType`, body), 500, type, message);
      expect(await list()).toEqual(before);
    });
  }

  it('refuses a second type with the same name (any case)', async () => {
    await createType(s, { ActivityEventName: 'Demo Booked' });
    const before = await list();
    expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'demo booked' }), 500, 'MXDuplicateEntityNameException', /demo booked/i);
    expect(await list()).toEqual(before);
  });

  it('CreateType calls racing with one name (in different cases) make one type; the others are refused', async () => {
    const before = await list();
    // Started a millisecond apart, so that they land in different write batches, which PostgreSQL
    // runs side by side; each pins its own code, so no clash of codes serializes them.
    const calls: Promise<Awaited<ReturnType<typeof s.call>>>[] = [];
    for (let i = 0; i < 24; i++) {
      calls.push(s.call('POST', `${PA}/CreateType`, { ActivityEventName: i % 2 ? 'Trial Started' : 'TRIAL started', ActivityEvent: 400 + i }));
      await new Promise((r) => setTimeout(r, 1));
    }
    const answers = await Promise.all(calls);
    const made = answers.filter((a) => a.status === 200);
    expect(made).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expectMx(a, 500, 'MXDuplicateEntityNameException', /trial started/i);
    const after = await list();
    expect(after.filter((t) => String(t.ActivityEventName).toLowerCase() === 'trial started')).toHaveLength(1);
    expect(after).toHaveLength(before.length + 1);
  });

  it('wrong JSON types are 400', async () => {
    expectMx(await s.call('POST', `${PA}/CreateType`, ['x']), 400, 'MXInvalidInputException');
    expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Obj', Fields: { SchemaName: 'mx_Custom_1' } }), 400, 'MXInvalidInputException', /Fields/);
    expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: { en: 'x' } }), 400, 'MXInvalidInputException', /ActivityEventName/);
  });
});

describe('GetActivitySetting', () => {
  it('answers a system type', async () => {
    expect(expectOk(await setting(21))).toMatchObject({ ID: 21, Name: 'Inbound Phone Call Activity', Fields: [] });
  });

  it('an unknown, non-numeric or missing code is an MX error', async () => {
    expectMx(await setting(98765), 500, 'MXInvalidActivityException', /98765/);
    expectMx(await setting('abc'), 500, 'MXInvalidActivityException', /abc/);
    expectMx(await s.call('GET', `${PA}/CustomActivity/GetActivitySetting`), 500, 'MXMandatoryAttributeMissingException', /code/);
  });
});
