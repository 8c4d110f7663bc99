/**
 * The webhook delivery worker: claims due outbox events (with a lease, like the async worker), posts
 * each to its webhook, and records the attempt. It runs in worker processes (role `worker` or `all`),
 * never on the request path, so a slow or dead receiver cannot slow the API. Deliveries run side by
 * side (`webhookConcurrency`), each bounded by `webhookTimeoutMs`, and one webhook may hold at most
 * half of them, so a slow or dead receiver cannot hold up the other webhooks and accounts. While a
 * webhook is failing the store hands out only its probe, one attempt at a time across processes
 * and once per retry delay (WebhookRepo.claim), and failures count in a row only in sequence
 * (finishAttempt). Delivery is
 * at-least-once: an event is marked delivered only after its receiver answered 2xx, so a crash
 * between the two sends it again, with the same event id.
 */
import { backOff, failureBackoff, idlePause } from '../queue/idle.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Ctx } from '../domain/context.js';
import { hostAllowed, type Webhook } from '../domain/webhooks.js';
import { repoWrite, type AttemptOutcome, type OutboxEvent, type Store, type WebhookDelivery } from '../storage/store.js';
import { buildRequest } from './payload.js';
import { IncompleteAnswer, webhookTransport } from './transport.js';

export interface WebhookWorker {
  readonly id: string;
  start(): void;
  /** Stops claiming and cuts off deliveries in flight (their events are given back, unrecorded). */
  stop(): Promise<void>;
  /** Look for due events now (a local write committed some). */
  poke(): void;
}

export type WebhookConfig = Pick<
  Config,
  | 'webhookTimeoutMs'
  | 'webhookRetrySchedule'
  | 'webhookDisableAfter'
  | 'webhookAllow'
  | 'webhookPrivate'
  | 'webhookConcurrency'
  | 'retryScale'
  | 'leaseSeconds'
  | 'pollMs'
  | 'retentionDays'
  | 'housekeepingSeconds'
>;

export interface WebhookWorkerDeps {
  store: Store;
  ctx: Ctx;
  config: WebhookConfig;
  log: Logger;
}

/** The answer's body kept in a delivery record. */
const RESPONSE_BYTES = 1024;

/** Wait before retry number `attempt` (1-based) in ms, or null when the schedule is used up. */
export function webhookRetryDelayMs(attempt: number, c: Pick<WebhookConfig, 'webhookRetrySchedule' | 'retryScale'>): number | null {
  const s = c.webhookRetrySchedule[attempt - 1];
  return s === undefined ? null : Math.max(1, Math.round(s * 1000 * c.retryScale));
}

export function createWebhookWorker(d: WebhookWorkerDeps): WebhookWorker {
  const id = `webhooks-${randomUUID().slice(0, 8)}`;
  const log = d.log.child({ worker: id });
  const c = d.config;
  // A lease outlives the longest attempt, so a live worker never loses an event it is delivering.
  const leaseMs = Math.max(c.leaseSeconds * 1000, c.webhookTimeoutMs + 1000);
  const inflight = new Set<Promise<void>>();
  /** Deliveries in flight per webhook, and the most one webhook may have. */
  const busy = new Map<string, number>();
  const capOf = (w: Webhook) => (w.consecutiveFailures > 0 ? 1 : Math.max(1, Math.floor(c.webhookConcurrency / 2)));
  const full = new Map<string, boolean>();
  let running = false;
  /** Aborts deliveries in flight when the worker stops: they are not recorded, and go out again later. */
  const stopping = new AbortController();
  let loop: Promise<void> | null = null;
  const idle = idlePause();
  const poke = idle.poke;
  let unlisten: (() => void) | null = null;
  const transport = webhookTransport(c.webhookPrivate === 'deny');
  /** A failing webhook's pacing: the retry schedule, scaled (WebhookRepo.finishAttempt). */
  const probeDelaysMs = c.webhookRetrySchedule.map((_, i) => webhookRetryDelayMs(i + 1, c)!);

  /** Posts one event once; never throws (every outcome is recorded). */
  async function deliver(webhook: Webhook, event: OutboxEvent): Promise<void> {
    const attempt = event.attempts + 1;
    // The account's lead fields as they are now (cached reference data): the lead's payload lists
    // each, as a lead read does. Read before the attempt: a database that fails here is not the
    // receiver's failure (a review), and the event goes back for the next claim.
    let defs: Awaited<ReturnType<typeof d.store.leadFields.list>>;
    try {
      defs = await d.store.leadFields.list(event.accountId);
    } catch (e) {
      log.warn({ err: e, webhookId: webhook.id }, 'webhook delivery put back: reading lead fields failed');
      await d.store.webhooks.release(id, [event.seq]).catch(() => {});
      return;
    }
    const started = performance.now();
    let statusCode: number | null = null;
    let response: string | null = null;
    let error: string | null = null;
    try {
      const host = new URL(webhook.url).hostname;
      if (!hostAllowed(host, c.webhookAllow)) throw new Error(`host '${host}' is not in LEADTRAIL_WEBHOOK_ALLOW`);
      const { body, headers } = buildRequest(webhook, event, attempt, d.ctx.now(), defs);
      const signal = AbortSignal.any([AbortSignal.timeout(c.webhookTimeoutMs), stopping.signal]);
      // Redirects are not followed (a 3xx is a failed attempt, as its status says).
      const res = await transport.post(webhook.url, { headers, body, signal, maxBytes: RESPONSE_BYTES });
      statusCode = res.status;
      response = res.body;
    } catch (e) {
      if (e instanceof IncompleteAnswer) {
        // The status came and the body did not end: a failed attempt that keeps the status.
        statusCode = e.status;
        response = e.body;
        const timedOut = (e.cause as { name?: string } | null)?.name === 'TimeoutError';
        error = `HTTP ${e.status} came, but its body did not end ${timedOut ? `within ${c.webhookTimeoutMs} ms` : `(${describe(e.cause, c.webhookTimeoutMs)})`}`;
      } else error = describe(e, c.webhookTimeoutMs);
    }
    if (stopping.signal.aborted) {
      // Cut off by the stop, not the receiver's doing: give the event back for the next start.
      await d.store.webhooks.release(id, [event.seq]).catch(() => {});
      return;
    }
    const latencyMs = performance.now() - started;
    const at = d.ctx.now();
    const ok = error === null && statusCode !== null && statusCode >= 200 && statusCode < 300;
    if (!ok && error === null) error = `HTTP ${statusCode}`;
    const delay = ok ? null : webhookRetryDelayMs(attempt, c);
    const outcome: AttemptOutcome = ok ? 'delivered' : delay === null ? 'failed' : 'retry';
    const delivery: WebhookDelivery & { outcome: AttemptOutcome } = {
      id: d.ctx.newId(),
      accountId: event.accountId,
      webhookId: webhook.id,
      eventSeq: event.seq,
      eventId: event.id,
      eventCode: event.eventCode,
      attempt,
      at,
      url: webhook.url,
      statusCode,
      latencyMs: Math.round(latencyMs * 10) / 10,
      response,
      error,
      outcome,
    };
    const next =
      outcome === 'delivered'
        ? { status: 'delivered' as const, dueAt: event.dueAt, lastError: null }
        : outcome === 'failed'
          ? { status: 'failed' as const, dueAt: event.dueAt, lastError: error }
          : { status: 'pending' as const, dueAt: at + delay!, lastError: error };
    try {
      // One repo write (repoWrite): on SQLite's writer thread one message there and back.
      const recorded = await d.store.transaction(repoWrite('webhooks', 'finishAttempt', id, event.seq, { delivery, next, disableAfter: c.webhookDisableAfter, failureEpoch: event.failureEpoch, probeDelaysMs }));
      // Not held: another worker took the event over (its lease ran out), or the event is gone (a
      // sandbox reset or the webhook's Delete while it was on its way): the attempt is not recorded.
      if (recorded === 'not-held') log.warn({ eventId: event.id, webhookId: webhook.id }, 'webhook attempt not recorded: the event was taken over by another worker (lease expired) or deleted meanwhile (reset, webhook deleted or its event changed)');
      else if (outcome !== 'delivered') log.warn({ eventId: event.id, webhookId: webhook.id, attempt, outcome, err: error }, 'webhook delivery failed');
      // Said once, by the attempt that did it: from now on the webhook's new events are not kept
      // (docs/webhooks.md), which nothing else would tell whoever runs the server.
      if (recorded === 'disabled') {
        log.warn(
          { webhookId: webhook.id, accountId: webhook.accountId, failuresInARow: c.webhookDisableAfter },
          'webhook disabled after failed delivery attempts in a row: its waiting events are kept, events raised from now on are not, until it is saved again (Webhook.svc/Update)',
        );
      }
    } catch (e) {
      // The event stays leased and goes out again when the lease expires (at-least-once).
      log.error({ err: e, eventId: event.id }, 'could not record a webhook attempt');
    }
  }

  // Delivered and failed events, and delivery records, are kept `retentionDays` (as async statuses
  // are); waiting events of a webhook that no longer exists are deleted.
  let lastPurge = 0;
  async function housekeeping(now: number): Promise<void> {
    if (now - lastPurge < c.housekeepingSeconds * 1000) return;
    lastPurge = now;
    const purged = await d.store.webhooks.purge(now - c.retentionDays * 86_400_000).catch((e: unknown) => {
      log.error({ err: e }, 'webhook purge failed');
      return 0;
    });
    if (purged > 0) log.info({ purged }, 'purged webhook events and delivery records past retention');
    // Events written for a webhook as it was deleted (WebhookRepo.dropOrphaned): never claimed, they
    // waited for good and were counted pending. Deleted as Delete deletes a webhook's waiting events.
    const dropped = await d.store.webhooks.dropOrphaned().catch((e: unknown) => {
      log.error({ err: e }, 'deleting webhook events of deleted webhooks failed');
      return 0;
    });
    if (dropped > 0) log.warn({ dropped }, 'deleted webhook events raised for webhooks deleted at the same moment');
  }

  async function run(): Promise<void> {
    const backoff = failureBackoff(Math.min(1000, c.pollMs * 4));
    while (running) {
      await housekeeping(d.ctx.now());
      const free = c.webhookConcurrency - inflight.size;
      let claimed = 0;
      let retryInMs: number | null = null;
      if (free > 0) {
        try {
          const now = d.ctx.now();
          const skip = [...full].filter(([, f]) => f).map(([w]) => w);
          const batch = await d.store.webhooks.claim(id, free, now, now + leaseMs, skip);
          const extra: number[] = [];
          const stale: number[] = [];
          for (const { webhook, event } of batch) {
            // Raised for the webhook's old event code (an Update changed it): its receiver now
            // takes another event, and never gets this one (docs/webhooks.md).
            if (event.eventCode !== webhook.eventCode) {
              stale.push(event.seq);
              continue;
            }
            const n = busy.get(webhook.id) ?? 0;
            // A claim can bring several events of one webhook (different leads): past its share, give them back.
            if (n >= capOf(webhook)) {
              extra.push(event.seq);
              continue;
            }
            claimed += 1;
            busy.set(webhook.id, n + 1);
            full.set(webhook.id, n + 1 >= capOf(webhook));
            const p: Promise<void> = deliver(webhook, event).finally(() => {
              inflight.delete(p);
              const left = (busy.get(webhook.id) ?? 1) - 1;
              if (left <= 0) {
                busy.delete(webhook.id);
                full.delete(webhook.id);
              } else {
                busy.set(webhook.id, left);
                full.set(webhook.id, false);
              }
              poke();
            });
            inflight.add(p);
          }
          if (extra.length > 0) await d.store.webhooks.release(id, extra);
          if (stale.length > 0) {
            const dropped = await d.store.webhooks.dropStale(id, stale);
            log.info({ dropped }, 'dropped webhook events raised for an event code their webhook no longer has');
          }
          const failures = backoff.succeeded();
          if (failures > 0) log.info({ failures }, 'webhook worker recovered');
        } catch (e) {
          retryInMs = backoff.failed();
          log.error({ err: e, failures: backoff.failures, retryInMs }, 'webhook claim failed; backing off');
        }
      }
      if (retryInMs !== null) {
        // The store failed: wait longer after each failure in a row (an outage is not polled 4 times a second).
        // A stop ends it at once; a poke (a finished delivery, another process's NOTIFY) does not.
        await backOff(idle, retryInMs, () => !running);
        continue;
      }
      if (claimed > 0 && inflight.size < c.webhookConcurrency) continue;
      let wait = c.pollMs;
      if (claimed === 0 && inflight.size === 0) {
        const next = await d.store.webhooks.nextDueAt().catch(() => null);
        const now = d.ctx.now();
        if (next !== null && next > now) wait = Math.max(5, Math.min(c.pollMs, next - now));
      }
      await idle.sleep(wait);
    }
    await Promise.all(inflight);
  }

  return {
    id,
    start() {
      if (running) return;
      running = true;
      // Events committed by any process (PostgreSQL NOTIFY) wake this worker at once rather than at its next poll.
      unlisten = d.store.onQueued?.('webhook-events', poke) ?? null;
      loop = run();
      log.info('webhook worker started');
    },
    async stop() {
      running = false;
      unlisten?.();
      poke();
      // Deliveries in flight finish and are recorded (each is bounded by the webhook timeout anyway):
      // cut off, one the receiver had taken went out again after the next start, a duplicate on every
      // routine deploy (found by a fresh-eyes run). Past the timeout, what is left is cut off.
      const cutOff = setTimeout(() => stopping.abort(), c.webhookTimeoutMs);
      try {
        await loop;
      } finally {
        clearTimeout(cutOff);
        transport.close();
      }
      log.info('webhook worker stopped');
    },
    poke,
  };
}

function describe(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ''}`.slice(0, 500).replace(/\u0000/g, '\uFFFD');
}
