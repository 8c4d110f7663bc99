/** The async status and metrics views, in LeadSquared's shapes. */
import type { RequestKind, RequestStatus } from '../domain/types.js';
import type { RequestStatusView, Store } from '../storage/store.js';
import type { TASK_STATUSES } from '../schemas/async.js';

export const TASK_TYPES: Record<RequestKind, string> = {
  'activity.create': 'Activity Create',
  'activity.createcustom': 'Activity Create Custom',
  'lead.capture': 'Lead Capture',
  'lead.update': 'Lead Update',
};

/** Our states → LeadSquared's status strings. */
export const WIRE_STATUS: Record<RequestStatus, (typeof TASK_STATUSES)[number]> = {
  queued: 'In-Queue',
  running: 'In-Queue',
  succeeded: 'Success',
  failed: 'FAILURE',
  errored: 'ERROR',
};

export { SUCCESS_REASON } from '../wire/operations.js';
import { SUCCESS_REASON } from '../wire/operations.js';
export const PROCESS_STEP = 'In-Process-Queue';
export const ACCEPT_STEP = 'In-Request-Queue';

export function requestStatus(r: RequestStatusView) {
  const done = r.status === 'succeeded' || r.status === 'failed' || r.status === 'errored';
  const reason =
    r.status === 'succeeded'
      ? SUCCESS_REASON
      : done
        ? r.statusReason
        : r.attempts > 0
          ? `Waiting to retry (attempt ${r.attempts + 1}) after a system error: ${r.lastError ?? 'unknown'}`
          : r.status === 'running'
            ? 'Request is being processed'
            : 'Request is in queue';
  return {
    RequestId: r.id,
    TaskStatus: {
      TaskType: TASK_TYPES[r.kind],
      Status: WIRE_STATUS[r.status],
      StatusReason: reason,
      TaskCurrentStep: done ? null : PROCESS_STEP,
      TaskLastStep: done ? PROCESS_STEP : ACCEPT_STEP,
      RequestBody: r.body,
      Message: r.status === 'succeeded' ? r.message : null,
    },
  };
}

export const METRICS_WINDOW_MS = 10 * 60 * 1000;

export async function requestMetrics(store: Store, accountId: string, kind: RequestKind, now: number) {
  const m = await store.requests.metrics(accountId, kind, now, METRICS_WINDOW_MS);
  const rate = Math.round((m.finishedInWindow / 10) * 10) / 10;
  const maxDelay = m.oldestPendingAt === null ? 0 : Math.max(0, Math.round((now - m.oldestPendingAt) / 1000));
  return {
    PendingMessages: m.pending,
    MaxDelayInSeconds: maxDelay,
    ProcessingRatePerMinute: rate,
    ProcessingratePerMinute: rate,
  };
}
