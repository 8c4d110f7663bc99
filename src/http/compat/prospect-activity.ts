/** `/v2/ProspectActivity.svc/…`: activity posts, bulk posts, activity types and activity reads. */
import { getActivityType, createActivityType } from '../../domain/activity-types.js';
import { postActivity } from '../../domain/activities.js';
import { mx, isMxError } from '../../domain/errors.js';
import { findLead } from '../../domain/leads.js';
import type { Ctx } from '../../domain/context.js';
import type { ActivityType } from '../../domain/types.js';
import type { Repos } from '../../storage/store.js';
import { parseCreateType } from '../../wire/activity-type.js';
import { runOperation } from '../../wire/operations.js';
import { readBody, readQuery } from '../../schemas/endpoint.js';
import * as E from '../../schemas/prospect-activity.js';
import { activityDetailsToWire, activityToWire, activityTypeSettingToWire, activityTypeToWire, retrieveAnswerJson, success, type RetrieveAnswer } from '../../wire/shapes.js';
import type { Handler } from '../handler.js';
import { query } from '../auth.js';
import { runWrite } from '../../domain/run.js';
import { callCtx } from './acting.js';

export const create: Handler = async (s, req) => {
  const ctx = await callCtx(s, req);
  return runOperation(s.store, 'activity.create', ctx, { accountId: req.principal.accountId, body: req.body, params: query(req), requestId: null });
};

export const createCustom: Handler = async (s, req) => {
  const ctx = await callCtx(s, req);
  return runOperation(s.store, 'activity.createcustom', ctx, { accountId: req.principal.accountId, body: req.body, params: query(req), requestId: null });
};

/**
 * Posts each row (read by the endpoint's schema: every row's structure before any row is written)
 * in its own transaction: a bad row fails alone and says why.
 */
async function bulk(s: Parameters<Handler>[0], ctx: Ctx, accountId: string, rows: E.BulkRow[], leadIdOf: (tx: Repos, lead: string) => Promise<string>, missing: string) {
  const Response = [];
  for (const [i, row] of rows.entries()) {
    try {
      const { activity } = await runWrite(s.store, async (tx) => {
        if (!row.lead) throw mx.mandatoryMissing(missing);
        const leadId = await leadIdOf(tx, row.lead);
        return postActivity(tx, ctx, accountId, { by: 'id', leadId }, { ...row.activity, requestId: null });
      });
      Response.push({ RowNumber: i + 1, ActivityCreated: true, ProspectActivityId: activity.id, RelatedProspectId: activity.leadId });
    } catch (e) {
      if (!isMxError(e)) throw e;
      Response.push({ RowNumber: i + 1, ActivityCreated: false, ProspectActivityId: null, ExceptionType: e.type, ExceptionMessage: e.message });
    }
  }
  return { Response };
}

export const bulkByLeadId: Handler = async (s, req) =>
  bulk(s, await callCtx(s, req), req.principal.accountId, readBody(E.bulkActivityByLeadId, req.body), async (_tx, id) => id, "'RelatedProspectId' is mandatory");

export const bulkByLeadField: Handler = async (s, req) => {
  const { searchBy } = readQuery(E.bulkActivityByLeadField, query(req));
  const accountId = req.principal.accountId;
  const rows = readBody(E.bulkActivityByLeadField, req.body);
  return bulk(s, await callCtx(s, req), accountId, rows, async (tx, value) => {
    const lead = await findLead(tx, accountId, searchBy, value);
    if (!lead) throw mx.unknownLead(`${searchBy} = ${value.slice(0, 100)}`);
    return lead.id;
  }, "'SearchByValue' is mandatory");
};

export const activityTypesGet: Handler = async (s, req) => (await s.store.activityTypes.list(req.principal.accountId)).map(activityTypeToWire);

export const createType: Handler = async (s, req) => {
  const input = parseCreateType(req.body);
  const type = await runWrite(s.store, (tx) => createActivityType(tx, s.ctx, req.principal.accountId, input));
  return success({ Id: type.code });
};

export const getActivitySetting: Handler = async (s, req) => {
  const { code: c } = readQuery(E.activitySettingGet, query(req));
  return activityTypeSettingToWire(await getActivityType(s.store, req.principal.accountId, c));
};

async function typeMap(s: Parameters<Handler>[0], accountId: string): Promise<Map<number, ActivityType>> {
  return new Map((await s.store.activityTypes.list(accountId)).map((t) => [t.code, t]));
}

export const retrieve: Handler = async (s, req, reply) => {
  const { leadId } = readQuery(E.activityRetrieve, query(req));
  const body = readBody(E.activityRetrieve, req.body);
  const p = { offset: body.Paging?.Offset ?? 0, limit: body.Paging?.RowCount ?? E.RETRIEVE_PAGE_DEFAULT, eventCode: body.Parameter?.ActivityEvent };
  const accountId = req.principal.accountId;
  const { total, activities } = await s.store.activities.listForLead(accountId, { leadId, ...p });
  const types = await typeMap(s, accountId);
  const answer: RetrieveAnswer = { RecordCount: total, ProspectActivities: activities.map((a) => activityToWire(a, types.get(a.eventCode) ?? null)) };
  // Its compiled serializer for this answer; anything else sent on this reply (an error raised
  // after this) as Fastify would send it. A reply with a serializer of its own gets no content
  // type from Fastify: the one it gives JSON.
  reply.type('application/json; charset=utf-8').serializer((payload: unknown) => (payload === answer ? retrieveAnswerJson(answer) : JSON.stringify(payload)));
  return answer;
};

export const getActivityDetails: Handler = async (s, req) => {
  const { activityId: id } = readQuery(E.activityDetailsGet, query(req));
  const a = await s.store.activities.get(req.principal.accountId, id);
  if (!a) throw mx.unknownActivity(id);
  return activityDetailsToWire(a, await s.store.activityTypes.get(a.accountId, a.eventCode));
};
