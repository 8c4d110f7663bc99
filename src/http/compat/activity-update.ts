/** `POST /v2/ProspectActivity.svc/CustomActivity/Update` and `POST …/CustomActivityType/Update`. */
import { updateActivity, updateActivityType } from '../../domain/activity-update.js';
import { runWrite } from '../../domain/run.js';
import { readBody } from '../../schemas/endpoint.js';
import { customActivityTypeUpdate, customActivityUpdate } from '../../schemas/prospect-activity.js';
import { success } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';

/** Body: `{"ProspectActivityId","ActivityEvent"?,"ActivityNote"?,"Fields":[{SchemaName,Value}],"ValidateDropDownOptions"?}`. */
export const activityUpdate: Handler = async (s, req) => {
  const o = readBody(customActivityUpdate, req.body);
  const change = {
    id: o.ProspectActivityId,
    eventCode: o.ActivityEvent,
    note: o.ActivityNote,
    fields: o.Fields,
    skipDropdownValidation: o.ValidateDropDownOptions,
    at: s.ctx.now(),
  };
  const activity = await runWrite(s.store, (tx) => updateActivity(tx, req.principal.accountId, change, s.ctx));
  return success({ Id: activity.id });
};

/**
 * Body: `{"ID","ActivityEventName"?,"Score"?,"Description"?,"EventDirection"?,"CanDeleteActivity"?,"Fields"?:[…]}`.
 * `ID` is the type's event code (what GetActivitySetting reports as `ID`); `ActivityEvent` is read
 * when `ID` is absent, `Direction` when `EventDirection` is.
 */
export const activityTypeUpdate: Handler = async (s, req) => {
  const change = readBody(customActivityTypeUpdate, req.body);
  await runWrite(s.store, (tx) => updateActivityType(tx, req.principal.accountId, change));
  return { Status: 'Success' };
};
