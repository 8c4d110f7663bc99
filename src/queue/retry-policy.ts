/**
 * LeadSquared's retry schedule for async requests that hit a system error: after each failed attempt
 * wait this long, then try again; after the last, the request ends in ERROR. Application (MX) errors
 * are never retried. `scale` shrinks the schedule for tests (0.001 turns 30 s into 30 ms).
 */
export const RETRY_DELAYS_SECONDS = [30, 120, 420, 900, 1800, 2700, 3600, 5400, 7200, 10800] as const;

export const MAX_RETRIES = RETRY_DELAYS_SECONDS.length;

/** Delay before retry number `attempt` (1-based), or null when retries are used up. */
export function retryDelayMs(attempt: number, scale: number): number | null {
  if (attempt < 1 || attempt > MAX_RETRIES) return null;
  return Math.max(1, Math.round(RETRY_DELAYS_SECONDS[attempt - 1] * 1000 * scale));
}
