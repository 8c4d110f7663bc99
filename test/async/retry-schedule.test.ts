/**
 * The retry schedule, scaled: after the k-th failed attempt the request waits RETRY_DELAYS[k] ×
 * scale before the next one. Each failure stores `runAt = attempt start + delay`, and an attempt
 * cannot start before the previous `runAt`, so successive `runAt` values are at least one delay
 * apart, and at most that plus the worker's pick-up latency.
 */
import { describe, expect, it } from 'vitest';
import { RETRY_DELAYS_SECONDS, retryDelayMs } from '../../src/queue/retry-policy.js';
import { started } from '../helpers/server.js';
import { accept, createType, settled, stored } from './helpers.js';

const SCALE = 0.002; // 30 s → 60 ms, 2 m → 240 ms, 7 m → 840 ms, 15 m → 1.8 s
const FAULTS = 4;
/** Generous: pick-up is one poll (20 ms) away, but CI machines run test files side by side. */
const SLACK_MS = 400;

describe('retry schedule', () => {
  it('is LeadSquared\'s: 30 s, 2 m, 7 m, 15 m, 30 m, 45 m, 60 m, 1.5 h, 2 h, 3 h, then no more', () => {
    expect(RETRY_DELAYS_SECONDS).toEqual([30, 120, 420, 900, 1800, 2700, 3600, 5400, 7200, 10800]);
    expect(retryDelayMs(1, 1)).toBe(30_000);
    expect(retryDelayMs(10, 1)).toBe(10_800_000);
    expect(retryDelayMs(11, 1)).toBeNull();
    expect(retryDelayMs(3, 0.001)).toBe(420);
  });

  it('spaces the attempts of a failing request by the scaled delays', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: String(SCALE), LEADTRAIL_POLL_MS: '10' });
    const code = await createType(s, 'Retry Me');
    await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: FAULTS, message: 'database is locked' });
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'retry@example.com', ActivityEvent: code });

    // Record every (attempts, runAt) the request goes through, straight from the store.
    const seen = new Map<number, number>();
    let created = 0;
    for (;;) {
      const r = await stored(s, id);
      if (!r) throw new Error('request vanished');
      created = r.createdAt;
      if (r.attempts > 0 && !seen.has(r.attempts)) seen.set(r.attempts, r.runAt);
      if (r.status === 'succeeded') break;
      await new Promise((res) => setTimeout(res, 2));
    }
    expect([...seen.keys()]).toEqual([1, 2, 3, 4]);
    const runAts = [created, ...[1, 2, 3, 4].map((k) => seen.get(k)!)];
    const gaps = runAts.slice(1).map((t, i) => t - runAts[i]);
    const expected = RETRY_DELAYS_SECONDS.slice(0, FAULTS).map((sec) => sec * 1000 * SCALE);
    for (let k = 0; k < FAULTS; k++) {
      expect(gaps[k], `gap before attempt ${k + 2}: ${gaps.join(', ')} vs ${expected.join(', ')}`).toBeGreaterThanOrEqual(expected[k]);
      expect(gaps[k], `gap before attempt ${k + 2}: ${gaps.join(', ')} vs ${expected.join(', ')}`).toBeLessThan(expected[k] + SLACK_MS);
    }
    const done = await settled(s.url, id);
    expect(done.TaskStatus.Status).toBe('Success');
    const r = await stored(s, id);
    // The last attempt started no earlier than the last scheduled time.
    expect(r!.finishedAt!).toBeGreaterThanOrEqual(seen.get(FAULTS)!);
  });
});
