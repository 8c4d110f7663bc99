/**
 * The searches' turns (storage/sql/seq-ranges.ts, `takeTurn`): one at a time, in order; a walk whose
 * client leaves while it waits leaves the queue, and one that runs keeps the turn until it settles,
 * so the next never runs beside it. No database: the turns alone.
 */
import { describe, expect, it } from 'vitest';
import { takeTurn, walksWaiting } from '../../src/storage/sql/seq-ranges.js';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('takeTurn', () => {
  it('a running walk whose signal aborts keeps the turn until it settles; the next waits for it', async () => {
    const client = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = false;
    let nextStarted = false;
    const first = takeTurn(async () => {
      running = true;
      await gate;
      running = false;
      return 'first';
    }, client.signal);
    const next = takeTurn(async () => {
      nextStarted = true;
      expect(running).toBe(false);
      return 'next';
    });
    await nextTurn();
    expect(running).toBe(true);
    client.abort();
    await nextTurn();
    expect(nextStarted).toBe(false);
    release();
    expect(await first).toBe('first');
    expect(await next).toBe('next');
  });

  it('a waiting walk whose signal aborts leaves the queue at once, unrun', async () => {
    let release!: () => void;
    const held = takeTurn(() => new Promise<void>((r) => (release = r)));
    const client = new AbortController();
    let ran = false;
    const waiting = takeTurn(async () => {
      ran = true;
    }, client.signal);
    await nextTurn();
    expect(walksWaiting()).toBe(1);
    client.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(walksWaiting()).toBe(0);
    release();
    await held;
    expect(ran).toBe(false);
    // Already aborted when asked: never queued.
    await expect(takeTurn(async () => 1, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});
