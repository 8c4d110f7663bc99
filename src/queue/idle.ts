/**
 * The pause a polling worker takes when it has nothing to do (src/queue/worker.ts,
 * src/webhooks/worker.ts): `sleep(ms)` resolves after `ms` milliseconds, or at once when `poke()`
 * is called (new work committed in this process, a PostgreSQL NOTIFY from another, a delivery that
 * freed a slot, or the worker's stop).
 *
 * A poke while not sleeping is kept: the next `sleep` then resolves at once (one poke kept however
 * many came). A worker is between sleeps while it claims, reads when next work is due and keeps
 * house, all awaited; a poke then was lost, and the worker slept a whole poll interval after it.
 * Its stop was one: a `stop()` soon after `start()` (an embedding test's `close()`, a SIGTERM at a
 * busy moment) waited for the queue worker's poll and then the webhook worker's (500 ms at the
 * default 250 ms; two minutes with `LEADTRAIL_POLL_MS=60000`); and an accept committed while the
 * worker read its next due time waited a poll interval to be applied.
 */
export function idlePause(): { sleep(ms: number): Promise<void>; poke(): void } {
  let wake: (() => void) | null = null;
  let poked = false;
  return {
    poke: () => {
      if (wake) wake();
      else poked = true;
    },
    sleep: (ms) => {
      if (poked) {
        poked = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        // Cleared as it resolves, not a microtask later: a poke in between is kept for the next sleep.
        const t = setTimeout(() => {
          wake = null;
          resolve();
        }, ms);
        wake = () => {
          wake = null;
          clearTimeout(t);
          resolve();
        };
      });
    },
  };
}

/**
 * Waits `ms` milliseconds on `pause` through any pokes, ending early only once `stopped()` is true
 * (a worker's stop sets its flag, then pokes): the back-off after a failed round. On a plain
 * `sleep`, a poke kept from the failed round (an accept, a finished delivery, another process's
 * NOTIFY) ended the back-off at once, so a claim that kept failing while accepts still succeeded (a
 * statement timeout under a large backlog) ran again, and logged again, once per accept instead of
 * once per back-off (found by a review). `now`: a monotonic clock in ms, as the timers run.
 */
export async function backOff(pause: { sleep(ms: number): Promise<void> }, ms: number, stopped: () => boolean, now: () => number = () => performance.now()): Promise<void> {
  const until = now() + ms;
  for (let left = ms; left > 0 && !stopped(); left = until - now()) await pause.sleep(left);
}

/** Longest pause between a polling worker's tries while its store keeps failing (ms). */
export const FAILURE_BACKOFF_MAX_MS = 5_000;

/**
 * How long a polling worker waits after a failed round (store unreachable): `firstMs` after the
 * first failure of a streak, twice as long after each next one, at most `maxMs`, so that an outage
 * of the database gives a log line and a query every few seconds, not four a second; `succeeded()`
 * ends the streak and returns how many failures it had (0 when there was none), for a "recovered" line.
 */
export function failureBackoff(firstMs: number, maxMs = FAILURE_BACKOFF_MAX_MS): { failed(): number; succeeded(): number; readonly failures: number } {
  let failures = 0;
  return {
    failed: () => Math.min(Math.max(firstMs, maxMs), firstMs * 2 ** failures++),
    succeeded: () => {
      const n = failures;
      failures = 0;
      return n;
    },
    get failures() {
      return failures;
    },
  };
}
