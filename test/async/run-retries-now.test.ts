/**
 * POST /_leadtrail/retries/run-now: a request waiting out LeadSquared's 30 s back-off after a forced
 * system fault becomes due at once, and succeeds; only the calling account's requests move; the path
 * exists only with the forced-faults switch. On SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { secondAccount } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';
import { accept, createType, settled, stored, waitFor } from './helpers.js';

const PATH = '/_leadtrail/retries/run-now';

describe('run waiting retries now', () => {
  it('does not exist unless LEADTRAIL_FAULTS is on', async () => {
    const s = await started();
    expect((await s.call('POST', PATH)).status).toBe(404);
  });

  it('a request waiting 30 s for its retry succeeds right after the call; another account\'s stays waiting', async () => {
    // The real schedule (scale 1): the first retry waits 30 s.
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '1' });
    const code = await createType(s, 'Retry now');
    const other = await secondAccount(s);
    // Both accounts' next attempt fails once with a system error, then waits for its retry.
    expect((await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: 1 })).status).toBe(200);
    expect((await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: 1 }, { keys: other.keys })).status).toBe(200);
    const otherCode = (await s.call('POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: 'Other retry' }, { keys: other.keys })).body.Message.Id;
    const mine = await accept(s.url, '/activity/create', { EmailAddress: 'retry-now@example.com', ActivityEvent: code });
    const theirs = await accept(s.url, '/activity/create', { EmailAddress: 'retry-now@example.com', ActivityEvent: otherCode }, { keys: other.keys, headers: { 'x-api-key': other.apiKey } });
    const waiting = async (id: string, accountKeys?: boolean) => waitFor(
      () => (accountKeys ? s.services.store.requests.get(other.accountId, id) : stored(s, id)),
      (r) => r !== null && r.status === 'queued' && r.attempts === 1,
    );
    await waiting(mine);
    await waiting(theirs, true);
    const r = await s.call('POST', PATH);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ due: 1 });
    expect((await settled(s.url, mine, undefined, undefined, 5_000)).TaskStatus.Status).toBe('Success');
    const still = await s.services.store.requests.get(other.accountId, theirs);
    expect(still).toMatchObject({ status: 'queued', attempts: 1 });
    expect(still!.runAt).toBeGreaterThan(Date.now() + 10_000);
    // Nothing left waiting: a second call moves nothing.
    expect((await s.call('POST', PATH)).body).toEqual({ due: 0 });
  });
});
