/**
 * The async worker: claim due requests → run the same operation as the sync API → record the outcome.
 * The effect and the "succeeded" mark commit in one transaction, and the mark only lands while this
 * worker still holds the request, so each request is applied exactly once even if a lease expires
 * and another worker takes over. MX (application) errors are final, but for those that say "retry
 * shortly" (503, isRetryLater); anything else is retried on LeadSquared's schedule.
 */
import { backOff, failureBackoff, idlePause } from './idle.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Ctx } from '../domain/context.js';
import { isMxError } from '../domain/errors.js';
import { isLostRace, rerunLostRaces, runWrite } from '../domain/run.js';
import type { AsyncRequest } from '../domain/types.js';
import type { Repos, Store } from '../storage/store.js';
import { applyRequest, LeaseLost, readRequest } from '../wire/operations.js';
import type { ApplyInput } from '../wire/thread-operations.js';
import type { Enqueuer } from './enqueuer.js';
import type { Faults } from './faults.js';
import type { Pacer } from './pacer.js';
import { MAX_RETRIES, retryDelayMs } from './retry-policy.js';

export interface Worker {
  readonly id: string;
  start(): void;
  /** Finishes requests in hand, then stops claiming. */
  stop(): Promise<void>;
  /** Resolves when the queue has nothing due (tests and benchmarks). */
  idle(): Promise<void>;
}

/**
 * Whether an error the operation threw says "try again shortly" rather than "this request is wrong":
 * an MX error answered 503 with Retry-After to a sync caller (a lead that changed the values it was
 * found by at every one of its reruns, domain/errors.ts `leadChanged`). A sync caller retries it;
 * the worker retries it on the schedule, as it does a system error, instead of failing the request
 * for good.
 */
export function isRetryLater(e: unknown): boolean {
  return isMxError(e) && e.status === 503;
}

export interface WorkerDeps {
  store: Store;
  ctx: Ctx;
  config: Pick<Config, 'workerConcurrency' | 'leaseSeconds' | 'pollMs' | 'retryScale' | 'retentionDays' | 'housekeepingSeconds'>;
  log: Logger;
  enqueuer?: Enqueuer;
  faults?: Faults;
  /** Shared with this process's enqueuer: accepts wait while this worker is behind (src/queue/pacer.ts). */
  pacer?: Pacer;
}

const SQLITE_BATCH = 32;
/** Requests a PostgreSQL worker claims per concurrent group. */
const PG_GROUP = 8;
const BATCH_BUDGET_MS = 10;
const BATCH_MAX = 32;

export function createWorker(d: WorkerDeps): Worker {
  const id = `worker-${randomUUID().slice(0, 8)}`;
  const log = d.log.child({ worker: id });
  let running = false;
  let loop: Promise<void> | null = null;
  const idle = idlePause();
  let lastHousekeeping = 0;
  const idleWaiters: (() => void)[] = [];

  const poke = idle.poke;
  let unlisten: (() => void) | null = null;

  /** Applies one request in `tx`: the operation's effect and the "succeeded" mark commit together. */
  const apply = (tx: Repos, r: AsyncRequest): Promise<void> => applyRequest(tx, d.ctx, r, id);

  /** Records what an attempt that threw means: lease lost (nothing), FAILURE, a retry, or ERROR. */
  async function settleError(r: AsyncRequest, e: unknown, now: number): Promise<void> {
    if (e instanceof LeaseLost) {
      log.warn({ requestId: r.id }, 'lease lost; another worker owns the request');
      return;
    }
    if (isMxError(e) && !isRetryLater(e)) {
      await d.store.requests.finish(r.id, id, { status: 'failed', statusReason: `${e.type}: ${e.message}`, message: null, at: now });
      return;
    }
    const attempt = r.attempts + 1;
    const delay = retryDelayMs(attempt, d.config.retryScale);
    const reason = e instanceof Error ? e.message : String(e);
    if (delay === null || r.attempts > MAX_RETRIES) {
      log.error({ requestId: r.id, attempts: attempt }, 'async request failed after all retries');
      await d.store.requests.finish(r.id, id, { status: 'errored', statusReason: `System error after ${MAX_RETRIES} retries: ${reason}`, message: null, at: now });
    } else {
      log.warn({ requestId: r.id, attempt, delayMs: delay, err: reason }, 'system error; will retry');
      // The back-off counts from the start of the failed attempt.
      await d.store.requests.retry(r.id, id, attempt, now + delay, reason);
    }
  }

  /** Checks made before any transaction; false when the attempt already ended (retries used up, forced fault). */
  async function mayRun(r: AsyncRequest, now: number): Promise<boolean> {
    try {
      if (r.attempts > MAX_RETRIES) throw new Error(r.lastError ?? 'retries used up');
      await d.faults?.beforeAttempt(r);
      return true;
    } catch (e) {
      await settleError(r, e, now);
      return false;
    }
  }

  async function processOne(r: AsyncRequest, now: number): Promise<void> {
    try {
      // runWrite: a request that lost a race for a new lead runs once more, as on the sync API.
      await runWrite(d.store, (tx) => apply(tx, r));
    } catch (e) {
      await settleError(r, e, now);
    }
  }

  // A claimed batch is applied in few transactions that share a commit (and its fsync): each takes
  // requests until BATCH_BUDGET_MS of work or BATCH_MAX requests. If anything in one throws, it rolls
  // back whole and each of its requests is applied alone, so errors land on the right request.
  // SQLite has one connection, so its transactions run one after another whatever we do; PostgreSQL
  // runs `workerConcurrency` such groups side by side on its pool (a request costs ~10 round trips,
  // and one commit per group instead of per request is what made batching worth it there too).
  // Either way each request's effect and its "succeeded" mark commit together, and requests in one
  // claim never share an order key.
  const sqlite = d.store.engine === 'sqlite';
  const groups = sqlite ? 1 : d.config.workerConcurrency;
  // A batch is taken per event-loop turn, and a turn under accept load can be long, so on SQLite a
  // batch is at least SQLITE_BATCH requests: small batches let a busy API starve the worker.
  const claimLimit = sqlite ? Math.max(d.config.workerConcurrency, SQLITE_BATCH) : d.config.workerConcurrency * PG_GROUP;

  /**
   * Applies a claim. Every claimed request is settled with the pacer exactly once, also when
   * applying it fails, so that the pacer's count of requests in flight keeps none that is over.
   */
  async function processClaimed(claimed: AsyncRequest[]): Promise<void> {
    let unsettled = claimed.length;
    const settle = (n: number) => {
      unsettled -= n;
      d.pacer?.settled(n);
    };
    // Every application runs to its end before the claim counts as done, even when one fails: the
    // others are still running and settle themselves.
    const all = async (work: Promise<void>[]) => {
      const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      const now = d.ctx.now();
      const ready: AsyncRequest[] = [];
      for (const r of claimed) if (await mayRun(r, now)) ready.push(r);
      settle(claimed.length - ready.length);
      if (operate) {
        await all(ready.map((r) => applyOnWriter(operate, r, now, settle)));
        return;
      }
      const parts: AsyncRequest[][] = Array.from({ length: Math.min(groups, ready.length) }, () => []);
      ready.forEach((r, i) => parts[i % parts.length].push(r));
      await all(parts.map((part) => applyInChunks(part, now, settle)));
    } finally {
      if (unsettled > 0) d.pacer?.settled(unsettled);
    }
  }

  // With SQLite's writer thread (Store.operate) each request is an operation of its own, applied
  // there whole: sent together, they share the thread's group commit, each in its own savepoint, so
  // an error lands on its own request without the chunks and retries below. Its body is read here
  // (readRequest: JSON and the operation's schema), so that the writer thread, which accepts and
  // applications share, does only the writes (docs/performance.md, thirtieth session).
  // A request whose body or query its operation refuses is applied here instead (processOne): the
  // read fails again inside the transaction, with the MX error that fails the request. The writer
  // thread runs apply steps only, and does not load what reads a body (wire/operation-apply.ts).
  const operate = d.store.operate?.bind(d.store);
  async function applyOnWriter(run: NonNullable<Store['operate']>, r: AsyncRequest, now: number, settle: (n: number) => void): Promise<void> {
    const read = readRequest(r);
    if (read === undefined) {
      await processOne(r, now);
      settle(1);
      return;
    }
    const input: ApplyInput = { request: r, workerId: id, read };
    try {
      await rerunLostRaces(() => run('request.apply', { now: d.ctx.now(), userId: null }, input));
    } catch (e) {
      await settleError(r, e, now);
    }
    settle(1);
  }

  async function applyInChunks(ready: AsyncRequest[], now: number, settle: (n: number) => void): Promise<void> {
    // A transaction on better-sqlite3 holds the event loop until it commits, so each one stops
    // after BATCH_BUDGET_MS of work; the rest of the claim goes in the next, after HTTP had a turn.
    let done = 0;
    while (done < ready.length) {
      const chunk: AsyncRequest[] = [];
      try {
        await d.store.transaction(async (tx) => {
          // The pipeline may run this again from the start (another caller of its batch failed
          // having written, or a deadlock): what an earlier run took was rolled back with it.
          chunk.length = 0;
          const started = performance.now();
          while (
            done + chunk.length < ready.length &&
            chunk.length < BATCH_MAX &&
            (chunk.length === 0 || performance.now() - started < BATCH_BUDGET_MS)
          ) {
            const r = ready[done + chunk.length];
            chunk.push(r);
            await apply(tx, r);
          }
        });
      } catch (e) {
        if (chunk.length === 1 && !isLostRace(e)) {
          await settleError(chunk[0], e, now);
        } else {
          // One of them failed and the chunk rolled back: apply each alone so the error lands on its request.
          for (const r of chunk) {
            await nextTurn();
            await processOne(r, now);
          }
        }
      }
      done += chunk.length;
      settle(chunk.length);
      await nextTurn();
    }
  }

  // Runs at start (lastHousekeeping = 0) and then every `housekeepingSeconds`.
  // Expired leases are also looked for once per lease period, so a dead worker's requests wait at
  // most about two lease periods before another worker takes them over.
  const leaseCheckMs = Math.min(d.config.housekeepingSeconds, d.config.leaseSeconds) * 1000;
  let lastLeaseCheck = 0;
  async function housekeeping(now: number): Promise<void> {
    if (now - lastLeaseCheck >= leaseCheckMs) {
      lastLeaseCheck = now;
      const released = await d.store.requests.releaseExpired(now);
      if (released > 0) log.warn({ released }, 'took over requests whose worker lease expired');
    }
    if (now - lastHousekeeping < d.config.housekeepingSeconds * 1000) return;
    lastHousekeeping = now;
    const purged = await d.store.requests.purgeFinished(now - d.config.retentionDays * 86_400_000);
    if (purged > 0) log.info({ purged }, 'purged finished requests past retention');
  }

  async function run(): Promise<void> {
    // On the writer thread (operate), the next claim is made while the claimed batch is applied
    // there: two batches in flight, so that the thread is not idle during each claim's round trip.
    // A claim never takes a request whose order key is running, so the two never overlap in a key.
    let applying: Promise<void> | null = null;
    const backoff = failureBackoff(Math.min(1000, d.config.pollMs * 4));
    while (running) {
      let claimed: AsyncRequest[] = [];
      try {
        const now = d.ctx.now();
        await housekeeping(now);
        const token = d.pacer?.claiming() ?? 0;
        claimed = await d.store.requests.claim(id, claimLimit, now, now + d.config.leaseSeconds * 1000);
        d.pacer?.claimed(token, claimed.length, claimLimit);
        // better-sqlite3 answers synchronously, so without this turn a backlog would keep the event
        // loop in microtasks and starve the HTTP server (accepts and status reads) until it drained.
        await nextTurn();
        if (operate && claimed.length > 0) {
          const started = processClaimed(claimed);
          started.catch(() => {}); // awaited below or on the next turn of this loop
          const previous = applying;
          applying = started;
          await previous;
        } else {
          const previous = applying;
          applying = null;
          await previous;
          await processClaimed(claimed);
        }
      } catch (e) {
        const retryInMs = backoff.failed();
        log.error({ err: e, failures: backoff.failures, retryInMs }, 'worker loop error; backing off');
        // A stop during an outage does not wait out the back-off; new work does not cut it short.
        await backOff(idle, retryInMs, () => !running);
        continue;
      }
      const failures = backoff.succeeded();
      if (failures > 0) log.info({ failures }, 'worker recovered');
      if (claimed.length > 0) continue;
      while (idleWaiters.length) idleWaiters.shift()!();
      const next = await d.store.requests.nextRunAt().catch(() => null);
      const wait = next === null ? d.config.pollMs : Math.max(5, Math.min(d.config.pollMs, next - d.ctx.now()));
      await idle.sleep(wait);
    }
    await applying?.catch((e: unknown) => log.error({ err: e }, 'worker loop error'));
  }

  return {
    id,
    start() {
      if (running) return;
      running = true;
      d.enqueuer?.events.on('accepted', poke);
      d.pacer?.setHolding(true);
      // Other processes' accepts (PostgreSQL): wake now rather than at the next poll.
      unlisten = d.store.onQueued?.('requests', poke) ?? null;
      loop = run();
      log.info('worker started');
    },
    async stop() {
      running = false;
      // Nobody will bring the backlog down any more: accepts are answered at once from here on.
      d.pacer?.setHolding(false);
      d.enqueuer?.events.off('accepted', poke);
      unlisten?.();
      poke();
      await loop;
      while (idleWaiters.length) idleWaiters.shift()!();
      log.info('worker stopped');
    },
    idle: () => new Promise<void>((resolve) => idleWaiters.push(resolve)),
  };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
