/**
 * The pause a polling worker takes when it has nothing to do (src/queue/worker.ts,
 * src/webhooks/worker.ts): `sleep(ms)` resolves after `ms` milliseconds, or at once when `poke()`
 * is called (new work committed in this process, or a PostgreSQL NOTIFY from another). A poke while
 * not sleeping does nothing: the worker is busy and will look again before it sleeps.
 */
export function idlePause(): { sleep(ms: number): Promise<void>; poke(): void } {
  let wake: (() => void) | null = null;
  return {
    poke: () => wake?.(),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      }).finally(() => {
        wake = null;
      }),
  };
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
