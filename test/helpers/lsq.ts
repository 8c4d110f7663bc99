/**
 * LeadSquared-flavoured helpers for the HTTP tests: paths, small builders (an activity type with
 * fields, a lead, a second account) and shared checks (the error envelope, "this changed nothing",
 * "every endpoint needs keys"). Everything goes through real HTTP except account creation, which
 * has no HTTP door.
 */
import { expect } from 'vitest';
import { createAccount } from '../../src/domain/accounts.js';
import { defineLeadField as defineLeadFieldInDomain, type LeadFieldInput } from '../../src/domain/leads.js';
import type { CallInit, CallResult, TestServer } from './server.js';

export const PA = '/v2/ProspectActivity.svc';
export const LM = '/v2/LeadManagement.svc';
export const AUTH = '/v2/Authentication.svc';

/** Every `/v2/…` route with a request that would succeed given keys (bodies valid in shape). */
export const SYNC_ENDPOINTS: { method: 'GET' | 'POST'; path: string; body?: unknown }[] = [
  { method: 'POST', path: `${PA}/Create`, body: { EmailAddress: 'auth-check@example.com', ActivityEvent: 21 } },
  { method: 'POST', path: `${PA}/CreateCustom`, body: { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'auth-check@example.com' }], Activity: { ActivityEvent: 21 } } },
  { method: 'POST', path: `${PA}/Bulk/CustomActivity/Add/ByLeadId`, body: [] },
  { method: 'POST', path: `${PA}/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress`, body: [] },
  { method: 'GET', path: `${PA}/ActivityTypes.Get` },
  { method: 'POST', path: `${PA}/CreateType`, body: { ActivityEventName: 'Auth check type' } },
  { method: 'GET', path: `${PA}/CustomActivity/GetActivitySetting?code=21` },
  { method: 'POST', path: `${PA}/Retrieve?leadId=00000000-0000-0000-0000-000000000000`, body: {} },
  { method: 'GET', path: `${PA}/GetActivityDetails?activityId=00000000-0000-0000-0000-000000000000` },
  { method: 'POST', path: `${PA}/CustomActivity/RetrieveByActivityEvent`, body: { Parameter: { ActivityEvent: 21 } } },
  { method: 'POST', path: `${PA}/CustomActivity/Update`, body: { ProspectActivityId: '00000000-0000-0000-0000-000000000000', ActivityNote: 'x' } },
  { method: 'POST', path: `${PA}/CustomActivityType/Update`, body: { ID: 201, Description: 'auth check' } },
  { method: 'POST', path: `${PA}/Bulk/CustomActivity/Update`, body: [] },
  { method: 'POST', path: `${PA}/RetrieveRecentlyModified`, body: { Parameter: { FromDate: '2025-01-01 00:00:00' } } },
  { method: 'GET', path: `${LM}/Leads.GetById?id=00000000-0000-0000-0000-000000000000` },
  { method: 'GET', path: `${LM}/Leads.GetByEmailaddress?emailaddress=auth-check@example.com` },
  { method: 'GET', path: `${LM}/RetrieveLeadByPhoneNumber?phone=9000000000` },
  { method: 'GET', path: `${LM}/Leads.GetByQuickSearch?key=auth-check` },
  { method: 'GET', path: `${LM}/LeadsMetaData.Get` },
  { method: 'POST', path: `${LM}/CreateLeadField`, body: { DisplayName: 'Auth Check Field', DataType: 'Text' } },
  { method: 'POST', path: `${LM}/Lead.Create`, body: [{ Attribute: 'EmailAddress', Value: 'auth-check@example.com' }] },
  { method: 'POST', path: `${LM}/Lead.Update?leadId=00000000-0000-0000-0000-000000000000`, body: [{ Attribute: 'FirstName', Value: 'X' }] },
  { method: 'POST', path: `${LM}/Lead.Capture`, body: [{ Attribute: 'EmailAddress', Value: 'auth-check@example.com' }] },
  { method: 'POST', path: `${LM}/Lead.CreateOrUpdate`, body: [{ Attribute: 'EmailAddress', Value: 'auth-check@example.com' }] },
  { method: 'POST', path: `${LM}/Lead.Convert?leadId=00000000-0000-0000-0000-000000000000`, body: [{ Attribute: 'EmailAddress', Value: 'auth-check@example.com' }] },
  { method: 'GET', path: `${LM}/Lead/Delete/ById?leadId=00000000-0000-0000-0000-000000000000` },
  { method: 'POST', path: `${LM}/Lead/Delete/ById`, body: { LeadId: '00000000-0000-0000-0000-000000000000' } },
  { method: 'POST', path: `${LM}/Lead/Bulk/Create`, body: [] },
  { method: 'POST', path: `${LM}/Lead/Bulk/CreateOrUpdate`, body: [] },
  { method: 'POST', path: `${LM}/Lead/Bulk/Update`, body: { LeadIds: ['00000000-0000-0000-0000-000000000000'], LeadFields: { Attribute: 'FirstName', Value: 'X' } } },
  { method: 'POST', path: `${LM}/Leads.Get`, body: { Parameter: { LookupName: 'EmailAddress', LookupValue: 'auth-check@example.com' } } },
  { method: 'POST', path: `${LM}/Leads.RecentlyModified`, body: { Parameter: { FromDate: '2025-01-01 00:00:00' } } },
  { method: 'POST', path: `${LM}/Leads/Retrieve/ByIds`, body: { SearchParameters: { LeadIds: ['00000000-0000-0000-0000-000000000000'] } } },
  { method: 'GET', path: `${AUTH}/UserByAccessKey.Get` },
  { method: 'POST', path: '/v2/Webhook.svc/Create', body: { URL: 'http://127.0.0.1:9/auth-check', WebhookEvent: 3, ContentType: 'application/json' } },
  { method: 'POST', path: '/v2/Webhook.svc/Retrieve', body: { Parameter: { WebhookEvent: 'Lead_Post_Create' } } },
  { method: 'POST', path: '/v2/Webhook.svc/Update', body: { WebhookId: '00000000-0000-0000-0000-000000000000', Description: 'auth check' } },
  { method: 'POST', path: '/v2/Webhook.svc/Delete', body: { WebhookId: '00000000-0000-0000-0000-000000000000' } },
  { method: 'GET', path: '/v2/Webhook.svc/Delete?webhookId=00000000-0000-0000-0000-000000000000' },
];

/** Asserts a LeadSquared error envelope with this status and type; returns the message. */
export function expectMx(r: CallResult, status: number, type: string, messagePart?: string | RegExp): string {
  expect(r.status, r.text).toBe(status);
  expect(r.body, r.text).toMatchObject({ Status: 'Error', ExceptionType: type });
  expect(typeof r.body.ExceptionMessage).toBe('string');
  if (messagePart !== undefined) expect(r.body.ExceptionMessage).toMatch(messagePart);
  return r.body.ExceptionMessage;
}

export function expectOk(r: CallResult): any {
  expect(r.status, r.text).toBe(200);
  return r.body;
}

export interface FieldSpec {
  SchemaName: string;
  DisplayName?: string;
  DataType?: string;
  IsMandatory?: boolean;
  MaxLength?: number;
  OptionSet?: unknown;
  Fields?: FieldSpec[];
}

let typeSeq = 0;

/** Creates an activity type through CreateType; returns its event code. */
export async function createType(s: TestServer, body: { ActivityEventName?: string; ActivityEvent?: number; Score?: number; Direction?: number; Fields?: FieldSpec[] } = {}, init?: CallInit): Promise<number> {
  const r = await s.call('POST', `${PA}/CreateType`, { ActivityEventName: `Type ${process.pid}-${++typeSeq}`, ...body }, init);
  return expectOk(r).Message.Id;
}

/** The field set the docs' examples post (mx_Custom_1..15), typed so that their values pass. */
export const DOC_EXAMPLE_FIELDS: FieldSpec[] = [
  { SchemaName: 'mx_Custom_1', DataType: 'String' },
  { SchemaName: 'mx_Custom_2', DataType: 'Number' },
  { SchemaName: 'mx_Custom_3', DataType: 'Number' },
  { SchemaName: 'mx_Custom_4', DataType: 'Number' },
  { SchemaName: 'mx_Custom_5', DataType: 'DateTime' },
  ...[6, 7, 9, 10, 11, 12, 13, 14, 15].map((n) => ({ SchemaName: `mx_Custom_${n}`, DataType: 'String' })),
  { SchemaName: 'mx_Custom_8', DataType: 'Boolean' },
];

/** Creates a lead through Lead.Create; returns its ProspectID. */
export async function createLead(s: TestServer, attrs: Record<string, string>, init?: CallInit): Promise<string> {
  const r = await s.call('POST', `${LM}/Lead.Create`, Object.entries(attrs).map(([Attribute, Value]) => ({ Attribute, Value })), init);
  return expectOk(r).Message.Id;
}

export async function getLead(s: TestServer, id: string, init?: CallInit): Promise<Record<string, string | null> | null> {
  const r = await s.call('GET', `${LM}/Leads.GetById?id=${encodeURIComponent(id)}`, undefined, init);
  return expectOk(r)[0] ?? null;
}

export async function leadByEmail(s: TestServer, email: string, init?: CallInit): Promise<Record<string, string | null> | null> {
  const r = await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=${encodeURIComponent(email)}`, undefined, init);
  return expectOk(r)[0] ?? null;
}

export async function activitiesOf(s: TestServer, leadId: string, body: unknown = {}, init?: CallInit): Promise<{ RecordCount: number; ProspectActivities: any[] }> {
  return expectOk(await s.call('POST', `${PA}/Retrieve?leadId=${encodeURIComponent(leadId)}`, body, init));
}

/** The default account's id, as UserByAccessKey.Get reports it. */
export async function accountIdOf(s: TestServer, init?: CallInit): Promise<string> {
  return expectOk(await s.call('GET', `${AUTH}/UserByAccessKey.Get`, undefined, init)).OrgId;
}

/** Row counts straight from the store: the backstop for "a failed request wrote nothing". */
export async function counts(s: TestServer, accountId: string): Promise<{ leads: number; activities: number }> {
  const st = s.services.store;
  return { leads: await st.leads.count(accountId), activities: await st.activities.count(accountId) };
}

/**
 * Runs `act` (expected to fail) and asserts it changed nothing: no new lead or activity in the
 * account, and the watched leads read back identically (score, fields, activity list).
 */
export async function expectNoChange(s: TestServer, watchedLeadIds: string[], act: () => Promise<void>, init?: CallInit): Promise<void> {
  const accountId = await accountIdOf(s, init);
  const before = await counts(s, accountId);
  const leadsBefore = await Promise.all(watchedLeadIds.map((id) => getLead(s, id, init)));
  const actsBefore = await Promise.all(watchedLeadIds.map((id) => activitiesOf(s, id, {}, init)));
  await act();
  expect(await counts(s, accountId)).toEqual(before);
  expect(await Promise.all(watchedLeadIds.map((id) => getLead(s, id, init)))).toEqual(leadsBefore);
  expect(await Promise.all(watchedLeadIds.map((id) => activitiesOf(s, id, {}, init)))).toEqual(actsBefore);
}

let accountSeq = 0;

/** A second account with its own keys, made the way `leadtrail account create` makes one. */
export async function secondAccount(s: TestServer): Promise<{ accountId: string; keys: { accessKey: string; secretKey: string }; apiKey: string }> {
  const n = ++accountSeq;
  const made = await s.services.store.transaction((tx) =>
    createAccount(tx, s.services.ctx, { name: `other-${n}`, accessKey: `other-access-${n}`, secretKey: `other-secret-${n}`, apiKey: `other-api-${n}` }),
  );
  return { accountId: made.account.id, keys: made.keys, apiKey: made.apiKey };
}

/** Defines a lead field (e.g. marks one unique) the way `leadtrail lead-fields set` does. */
export async function defineLeadField(s: TestServer, accountId: string, input: LeadFieldInput): Promise<void> {
  await s.services.store.transaction((tx) => defineLeadFieldInDomain(tx, accountId, input));
}

/**
 * The check every sync endpoint must pass: without keys, with a wrong secret, with an unknown
 * access key, or with only one of the two, in the query or in x-LSQ-* headers, the answer is 401
 * with the error envelope, and nothing is written.
 */
export async function expectKeysRequired(s: TestServer, ep: { method: string; path: string; body?: unknown }, good: { accessKey: string; secretKey: string }): Promise<void> {
  const tries: CallInit[] = [
    { noAuth: true },
    { keys: { accessKey: good.accessKey, secretKey: `${good.secretKey}x` } },
    { keys: { accessKey: `${good.accessKey}x`, secretKey: good.secretKey } },
    { keys: { accessKey: good.accessKey, secretKey: '' } },
    { noAuth: true, headers: { 'x-LSQ-AccessKey': good.accessKey } },
    { noAuth: true, headers: { 'x-LSQ-AccessKey': good.accessKey, 'x-LSQ-SecretKey': 'wrong' } },
    { noAuth: true, headers: { 'x-LSQ-AccessKey': 'nobody', 'x-LSQ-SecretKey': good.secretKey } },
  ];
  const accountId = await accountIdOf(s, { keys: good });
  const before = await counts(s, accountId);
  const typesBefore = (await s.services.store.activityTypes.list(accountId)).length;
  for (const init of tries) {
    const r = await s.call(ep.method, ep.path, ep.body, init);
    expect(r.status, `${ep.method} ${ep.path} with ${JSON.stringify(init)}: ${r.text}`).toBe(401);
    expect(r.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException', ExceptionMessage: expect.stringMatching(/accessKey or secretKey/) });
  }
  expect(await counts(s, accountId)).toEqual(before);
  expect((await s.services.store.activityTypes.list(accountId)).length).toBe(typesBefore);
}
