import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { idlePause } from '../../src/queue/idle.js';

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
