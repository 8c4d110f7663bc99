/**
 * Writes sent at the same moment all succeed once each, on both engines: parallel CreateType calls
 * each get their own code (two may pick the same next free code; the loser runs again), and
 * parallel upserts of one new lead make one lead.
 */
import { describe, expect, it } from 'vitest';
import { LM, PA, accountIdOf } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';

describe('concurrent writes', () => {
  it('12 CreateType calls at once: all succeed, with 12 distinct codes from 201', async () => {
    const s = await started();
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => s.call('POST', `${PA}/CreateType`, { ActivityEventName: `Parallel ${i}` })));
    for (const r of rs) expect(r.status, r.text).toBe(200);
    const codes = rs.map((r) => r.body.Message.Id).sort((a, b) => a - b);
    expect(codes).toEqual(Array.from({ length: 12 }, (_, i) => 201 + i));
  });

  it('10 Lead.CreateOrUpdate calls for one new phone number at once make one lead', async () => {
    const s = await started();
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => s.call('POST', `${LM}/Lead.CreateOrUpdate`, [{ Attribute: 'Mobile', Value: i % 2 ? '+91-9811122233' : '919811122233' }, { Attribute: 'FirstName', Value: `P${i}` }])),
    );
    for (const r of rs) expect(r.status, r.text).toBe(200);
    expect(new Set(rs.map((r) => r.body.Message.Id)).size).toBe(1);
    expect(rs.filter((r) => r.body.Message.IsCreated)).toHaveLength(1);
    expect(await s.services.store.leads.count(await accountIdOf(s))).toBe(1);
  });
});
