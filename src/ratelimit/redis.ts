/** Cross-process rate limit through Redis: every API process counts against the same windows. */
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { flexibleLimiter, type Limiter } from './limiter.js';

export function redisLimiter(url: string): Limiter {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  return flexibleLimiter(
    (spec, keyPrefix) => new RateLimiterRedis({ storeClient: client, points: spec.points, duration: spec.seconds, keyPrefix }),
    async () => {
      client.disconnect();
    },
  );
}
