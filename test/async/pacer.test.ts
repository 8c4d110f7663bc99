/**
 * The pacer's rules (src/queue/pacer.ts), on a manual clock: when an accept is answered at once,
 * when it waits for the worker, and what ends the wait (the worker catching up, the worker
 * stopping, the longest hold). The same rules over real HTTP, on each engine, are in
 * backpressure.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createPacer, type StartTimer } from '../../src/queue/pacer.js';

/** Timers that fire only when the test moves the clock. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fire: () => void }>();
  const startTimer: StartTimer = (ms, fire) => {
    const t = { at: now + ms, fire };
    timers.add(t);
    return () => timers.delete(t);
  };
  return {
    startTimer,
    pending: () => timers.size,
    advance(ms: number) {
      now += ms;
      for (const t of [...timers].sort((a, b) => a.at - b.at)) {
        if (t.at <= now) {
          timers.delete(t);
          t.fire();
        }
      }
    },
  };
}

/** Settles the microtasks, then says which of `ps` have resolved. */
async function resolved(ps: Promise<void>[]): Promise<boolean[]> {
  const seen = ps.map(() => false);
  ps.forEach((p, i) => void p.then(() => (seen[i] = true)));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return seen;
}

describe('pacer', () => {
  it('answers at once while the backlog is at most the limit, and holds the accepts past it', async () => {
    const clock = manualClock();
    const p = createPacer({ limit: 10, maxHoldMs: 1000, startTimer: clock.startTimer });
    p.setHolding(true);
    p.accepted(10);
    expect(await resolved([p.admit()])).toEqual([true]);
    p.accepted(5);
    const held = [p.admit(), p.admit()];
    expect(await resolved(held)).toEqual([false, false]);
    expect(p.waiting()).toBe(2);
    // The worker finishes 4: 11 left, still past the limit.
    p.settled(4);
    expect(await resolved(held)).toEqual([false, false]);
    // One more: back at the limit, every waiting accept is answered, and their timers are gone.
    p.settled(1);
    expect(await resolved(held)).toEqual([true, true]);
    expect(p.waiting()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('answers a held accept after the longest hold even if the worker makes no progress', async () => {
    const clock = manualClock();
    const p = createPacer({ limit: 2, maxHoldMs: 1000, startTimer: clock.startTimer });
    p.setHolding(true);
    p.accepted(50);
    const first = p.admit();
    clock.advance(600);
    const second = p.admit();
    expect(await resolved([first, second])).toEqual([false, false]);
    clock.advance(400);
    expect(await resolved([first, second])).toEqual([true, false]);
    clock.advance(600);
    expect(await resolved([second])).toEqual([true]);
    expect(p.waiting()).toBe(0);
  });

  it('never holds when the limit is 0 or the worker is not running, and answers everyone when it stops', async () => {
    const clock = manualClock();
    const off = createPacer({ limit: 0, maxHoldMs: 1000, startTimer: clock.startTimer });
    off.setHolding(true);
    off.accepted(1_000_000);
    expect(await resolved([off.admit()])).toEqual([true]);

    const p = createPacer({ limit: 1, maxHoldMs: 1000, startTimer: clock.startTimer });
    p.accepted(100);
    // Not holding yet (no worker started): answered at once.
    expect(await resolved([p.admit()])).toEqual([true]);
    p.setHolding(true);
    const held = p.admit();
    expect(await resolved([held])).toEqual([false]);
    p.setHolding(false);
    expect(await resolved([held, p.admit()])).toEqual([true, true]);
  });

  it('counts only the due work a claim finds: a short claim sets the backlog to it and what was accepted meanwhile', async () => {
    const clock = manualClock();
    const p = createPacer({ limit: 8, maxHoldMs: 1000, startTimer: clock.startTimer });
    p.setHolding(true);
    // 100 accepted, but most wait for an earlier request of their lead or for a retry (or another
    // process's worker took them): the claim finds 3.
    p.accepted(100);
    const held = p.admit();
    const token = p.claiming();
    p.accepted(4); // committed while the claim ran
    p.claimed(token, 3, 32);
    expect(p.backlog()).toBe(7);
    expect(await resolved([held])).toEqual([true]);
    // A full claim means at least that much is due, even if this process accepted none of it.
    p.settled(7);
    p.claimed(p.claiming(), 32, 32);
    expect(p.backlog()).toBe(32);
    expect(await resolved([p.admit()])).toEqual([false]);
  });

  it('keeps the requests of a claim still being applied in the backlog when the next claim comes back short', async () => {
    const clock = manualClock();
    const p = createPacer({ limit: 8, maxHoldMs: 1000, startTimer: clock.startTimer });
    p.setHolding(true);
    p.accepted(40);
    // A full claim of 32 is being applied when the next claim (made meanwhile, as on SQLite's
    // writer thread) finds the 8 left: all 40 are still to finish, not 8.
    p.claimed(p.claiming(), 32, 32);
    p.claimed(p.claiming(), 8, 32);
    expect(p.backlog()).toBe(40);
    const held = p.admit();
    expect(await resolved([held])).toEqual([false]);
    // The first claim finishes: 8 left, at the limit.
    p.settled(32);
    expect(p.backlog()).toBe(8);
    expect(await resolved([held])).toEqual([true]);
    // Once everything claimed is settled, a short claim counts only what it found.
    p.settled(8);
    p.accepted(2);
    p.claimed(p.claiming(), 2, 32);
    expect(p.backlog()).toBe(2);
  });
});
