import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitSpec } from '../config.js';

export interface Decision {
  allowed: boolean;
  /** Seconds until the window frees a slot (for Retry-After). */
  retryAfterSeconds: number;
}

/**
 * Counts requests per key in fixed windows. One limiter serves every spec (keyed by spec). A key
 * becomes part of a Redis key name with REDIS_URL: callers pass ids, never secrets or access keys.
 */
export interface Limiter {
  take(key: string, spec: RateLimitSpec): Promise<Decision>;
  close(): Promise<void>;
}

type Factory = (spec: RateLimitSpec, prefix: string) => RateLimiterAbstract;

/** A limiter built on rate-limiter-flexible, with one backing limiter per distinct spec. */
export function flexibleLimiter(make: Factory, onClose: () => Promise<void> = async () => {}): Limiter {
  const bySpec = new Map<string, RateLimiterAbstract>();
  return {
    async take(key, spec) {
      if (spec.points <= 0) return { allowed: true, retryAfterSeconds: 0 };
      const id = `${spec.points}-${spec.seconds}`;
      let rl = bySpec.get(id);
      if (!rl) {
        rl = make(spec, `lt-rl-${id}`);
        bySpec.set(id, rl);
      }
      try {
        await rl.consume(key, 1);
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (e) {
        if (e instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) };
        throw e;
      }
    },
    close: onClose,
  };
}

/** In-process counting: right for one API process. */
export function memoryLimiter(): Limiter {
  return flexibleLimiter((spec, keyPrefix) => new RateLimiterMemory({ points: spec.points, duration: spec.seconds, keyPrefix }));
}
