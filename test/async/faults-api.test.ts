/**
 * The forced-faults admin API: present only with LEADTRAIL_FAULTS, authenticated with the account's
 * access/secret key, never rate limited, validated, and scoped to the calling account.
 */
import { describe, expect, it } from 'vitest';
import { createAccount } from '../../src/domain/accounts.js';
import { started } from '../helpers/server.js';
import { accept, createType, settled, stored } from './helpers.js';

const PATH = '/_leadtrail/faults';

describe('faults API', () => {
  it('does not exist unless enabled', async () => {
    const s = await started();
    for (const m of ['GET', 'POST', 'DELETE']) {
      const r = await s.call(m, PATH, m === 'POST' ? { operation: '*', times: 1 } : undefined);
      expect(r.status, m).toBe(404);
      expect(r.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXAPINotFoundException' });
    }
  });

  it('adds, lists and clears rules; needs the access/secret key; not rate limited', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RATE_LIMIT: '2/60s' });
    expect((await s.call('GET', PATH, undefined, { noAuth: true })).status).toBe(401);
    expect((await s.call('GET', PATH, undefined, { keys: { accessKey: 'test-access', secretKey: 'wrong' } })).status).toBe(401);
    const a = await s.call('POST', PATH, { operation: 'activity.create', times: 3, message: 'Unable to Connect to DB' });
    expect(a.status, a.text).toBe(200);
    expect(a.body.fault).toMatchObject({ id: expect.any(String), operation: 'activity.create', remaining: 3, message: 'Unable to Connect to DB', match: null });
    const b = await s.call('POST', PATH, { Operation: 'Lead.Capture', Times: 1, Match: 'x@example.com' });
    expect(b.body.fault).toMatchObject({ operation: 'lead.capture', remaining: 1, match: 'x@example.com' });
    expect((await s.call('POST', PATH, {})).body.fault).toMatchObject({ operation: '*', remaining: 1 });
    const list = await s.call('GET', PATH);
    expect(list.status).toBe(200);
    expect(list.body.faults).toHaveLength(3);
    const cleared = await s.call('DELETE', PATH);
    expect(cleared.body).toEqual({ cleared: 3 });
    expect((await s.call('GET', PATH)).body).toEqual({ faults: [] });
  });

  it.each([
    [{ operation: 'lead.delete' }, 'operation'],
    [{ times: 0 }, 'times'],
    [{ times: 1.5 }, 'times'],
    [{ times: '3' }, 'times'],
    [{ message: '' }, 'message'],
    [{ match: 5 }, 'match'],
    [[1], 'request body'],
  ])('refuses %j with 400', async (body, what) => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const r = await s.call('POST', PATH, body);
    expect(r.status, r.text).toBe(400);
    expect(r.body.ExceptionMessage).toContain(what);
    expect((await s.call('GET', PATH)).body.faults).toEqual([]);
  });

  it('applies to the next attempts of the named operation and of the calling account only', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.0005' });
    const other = { accessKey: 'o-access', secretKey: 'o-secret', apiKey: 'o-api' };
    await s.services.store.transaction((tx) => createAccount(tx, s.services.ctx, { name: 'other', ...other }));
    await s.call('POST', PATH, { operation: 'activity.createcustom', times: 1 }, { keys: other });
    await s.call('POST', PATH, { operation: 'activity.createcustom', times: 1, message: 'mine' });
    const code = await createType(s, 'Scoped');
    const plain = await accept(s.url, '/activity/create', { EmailAddress: 'plain@example.com', ActivityEvent: code });
    const custom = await accept(s.url, '/activity/createcustom', { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'cust@example.com' }], Activity: { ActivityEvent: code } });
    await settled(s.url, plain);
    await settled(s.url, custom);
    expect((await stored(s, plain))!.attempts).toBe(0);
    expect((await stored(s, custom))!).toMatchObject({ attempts: 1, lastError: 'mine', status: 'succeeded' });
    // The other account's rule is untouched.
    expect((await s.call('GET', PATH, undefined, { keys: other })).body.faults).toMatchObject([{ remaining: 1 }]);
  });
});
