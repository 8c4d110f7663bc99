/**
 * The async API is not held to the sync rate limit (absorbing bursts is its point); it has its own
 * limit, off by default, which refuses with 429 and stores nothing.
 */
import { describe, expect, it } from 'vitest';
import { started } from '../helpers/server.js';
import { accept, asyncCall, countRequests, createType, settled } from './helpers.js';

describe('async rate limit', () => {
  it('30 async accepts all succeed under a sync limit of 2 per 5 s', async () => {
    const s = await started({ LEADTRAIL_RATE_LIMIT: '2/5s' });
    const code = await createType(s, 'Bursty'); // sync call 1
    const sync2 = await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get');
    expect(sync2.status).toBe(200);
    const sync3 = await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get');
    expect(sync3.status).toBe(429);
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) => accept(s.url, '/activity/create', { EmailAddress: `burst${i}@example.com`, ActivityEvent: code })),
    );
    expect(new Set(ids).size).toBe(30);
    for (const id of ids) expect((await settled(s.url, id)).TaskStatus.Status).toBe('Success');
    // The sync limit is still spent: async traffic neither used nor refilled it.
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get')).status).toBe(429);
  });

  it('LEADTRAIL_ASYNC_RATE_LIMIT limits accepts per access key; status reads are not limited', async () => {
    const s = await started({ LEADTRAIL_ASYNC_RATE_LIMIT: '3/60s' });
    const code = await createType(s, 'Limited');
    const body = { EmailAddress: 'limited@example.com', ActivityEvent: code };
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await accept(s.url, '/activity/create', body));
    const before = await countRequests(s);
    const over = await asyncCall(s.url, 'POST', '/activity/createcustom', body);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXAPIRateLimitExceededException' });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await countRequests(s)).toBe(before);
    for (let i = 0; i < 10; i++) expect((await asyncCall(s.url, 'GET', `/activity/status?RequestID=${ids[0]}`, undefined, { noAuth: true })).status).toBe(200);
    // The sync API (limit off in this server) is not touched by the async limit.
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get')).status).toBe(200);
  });
});
