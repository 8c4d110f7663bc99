/**
 * `POST /v2/LeadManagement.svc/CreateLeadField`: creates a custom lead field (domain/lead-field-create.ts).
 * It is read back with `LeadsMetaData.Get?schemaName=`.
 */
import { mx } from '../../domain/errors.js';
import { createCustomLeadField } from '../../domain/lead-field-create.js';
import { INT32, absent, wholeNumber } from '../../domain/numbers.js';
import { runWrite } from '../../domain/run.js';
import { asArray, asObject, isObject, prop, text, type JsonObject } from '../../wire/parse.js';
import { success } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';

/** `OptionsJson`: a list of `{"Value","IsDefault","Order"}` (or of plain strings), that list as a JSON string, or `""` for none. */
function options(o: JsonObject): string[] | null {
  let v = prop(o, 'OptionsJson');
  if (absent(v) || v === '') return null;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw mx.badStructure("'OptionsJson' must be a list of options, or that list written as a JSON string");
    }
  }
  const values = asArray(v, "'OptionsJson'").map((item, i) => {
    const value = isObject(item) ? text(item, 'Value') : typeof item === 'string' ? item : undefined;
    if (typeof value !== 'string') throw mx.badStructure(`'OptionsJson[${i}]' needs a 'Value' string`);
    return value.trim();
  });
  return values.filter((x) => x !== '').length ? values.filter((x) => x !== '') : null;
}

/** ⇒ `{"Status":"Success","Message":{"Id":"mx_<Display_Name>"}}` */
export const createLeadField: Handler = async (s, req) => {
  const o = asObject(req.body);
  const displayName = text(o, 'DisplayName');
  if (!displayName || displayName.trim() === '') throw mx.mandatoryMissing("'DisplayName' is mandatory");
  const dataType = text(o, 'DataType');
  if (!dataType || dataType.trim() === '') throw mx.mandatoryMissing("'DataType' is mandatory (Text, Number, Email, Phone, Website, Date, Time, Select or Boolean)");
  const rawMax = prop(o, 'MaxLength');
  let maxLength: number | null = null;
  if (!absent(rawMax) && rawMax !== '') {
    maxLength = wholeNumber(rawMax, { min: 1, max: INT32.max });
    if (maxLength === null) throw mx.invalidInput(`'MaxLength' must be a whole number from 1 to ${INT32.max}.`);
  }
  const input = { displayName, dataType: dataType.trim(), renderType: text(o, 'RenderTypeTextValue'), maxLength, options: options(o) };
  const def = await runWrite(s.store, (tx) => createCustomLeadField(tx, req.principal.accountId, input));
  return success({ Id: def.schemaName });
};
