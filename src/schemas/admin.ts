/** leadtrail's own endpoints: health, metrics and the `/_leadtrail/…` testing APIs. */
import { z } from 'zod';
import { endpoint } from './endpoint.js';

const tag = 'leadtrail';

const Health = z.object({ status: z.string(), role: z.string(), store: z.string().optional(), reason: z.string().optional() }).meta({ id: 'Health' });

export const health = endpoint('GET', '/health', { operationId: 'health', summary: 'ok once the server serves its keys; 503 while starting', tag, answer: Health, errors: [503] });
export const healthLive = endpoint('GET', '/health/live', { operationId: 'healthLive', summary: 'The process answers (liveness probe)', tag, answer: Health });
export const healthReady = endpoint('GET', '/health/ready', { operationId: 'healthReady', summary: 'Ready for traffic: started and the database answers (readiness probe)', tag, answer: Health, errors: [503] });
export const metrics = endpoint('GET', '/metrics', {
  operationId: 'metrics',
  summary: 'Prometheus metrics (with LEADTRAIL_METRICS_TOKEN, only for Authorization: Bearer <token>)',
  tag,
  answer: z.string().meta({ description: 'Prometheus text exposition' }),
});

const Fault = z
  .object({ id: z.string(), operation: z.string(), match: z.string().nullable(), remaining: z.number(), message: z.string() })
  .meta({ id: 'FaultRule' });

export const faultAdd = endpoint('POST', '/_leadtrail/faults', {
  operationId: 'faultAdd',
  summary: 'The next `times` attempts of an async operation (optionally only bodies containing `match`) fail with a system error (LEADTRAIL_FAULTS)',
  tag,
  body: z.object({
    operation: z.string().optional().meta({ description: 'activity.create, activity.createcustom, lead.capture, lead.update or * (the default)' }),
    times: z.number().int().min(1).max(1000).optional(),
    message: z.string().optional(),
    match: z.string().nullable().optional(),
  }),
  answer: z.object({ fault: Fault }),
});
export const faultsList = endpoint('GET', '/_leadtrail/faults', { operationId: 'faultsList', summary: "The account's forced faults", tag, answer: z.object({ faults: z.array(Fault) }) });
export const faultsClear = endpoint('DELETE', '/_leadtrail/faults', { operationId: 'faultsClear', summary: "Clears the account's forced faults", tag, answer: z.object({ cleared: z.number() }) });
export const reset = endpoint('POST', '/_leadtrail/reset', {
  operationId: 'reset',
  summary: "Empties the calling account's leads, activities and async requests (LEADTRAIL_SANDBOX)",
  tag,
  answer: z.object({ deleted: z.record(z.string(), z.number()) }),
});
export const retriesRunNow = endpoint('POST', '/_leadtrail/retries/run-now', {
  operationId: 'retriesRunNow',
  summary: 'Every async request of the account waiting for a retry becomes due now (LEADTRAIL_FAULTS)',
  tag,
  answer: z.object({ due: z.number() }),
});

export const ADMIN = [health, healthLive, healthReady, metrics, faultAdd, faultsList, faultsClear, reset, retriesRunNow];
