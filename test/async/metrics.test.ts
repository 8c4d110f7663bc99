/**
 * Metrics after a known sequence: with the worker off, PendingMessages counts the queue and
 * MaxDelayInSeconds the age of its oldest request; once a worker has drained it, the queue is
 * empty and ProcessingRatePerMinute is what finished in the last 10 minutes, per minute, under
 * both spellings LeadSquared's docs use.
 */
import { describe, expect, it } from 'vitest';
import { startServer, started } from '../helpers/server.js';
import { accept, asyncCall, createType, settled, sleep } from './helpers.js';

const metrics = async (base: string, kind: string) => {
  const r = await asyncCall(base, 'GET', `/activity/${kind}/metrics`, undefined, { noAuth: true });
  expect(r.status, r.text).toBe(200);
  return r.body;
};

describe('metrics', () => {
  it('PendingMessages and MaxDelayInSeconds while queued, ProcessingRatePerMinute once processed', async () => {
    const off = await startServer({ LEADTRAIL_WORKER: 'false' });
    const ids: string[] = [];
    let dbPath: string;
    let firstAt: number;
    try {
      const code = await createType(off, 'Metered');
      expect(await metrics(off.url, 'create')).toEqual({ PendingMessages: 0, MaxDelayInSeconds: 0, ProcessingRatePerMinute: 0, ProcessingratePerMinute: 0 });
      firstAt = Date.now();
      for (let i = 0; i < 6; i++) ids.push(await accept(off.url, '/activity/create', { EmailAddress: `m${i}@example.com`, ActivityEvent: code }));
      ids.push(await accept(off.url, '/activity/create', { EmailAddress: 'bad@example.com', ActivityEvent: 4242 }));
      for (let i = 0; i < 3; i++) {
        ids.push(await accept(off.url, '/activity/createcustom', { LeadDetails: [{ Attribute: 'EmailAddress', Value: `c${i}@example.com` }], Activity: { ActivityEvent: code } }));
      }
      await sleep(2_100);
      const create = await metrics(off.url, 'create');
      const elapsed = (Date.now() - firstAt) / 1000;
      expect(create.PendingMessages).toBe(7);
      expect(create.MaxDelayInSeconds).toBeGreaterThanOrEqual(2);
      expect(create.MaxDelayInSeconds).toBeLessThanOrEqual(Math.ceil(elapsed));
      expect(create.ProcessingRatePerMinute).toBe(0);
      const custom = await metrics(off.url, 'createcustom');
      expect(custom.PendingMessages).toBe(3);
      expect(custom.MaxDelayInSeconds).toBeGreaterThanOrEqual(2);
      dbPath = off.dbPath;
    } finally {
      await off.close();
    }

    const on = await started({ LEADTRAIL_DB: dbPath });
    const outcomes = [];
    for (const id of ids) outcomes.push((await settled(on.url, id)).TaskStatus.Status);
    expect(outcomes.filter((o) => o === 'FAILURE')).toHaveLength(1);
    // 7 create requests finished (a FAILURE is processed too) within the window: 7 / 10 min.
    expect(await metrics(on.url, 'create')).toEqual({ PendingMessages: 0, MaxDelayInSeconds: 0, ProcessingRatePerMinute: 0.7, ProcessingratePerMinute: 0.7 });
    expect(await metrics(on.url, 'createcustom')).toEqual({ PendingMessages: 0, MaxDelayInSeconds: 0, ProcessingRatePerMinute: 0.3, ProcessingratePerMinute: 0.3 });
    // Lead capture has its own metrics path, untouched by activity requests.
    const lead = await asyncCall(on.url, 'GET', '/lead/capture/metrics', undefined, { noAuth: true });
    expect(lead.body).toEqual({ PendingMessages: 0, MaxDelayInSeconds: 0, ProcessingRatePerMinute: 0, ProcessingratePerMinute: 0 });
  });
});
