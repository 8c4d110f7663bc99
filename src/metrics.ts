/**
 * Prometheus metrics, served at `GET /metrics` (src/http/admin.ts). Each started server has its own
 * registry, so several servers in one process (a test suite) never share or clash on counters.
 *
 * Labels are account-neutral: a route is the route table's path (never the raw URL), and no label
 * carries an account id, a key or anything from a request body.
 *
 * What happens in this process (requests, 429s, worker attempts) is counted here; what is shared by
 * every process on the database (the async queue) is read from the store at scrape time, so every
 * process reports the same queue and a dashboard takes their max, not their sum.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { droppedLogLines } from './stdout-log.js';
import type { AsyncRequest, RequestKind, RequestStatus } from './domain/types.js';
import type { AttemptOutcome, CallContext, ExclusiveOptions, Repos, RepoWrite, RequestRepo, Store, WebhookRepo } from './storage/store.js';
import { UnsendableInput } from './storage/operations.js';
import type { ApplyInput } from './wire/thread-operations.js';
import type { Pacer } from './queue/pacer.js';
import { TASK_TYPES } from './queue/status.js';

/** Every kind of async request (TASK_TYPES has one entry per kind: a kind added there is counted here). */
const KINDS = Object.keys(TASK_TYPES) as RequestKind[];
const STATUSES: RequestStatus[] = ['queued', 'running', 'succeeded', 'failed', 'errored'];
/** Methods Node parses are a fixed set, but keep the label to the ones we route. */
const METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS']);
/** The route label of a request that matched no route (404, 405): the URL itself is never a label. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Past this many requests claimed and not yet settled, the kind-by-id memory starts over. */
const MAX_TRACKED = 100_000;

/**
 * Process metrics (CPU, memory, event loop lag, GC), in one registry for the whole process. prom-client's
 * default metrics cannot be stopped once started (they watch the event loop and every GC), so a
 * registry of their own per server would leak a collector with each server started in a process (a
 * test suite's `startLeadtrail()` calls). They are started once, here, and each server's scrape
 * merges them with its own registry.
 */
let processRegistry: Registry | null = null;
export function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    new Counter({
      name: 'leadtrail_log_lines_dropped_total',
      help: 'JSON log lines dropped: 16 MB of lines were already waiting for stdout (a stalled log reader), their write failed (a full disk), or the reader had gone (EPIPE: every line from then on). Lines left unwritten when the process exits are not counted.',
      registers: [processRegistry],
      collect() {
        this.reset();
        this.inc(droppedLogLines());
      },
    });
  }
  return processRegistry;
}

export interface Metrics {
  /** This server's own metrics (process metrics are in processMetricsRegistry). */
  readonly registry: Registry;
  /** The text exposition for `GET /metrics`: this server's metrics and the process's. */
  scrape(): Promise<{ contentType: string; text: string }>;
  /**
   * A request answered by Node's client-error handler (408 timeout, 400 bad HTTP, 431 headers too
   * large), before any route: counted in the requests total with route "unmatched" and method "OTHER".
   */
  clientError(status: number): void;
  /** One answered HTTP request; `route` is the route table's path, undefined when none matched. */
  observeRequest(route: string | undefined, method: string, status: number, seconds: number): void;
  /** A request refused by a rate limit (429). */
  rateLimited(api: 'sync' | 'async'): void;
  /** The store, timed and watched: commits, worker attempts, retries and outcomes. */
  observeStore(store: Store): Store;
  /**
   * Where the queue gauges read from at scrape time (set once the store is open); `pacer`: this
   * process's accept pacer, when it runs a worker (src/queue/pacer.ts).
   */
  readFrom(store: Store, labels: { role: string }, pacer?: Pick<Pacer, 'backlog' | 'waiting'>): void;
  /** Where `leadtrail_console_streams` reads the console's open live tails (src/console/plugin.ts); once per server. */
  readConsoleStreams(count: () => number): void;
}

export function createMetrics(opts: { now?: () => number } = {}): Metrics {
  const now = opts.now ?? Date.now;
  const registry = new Registry();
  const shared = processMetricsRegistry();
  let source: Store | null = null;

  const requests = new Counter({
    name: 'leadtrail_http_requests_total',
    help: 'HTTP requests answered, by route (the route table path; "unmatched" for 404/405), method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'leadtrail_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by route and method.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const limited = new Counter({
    name: 'leadtrail_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit, by API (sync or async).',
    labelNames: ['api'] as const,
    registers: [registry],
  });
  const tx = new Histogram({
    name: 'leadtrail_db_transaction_duration_seconds',
    help: 'Time from a write transaction being asked for to its commit on disk (waiting for a shared group commit included), by result.',
    labelNames: ['result'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'leadtrail_async_attempts_total',
    help: "Async request attempts started by this process's worker, by kind.",
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'leadtrail_async_retries_total',
    help: "Async attempts that failed with a system error and were put back in the queue by this process's worker, by kind.",
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'leadtrail_async_outcomes_total',
    help: "Async requests finished by this process's worker, by kind and final status (succeeded, failed, errored).",
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
  });
  const expired = new Counter({
    name: 'leadtrail_async_leases_expired_total',
    help: 'Async requests this process took back from a worker whose lease expired (it died or stalled).',
    registers: [registry],
  });
  const webhookAttempts = new Counter({
    name: 'leadtrail_webhook_attempts_total',
    help: "Webhook delivery attempts made by this process's delivery worker, by outcome (delivered, retry: failed and scheduled again, failed: no attempts left).",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhookLatency = new Histogram({
    name: 'leadtrail_webhook_attempt_duration_seconds',
    help: 'Time a webhook receiver took to answer one delivery attempt (until the timeout for those that did not answer).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  for (const outcome of ['delivered', 'retry', 'failed']) webhookAttempts.inc({ outcome }, 0);
  const webhookDropped = new Counter({
    name: 'leadtrail_webhook_events_dropped_total',
    help: "Webhook outbox rows this process's delivery worker deleted, never sent, because their webhook no longer existed (raised by a write that committed as the webhook was deleted).",
    registers: [registry],
  });
  webhookDropped.inc(0);
  const webhooksDisabled = new Counter({
    name: 'leadtrail_webhooks_disabled_total',
    help: "Webhooks this process's delivery worker disabled after LEADTRAIL_WEBHOOK_DISABLE_AFTER failed attempts in a row. From then on a disabled webhook's new events are not kept until it is saved again with Webhook.svc/Update: alert on any increase.",
    registers: [registry],
  });
  webhooksDisabled.inc(0);
  // First of the gauges read at scrape time: prom-client runs each one's collect() in the order they
  // were made, and the ones below take pool connections for their queries, which this one would
  // otherwise count as callers waiting (3 on an idle process, at every scrape).
  new Gauge({
    name: 'leadtrail_db_pool_connections',
    help: "PostgreSQL only: this process's pool connections by state (total open, idle), and callers waiting for one. Read at scrape time.",
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pool = source?.connections?.();
      if (!pool) return;
      this.set({ state: 'total' }, pool.total);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });
  new Gauge({
    name: 'leadtrail_db_up',
    help: "1 when the database answered this scrape's read (the one /health makes), 0 when it did not. While 0, the gauges read from the database at scrape time (leadtrail_async_requests, leadtrail_async_oldest_pending_seconds, leadtrail_webhook_events) keep the values of the last scrape that could read them.",
    registers: [registry],
    async collect() {
      if (!source) return;
      try {
        await source.accounts.count();
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  new Gauge({
    name: 'leadtrail_webhook_events',
    help: 'Webhook outbox rows (one per event and webhook) by status: pending, delivered, failed. Every process on the database. Read at scrape time.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (!source) return;
      const counts = await source.webhooks.countByStatus().catch(() => null);
      if (counts) for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  for (const kind of KINDS) {
    attempts.inc({ kind }, 0);
    retries.inc({ kind }, 0);
    for (const status of ['succeeded', 'failed', 'errored']) outcomes.inc({ kind, status }, 0);
  }
  limited.inc({ api: 'sync' }, 0);
  limited.inc({ api: 'async' }, 0);

  new Gauge({
    name: 'leadtrail_async_requests',
    help: 'Async requests in the database by status (every process on the database; finished ones until retention purges them). Read at scrape time.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (!source) return;
      // A database that does not answer leaves the last values (and /health/ready says so).
      const counts = await source.requests.countByStatus(null).catch(() => null);
      if (counts) for (const status of STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'leadtrail_async_oldest_pending_seconds',
    help: 'Age of the oldest async request not yet finished (0 when none), over every account. Read at scrape time.',
    registers: [registry],
    async collect() {
      if (!source) return;
      const t = now();
      // One query over every account: one per account and kind made a scrape of 2,000 accounts
      // take about 2 s and 8,000 queries, in every process scraped.
      let oldest: number | null;
      try {
        oldest = await source.requests.oldestPendingAt();
      } catch {
        return;
      }
      this.set(oldest === null ? 0 : Math.max(0, (t - oldest) / 1000));
    },
  });
  new Counter({
    name: 'leadtrail_db_write_batches_total',
    help: "Write batches this process has run (group commit: transactions arriving together share one batch, one commit).",
    registers: [registry],
    collect() {
      if (!source) return;
      this.reset();
      this.inc(source.writeStats().batches);
    },
  });
  new Counter({
    name: 'leadtrail_db_write_batch_callers_total',
    help: 'Transactions run in those batches; divided by leadtrail_db_write_batches_total, the mean batch size.',
    registers: [registry],
    collect() {
      if (!source) return;
      this.reset();
      this.inc(source.writeStats().callers);
    },
  });
  new Counter({
    name: 'leadtrail_db_write_busy_seconds_total',
    help: 'Seconds write batches held a writer connection, from each batch\'s BEGIN (waiting for the write lock included) to the end of its COMMIT or ROLLBACK. Its rate is how busy the write pipeline is: on SQLite, one writer, a rate near 1 means the writer is at capacity and writes queue behind each other; on PostgreSQL batches run side by side, so it can reach their number (LEADTRAIL_PG_WRITE_BATCHES, at most half of LEADTRAIL_PG_POOL).',
    registers: [registry],
    collect() {
      if (!source) return;
      this.reset();
      // To the microsecond: a sum of float seconds prints its noise (0.04616683399999967).
      this.inc(Math.round(source.writeStats().busySeconds * 1e6) / 1e6);
    },
  });
  new Counter({
    name: 'leadtrail_sqlite_checkpoints_total',
    help: "SQLite only: WAL checkpoints run on the checkpoint thread, by mode (passive: copies what it can while writes go on; restart: lets the log start over, with writes held back briefly; restart_busy: those of the restarts that a reader of an older snapshot, such as a backup, kept from finishing).",
    labelNames: ['mode'] as const,
    registers: [registry],
    collect() {
      const c = source?.checkpointStats?.();
      if (!c) return;
      this.reset();
      this.inc({ mode: 'passive' }, c.passive);
      this.inc({ mode: 'restart' }, c.restart);
      this.inc({ mode: 'restart_busy' }, c.restartBusy);
    },
  });
  new Gauge({
    name: 'leadtrail_sqlite_checkpoint_fallback',
    help: "SQLite: 1 when the checkpoint thread failed and SQLite checkpoints inside commits again (slower, still correct); always 0 on PostgreSQL.",
    registers: [registry],
    collect() {
      const c = source?.checkpointStats?.();
      if (c) this.set(c.failed ? 1 : 0);
    },
  });
  const info = new Gauge({
    name: 'leadtrail_info',
    help: 'Always 1; its labels say how this process runs (role: all, api or worker; store: sqlite or postgres).',
    labelNames: ['role', 'store'] as const,
    registers: [registry],
  });

  // Kinds of requests this worker claimed, until they settle: the outcome calls carry only the id.
  const claimed = new Map<string, RequestKind>();
  type Event = { id: string; outcome: 'retry' | 'succeeded' | 'failed' | 'errored' };
  const record = (e: Event) => {
    const kind = claimed.get(e.id);
    claimed.delete(e.id);
    if (!kind) return;
    if (e.outcome === 'retry') retries.inc({ kind });
    else outcomes.inc({ kind, status: e.outcome });
  };

  /** `events` is where a transaction keeps what it did until it commits; null: counted at once (already committed). */
  function watchRequests(repo: RequestRepo, events: Event[] | null): RequestRepo {
    const keep = (e: Event) => (events ? events.push(e) : record(e));
    return new Proxy(repo, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'claim') {
          return async (...args: Parameters<RequestRepo['claim']>) => {
            const got: AsyncRequest[] = await target.claim(...args);
            if (claimed.size + got.length > MAX_TRACKED) claimed.clear();
            for (const r of got) {
              claimed.set(r.id, r.kind);
              attempts.inc({ kind: r.kind });
            }
            return got;
          };
        }
        if (prop === 'finish') {
          return async (...args: Parameters<RequestRepo['finish']>) => {
            const ok = await target.finish(...args);
            if (ok) keep({ id: args[0], outcome: args[2].status });
            return ok;
          };
        }
        if (prop === 'retry') {
          return async (...args: Parameters<RequestRepo['retry']>) => {
            const ok = await target.retry(...args);
            if (ok) keep({ id: args[0], outcome: 'retry' });
            return ok;
          };
        }
        if (prop === 'releaseExpired') {
          return async (...args: Parameters<RequestRepo['releaseExpired']>) => {
            const n = await target.releaseExpired(...args);
            if (n > 0) expired.inc(n);
            return n;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  /** A webhook attempt recorded in a transaction, counted once it commits. */
  type HookAttempt = { outcome: AttemptOutcome; seconds: number; disabled: boolean };
  const recordHook = (a: HookAttempt) => {
    webhookAttempts.inc({ outcome: a.outcome });
    webhookLatency.observe(a.seconds);
    if (a.disabled) webhooksDisabled.inc();
  };
  /** `attempts`: where a transaction collects them until it commits; null: a write of its own, recorded once done. */
  function watchWebhooks(repo: WebhookRepo, attempts: HookAttempt[] | null): WebhookRepo {
    return new Proxy(repo, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'finishAttempt') {
          return async (...args: Parameters<WebhookRepo['finishAttempt']>) => {
            const recorded = await target.finishAttempt(...args);
            const a = { outcome: args[2].delivery.outcome, seconds: args[2].delivery.latencyMs / 1000, disabled: recorded === 'disabled' };
            if (attempts) attempts.push(a);
            else recordHook(a);
            return recorded;
          };
        }
        if (prop === 'dropOrphaned') {
          return async () => {
            const n = await target.dropOrphaned();
            if (n > 0) webhookDropped.inc(n);
            return n;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  function watchTx(repos: Repos, events: Event[], hookAttempts: HookAttempt[] = []): Repos {
    const requestsRepo = watchRequests(repos.requests, events);
    const webhooksRepo = watchWebhooks(repos.webhooks, hookAttempts);
    return new Proxy(repos, {
      get(target, prop) {
        if (prop === 'requests') return requestsRepo;
        if (prop === 'webhooks') return webhooksRepo;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /**
   * The accept pacer's gauges: registered only in a process that has one (a worker beside its API),
   * so that an `api` process does not report a backlog of 0 it does not keep.
   */
  const pacerGauges = (p: Pick<Pacer, 'backlog' | 'waiting'>) => {
    new Gauge({
      name: 'leadtrail_async_backlog',
      help: "Async requests this process accepted that its worker has not finished yet, as the accept pacer counts them (LEADTRAIL_ASYNC_BACKLOG is the limit). Processes without a worker do not report it.",
      registers: [registry],
      collect() {
        this.set(p.backlog());
      },
    });
    new Gauge({
      name: 'leadtrail_async_accepts_waiting',
      help: 'Async accepts already stored and not yet answered, held while this process\'s worker is more than LEADTRAIL_ASYNC_BACKLOG behind (1 s at most each).',
      registers: [registry],
      collect() {
        this.set(p.waiting());
      },
    });
  };
  return {
    registry,
    async scrape() {
      const merged = Registry.merge([shared, registry]);
      return { contentType: merged.contentType, text: await merged.metrics() };
    },
    clientError(status) {
      requests.inc({ route: UNMATCHED_ROUTE, method: 'OTHER', status: String(status) });
    },
    observeRequest(route, method, status, seconds) {
      const r = route ?? UNMATCHED_ROUTE;
      const m = METHODS.has(method) ? method : 'OTHER';
      // Two literals rather than a spread of one into the other: V8 builds a spread's copy through
      // its slow path, about 1.3% of a Leads.GetById's CPU by perf.
      requests.inc({ route: r, method: m, status: String(status) });
      duration.observe({ route: r, method: m }, seconds);
    },
    rateLimited(api) {
      limited.inc({ api });
    },
    observeStore(store) {
      const requestsRepo = watchRequests(store.requests, null);
      const webhooksRepo = watchWebhooks(store.webhooks, null);
      const timed =
        (name: 'transaction' | 'exclusive') =>
        async <T>(fn: (tx: Repos) => Promise<T>, options?: ExclusiveOptions): Promise<T> => {
          const events: Event[] = [];
          const hookAttempts: HookAttempt[] = [];
          const started = performance.now();
          // A repoWrite keeps its tag, so that a store whose writes run elsewhere can send it whole.
          const one = (fn as Partial<RepoWrite<T>>).repoCall;
          let ranHere = false;
          const watched = (repos: Repos) => {
            // The pipeline may run fn again (a PostgreSQL deadlock, or another caller of its batch failed
            // having written): only the last run committed.
            ranHere = true;
            events.length = 0;
            hookAttempts.length = 0;
            return fn(watchTx(repos, events, hookAttempts));
          };
          try {
            const run = one ? Object.assign(watched, { repoCall: one }) : watched;
            const out = await (name === 'exclusive' ? store.exclusive(run, options) : store.transaction(run));
            tx.observe({ result: 'committed' }, (performance.now() - started) / 1000);
            // Sent whole to SQLite's writer thread, a webhook attempt was not seen by watchTx.
            if (one && !ranHere && one.repo === 'webhooks' && one.method === 'finishAttempt') {
              const r = one.args[2] as Parameters<WebhookRepo['finishAttempt']>[2];
              hookAttempts.push({ outcome: r.delivery.outcome, seconds: r.delivery.latencyMs / 1000, disabled: out === 'disabled' });
            }
            // Only what committed counts: a rolled-back attempt's outcome never happened.
            for (const e of events) record(e);
            for (const a of hookAttempts) recordHook(a);
            return out;
          } catch (e) {
            tx.observe({ result: 'failed' }, (performance.now() - started) / 1000);
            throw e;
          }
        };
      const transaction = timed('transaction');
      const exclusive = timed('exclusive');
      // An operation on the SQLite writer thread is a transaction too (Store.operate).
      const operate = store.operate
        ? async (name: string, call: CallContext, input: unknown): Promise<unknown> => {
            const started = performance.now();
            try {
              const out = await store.operate!(name, call, input);
              tx.observe({ result: 'committed' }, (performance.now() - started) / 1000);
              // The async worker's application ran its `finish` on the writer thread, out of sight
              // of watchRequests: it committed, so the request succeeded.
              if (name === 'request.apply') record({ id: (input as ApplyInput).request.id, outcome: 'succeeded' });
              return out;
            } catch (e) {
              // Not sent, so not run (runOperation runs it as a transaction, which is timed itself).
              if (!(e instanceof UnsendableInput)) tx.observe({ result: 'failed' }, (performance.now() - started) / 1000);
              throw e;
            }
          }
        : undefined;
      return new Proxy(store, {
        get(target, prop) {
          if (prop === 'requests') return requestsRepo;
          if (prop === 'webhooks') return webhooksRepo;
          if (prop === 'transaction') return transaction;
          if (prop === 'exclusive') return exclusive;
          if (prop === 'operate') return operate;
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
    readFrom(store, labels, pacer) {
      source = store;
      if (pacer) pacerGauges(pacer);
      info.set({ role: labels.role, store: store.engine }, 1);
    },
    readConsoleStreams(count) {
      new Gauge({
        name: 'leadtrail_console_streams',
        help: "Console pages tailing the request journal live in this process (each polls the journal until its browser leaves). Servers without the console do not report it.",
        registers: [registry],
        collect() {
          this.set(count());
        },
      });
    },
  };
}
