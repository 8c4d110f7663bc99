/** The things HTTP handlers and the worker are built from, created once in main and passed down. */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Ctx } from './domain/context.js';
import type { Limiter } from './ratelimit/limiter.js';
import type { Store } from './storage/store.js';
import type { Enqueuer } from './queue/enqueuer.js';
import type { Faults } from './queue/faults.js';
import type { Metrics } from './metrics.js';

export interface Services {
  config: Readonly<Config>;
  store: Store;
  ctx: Ctx;
  limiter: Limiter;
  log: Logger;
  /** Accepts async requests (group commit); wakes the local worker. */
  enqueuer: Enqueuer;
  /** Forced faults (sandbox feature). */
  faults: Faults;
  /** This server's Prometheus registry and counters (`GET /metrics`). */
  metrics: Metrics;
  /**
   * False from the moment the ports are bound until the start is done (first account made): until
   * then `/health` and every API route answer 503, so no probe sees OK before the keys work.
   */
  ready: boolean;
  /**
   * True once the server has begun to close: requests still arriving (on keep-alive connections,
   * or pipelined) get 503 and `Connection: close`, in the MX envelope on API routes, and `/health`
   * says `stopping`, so a load balancer takes the instance out while in-flight calls finish.
   */
  stopping: boolean;
  /**
   * The store's error once it has failed for good (Store.failed): every call fails, only a restart
   * recovers, so `/health/live` answers 503 and a liveness probe restarts the process.
   */
  storeFailed: Error | null;
}
