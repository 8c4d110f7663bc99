/**
 * What the async worker makes of an error its operation threw: final (the request is FAILURE) or
 * retried on the schedule. A lead that changed the values it was found by at every one of its
 * reruns answers a sync caller 503 with Retry-After ("Retry shortly"); in the worker the same error
 * had been final, so a request that only met contention failed for good (thirty-ninth session's
 * race audit). Such a race needs PostgreSQL's parallel batches ten times in a row and cannot be
 * made to happen on demand, so the decision is checked here, on the errors themselves.
 */
import { describe, expect, it } from 'vitest';
import { mx } from '../../src/domain/errors.js';
import { isRetryLater } from '../../src/queue/worker.js';

describe('isRetryLater: which MX errors the worker retries instead of failing the request (the decision, not a worker run)', () => {
  it('a lead that kept changing under the call is retried, not failed', () => {
    expect(isRetryLater(mx.leadChanged('3f2a'))).toBe(true);
    expect(isRetryLater(mx.leadChanged('3f2a').raced())).toBe(true);
  });

  it('application errors stay final', () => {
    expect(isRetryLater(mx.badJson('Unexpected character'))).toBe(false);
    expect(isRetryLater(mx.duplicate('EmailAddress'))).toBe(false);
    expect(isRetryLater(mx.requestNotFound('x'))).toBe(false);
  });

  it('errors that are not MX errors are not its concern (they are retried as system errors)', () => {
    expect(isRetryLater(new Error('connection terminated'))).toBe(false);
  });
});
