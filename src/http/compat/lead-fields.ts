/**
 * `POST /v2/LeadManagement.svc/CreateLeadField`: creates a custom lead field (domain/lead-field-create.ts).
 * It is read back with `LeadsMetaData.Get?schemaName=`.
 */
import { createCustomLeadField } from '../../domain/lead-field-create.js';
import { runWrite } from '../../domain/run.js';
import { readBody } from '../../schemas/endpoint.js';
import * as E from '../../schemas/lead-management.js';
import { success } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';

/** ⇒ `{"Status":"Success","Message":{"Id":"mx_<Display_Name>"}}` */
export const createLeadField: Handler = async (s, req) => {
  const o = readBody(E.createLeadField, req.body);
  const input = { displayName: o.DisplayName, dataType: o.DataType, renderType: o.RenderTypeTextValue, maxLength: o.MaxLength, options: o.OptionsJson };
  const def = await runWrite(s.store, (tx) => createCustomLeadField(tx, req.principal.accountId, input));
  return success({ Id: def.schemaName });
};
