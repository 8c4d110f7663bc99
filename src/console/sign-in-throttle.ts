/**
 * The console's sign-in throttle: after `spec.points` failed sign-ins within `spec.seconds`, from one
 * client address or for one access key, further attempts are refused (429) until the oldest of those
 * failures is `spec.seconds` old, without checking the keys at all. A success clears both counts.
 * Counted in this process only (each console process keeps its own), in memory, by the server's
 * clock (`Ctx.now`). Access keys are held only as SHA-256 digests.
 */
import type { RateLimitSpec } from '../config.js';
import { sha256 } from '../domain/accounts.js';

/** What refused an attempt, and for how long (whole seconds, at least 1). */
export interface SignInRefusal {
  by: 'address' | 'access key';
  retryAfterSeconds: number;
}

export interface SignInThrottle {
  /** Null when `address` may try `accessKey` now; otherwise why not and for how long. `now` in ms. */
  check(address: string, accessKey: string, now: number): SignInRefusal | null;
  /** Counts a failed attempt against both the address and the access key. */
  failed(address: string, accessKey: string, now: number): void;
  /** A successful sign-in: forgets the failures of the address and of the access key. */
  succeeded(address: string, accessKey: string): void;
}

/** Most addresses and keys remembered at once; past it the ones with the oldest failures are forgotten first. */
const MAX_ENTRIES = 10_000;

/** A throttle allowing `spec.points` failures per `spec.seconds`; `points` 0 turns it off. */
export function signInThrottle(spec: RateLimitSpec): SignInThrottle {
  const windowMs = spec.seconds * 1000;
  /** Times of the latest failures (at most `points`), oldest first, by `a:<address>` or `k:<digest>`. */
  const failures = new Map<string, number[]>();
  const keysOf = (address: string, accessKey: string) => [`a:${address}`, `k:${sha256(accessKey)}`] as const;
  const recent = (id: string, now: number): number[] => {
    const times = failures.get(id);
    if (!times) return [];
    while (times.length > 0 && times[0] <= now - windowMs) times.shift();
    if (times.length === 0) failures.delete(id);
    return times;
  };
  return {
    check(address, accessKey, now) {
      if (spec.points <= 0) return null;
      const [a, k] = keysOf(address, accessKey);
      for (const [id, by] of [[k, 'access key'], [a, 'address']] as const) {
        const times = recent(id, now);
        if (times.length >= spec.points) return { by, retryAfterSeconds: Math.max(1, Math.ceil((times[0] + windowMs - now) / 1000)) };
      }
      return null;
    },
    failed(address, accessKey, now) {
      if (spec.points <= 0) return;
      for (const id of keysOf(address, accessKey)) {
        const times = recent(id, now);
        times.push(now);
        if (times.length > spec.points) times.shift();
        // Re-inserted: the map's order is then the order of the latest failure, oldest first.
        failures.delete(id);
        failures.set(id, times);
      }
      for (const id of failures.keys()) {
        if (failures.size <= MAX_ENTRIES) break;
        failures.delete(id);
      }
    },
    succeeded(address, accessKey) {
      for (const id of keysOf(address, accessKey)) failures.delete(id);
    },
  };
}
