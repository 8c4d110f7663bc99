/**
 * The async host's paths (`/activity/create`, `/lead/capture`, … and their status and metrics).
 * A submit is judged later by the worker exactly as its sync twin judges it now, so its body schema
 * is the sync endpoint's; the answer is a RequestID to poll.
 */
import { z } from 'zod';
import type { RequestKind } from '../domain/types.js';
import { endpoint, type Endpoint } from './endpoint.js';
import { leadUpdateBehaviorParam, postUpdatedLeadParam } from './lead-management.js';
import { activityCreateBody, activityCreateCustomBody } from './prospect-activity.js';
import * as L from './lsq.js';

const tag = 'Async';

export const Accepted = z
  .object({ Status: z.string().meta({ example: 'Request accepted. Please use below request id to check the status' }), RequestID: z.string() })
  .meta({ id: 'AsyncAccepted' });

/** The async status strings, LeadSquared's (queue/status.ts WIRE_STATUS maps leadtrail's states to them). */
export const TASK_STATUSES = ['In-Queue', 'Success', 'FAILURE', 'ERROR'] as const;

export const AsyncStatus = z
  .object({
    RequestId: z.string(),
    TaskStatus: z.object({
      TaskType: z.string(),
      Status: z.enum(TASK_STATUSES).meta({ description: 'In-Queue (waiting or being processed), Success, FAILURE (the request was refused: StatusReason says why) or ERROR (retries ran out)' }),
      StatusReason: z.string().nullable(),
      TaskCurrentStep: z.string().nullable(),
      TaskLastStep: z.string().nullable(),
      RequestBody: z.string().nullable(),
      Message: z.string().nullable().meta({ description: "On success, the sync endpoint's answer written as JSON text; else null" }),
    }),
  })
  .meta({ id: 'AsyncStatus' });

export const AsyncMetrics = z
  .object({ PendingMessages: z.number(), MaxDelayInSeconds: z.number(), ProcessingRatePerMinute: z.number(), ProcessingratePerMinute: z.number() })
  .meta({ id: 'AsyncMetrics' });

const submit = (kind: RequestKind, path: string, operationId: string, summary: string, body: z.ZodType, query?: z.ZodObject): Endpoint =>
  endpoint('POST', path, { operationId, summary: `${summary} (async: answers a RequestID; ${kind})`, tag, bodyRequired: true, query, body, answer: Accepted });

export const asyncActivityCreate = submit('activity.create', '/activity/create', 'asyncActivityCreate', 'Posts an activity', activityCreateBody);
export const asyncActivityCreateCustom = submit('activity.createcustom', '/activity/createcustom', 'asyncActivityCreateCustom', 'Creates or updates a lead and posts an activity', activityCreateCustomBody);
export const asyncLeadCapture = submit(
  'lead.capture',
  '/lead/capture',
  'asyncLeadCapture',
  'Captures a lead',
  L.leadAttributeList(),
  z.object({ LeadUpdateBehavior: leadUpdateBehaviorParam, postUpdatedLead: postUpdatedLeadParam }),
);
export const asyncLeadUpdate = submit('lead.update', '/lead/update', 'asyncLeadUpdate', 'Updates a lead', L.leadAttributeList(), z.object({ leadId: z.string(), postUpdatedLead: postUpdatedLeadParam }));

const requestId = z.object({ RequestID: L.requiredParam("'RequestID' query parameter is mandatory", { trim: true }).meta({ description: 'The RequestID a submit answered' }) });

const status = (path: string, operationId: string, what: string) =>
  endpoint('GET', path, { operationId, summary: `The status of ${what} request`, tag, query: requestId, answer: AsyncStatus, errors: [404] });

export const asyncActivityStatus = status('/activity/status', 'asyncActivityStatus', 'an activity');
export const asyncActivityCreateStatus = status('/activity/create/status', 'asyncActivityCreateStatus', 'an /activity/create');
export const asyncActivityCreateCustomStatus = status('/activity/createcustom/status', 'asyncActivityCreateCustomStatus', 'an /activity/createcustom');
export const asyncLeadStatus = status('/lead/status', 'asyncLeadStatus', 'a lead');
export const asyncLeadUpdateStatus = status('/lead/update/status', 'asyncLeadUpdateStatus', 'a /lead/update');

const metrics = (path: string, operationId: string) =>
  endpoint('GET', path, { operationId, summary: `Queue metrics of ${path.replace('/metrics', '')} (the last 10 minutes)`, tag, answer: AsyncMetrics });

export const ASYNC = [
  asyncActivityCreate,
  asyncActivityCreateCustom,
  asyncLeadCapture,
  asyncLeadUpdate,
  asyncActivityStatus,
  asyncActivityCreateStatus,
  asyncActivityCreateCustomStatus,
  asyncLeadStatus,
  asyncLeadUpdateStatus,
  metrics('/activity/create/metrics', 'asyncActivityCreateMetrics'),
  metrics('/activity/createcustom/metrics', 'asyncActivityCreateCustomMetrics'),
  metrics('/lead/capture/metrics', 'asyncLeadCaptureMetrics'),
  metrics('/lead/update/metrics', 'asyncLeadUpdateMetrics'),
];
