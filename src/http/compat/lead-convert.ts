/** `POST /v2/LeadManagement.svc/Lead.Convert?leadId=<visitor id>`: see domain/lead-convert.ts for what it does without visitors. */
import { mx } from '../../domain/errors.js';
import { convertVisitor } from '../../domain/lead-convert.js';
import { runWrite } from '../../domain/run.js';
import { leadAttributeList } from '../../wire/parse.js';
import { success } from '../../wire/shapes.js';
import { query } from '../auth.js';
import type { Handler } from '../handler.js';
import { callCtx } from './acting.js';

/** ⇒ `{"Status":"Success","Message":{"AffectedRows":1,"Id":"<lead id>","IsCreated":false}}` (the docs show `AffectedRows`; `Id` and `IsCreated` say which lead). */
export const leadConvert: Handler = async (s, req) => {
  const visitorId = query(req).leadid?.trim();
  if (!visitorId) throw mx.mandatoryMissing("'leadId' query parameter is mandatory (the visitor's MXCProspectId)");
  const attrs = leadAttributeList(req.body);
  const ctx = await callCtx(s, req);
  const { lead, created } = await runWrite(s.store, (tx) => convertVisitor(tx, ctx, req.principal.accountId, visitorId, attrs));
  return success({ AffectedRows: 1, Id: lead.id, IsCreated: created });
};
