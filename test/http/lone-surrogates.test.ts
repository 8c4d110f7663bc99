/**
 * A lone UTF-16 surrogate (`"\ud800"`: valid JSON, but no Unicode text) in a body, found by sending the
 * same requests to a SQLite and a PostgreSQL server. SQLite stored it as three bytes that read back
 * as three U+FFFD and compared apart from PostgreSQL's one U+FFFD, so a lead was found by a search on
 * one engine and not on the other, and an activity note read back differently. Now every lone
 * surrogate becomes one U+FFFD when the body is read, on both engines and through the async API.
 */
import { describe, expect, it } from 'vitest';
import { LM, PA, createLead, createType, expectOk, getLead } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';
import { accept, settled } from '../async/helpers.js';

const names = async (s: Awaited<ReturnType<typeof started>>, LookupValue: string, SqlOperator: string) =>
  expectOk(await s.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'FirstName', LookupValue, SqlOperator }, Columns: { Include_CSV: 'FirstName' } })).map(
    (l: { FirstName: string }) => l.FirstName,
  );

describe('a lone surrogate in a body', () => {
  it('is stored, read back and searched as U+FFFD, the same on both engines', async () => {
    const s = await started();
    const lead = await createLead(s, { FirstName: 'sur\ud800x', LastName: '\udfff', EmailAddress: 'sur@example.com' });
    expect(await getLead(s, lead)).toMatchObject({ FirstName: 'sur\ufffdx', LastName: '\ufffd' });
    // A pair is kept as it is.
    await createLead(s, { FirstName: 'pair\ud83d\ude00' });

    // Searched by what it reads back as; the lone surrogate in a search value is the same U+FFFD.
    expect(await names(s, 'sur\ufffdx', '=')).toEqual(['sur\ufffdx']);
    expect(await names(s, 'sur\ud800x', '=')).toEqual(['sur\ufffdx']);
    expect(await names(s, 'sur\ud800%', 'LIKE')).toEqual(['sur\ufffdx']);
    expect(await names(s, 'sur\ufffdx', '<')).toEqual(['pair\ud83d\ude00']);
    expect(await names(s, 'pair%', 'LIKE')).toEqual(['pair\ud83d\ude00']);

    const code = await createType(s, { ActivityEventName: 'Notes', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'String' }] });
    const posted = expectOk(
      await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'n\ud800', Fields: [{ SchemaName: 'mx_Custom_1', Value: '\udc00!' }] }),
    );
    const details = expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${posted.Message.Id}`));
    expect(details.ActivityNote).toBe('n\ufffd');
    expect(details.Fields.find((f: { SchemaName: string }) => f.SchemaName === 'mx_Custom_1').Value).toBe('\ufffd!');
  });

  it('in an async request is U+FFFD too', async () => {
    const s = await started();
    const id = await accept(s.url, '/lead/capture', [
      { Attribute: 'EmailAddress', Value: 'async-sur@example.com' },
      { Attribute: 'FirstName', Value: 'a\udbffb' },
    ]);
    const status = await settled(s.url, id, ['Success', 'FAILURE', 'ERROR'], '/lead/status');
    expect(status.TaskStatus.Status).toBe('Success');
    const lead = JSON.parse(status.TaskStatus.Message).Message.Id;
    expect(await getLead(s, lead)).toMatchObject({ FirstName: 'a\ufffdb' });
    expect(await names(s, 'a\ufffdb', '=')).toEqual(['a\ufffdb']);
  });
});
