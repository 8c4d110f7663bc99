/**
 * What the document says a request may carry, against what the server takes, through Prism's
 * validating proxy (without --errors: every request is forwarded and Prism reports in
 * `sl-violations` what the document refuses in it). For each body or query below, the server
 * takes it exactly when the document does: number-like strings within the server's bounds (and
 * refused past them), enumerated values in every spelling the server reads (spaces around, any
 * case, leading zeros), and strings no longer than the server stores. A client validating its
 * requests by the document then neither refuses one the server takes nor sends one it refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, started, type TestServer } from '../helpers/server.js';
import { startPrism, violations, type Prism } from './prism.js';

const KEYQ = `accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;
const PA = '/v2/ProspectActivity.svc';
const LM = '/v2/LeadManagement.svc';
const WH = '/v2/Webhook.svc';

/** A case: the path (with its query), the body, and whether the server takes it. */
type Case = [path: string, body: unknown, takes: boolean];

describe('requests the server takes are the ones the document admits', () => {
  let s: TestServer;
  let prism: Prism;
  let leadId: string;
  let typeCode: number;
  let webhookId: string;
  let n = 0;
  /** A name no other case uses. */
  const unique = (prefix: string) => `${prefix}${++n}`;

  beforeAll(async () => {
    s = await started();
    prism = await startPrism(s.url);
    leadId = (await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'lenient@example.com' }])).body.Message.Id;
    typeCode = (await s.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Lenient type' })).body.Message.Id;
    webhookId = (await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/hook', WebhookEvent: 3 })).body.Message.Id;
  }, 90_000);
  afterAll(() => prism?.stop());

  /**
   * Sends each case through Prism; for each, whether the server took it (200), whether the document
   * admitted it (no request violation), and the MX type of a refusal (never MXSystemException).
   */
  async function check(cases: Case[], method: 'POST' | 'GET' = 'POST') {
    const seen = [];
    const wanted = [];
    for (const [path, body, takes] of cases) {
      const res = await fetch(`${prism.url}${path}${path.includes('?') ? '&' : '?'}${KEYQ}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
      const answer = (await res.json()) as { ExceptionType?: string };
      const v = violations(res);
      const label = `${path} ${JSON.stringify(body)}`.slice(0, 160);
      seen.push({ label, taken: res.status === 200, documented: v.request.length === 0, systemError: answer.ExceptionType === 'MXSystemException', answer: v.response.map((x) => x.message) });
      wanted.push({ label, taken: takes, documented: takes, systemError: false, answer: [] });
    }
    expect(seen).toEqual(wanted);
  }

  it('activity event codes, Int32s and paging as strings: within the bounds, in any spelling wholeNumber reads', async () => {
    await check([
      [`${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: ' +021 ' }, true],
      [`${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: '0021' }, true],
      [`${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: '2147483648' }, false],
      [`${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: '21.0' }, false],
      [`${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: '-21' }, false],
      [`${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: ' ' }, false],
      [`${PA}/Retrieve?leadId=${leadId}`, { Paging: { RowCount: ' 10 ', Offset: '+0' } }, true],
      [`${PA}/Retrieve?leadId=${leadId}`, { Paging: { RowCount: '' } }, true],
      [`${PA}/Retrieve?leadId=${leadId}`, { Paging: { RowCount: '1001' } }, false],
      [`${PA}/Retrieve?leadId=${leadId}`, { Paging: { Offset: '-1' } }, false],
      [`${PA}/Retrieve?leadId=${leadId}`, { Parameter: { ActivityEvent: '99999999999' } }, false],
      [`${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: ' 21 ' }, Paging: { PageIndex: '1', PageSize: '1000' } }, true],
      [`${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: '21' }, Paging: { PageSize: '1001' } }, false],
      [`${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: '21' }, Paging: { PageIndex: '0' } }, false],
      [`${PA}/RetrieveRecentlyModified`, { Parameter: { ActivityEvent: '' }, Paging: { PageSize: ' 1000 ' } }, true],
      [`${PA}/RetrieveRecentlyModified`, { Parameter: { ActivityEvent: '  ' } }, false],
      [`${PA}/RetrieveRecentlyModified`, { Paging: { PageIndex: '1000001' } }, false],
      [`${LM}/Leads.RecentlyModified`, { Paging: { PageIndex: '01', PageSize: '5000' } }, true],
      [`${LM}/Leads.RecentlyModified`, { Paging: { PageSize: '5001' } }, false],
      [`${PA}/CreateType`, { ActivityEventName: unique('Scored '), Score: ' -5 ', Direction: ' 1 ', ActivityEvent: ' 4001 ' }, true],
      [`${PA}/CreateType`, { ActivityEventName: unique('Scored '), Score: '2147483648' }, false],
      [`${PA}/CreateType`, { ActivityEventName: unique('Scored '), Direction: '2' }, false],
      [`${PA}/CreateType`, { ActivityEventName: unique('Scored '), ActivityEvent: '0' }, false],
      [`${PA}/CreateType`, { ActivityEventName: unique('Scored '), Fields: [{ SchemaName: 'mx_Custom_1', MaxLength: ' 10 ' }] }, true],
      [`${PA}/CreateType`, { ActivityEventName: unique('Scored '), Fields: [{ SchemaName: 'mx_Custom_1', MaxLength: '-1' }] }, false],
      [`${PA}/CustomActivityType/Update`, { ID: ` ${typeCode} `, Score: '+7' }, true],
      [`${PA}/CustomActivityType/Update`, { ID: String(typeCode), EventDirection: '-1' }, false],
      [`${LM}/CreateLeadField`, { DisplayName: unique('Sized '), DataType: 'Text', MaxLength: ' 20 ' }, true],
      [`${LM}/CreateLeadField`, { DisplayName: unique('Sized '), DataType: 'Text', MaxLength: '0' }, false],
    ]);
  });

  it('webhook codes, delays, statuses and Retrieve paging as strings: within the bounds, in any spelling wholeNumber reads', async () => {
    await check([
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: ' 03 ', ExecutionDelay: ' 060 ' }, true],
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: '+3', Delay: '+0' }, true],
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: '10' }, false],
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: '3.0' }, false],
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: 3, ExecutionDelay: '86401' }, false],
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: 3, ExecutionDelay: '1e1' }, false],
      [`${WH}/Create`, { URL: 'https://example.com/a', WebhookEvent: 3, Delay: '' }, false],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: ' 01 ' }, true],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: ' 0 ', WebhookEvent: '' }, true],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: '' }, true],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: '1.0' }, false],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: ' ' }, false],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: '0x1' }, false],
      [`${WH}/Update`, { WebhookId: webhookId, StatusCode: 'off' }, false],
      [`${WH}/Retrieve`, { Paging: { PageIndex: ' 02 ', PageSize: '+10' } }, true],
      [`${WH}/Retrieve`, { Paging: { PageIndex: ' ', PageSize: '' } }, true],
      [`${WH}/Retrieve`, { Paging: { PageIndex: ' 2.0 ' } }, false],
      [`${WH}/Retrieve`, { Paging: { PageSize: '1e1' } }, false],
      [`${WH}/Retrieve`, { Paging: { PageIndex: '0x2' } }, false],
      [`${WH}/Retrieve`, { Paging: { PageSize: '1001' } }, false],
      [`${WH}/Retrieve`, { Paging: { PageIndex: 'two' } }, false],
      [`${WH}/Retrieve`, { Parameter: { WebhookEvent: ' lead_post_CREATE ', StatusCode: ' 2 ' } }, true],
      [`${WH}/Retrieve`, { Parameter: { WebhookEvent: '003', StatusCode: '01' } }, true],
      [`${WH}/Retrieve`, { Parameter: { WebhookEvent: '+3' } }, true],
      [`${WH}/Retrieve`, { Parameter: { WebhookEvent: '3.0' } }, false],
      [`${WH}/Retrieve`, { Parameter: { StatusCode: '3' } }, false],
      [`${WH}/Retrieve`, { Parameter: { StatusCode: '1.0' } }, false],
      // A code no event has: on PostgreSQL 2147483648 was a 500 MXSystemException (no INTEGER holds it).
      [`${WH}/Retrieve`, { Parameter: { WebhookEvent: '2147483648' } }, false],
      [`${WH}/Retrieve`, { Parameter: { WebhookEvent: '10' } }, false],
    ]);
  });

  it('enumerated values in every spelling the server reads: spaces around, any case, a flag as 0 or null', async () => {
    const get = (op: unknown): unknown => ({ Parameter: { LookupName: 'EmailAddress', LookupValue: 'lenient@example.com', SqlOperator: op } });
    await check([
      [`${LM}/Leads.Get`, get(' like '), true],
      [`${LM}/Leads.Get`, get('Like'), true],
      [`${LM}/Leads.Get`, get(' != '), true],
      [`${LM}/Leads.Get`, get(''), true],
      [`${LM}/Leads.Get`, get('between'), false],
      [`${LM}/Leads.Get`, { ...(get('=') as object), Sorting: { Direction: ' Descending ' } }, true],
      [`${LM}/Leads.Get`, { ...(get('=') as object), Sorting: { Direction: 'ASC' } }, true],
      [`${LM}/Leads.Get`, { ...(get('=') as object), Sorting: { Direction: 2 } }, false],
      [`${LM}/Leads.Get`, { ...(get('=') as object), Sorting: { Direction: 'up' } }, false],
      [`${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: 21 }, Sorting: { ColumnName: ' createdon ', Direction: 'asc' } }, true],
      [`${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: 21 }, Sorting: { ColumnName: '  ' } }, false],
      [`${PA}/CustomActivity/RetrieveByActivityEvent`, { Parameter: { ActivityEvent: 21 }, Sorting: { ColumnName: 'Score' } }, false],
      [`${PA}/RetrieveRecentlyModified`, { Sorting: { ColumnName: 'MODIFIEDON', Direction: ' 0 ' } }, true],
      [`${PA}/RetrieveRecentlyModified`, { Sorting: { ColumnName: '  ' } }, true],
      [`${PA}/RetrieveRecentlyModified`, { Sorting: { ColumnName: 'Name' } }, false],
      [`${PA}/CreateType`, { ActivityEventName: unique('Flagged '), Fields: [{ SchemaName: 'mx_Custom_1', IsMandatory: 'True' }] }, true],
      [`${PA}/CreateType`, { ActivityEventName: unique('Flagged '), Fields: [{ SchemaName: 'mx_Custom_1', IsMandatory: 'yes' }] }, false],
      [`${PA}/CreateType`, { ActivityEventName: unique('Flagged '), Fields: [{ SchemaName: 'mx_Custom_1', IsMandatory: 0 }] }, true],
      [`${PA}/CreateType`, { ActivityEventName: unique('Flagged '), Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', IsMandatory: null }] }] }, true],
      [`${PA}/CreateType`, { ActivityEventName: unique('Flagged '), Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', IsMandatory: 'no' }] }] }, false],
      [`${WH}/Update`, { WebhookId: webhookId, NotifyOnFailure: 0 }, true],
      [`${WH}/Update`, { WebhookId: webhookId, NotifyOnFailure: null }, true],
      [`${WH}/Update`, { WebhookId: webhookId, NotifyOnFailure: 'yes' }, false],
    ]);
  });

  it('strings as long as the server stores them, and no longer', async () => {
    const long = (c: string, k: number) => c.repeat(k);
    await check([
      [`${PA}/CreateType`, { ActivityEventName: `  ${long('n', 196)}${unique('')}  ` }, true],
      [`${PA}/CreateType`, { ActivityEventName: long('n', 201) }, false],
      [`${PA}/CreateType`, { ActivityEventName: '   ' }, false],
      [`${PA}/CustomActivityType/Update`, { ID: typeCode, ActivityEventName: long('u', 201) }, false],
      [`${PA}/CustomActivityType/Update`, { ID: typeCode, ActivityEventName: ` ${long('u', 200)} ` }, true],
      [`${WH}/Create`, { URL: 'https://example.com/d', WebhookEvent: 3, Description: long('d', 2000) }, true],
      [`${WH}/Create`, { URL: 'https://example.com/d', WebhookEvent: 3, Description: long('d', 2001) }, false],
      [`${WH}/Create`, { URL: `https://example.com/${long('p', 2100)}`, WebhookEvent: 3 }, false],
      [`${WH}/Create`, { URL: 'https://example.com/s', WebhookEvent: 3, SigningSecret: long('s', 1025) }, false],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'X-Token', Value: 'café' }] }, true],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'X-Token', Value: '€' }] }, false],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'Bad Name', Value: 'x' }] }, false],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'HOST', Value: 'x' }] }, false],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'X-Leadtrail-Id', Value: 'x' }] }, false],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'Keep-Alive', Value: 'x' }] }, false],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'X-Hostname', Value: 'x' }] }, true],
      [`${WH}/Create`, { URL: 'https://example.com/h', WebhookEvent: 3, CustomHeaders: [{ Key: 'X-Long', Value: long('v', 4097) }] }, false],
      [`${LM}/CreateLeadField`, { DisplayName: `  My  ${unique('Field ')} `, DataType: 'Text' }, true],
      [`${LM}/CreateLeadField`, { DisplayName: long('f', 62), DataType: 'Text' }, false],
      [`${LM}/CreateLeadField`, { DisplayName: 'Bad-Name', DataType: 'Text' }, false],
    ]);
    await check(
      [
        [`${LM}/Leads.GetByQuickSearch?key=${encodeURIComponent(` ${long('k', 200)} `)}`, undefined, true],
        [`${LM}/Leads.GetByQuickSearch?key=${long('k', 201)}`, undefined, false],
      ],
      'GET',
    );
  });
});
