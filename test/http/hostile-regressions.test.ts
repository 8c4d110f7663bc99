/**
 * One focused case for each defect the generated hostile-input test found, so each stays fixed even
 * if the generator's seed or shape changes.
 */
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { PA, LM, expectMx, expectOk, counts, accountIdOf, createLead } from '../helpers/lsq.js';
import { request, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let accountId: string;
beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
});

const deep = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n));

describe('CreateType refuses values it used to crash on or store wrongly', () => {
  it('a deeply nested setting is a 400, not a stack overflow', async () => {
    const r = await s.call('POST', `${PA}/CreateType`, undefined, { raw: `{"ActivityEventName":"Deep","TrackLocation":${'['.repeat(5_000)}${']'.repeat(5_000)}}` });
    expectMx(r, 400, 'MXInvalidInputException', /TrackLocation/);
  });

  it('a deeply nested OptionSet entry is a 400, not a stack overflow', async () => {
    const body = { ActivityEventName: 'Deep options', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Dropdown', OptionSet: [deep(2_000)] }] };
    expectMx(await s.call('POST', `${PA}/CreateType`, body), 400, 'MXInvalidInputException', /OptionSet/);
  });

  it('codes, scores and lengths beyond a safe integer are refused, not stored as 1e+23', async () => {
    for (const [k, v] of [['ActivityEvent', '99999999999999999999999'], ['Score', '99999999999999999999999']]) {
      expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: `Big ${k}`, [k]: v }), 500, 'MXInvalidInputException', new RegExp(k));
    }
    const field = { SchemaName: 'mx_Custom_1', MaxLength: '999999999999999999999999' };
    expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Big length', Fields: [field] }), 500, 'MXInvalidInputException', /MaxLength/);
    const names = expectOk(await s.call('GET', `${PA}/ActivityTypes.Get`)).map((t: any) => t.ActivityEventName ?? t.Name ?? t.DisplayName);
    expect(names.join('|')).not.toMatch(/Big /);
  });
});

describe('fields', () => {
  it('nested Fields on a plain lead field are refused instead of storing an object', async () => {
    const before = await counts(s, accountId);
    const r = await s.call('POST', `${LM}/Lead.Create`, [
      { Attribute: 'FirstName', Value: 'Nested' },
      { Attribute: 'LastName', Value: '', Fields: [{ Attribute: 'mx_CustomObject_1', Value: 'x' }] },
    ]);
    expectMx(r, 500, 'MXInvalidInputException', /LastName.*not a custom field set/);
    expect(await counts(s, accountId)).toEqual(before);
  });

  it('ActivityDateTime in years 0001–0099 keeps its year (Date.UTC would make it 1901–1999)', async () => {
    const type = expectOk(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Old dates' })).Message.Id;
    const leadId = await createLead(s, { EmailAddress: 'old.dates@example.com' });
    const act = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: type, ActivityDateTime: '0001-01-01 00:00:00' }));
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${act.Message.Id}`));
    expect(details.ActivityDateTime).toBe('0001-01-01 00:00:00');
  });
});

describe('NUL characters (PostgreSQL cannot store them: they crashed lookups and writes there)', () => {
  it('in a body value or attribute name: 400, on every engine alike', async () => {
    const before = await counts(s, accountId);
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'FirstName', Value: 'a\u0000b' }]), 400, 'MXInvalidInputException', /NUL/);
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'mx_A\u0000', Value: 'x' }]), 400, 'MXInvalidInputException', /NUL/);
    expectMx(await s.call('POST', `${PA}/Create`, { EmailAddress: 'a\u0000@b.co', ActivityEvent: 21 }), 400, 'MXInvalidInputException', /EmailAddress/);
    expectMx(await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'x\u0000y' }), 400, 'MXInvalidInputException', /ActivityEventName/);
    expect(await counts(s, accountId)).toEqual(before);
  });

  it('in a query value, keys included: 400', async () => {
    expectMx(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=%00`), 400, 'MXInvalidInputException', /emailaddress/);
    expectMx(await s.call('GET', `${PA}/GetActivityDetails?activityId=a%00`), 400, 'MXInvalidInputException', /activityid/);
    const r = await request(s.url, 'GET', `${LM}/Leads.GetById?id=1&accessKey=%00&secretKey=x`, undefined, { noAuth: true });
    expectMx(r, 400, 'MXInvalidInputException', /accesskey/);
  });
});

describe('error messages', () => {
  it('do not echo a 100 KB value back whole', async () => {
    const id = `${'x'.repeat(100_000)}-end`;
    const msg = expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: id, ActivityEvent: 21 }), 500, 'MXInvalidEntityException');
    expect(msg.length).toBeLessThanOrEqual(1_010);
    expect(msg).toMatch(/^Lead does not exist in the system: xxx.*-end$/);
  });
});

describe('transport-level refusals answer in the envelope', () => {
  it('a path with broken percent-encoding is a 400 envelope', async () => {
    expectMx(await s.call('GET', `${LM}/Leads.GetById%ff?id=1`), 400, 'MXInvalidInputException', /percent-encoding/);
  });

  it('so is a query with broken percent-encoding (it used to be read as U+FFFD or the raw text); a well-encoded one is read', async () => {
    for (const q of ['id=%zz', 'id=%E0%A4%A', 'id=%C3%28', 'emailaddress=a%40b.example&x=%']) {
      expectMx(await s.call('GET', `${LM}/Leads.GetById?${q}`), 400, 'MXInvalidInputException', /percent-encoding/);
    }
    // Keys in the query are checked after it: a broken query is refused before any 401.
    expectMx(await request(s.url, 'GET', `${LM}/Leads.GetById?id=%zz`, undefined, { noAuth: true }), 400, 'MXInvalidInputException');
    const lead = await createLead(s, { EmailAddress: 'josé+q@example.com' });
    const found = expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=${encodeURIComponent('JOSÉ+q@example.com')}`));
    expect(found.map((l: { ProspectID: string }) => l.ProspectID)).toEqual([lead]);
  });

  it('a URL over the header limit is a 431 envelope', async () => {
    const r = await s.call('GET', `${LM}/Leads.GetById?id=${'x'.repeat(20_000)}`);
    expectMx(r, 431, 'MXRequestTooLargeException');
  });

  it('a malformed Content-Type is a 415 envelope', async () => {
    const r = await s.call('POST', `${LM}/Lead.Create`, undefined, { raw: '[]', headers: { 'content-type': ';;;/===' } });
    expectMx(r, 415, 'MXUnsupportedMediaTypeException');
  });

  it('bytes that are not HTTP get a 400 envelope on the socket', async () => {
    const port = new URL(s.url).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(port), '127.0.0.1', () => sock.write('GARBAGE \u0000 / HTTP/9\r\n\r\n'));
      let out = '';
      sock.on('data', (d) => (out += d.toString('utf8')));
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ Status: 'Error', ExceptionType: 'MXInvalidInputException' });
  });

  it('a body starting with a UTF-8 byte-order mark is read (as .NET clients send it)', async () => {
    const r = await request(s.url, 'POST', `${LM}/Lead.Create`, undefined, { raw: '\ufeff[{"Attribute":"EmailAddress","Value":"bom@example.com"}]' });
    expectOk(r);
  });
});
