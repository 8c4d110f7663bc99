/**
 * One call of every operation in the document through the typed client, each answer checked: the
 * client test runs it against leadtrail, the Prism test through Prism's validating proxy. The
 * server must run with LEADTRAIL_FAULTS and LEADTRAIL_SANDBOX on, and a worker.
 */
import { expect } from 'vitest';
import { LeadSquaredError, type Client } from '../../src/client/index.js';

export async function callEveryEndpoint(lsq: Client): Promise<void> {
  const stamp = Date.now() * 1000 + Math.floor(Math.random() * 1000);

    // Leads
    const email = `client-${stamp}@example.com`;
    const created = await lsq.leadCreate({ body: [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'FirstName', Value: 'Asha' }, { Attribute: 'Phone', Value: '+91-9876512345' }] });
    const leadId = created.Message.Id;
    expect((await lsq.leadsGetById({ query: { id: leadId } }))[0].EmailAddress).toBe(email);
    expect((await lsq.leadsGetByEmailaddress({ query: { emailaddress: email } }))[0].ProspectID).toBe(leadId);
    expect((await lsq.retrieveLeadByPhoneNumber({ query: { phone: '9876512345' } }))[0].ProspectID).toBe(leadId);
    expect((await lsq.leadsGetByQuickSearch({ query: { key: 'Asha' } })).map((l) => l.ProspectID)).toContain(leadId);
    expect((await lsq.leadUpdate({ query: { leadId }, body: [{ Attribute: 'LastName', Value: 'Rao' }] })).Message.AffectedRows).toBe(1);
    expect((await lsq.leadCapture({ body: [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'Company', Value: 'Acme' }] })).Message.IsCreated).toBe(false);
    expect((await lsq.leadCreateOrUpdate({ body: [{ Attribute: 'EmailAddress', Value: `upsert-${email}` }] })).Message.IsCreated).toBe(true);
    expect((await lsq.leadConvert({ query: { leadId }, body: [{ Attribute: 'JobTitle', Value: 'CTO' }] })).Message.Id).toBe(leadId);
    const field = await lsq.createLeadField({ body: { DisplayName: `Tier ${stamp % 100000}`, DataType: 'Text' } });
    expect((await lsq.leadsMetaDataGet({ query: { schemaName: field.Message.Id } })).map((f) => f.SchemaName)).toEqual([field.Message.Id]);
    const bulk = await lsq.leadBulkCreate({ body: [[{ Attribute: 'EmailAddress', Value: `bulk-${email}` }]] });
    expect(bulk[0].LeadCreated).toBe(true);
    expect((await lsq.leadBulkCreateOrUpdate({ body: [[{ Attribute: 'EmailAddress', Value: `bulk-${email}` }]] }))[0].LeadUpdated).toBe(true);
    expect((await lsq.leadBulkUpdate({ body: { LeadIds: [leadId], LeadFields: { Attribute: 'Source', Value: 'Web' } } })).Message.AffectedRows).toBe(1);
    expect((await lsq.leadsGet({ body: { Parameter: { LookupName: 'EmailAddress', LookupValue: email } } }))[0].ProspectID).toBe(leadId);
    expect((await lsq.leadsRecentlyModified({ body: { Parameter: { FromDate: '2000-01-01 00:00:00' } } })).RecordCount).toBeGreaterThan(0);
    expect((await lsq.leadsRetrieveByIds({ body: { SearchParameters: { LeadIds: [leadId] } } })).Leads[0].ProspectID).toBe(leadId);
    expect((await lsq.userByAccessKeyGet()).OrgId).toBeTruthy();
    const doomed = [`delete-1-${email}`, `delete-2-${email}`];
    const [byQuery, byBody] = await Promise.all(doomed.map(async (e) => (await lsq.leadCreate({ body: [{ Attribute: 'EmailAddress', Value: e }] })).Message.Id));
    expect(await lsq.leadDeleteById({ query: { leadId: byQuery } })).toEqual({ Status: 'Success' });
    expect(await lsq.leadDeleteByIdPost({ body: { LeadId: byBody } })).toEqual({ Status: 'Success' });
    expect(await lsq.leadsGetByEmailaddress({ query: { emailaddress: doomed[1] } })).toEqual([]);

    // Activities
    const type = await lsq.activityTypeCreate({ body: { ActivityEventName: `Client call ${stamp}`, Score: 2, Direction: 1, TrackLocation: true, Fields: [{ SchemaName: 'mx_Custom_1', DisplayName: 'Outcome' }] } });
    const code = type.Message.Id;
    expect((await lsq.activityTypesGet()).map((t) => t.ActivityEvent)).toContain(code);
    expect((await lsq.activitySettingGet({ query: { code } })).ID).toBe(code);
    const act = await lsq.activityCreate({ body: { RelatedProspectId: leadId, ActivityEvent: code, ActivityNote: 'hello' } });
    expect((await lsq.activityCreateCustom({ body: { LeadDetails: [{ Attribute: 'EmailAddress', Value: email }], Activity: { ActivityEvent: code } } })).Message.IsLeadCreated).toBe(false);
    expect((await lsq.bulkActivityByLeadId({ body: [{ RelatedProspectId: leadId, ActivityEvent: code }] })).Response[0].ActivityCreated).toBe(true);
    expect((await lsq.bulkActivityByLeadField({ query: { searchBy: 'EmailAddress' }, body: [{ SearchByValue: email, ActivityEvent: code }] })).Response[0].ActivityCreated).toBe(true);
    expect((await lsq.activityRetrieve({ query: { leadId }, body: { Parameter: { ActivityEvent: code } } })).RecordCount).toBe(4);
    expect((await lsq.activityDetailsGet({ query: { activityId: act.Message.Id } })).ActivityEvent).toBe(code);
    expect((await lsq.retrieveByActivityEvent({ body: { Parameter: { ActivityEvent: code } } })).RecordCount).toBe(4);
    expect((await lsq.customActivityUpdate({ body: { ProspectActivityId: act.Message.Id, ActivityNote: 'changed' } })).Message.Id).toBe(act.Message.Id);
    expect((await lsq.customActivityTypeUpdate({ body: { ID: code, Score: 3 } })).Status).toBe('Success');

    const bulkUpdate = await lsq.bulkActivityUpdate({ body: [{ ProspectActivityId: act.Message.Id, ActivityNote: 'bulk' }, { ActivityNote: 'no id' }] });
    expect(bulkUpdate.Response.map((r) => r.ActivityUpdated)).toEqual([true, false]);
    expect(bulkUpdate.Response[1].ExceptionType).toBe('MXMandatoryAttributeMissingException');
    const recent = await lsq.activitiesRecentlyModified({ body: { Parameter: { FromDate: '2000-01-01 00:00:00', ActivityEvent: code }, Paging: { PageSize: 2 } } });
    expect([recent.RecordCount, recent.ProspectActivities.length]).toEqual([4, 2]);

    // Webhooks: a lead update posts to a closed port, so a failed delivery is recorded and can be sent again.
    const hook = await lsq.webhookCreate({ body: { URL: 'http://127.0.0.1:9/every-endpoint', WebhookEvent: 6, Description: 'client' } });
    const hookId = hook.Message.Id;
    await lsq.leadUpdate({ query: { leadId }, body: [{ Attribute: 'JobTitle', Value: 'Founder' }] });
    let deliveries = await lsq.webhookDeliveries({ query: { webhookId: hookId, offset: 0, limit: 50 } });
    for (const until = Date.now() + 15_000; deliveries.total === 0 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 50));
      deliveries = await lsq.webhookDeliveries({ query: { webhookId: hookId } });
    }
    expect(deliveries.deliveries[0]).toMatchObject({ webhookId: hookId, attempt: 1, outcome: 'retry' });
    expect((await lsq.webhookDeliveryResend({ query: { id: deliveries.deliveries[0].id } })).resent.webhookId).toBe(hookId);
    expect((await lsq.webhookRetrieve({ body: { Parameter: { WebhookEvent: 'Lead_Post_Update' } } })).Response.map((w) => w.WebhookId)).toContain(hookId);
    expect((await lsq.webhookUpdate({ body: { WebhookId: hookId, StatusCode: 1 } })).Message.Id).toBe(hookId);
    expect((await lsq.webhookDelete({ body: { WebhookId: hookId } })).Message.Id).toBe(hookId);
    const other = await lsq.webhookCreate({ body: { URL: 'http://127.0.0.1:9/other', WebhookEvent: 3 } });
    expect((await lsq.webhookDeleteGet({ query: { webhookId: other.Message.Id } })).Message.Id).toBe(other.Message.Id);
    expect((await lsq.webhookRetrieve()).RecordCount).toBe(0);

    // Async: each submit goes through its status path (waitFor), the combined status paths and metrics directly.
    const done = await lsq.waitFor.asyncActivityCreate({ body: { RelatedProspectId: leadId, ActivityEvent: code } }, { timeoutMs: 20_000, pollMs: 50 });
    // Typed as the sync operation's answer (no cast): activityCreate's.
    expect(done.message.Message.RelatedId).toBe(leadId);
    const custom = await lsq.waitFor.asyncActivityCreateCustom({ body: { LeadDetails: [{ Attribute: 'EmailAddress', Value: email }], Activity: { ActivityEvent: code } } }, { pollMs: 50 });
    expect(custom.message.Status).toBe('Success');
    const captured = await lsq.waitFor.asyncLeadCapture({ body: [{ Attribute: 'EmailAddress', Value: `async-${email}` }] }, { pollMs: 50 });
    expect(captured.message.Message.IsCreated).toBe(true);
    const updated = await lsq.waitFor.asyncLeadUpdate({ query: { leadId }, body: [{ Attribute: 'Company', Value: 'Pune Traders' }] }, { pollMs: 50 });
    expect(updated.message.Message.AffectedRows).toBe(1);
    expect((await lsq.asyncLeadStatus({ query: { RequestID: updated.requestId } })).TaskStatus.Status).toBe('Success');
    expect((await lsq.asyncActivityStatus({ query: { RequestID: done.requestId } })).TaskStatus.Status).toBe('Success');
    for (const m of [lsq.asyncActivityCreateMetrics, lsq.asyncActivityCreateCustomMetrics, lsq.asyncLeadCaptureMetrics, lsq.asyncLeadUpdateMetrics]) {
      expect((await m()).PendingMessages).toBe(0);
    }

    // A failed async request rejects with its MX type.
    const failed = await lsq.waitFor.asyncLeadUpdate({ query: { leadId: 'no-such-lead' }, body: [{ Attribute: 'Company', Value: 'Pune Traders' }] }, { pollMs: 50 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(LeadSquaredError);
    expect((failed as LeadSquaredError).exceptionType).toBe('MXInvalidEntityException');

    // leadtrail's own
    expect((await lsq.health()).status).toBe('ok');
    expect((await lsq.healthLive()).status).toBe('ok');
    expect((await lsq.healthReady()).status).toBe('ready');
    expect(await lsq.metrics()).toContain('# HELP');
    const fault = await lsq.faultAdd({ body: { operation: 'lead.capture', times: 1 } });
    const slow = await lsq.faultAdd({ body: { path: '/v2/LeadManagement.svc/Leads.GetById', latencyMs: 1, times: 1 } });
    expect(slow.fault).toMatchObject({ target: 'http', path: '/v2/leadmanagement.svc/leads.getbyid', latencyMs: 1, status: null });
    expect((await lsq.faultsList()).faults.map((f) => f.id)).toEqual([fault.fault.id, slow.fault.id]);
    expect((await lsq.faultsClear({ query: { id: slow.fault.id } })).cleared).toBe(1);
    expect((await lsq.faultsClear()).cleared).toBe(1);
    const journal = await lsq.journalList({ query: { path: 'Leads.GetById', limit: 1 } });
    expect(journal.entries[0]).toMatchObject({ method: 'GET', status: 200 });
    const entry = await lsq.journalEntry({ path: { id: journal.entries[0].id } });
    expect(entry.entry.id).toBe(journal.entries[0].id);
    expect(entry.entry.responseBody).toContain(email);
    expect((await lsq.retriesRunNow()).due).toBe(0);
    expect((await lsq.openApiDocument()).openapi).toBe('3.1.0');
    expect((await lsq.reset()).deleted).toBeTruthy();
    expect(await lsq.leadsGetById({ query: { id: leadId } })).toEqual([]);

}
