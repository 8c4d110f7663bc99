/**
 * The console's sign-in throttle (LEADTRAIL_CONSOLE_SIGNIN_LIMIT, 5 failures a minute by default),
 * per access key and per client address, on the server's injectable clock: past the limit the form
 * answers 429 with Retry-After and says why on the page, even for the right keys; the window frees
 * it; a success clears the count. The API's 401s are not throttled. On SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
beforeAll(async () => {
  s = await started({}, { ctx: { now: () => clock, newId: () => randomUUID() } });
});
// Every test starts where no failure of an earlier one is still in the window.
beforeEach(() => {
  clock += 10 * 60_000;
});

const cookiesOf = (h: Headers) => h.getSetCookie().map((c) => c.split(';')[0]);

/** One sign-in through the form (CSRF token first), as a browser sends it. */
async function signIn(keys: { accessKey: string; secretKey: string }): Promise<{ status: number; retryAfter: string | null; alert: string | null }> {
  const form = await fetch(`${s.url}/console/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
  const res = await fetch(`${s.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(form.headers).join('; ') },
    body: new URLSearchParams({ _csrf: token, ...keys }),
  });
  const html = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), alert: /role="alert"[^>]*>([^<]*)</.exec(html)?.[1] ?? null };
}
const wrong = { accessKey: KEYS.accessKey, secretKey: 'not-the-secret' };

describe('console sign-in throttle', () => {
  it('after 5 failures with one access key in a minute, even the right secret is refused with 429 until the window frees it', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await signIn(wrong);
      expect(r.status).toBe(401);
      expect(r.alert).toContain('do not match');
      clock += 1_000;
    }
    const refused = await signIn(KEYS);
    expect(refused.status).toBe(429);
    // The first failure leaves the window 60 s after it was made, 55 s from now.
    expect(refused.retryAfter).toBe('55');
    expect(refused.alert).toBe('Too many failed sign-ins with this access key: 5 within 1 minute. Try again in 55 seconds.');
    clock += 30_000;
    expect((await signIn(KEYS)).retryAfter).toBe('25');
    clock += 25_000;
    // The first failure is out of the window: one more attempt is let through, and it is right.
    expect((await signIn(KEYS)).status).toBe(303);
  });

  it('a successful sign-in clears the count', async () => {
    for (let i = 0; i < 4; i++) expect((await signIn(wrong)).status).toBe(401);
    expect((await signIn(KEYS)).status).toBe(303);
    for (let i = 0; i < 5; i++) expect((await signIn(wrong)).status).toBe(401);
    expect((await signIn(wrong)).status).toBe(429);
  });

  it('after 5 failures from one address with different access keys, that address is refused for any key', async () => {
    for (let i = 0; i < 5; i++) expect((await signIn({ accessKey: `guess-${i}`, secretKey: 'x' })).status).toBe(401);
    const refused = await signIn(KEYS);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('60');
    expect(refused.alert).toBe('Too many failed sign-ins from your address: 5 within 1 minute. Try again in 1 minute.');
    clock += 60_000;
    expect((await signIn(KEYS)).status).toBe(303);
  });

  it("the API's wrong keys keep their 401, however many (clients in CI send keys constantly)", async () => {
    for (let i = 0; i < 12; i++) {
      const r = await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get', undefined, { keys: wrong });
      expect(r.status).toBe(401);
    }
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get')).status).toBe(200);
  });

  it('LEADTRAIL_CONSOLE_SIGNIN_LIMIT=0 turns it off', async () => {
    const off = await started({ LEADTRAIL_CONSOLE_SIGNIN_LIMIT: '0' });
    const prev = s;
    s = off;
    try {
      for (let i = 0; i < 8; i++) expect((await signIn(wrong)).status).toBe(401);
      expect((await signIn(KEYS)).status).toBe(303);
    } finally {
      s = prev;
    }
  });
});
