/**
 * The names an unknown `mx_` lead attribute may have to be made a field (a new-user trial):
 * `Lead.Create` with `mx_My Field` answered only "Unknown attribute 'mx_My Field' for lead", though
 * `mx_Plan` was made, and nothing said why. The rule (mx_ in lower case, then letters, digits and _,
 * at most 64 characters) is kept; every path that makes such fields (sync, async, bulk,
 * CreateOrUpdate, Capture, Convert, CreateCustom, the operator's tool) now says why a name is not
 * made, which names are, and the name that would do when there is an obvious one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf, createLead, createType, defineLeadField, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';
import { accept, settled } from '../async/helpers.js';

let s: TestServer;
let accountId: string;
let lead: string;

const RULE = 'the account has no such field, and a new one is made only from a name of mx_ followed by letters, digits and _ (at most 64 characters in all, such as mx_Customer_No)';
const SPACE = `Unknown attribute 'mx_My Field' for lead: ${RULE}: this one holds a space; mx_My_Field would do.`;

const attrs = (o: Record<string, string>) => Object.entries(o).map(([Attribute, Value]) => ({ Attribute, Value }));
const fieldNames = async () => (expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`)) as { SchemaName: string }[]).map((f) => f.SchemaName);

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
  lead = await createLead(s, { FirstName: 'Named', EmailAddress: 'named@example.com' });
});

describe('a name the rule refuses is answered with why and which names are made', () => {
  it.each([
    ['mx_My Field', 'holds a space; mx_My_Field would do'],
    ['MX_Plan', 'starts with MX_ where mx_ is lower case; mx_Plan would do'],
    ['Mx_Two Words', 'starts with Mx_ where mx_ is lower case and holds a space; mx_Two_Words would do'],
    ['mx_Plan-Tier', "holds '-'"],
    ['mx_Café', "holds 'é'"],
    ['mx_', 'has nothing after mx_'],
    [`mx_${'A'.repeat(62)}`, 'is 65 characters long'],
    ['Shoesize', 'does not start with mx_'],
  ])('Lead.Create with %s', async (name, why) => {
    expectMx(
      await s.call('POST', `${LM}/Lead.Create`, attrs({ FirstName: 'X', [name]: 'v' })),
      500,
      'MXUnknownAttributeException',
      new RegExp(`^${`Unknown attribute '${name}' for lead: ${RULE}: this one ${why}.`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it('the same message on every sync path that makes mx_ fields, and nothing is made', async () => {
    const bad = { 'mx_My Field': 'Gold' };
    const calls: [string, string, unknown][] = [
      ['POST', `${LM}/Lead.Update?leadId=${lead}`, attrs(bad)],
      ['POST', `${LM}/Lead.CreateOrUpdate`, attrs({ EmailAddress: 'named@example.com', ...bad })],
      ['POST', `${LM}/Lead.Capture`, attrs({ EmailAddress: 'named@example.com', ...bad })],
      ['POST', `${LM}/Lead.Convert?leadId=${lead}`, attrs({ EmailAddress: 'named@example.com', ...bad })],
      ['POST', `${LM}/Lead/Bulk/Update`, { LeadIds: [lead], LeadFields: { Attribute: 'mx_My Field', Value: 'Gold' } }],
      ['POST', `${PA}/CreateCustom`, { LeadDetails: attrs({ EmailAddress: 'named@example.com', ...bad }), Activity: { ActivityEvent: await createType(s) } }],
    ];
    for (const [method, path, body] of calls) {
      const r = await s.call(method, path, body);
      expect(r.status, `${path}: ${r.text}`).toBe(500);
      expect(r.body, path).toEqual({ Status: 'Error', ExceptionType: 'MXUnknownAttributeException', ExceptionMessage: SPACE });
    }
    for (const path of [`${LM}/Lead/Bulk/Create`, `${LM}/Lead/Bulk/CreateOrUpdate`]) {
      const rows = expectOk(await s.call('POST', path, [attrs({ EmailAddress: `bulk-${path.length}@example.com`, ...bad })]));
      expect(rows[0], path).toMatchObject({ RowNumber: 1, ExceptionType: 'MXUnknownAttributeException', ExceptionMessage: SPACE });
    }
    expect((await fieldNames()).filter((n) => /my.field/i.test(n))).toEqual([]);
    expect((await getLead(s, lead))!.FirstName).toBe('Named');
  });

  it('the name the message suggests is made, as mx_Plan always was', async () => {
    const id = await createLead(s, { FirstName: 'Y', mx_My_Field: 'Gold', mx_Plan: 'Pro' });
    expect(await getLead(s, id)).toMatchObject({ mx_My_Field: 'Gold', mx_Plan: 'Pro' });
    expect(await fieldNames()).toEqual(expect.arrayContaining(['mx_My_Field', 'mx_Plan']));
  });

  it('async /lead/capture, /lead/update and /activity/createcustom end FAILURE with the same message', async () => {
    const code = await createType(s);
    const cases: [string, unknown, string][] = [
      ['/lead/capture', attrs({ EmailAddress: 'async-name@example.com', 'mx_My Field': 'Gold' }), '/lead/status'],
      [`/lead/update?leadId=${lead}`, attrs({ 'mx_My Field': 'Gold' }), '/lead/status'],
      ['/activity/createcustom', { LeadDetails: attrs({ EmailAddress: 'async-name@example.com', 'mx_My Field': 'Gold' }), Activity: { ActivityEvent: code } }, '/activity/status'],
    ];
    for (const [path, body, statusPath] of cases) {
      const id = await accept(s.url, path, body);
      const done = await settled(s.url, id, undefined, statusPath);
      expect(done.TaskStatus, path).toMatchObject({ Status: 'FAILURE', StatusReason: `MXUnknownAttributeException: ${SPACE}` });
    }
  });

  it("the operator's tool (lead-fields set) refuses such a name saying why, in the same words", async () => {
    await expect(defineLeadField(s, accountId, { schemaName: 'mx_My Field' })).rejects.toMatchObject({
      type: 'MXInvalidInputException',
      message: 'A new lead field needs a name of mx_ followed by letters, digits and _ (at most 64 characters in all, such as mx_Customer_No); \'mx_My Field\' holds a space; mx_My_Field would do.',
    });
  });
});
