/**
 * One LISTEN connection per process for "new requests were queued" (NOTIFY sent by insertMany at
 * commit). It only makes workers wake sooner: if the connection drops, it reconnects after a pause,
 * and meanwhile workers still find work by polling. Opened on the first subscription.
 */
import pg from 'pg';
import { QUEUED_CHANNEL } from '../sql/requests.js';

const RECONNECT_MS = 1_000;

export interface QueuedListener {
  subscribe(fn: () => void): () => void;
  close(): Promise<void>;
}

export function queuedListener(connect: () => pg.Client, schema: string): QueuedListener {
  const listeners = new Set<() => void>();
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const reconnectLater = () => {
    client = null;
    if (closed || listeners.size === 0 || retry) return;
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
      if (n.channel !== QUEUED_CHANNEL || n.payload !== schema) return;
      for (const fn of listeners) fn();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${QUEUED_CHANNEL}`);
      // Anything queued while we were not listening is found by the subscriber's next look.
      for (const fn of listeners) fn();
    } catch {
      await c.end().catch(() => {});
      if (client === c) reconnectLater();
    }
  }

  return {
    subscribe(fn) {
      listeners.add(fn);
      void open();
      return () => listeners.delete(fn);
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
