/**
 * One LISTEN connection per process for "new work was queued" (NOTIFY sent at commit by the
 * transaction that queued it), one channel per queue: async requests and webhook events. A
 * subscriber is called for its own queue's notifications only. It only makes workers wake sooner:
 * if the connection drops, it reconnects after a pause, and meanwhile workers still find work by
 * polling. Opened on the first subscription.
 */
import pg from 'pg';
import { CHANNEL_OF } from '../sql/requests.js';
import type { QueueName } from '../store.js';

const RECONNECT_MS = 1_000;

export interface QueuedListener {
  /** Calls `fn` on each notification that `queue` has new work in this schema; returns the unsubscribe function. */
  subscribe(queue: QueueName, fn: () => void): () => void;
  close(): Promise<void>;
}

export function queuedListener(connect: () => pg.Client, schema: string): QueuedListener {
  const listeners = new Map<string, Set<() => void>>(Object.values(CHANNEL_OF).map((c) => [c, new Set()]));
  const size = () => [...listeners.values()].reduce((n, l) => n + l.size, 0);
  const callAll = () => {
    for (const l of listeners.values()) for (const fn of l) fn();
  };
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const reconnectLater = () => {
    client = null;
    if (closed || size() === 0 || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void open();
    }, RECONNECT_MS);
  };

  async function open(): Promise<void> {
    if (closed || client) return;
    const c = connect();
    client = c;
    c.on('error', () => reconnectLater());
    c.on('end', () => {
      if (client === c) reconnectLater();
    });
    c.on('notification', (n) => {
      if (n.payload !== schema) return;
      for (const fn of listeners.get(n.channel) ?? []) fn();
    });
    try {
      await c.connect();
      await c.query([...listeners.keys()].map((ch) => `LISTEN ${ch}`).join('; '));
      // Anything queued while we were not listening is found by the subscriber's next look.
      callAll();
    } catch {
      await c.end().catch(() => {});
      if (client === c) reconnectLater();
    }
  }

  return {
    subscribe(queue, fn) {
      const l = listeners.get(CHANNEL_OF[queue])!;
      l.add(fn);
      void open();
      return () => l.delete(fn);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
