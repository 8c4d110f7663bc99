/**
 * A value sent as a JSON number that a double cannot hold (a 64-bit id from a Python, Java or .NET
 * client) is stored with every digit, through the sync and the async doors alike: `JSON.parse`
 * rounded `12345678901234567890` to `12345678901234567000`, and the rounded text was stored without
 * a word (src/wire/json-body.ts). On the engine of the vitest project.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accept, settled } from '../async/helpers.js';
import { LM, PA, accountIdOf, createType, defineLeadField, expectOk, getLead, leadByEmail } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let code: number;

beforeAll(async () => {
  s = await started();
  await defineLeadField(s, await accountIdOf(s), { schemaName: 'mx_ExternalId', dataType: 'String' });
  code = await createType(s, { Fields: [{ SchemaName: 'mx_Custom_1', DisplayName: 'Order', DataType: 'String' }] });
});

describe('numbers a double cannot hold', () => {
  it('Lead.Create and Lead.Update store every digit of a long number Value', async () => {
    const raw = '[{"Attribute":"EmailAddress","Value":"long@numbers.example"},{"Attribute":"mx_ExternalId","Value":12345678901234567890}]';
    const id = expectOk(await s.call('POST', `${LM}/Lead.Create`, undefined, { raw })).Message.Id as string;
    expect((await getLead(s, id))!.mx_ExternalId).toBe('12345678901234567890');
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, undefined, { raw: '[{"Attribute":"mx_ExternalId","Value":-9007199254740993}]' }));
    expect((await getLead(s, id))!.mx_ExternalId).toBe('-9007199254740993');
    // Numbers a double holds are read as before.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, undefined, { raw: '[{"Attribute":"mx_ExternalId","Value":42}]' }));
    expect((await getLead(s, id))!.mx_ExternalId).toBe('42');
  });

  it('an activity field posted sync and async keeps every digit', async () => {
    const lead = (await leadByEmail(s, 'long@numbers.example'))!.ProspectID as string;
    const raw = `{"RelatedProspectId":"${lead}","ActivityEvent":${code},"Fields":[{"SchemaName":"mx_Custom_1","Value":98765432109876543210}]}`;
    expectOk(await s.call('POST', `${PA}/Create`, undefined, { raw }));
    const requestId = await accept(s.url, '/activity/create', undefined, { raw: raw.replace('98765432109876543210', '11112222333344445555') });
    expect((await settled(s.url, requestId)).TaskStatus.Status).toBe('Success');
    const acts = expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, { Parameter: { ActivityEvent: code } }));
    const values = acts.ProspectActivities.map((a: { ActivityFields: Record<string, string> }) => a.ActivityFields.mx_Custom_1).sort();
    expect(values).toEqual(['11112222333344445555', '98765432109876543210']);
  });
});
