/** `POST /v2/LeadManagement.svc/Lead.Convert?leadId=<visitor id>`: see domain/lead-convert.ts for what it does without visitors. */
import { convertVisitor } from '../../domain/lead-convert.js';
import { runWrite } from '../../domain/run.js';
import { readBody, readQuery } from '../../schemas/endpoint.js';
import { leadConvert as endpoint } from '../../schemas/lead-management.js';
import { success } from '../../wire/shapes.js';
import { query } from '../auth.js';
import type { Handler } from '../handler.js';
import { callCtx } from './acting.js';

/** ⇒ `{"Status":"Success","Message":{"AffectedRows":1,"Id":"<lead id>","IsCreated":false}}` (the docs show `AffectedRows`; `Id` and `IsCreated` say which lead). */
export const leadConvert: Handler = async (s, req) => {
  const { leadId: visitorId } = readQuery(endpoint, query(req));
  const attrs = readBody(endpoint, req.body);
  const ctx = await callCtx(s, req);
  const { lead, created } = await runWrite(s.store, (tx) => convertVisitor(tx, ctx, req.principal.accountId, visitorId, attrs));
  return success({ AffectedRows: 1, Id: lead.id, IsCreated: created });
};
