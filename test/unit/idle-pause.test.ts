import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backOff, idlePause } from '../../src/queue/idle.js';

/** Whether `p` has settled once the microtasks queued so far have run (no timer fires meanwhile). */
async function settledNow(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('idlePause', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sleeps for its time when nothing pokes it', async () => {
    const idle = idlePause();
    const p = idle.sleep(1000);
    expect(await settledNow(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settledNow(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settledNow(p)).toBe(true);
  });

  it('wakes at a poke while it sleeps', async () => {
    const idle = idlePause();
    const p = idle.sleep(60_000);
    idle.poke();
    expect(await settledNow(p)).toBe(true);
  });

  it('keeps a poke that came while awake for the next sleep, once however many came', async () => {
    const idle = idlePause();
    idle.poke();
    idle.poke();
    expect(await settledNow(idle.sleep(60_000))).toBe(true);
    const after = idle.sleep(60_000);
    expect(await settledNow(after)).toBe(false);
    idle.poke();
    expect(await settledNow(after)).toBe(true);
  });

  it('keeps a poke that came right after a wake-up, before the sleeper ran again', async () => {
    const idle = idlePause();
    const first = idle.sleep(60_000);
    idle.poke(); // wakes the first sleep
    idle.poke(); // comes before the worker is back: kept
    expect(await settledNow(first)).toBe(true);
    expect(await settledNow(idle.sleep(60_000))).toBe(true);
    const timedOut = idle.sleep(10);
    await vi.advanceTimersByTimeAsync(10);
    expect(await settledNow(timedOut)).toBe(true);
    idle.poke(); // after a sleep that ran out: kept too
    expect(await settledNow(idle.sleep(60_000))).toBe(true);
  });
});

describe('backOff', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits its whole time through pokes (new work does not cut a back-off short), and ends at a stop', async () => {
    const idle = idlePause();
    let stopped = false;
    // A poke kept from the failed round, then more while it waits.
    idle.poke();
    const p = backOff(idle, 1000, () => stopped, () => Date.now());
    for (let t = 0; t < 990; t += 10) {
      idle.poke();
      await vi.advanceTimersByTimeAsync(10);
      expect(await settledNow(p)).toBe(false);
    }
    await vi.advanceTimersByTimeAsync(10);
    expect(await settledNow(p)).toBe(true);

    const long = backOff(idle, 60_000, () => stopped, () => Date.now());
    await vi.advanceTimersByTimeAsync(100);
    expect(await settledNow(long)).toBe(false);
    stopped = true;
    idle.poke();
    expect(await settledNow(long)).toBe(true);
  });
});
