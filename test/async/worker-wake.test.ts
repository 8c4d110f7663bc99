/**
 * A worker between two sleeps (claiming, reading when work is next due, keeping house: all awaited)
 * used to drop a poke, and then slept a whole poll interval. Two ways a user met it, on a real store
 * of each engine, with a poll interval long enough that a lost poke cannot pass for a quick one:
 * - a `stop()` soon after `start()` (an embedding test suite's `close()`, a SIGTERM at a busy
 *   moment) waited for the queue worker's poll and then the webhook worker's;
 * - an accept committed while the worker read its next due time waited a poll to be applied.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { systemCtx } from '../../src/domain/context.js';
import { createWorker } from '../../src/queue/worker.js';
import type { QueueName, Store } from '../../src/storage/store.js';
import { createWebhookWorker } from '../../src/webhooks/worker.js';
import { storeBeside, started } from '../helpers/server.js';
import { accept, accountIdOf, createType, waitFor } from './helpers.js';

/** Longer than any test here may take: a worker that waits for it has lost its poke. */
const POLL_MS = 60_000;
const log = pino({ level: 'silent' });

/** Whether `p` settles within `ms` (a bound far from both outcomes: ~0 ms against POLL_MS). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer!: NodeJS.Timeout;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a worker woken between two sleeps', () => {
  it('stops at once when stopped before its first sleep (queue and webhook workers)', async () => {
    const s = await started({ LEADTRAIL_WORKER: 'false' });
    const store = await storeBeside(s);
    const config = { ...loadConfig({}), pollMs: POLL_MS };
    try {
      // start() runs each loop up to its first await (housekeeping), where stop() finds it awake.
      const worker = createWorker({ store, ctx: systemCtx, config, log });
      worker.start();
      expect(await within(worker.stop(), 10_000)).toBe(true);
      const webhooks = createWebhookWorker({ store, ctx: systemCtx, config, log });
      webhooks.start();
      expect(await within(webhooks.stop(), 10_000)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('applies a request accepted while the worker read its next due time without waiting a poll', async () => {
    const s = await started({ LEADTRAIL_WORKER: 'false' });
    const code = await createType(s, 'Wake');
    const accountId = await accountIdOf(s);
    const store = await storeBeside(s);
    // The worker's wake-up from a commit (Store.onQueued), kept to be called by hand, as a commit
    // in this process calls it; and nextRunAt, which first reads (nothing is due), then has the
    // request accepted and the worker poked before the worker has gone to sleep.
    let wake: (() => void) | null = null;
    let acceptedId: Promise<string> | null = null;
    const requests = Object.create(store.requests) as Store['requests'];
    requests.nextRunAt = async () => {
      const next = await store.requests.nextRunAt();
      if (acceptedId === null) {
        acceptedId = accept(s.url, '/activity/create', { EmailAddress: 'wake@example.com', ActivityEvent: code });
        await acceptedId;
        wake?.();
      }
      return next;
    };
    const watched = Object.create(store) as Store;
    Object.assign(watched, {
      requests,
      onQueued: (queue: QueueName, listener: () => void) => {
        if (queue === 'requests') wake = listener;
        return () => {};
      },
    });
    const worker = createWorker({ store: watched, ctx: systemCtx, config: { ...loadConfig({}), pollMs: POLL_MS }, log });
    try {
      worker.start();
      const id = await waitFor(async () => acceptedId, (v) => v !== null, 10_000);
      const status = await waitFor(async () => (await store.requests.get(accountId, await id!))?.status, (st) => st === 'succeeded', 10_000).catch(
        async () => (await store.requests.get(accountId, await id!))?.status,
      );
      expect(status).toBe('succeeded');
    } finally {
      await within(worker.stop(), 10_000);
      await store.close();
    }
  });
});
