import { expect, it } from 'vitest';
import { FAILURE_BACKOFF_MAX_MS, failureBackoff } from '../../src/queue/idle.js';

it('a failing worker waits twice as long after each failure in a row, up to the cap; a success starts over', () => {
  const b = failureBackoff(1000);
  expect([b.failed(), b.failed(), b.failed(), b.failed(), b.failed()]).toEqual([1000, 2000, 4000, 5000, 5000]);
  expect(FAILURE_BACKOFF_MAX_MS).toBe(5000);
  expect(b.failures).toBe(5);
  expect(b.succeeded()).toBe(5);
  expect(b.succeeded()).toBe(0);
  expect(b.failed()).toBe(1000);
  // A first pause above the cap is kept, not cut down to it.
  expect(failureBackoff(8000).failed()).toBe(8000);
});
