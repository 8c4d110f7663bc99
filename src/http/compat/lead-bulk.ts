/**
 * `/v2/LeadManagement.svc/Lead/Bulk/Create`, `…/Lead/Bulk/CreateOrUpdate` and `…/Lead/Bulk/Update`:
 * the bulk lead writes, a result per row (domain/lead-bulk.ts). Their rate limit is the bulk class
 * (auth.ts `bulkThrottleHook`, applied by server.ts).
 */
import { BULK_CREATE_MAX, BULK_UPDATE_MAX, BULK_UPSERT_MAX, bulkCreateLeads, bulkUpdateLeads, bulkUpsertLeads } from '../../domain/lead-bulk.js';
import type { FieldInput } from '../../domain/fields.js';
import { isMxError, mx } from '../../domain/errors.js';
import { asArray, asObject, fieldList, isObject, leadAttributeList, prop, scalar } from '../../wire/parse.js';
import { success } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';
import { callCtx } from './acting.js';

/**
 * The body's rows, each an attribute list (bare, or in `{"LeadDetails":[…]}`), all read before any
 * row is written: a malformed row (wrong JSON types) is a 400 for the whole call, as on Lead.Create;
 * more rows than the endpoint takes is MXInvalidInputException. Only rows the rules refuse fail one by one.
 */
function leadRows(body: unknown, max: number): FieldInput[][] {
  const rows = asArray(body);
  if (rows.length > max) throw mx.invalidInput(`At most ${max} leads can be sent in one call; got ${rows.length}.`);
  return rows.map((row, i) => {
    try {
      return leadAttributeList(row);
    } catch (e) {
      if (isMxError(e) && e.status === 400) throw mx.badStructure(`row ${i + 1}: ${e.message.replace(/^Invalid request body: /, '')}`);
      throw e;
    }
  });
}

const failure = (e: { type: string; message: string }) => ({ ExceptionType: e.type, ExceptionMessage: e.message });

/** `[{"RowNumber":1,"LeadId":"…","LeadCreated":true}, {"RowNumber":2,"LeadId":null,"LeadCreated":false,"ExceptionType":…,"ExceptionMessage":…}]` */
export const bulkCreate: Handler = async (s, req) => {
  const rows = leadRows(req.body, BULK_CREATE_MAX);
  const outcomes = await bulkCreateLeads(s.store, await callCtx(s, req), req.principal.accountId, rows);
  return outcomes.map((o, i) =>
    o.ok ? { RowNumber: i + 1, LeadId: o.value.id, LeadCreated: true } : { RowNumber: i + 1, LeadId: null, LeadCreated: false, ...failure(o.error) },
  );
};

/** `[{"RowNumber":1,"LeadId":"…","LeadCreated":true,"LeadUpdated":false,"AffectedRows":1}, …]`; a failed row has `AffectedRows` 0 and its error. */
export const bulkCreateOrUpdate: Handler = async (s, req) => {
  const rows = leadRows(req.body, BULK_UPSERT_MAX);
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
  const body = asObject(req.body);
  const rawIds = prop(body, 'LeadIds');
  if (rawIds === undefined || rawIds === null) throw mx.mandatoryMissing("'LeadIds' is mandatory");
  const leadIds = asArray(rawIds, "'LeadIds'").map((v, i) => {
    if (typeof v !== 'string') throw mx.badStructure(`'LeadIds[${i}]' must be a string`);
    return scalar(v, `LeadIds[${i}]`)!.trim();
  });
  if (leadIds.length === 0) throw mx.mandatoryMissing("'LeadIds' needs at least one lead id");
  if (leadIds.length > BULK_UPDATE_MAX) throw mx.invalidInput(`At most ${BULK_UPDATE_MAX} leads can be updated in one call; got ${leadIds.length}.`);
  const rawFields = prop(body, 'LeadFields');
  if (rawFields === undefined || rawFields === null) throw mx.mandatoryMissing("'LeadFields' is mandatory");
  const attrs = fieldList(isObject(rawFields) ? [rawFields] : rawFields, 'LeadFields');
  if (attrs.length === 0) throw mx.mandatoryMissing("'LeadFields' needs an Attribute and its Value");
  const { affected, failed } = await bulkUpdateLeads(s.store, await callCtx(s, req), req.principal.accountId, leadIds, attrs);
  return success({
    AffectedRows: affected,
    ...(failed.length ? { FailedLeads: failed.map((f) => ({ LeadId: f.leadId, ...failure(f.error) })) } : {}),
  });
};
