/**
 * Backpressure between async accepts and the worker of the same process (docs/async.md, "Sharing
 * the process"). API and worker share one event loop, and on SQLite one writer: left alone, 64
 * connections of accepts keep both busy and the worker falls behind for as long as they last (the
 * backlog grew by 800–1,200 requests a second in `npm run bench`'s async-drain, issue 11).
 *
 * The pacer counts a *backlog*: up by one for each request this process accepts, down by one for
 * each request its worker finishes (whoever accepted it), never below zero; so the worker is held to
 * finishing at least as many requests as the process accepts, give or take `limit`. While that
 * backlog is above `limit`, an accept that has committed waits before it is answered, until the
 * worker brings the backlog back to `limit`, the worker stops, or `maxHoldMs` passes. The answer is
 * the same 200 with its `RequestID`, only later; the request was on disk before it waited. Clients
 * that wait for an answer before sending more (as LeadSquared integrations and the bench do) then
 * send at the rate the worker applies, and the backlog stays near `limit` instead of growing.
 *
 * Only requests the worker can take now count: a claim that comes back with fewer requests than it
 * had room for was all the due work (the rest waits for a retry or for an earlier request of its
 * lead, or another process's worker took it), so the count is set back to it, plus the requests of
 * earlier claims still being applied (on SQLite's writer thread the next claim is made while the
 * last one is applied: forgetting those let the backlog pass `limit` by a claim's worth, and the
 * over-the-limit accepts be answered early). A backlog that is not this worker's to apply therefore
 * never holds an accept for long.
 */

/** The longest an accept waits for the worker before it is answered anyway (milliseconds). */
export const ASYNC_MAX_HOLD_MS = 1_000;

/** Starts a timer; returns the function that cancels it. Injected by tests (a manual clock). */
export type StartTimer = (ms: number, fire: () => void) => () => void;

export interface PacerOptions {
  /** Backlog (requests) above which accepts wait; 0 turns holding off. */
  limit: number;
  /** Longest one accept waits, in milliseconds. */
  maxHoldMs: number;
  /** Defaults to an unref'd setTimeout. */
  startTimer?: StartTimer;
}

export interface Pacer {
  /** `n` requests were committed by this process's enqueuer. */
  accepted(n: number): void;
  /** The worker is about to claim: returns a token for `claimed`. */
  claiming(): number;
  /**
   * The worker claimed `n` requests with room for `room` (`token` from `claiming()` just before).
   * Fewer than `room` means that was all the due work: the backlog is set to the requests claimed
   * and not yet settled (these `n` and any earlier claim's still being applied) plus what was
   * accepted since the claim began.
   */
  claimed(token: number, n: number, room: number): void;
  /**
   * The worker is done with `n` claimed requests (succeeded, failed, or put back for a retry). The
   * worker settles each claimed request exactly once (worker.ts's processClaimed).
   */
  settled(n: number): void;
  /**
   * Resolves when an accepted request may be answered: at once while the backlog is at most
   * `limit` (or holding is off, or the worker stopped); otherwise when the worker brings it down to
   * `limit`, stops, or `maxHoldMs` after the call. Never rejects.
   */
  admit(): Promise<void>;
  /** Holding on (the worker runs) or off (it stopped): turning it off answers every waiting accept. */
  setHolding(on: boolean): void;
  /** The backlog as counted (requests). */
  backlog(): number;
  /** Accepts waiting now. */
  waiting(): number;
}

const defaultTimer: StartTimer = (ms, fire) => {
  const t = setTimeout(fire, ms);
  t.unref();
  return () => clearTimeout(t);
};

export function createPacer(o: PacerOptions): Pacer {
  const startTimer = o.startTimer ?? defaultTimer;
  let backlog = 0;
  let acceptedTotal = 0;
  /** Requests claimed and not yet settled. */
  let inFlight = 0;
  let holding = false;
  const waiters = new Set<() => void>();

  const full = () => holding && o.limit > 0 && backlog > o.limit;
  function releaseIfRoom(): void {
    if (full() || waiters.size === 0) return;
    const all = [...waiters];
    waiters.clear();
    for (const w of all) w();
  }

  return {
    accepted(n) {
      backlog += n;
      acceptedTotal += n;
    },
    claiming: () => acceptedTotal,
    claimed(token, n, room) {
      inFlight += n;
      if (n < room) backlog = inFlight + (acceptedTotal - token);
      else backlog = Math.max(backlog, inFlight);
      releaseIfRoom();
    },
    settled(n) {
      inFlight = Math.max(0, inFlight - n);
      backlog = Math.max(0, backlog - n);
      releaseIfRoom();
    },
    admit() {
      if (!full()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        let cancel: () => void = () => {};
        const done = () => {
          cancel();
          waiters.delete(done);
          resolve();
        };
        waiters.add(done);
        cancel = startTimer(o.maxHoldMs, done);
      });
    },
    setHolding(on) {
      holding = on;
      releaseIfRoom();
    },
    backlog: () => backlog,
    waiting: () => waiters.size,
  };
}
