/**
 * An id with spaces around it names the same record through every door, as an id in upper case
 * does: LeadSquared reads GUIDs with .NET's Guid.Parse, which takes both. Before, Lead.Update and
 * Leads/Retrieve/ByIds found the lead while Leads.GetById answered [], Retrieve no activities,
 * GetActivityDetails and an activity's RelatedProspectId an unknown record (a fresh-eyes run); the
 * async queue already ordered " id " with "id". On both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { settled } from '../async/helpers.js';
import { LM, PA, createLead, createType, expectOk } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let lead: string;
let code: number;
let activity: string;

const spaced = (id: string) => encodeURIComponent(`  ${id.toUpperCase()} `);

beforeAll(async () => {
  s = await started();
  lead = await createLead(s, { FirstName: 'Spaced', EmailAddress: 'spaced-id@example.com' });
  code = await createType(s, { ActivityEventName: 'Spaced id', Score: 2 });
  activity = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'first' })).Message.Id;
});

describe('an id with spaces around it', () => {
  it('is found by the reads that take an id', async () => {
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${spaced(lead)}`))[0].ProspectID).toBe(lead);
    expect(expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${spaced(lead)}`, {})).ProspectActivities.map((a: { Id: string }) => a.Id)).toContain(activity);
    expect(expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${spaced(activity)}`)).ID).toBe(activity);
    expect(expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get?schemaName=%20FirstName%20`)).map((f: { SchemaName: string }) => f.SchemaName)).toEqual(['FirstName']);
  });

  it('is written to the record it names, under its own id', async () => {
    const posted = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: ` ${lead.toUpperCase()}  `, ActivityEvent: code, ActivityNote: 'spaced' }));
    expect(posted.Message.RelatedId).toBe(lead);
    const listed = expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${lead}`, {}));
    const mine = listed.ProspectActivities.find((a: { Id: string }) => a.Id === posted.Message.Id);
    expect(mine).toBeDefined();
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${lead}`))[0].Score).toBe('4');
    expectOk(await s.call('POST', `${PA}/CustomActivity/Update`, { ProspectActivityId: ` ${posted.Message.Id} `, ActivityNote: 'changed' }));
    expect(expectOk(await s.call('GET', `${PA}/GetActivityDetails?activityId=${posted.Message.Id}`)).ActivityNote).toBe('changed');
  });

  it('of spaces only is no id: the mandatory-parameter error, as for one left out (found by a fresh-eyes run)', async () => {
    // `?RequestID=%20` had been "Request ' ' was not found" (404), `?id=%20` an empty answer.
    for (const [path, name] of [
      [`${LM}/Leads.GetById?id=%20%20`, 'id'],
      [`${PA}/GetActivityDetails?activityId=%20`, 'activityId'],
    ] as const) {
      const r = await s.call('GET', path);
      expect(r.status, path).toBe(500);
      expect(r.body, path).toMatchObject({ ExceptionType: 'MXMandatoryAttributeMissingException', ExceptionMessage: expect.stringContaining(`'${name}'`) });
    }
    const retrieve = await s.call('POST', `${PA}/Retrieve?leadId=%20`, {});
    expect(retrieve.body).toMatchObject({ ExceptionType: 'MXMandatoryAttributeMissingException' });
    const status = await s.call('GET', '/activity/status?RequestID=%20', undefined, { headers: { 'x-api-key': KEYS.apiKey } });
    expect(status.status).toBe(500);
    expect(status.body).toMatchObject({ ExceptionType: 'MXMandatoryAttributeMissingException', ExceptionMessage: expect.stringContaining("'RequestID'") });
  });

  it('names an async request in its status, and a lead deleted by it is gone', async () => {
    const r = await s.call('POST', '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'spaced-async@example.com' }], { headers: { 'x-api-key': KEYS.apiKey } });
    const requestId = expectOk(r).RequestID as string;
    await settled(s.url, requestId, ['Success'], '/lead/status');
    const status = await s.call('GET', `/lead/status?RequestID=${spaced(requestId)}`, undefined, { headers: { 'x-api-key': KEYS.apiKey } });
    expect(expectOk(status).TaskStatus.Status).toBe('Success');

    const doomed = await createLead(s, { EmailAddress: 'spaced-delete@example.com' });
    expectOk(await s.call('GET', `${LM}/Lead/Delete/ById?leadId=${spaced(doomed)}`));
    expect(expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${doomed}`))).toEqual([]);
  });
});
