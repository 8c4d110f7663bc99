/**
 * Accepting async requests with group commit: requests that arrive while a commit is under way
 * are written together in the next transaction (one fsync for the batch), and each caller is
 * answered only once its batch has committed. A request is "accepted" only when it is on disk.
 */
import { EventEmitter } from 'node:events';
import { repoWrite, type NewRequest, type Store } from '../storage/store.js';
import type { Pacer } from './pacer.js';

export interface Enqueuer {
  /**
   * Resolves once `req` is committed and, with a pacer (a worker runs in this process), once the
   * pacer lets it be answered (src/queue/pacer.ts: at most its `maxHoldMs` later). Rejects when the
   * commit fails (nothing stored).
   */
  enqueue(req: NewRequest): Promise<void>;
  /** Emits 'accepted' after each committed batch (the local worker listens to wake up). */
  readonly events: EventEmitter;
  /** Waits for batches in flight. */
  drain(): Promise<void>;
}

const MAX_BATCH = 500;

/** `pacer`: the local worker's, when this process runs one; accepts then wait while it is behind. */
export function createEnqueuer(store: Store, pacer?: Pacer): Enqueuer {
  const events = new EventEmitter();
  let pending: { req: NewRequest; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let running: Promise<void> | null = null;

  async function flushLoop(): Promise<void> {
    while (pending.length > 0) {
      // Let the requests that are already being handled (their auth reads queue on the same
      // connection as our commit) reach `enqueue` first, so that they share this commit instead of
      // each paying for its own fsync.
      await nextTurn();
      const batch = pending.slice(0, MAX_BATCH);
      pending = pending.slice(batch.length);
      try {
        // One repo write (repoWrite): on SQLite's writer thread one message there and back.
        await store.transaction(repoWrite('requests', 'insertMany', batch.map((b) => b.req)));
        pacer?.accepted(batch.length);
        for (const b of batch) b.resolve();
        events.emit('accepted', batch.length);
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    running = null;
  }

  return {
    events,
    enqueue(req) {
      const committed = new Promise<void>((resolve, reject) => {
        pending.push({ req, resolve, reject });
        if (!running) running = flushLoop();
      });
      return pacer ? committed.then(() => pacer.admit()) : committed;
    },
    async drain() {
      while (running) await running;
    },
  };
}

/** Resolves after pending I/O callbacks and microtasks have run (a macrotask turn). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
