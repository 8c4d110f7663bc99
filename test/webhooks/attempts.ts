/** What the webhook worker records for one attempt, for tests that play the worker on a store of their own. */
import { randomUUID } from 'node:crypto';
import type { AttemptResult, OutboxEvent } from '../../src/storage/store.js';

/** The retry delay of a failed attempt here: an hour, so that no real worker takes the event again during a test. */
export const RETRY_MS = 3_600_000;

/**
 * The worker's record of an attempt on `e` at `at` (epoch ms): a 200 that delivers it, or a 503
 * that leaves it pending for RETRY_MS, as src/webhooks/worker.ts builds it for finishAttempt.
 */
export function attempt(e: OutboxEvent, at: number, ok: boolean): AttemptResult {
  return {
    delivery: {
      id: randomUUID(),
      accountId: e.accountId,
      webhookId: e.webhookId,
      eventSeq: e.seq,
      eventId: e.id,
      eventCode: e.eventCode,
      attempt: e.attempts + 1,
      at,
      url: 'http://127.0.0.1:9/attempt',
      statusCode: ok ? 200 : 503,
      latencyMs: 1,
      response: null,
      error: ok ? null : 'HTTP 503',
      outcome: ok ? 'delivered' : 'retry',
    },
    next: ok ? { status: 'delivered', dueAt: e.dueAt, lastError: null } : { status: 'pending', dueAt: at + RETRY_MS, lastError: 'HTTP 503' },
    disableAfter: 20,
    failureEpoch: e.failureEpoch,
    probeDelaysMs: [],
  };
}
