/**
 * `/v2/LeadManagement.svc/Lead/Bulk/Create`, `…/Lead/Bulk/CreateOrUpdate` and `…/Lead/Bulk/Update`:
 * the bulk lead writes, a result per row (domain/lead-bulk.ts). Their rate limit is the bulk class
 * (auth.ts `bulkThrottleHook`, applied by server.ts).
 */
import { bulkCreateLeads, bulkUpdateLeads, bulkUpsertLeads } from '../../domain/lead-bulk.js';
import { readBody } from '../../schemas/endpoint.js';
import * as E from '../../schemas/lead-management.js';
import { success } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';
import { callCtx } from './acting.js';

const failure = (e: { type: string; message: string }) => ({ ExceptionType: e.type, ExceptionMessage: e.message });

/** `[{"RowNumber":1,"LeadId":"…","LeadCreated":true}, {"RowNumber":2,"LeadId":null,"LeadCreated":false,"ExceptionType":…,"ExceptionMessage":…}]` */
export const bulkCreate: Handler = async (s, req) => {
  const rows = readBody(E.leadBulkCreate, req.body);
  const outcomes = await bulkCreateLeads(s.store, await callCtx(s, req), req.principal.accountId, rows);
  return outcomes.map((o, i) =>
    o.ok ? { RowNumber: i + 1, LeadId: o.value.id, LeadCreated: true } : { RowNumber: i + 1, LeadId: null, LeadCreated: false, ...failure(o.error) },
  );
};

/** `[{"RowNumber":1,"LeadId":"…","LeadCreated":true,"LeadUpdated":false,"AffectedRows":1}, …]`; a failed row has `AffectedRows` 0 and its error. */
export const bulkCreateOrUpdate: Handler = async (s, req) => {
  const rows = readBody(E.leadBulkCreateOrUpdate, req.body);
  const outcomes = await bulkUpsertLeads(s.store, await callCtx(s, req), req.principal.accountId, rows);
  return outcomes.map((o, i) =>
    o.ok
      ? { RowNumber: i + 1, LeadId: o.value.lead.id, LeadCreated: o.value.created, LeadUpdated: !o.value.created, AffectedRows: 1 }
      : { RowNumber: i + 1, LeadId: null, LeadCreated: false, LeadUpdated: false, AffectedRows: 0, ...failure(o.error) },
  );
};

/**
 * `{"LeadIds":[…],"LeadFields":{"Attribute","Value"}}` (LeadFields may also be a list of such
 * entries) ⇒ `{"Status":"Success","Message":{"AffectedRows":n}}`, n the leads updated. When some
 * leads fail, `Message.FailedLeads` lists them with their errors.
 */
export const bulkUpdate: Handler = async (s, req) => {
  const { LeadIds: leadIds, LeadFields: attrs } = readBody(E.leadBulkUpdate, req.body);
  const { affected, failed } = await bulkUpdateLeads(s.store, await callCtx(s, req), req.principal.accountId, leadIds, attrs);
  return success({
    AffectedRows: affected,
    ...(failed.length ? { FailedLeads: failed.map((f) => ({ LeadId: f.leadId, ...failure(f.error) })) } : {}),
  });
};
