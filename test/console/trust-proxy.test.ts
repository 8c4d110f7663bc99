/**
 * LEADTRAIL_TRUST_PROXY and the console's sign-in throttle, whose per-address count is by `req.ip`,
 * and the host a client is told (UserByAccessKey.Get's service URLs, the console's curl), which
 * follows X-Forwarded-Host only from a trusted proxy.
 * Off (the default), X-Forwarded-For is ignored: every client behind a proxy has the proxy's address
 * and shares its count. Trusting the proxy's address, clients are counted apart by the address the
 * proxy forwarded; a peer that is not trusted (here 127.0.0.2, a loopback address other than the
 * trusted 127.0.0.1) cannot escape its count with an X-Forwarded-For of its own, nor can a client
 * that writes one in front of what the proxy appends. Real servers over real HTTP, the server's
 * injectable clock, on SQLite and PostgreSQL.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUTH, LM, expectOk } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';
import { consoleClient } from './session.js';

let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
const ctx = { now: () => clock, newId: () => randomUUID() };
let off: TestServer;
let trusting: TestServer;
beforeAll(async () => {
  off = await started({}, { ctx });
  trusting = await started({ LEADTRAIL_TRUST_PROXY: '127.0.0.1' }, { ctx });
});
// Every test starts where no failure of an earlier one is still in the window.
beforeEach(() => {
  clock += 10 * 60_000;
});

interface Sent {
  /** X-Forwarded-For, as a proxy in front would send it. */
  forwardedFor?: string;
  /** The local address to connect from (127.0.0.1 unless given). */
  from?: string;
}

/** One HTTP exchange with node:http, which can choose the address it connects from (fetch cannot). */
function exchange(base: string, method: string, path: string, headers: Record<string, string>, body: string, from?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers, ...(from ? { localAddress: from } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One sign-in through the form (CSRF token first), as a browser behind a proxy sends it. */
async function signIn(s: TestServer, keys: { accessKey: string; secretKey: string }, sent: Sent): Promise<{ status: number; alert: string | null }> {
  const xff: Record<string, string> = sent.forwardedFor ? { 'x-forwarded-for': sent.forwardedFor } : {};
  const form = await exchange(s.url, 'GET', '/console/sign-in', xff, '', sent.from);
  const token = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
  const cookie = (form.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  const body = new URLSearchParams({ _csrf: token, ...keys }).toString();
  const res = await exchange(s.url, 'POST', '/console/sign-in', { ...xff, cookie, 'content-type': 'application/x-www-form-urlencoded' }, body, sent.from);
  return { status: res.status, alert: /role="alert"[^>]*>([^<]*)</.exec(res.text)?.[1] ?? null };
}

/** Five failed sign-ins, each with an access key of its own, so that only the address's count fills. */
async function fiveFailures(s: TestServer, sent: (i: number) => Sent): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const r = await signIn(s, { accessKey: `guess-${randomUUID()}`, secretKey: 'x' }, sent(i));
    expect(r.status, `failure ${i + 1}`).toBe(401);
  }
}

const FROM_YOUR_ADDRESS = 'Too many failed sign-ins from your address: 5 within 1 minute. Try again in 1 minute.';

describe('LEADTRAIL_TRUST_PROXY and the console sign-in throttle', () => {
  it('off (the default): X-Forwarded-For is ignored, so two clients behind a proxy share one count', async () => {
    await fiveFailures(off, () => ({ forwardedFor: '203.0.113.1' }));
    const other = await signIn(off, KEYS, { forwardedFor: '203.0.113.2' });
    expect(other.status).toBe(429);
    expect(other.alert).toBe(FROM_YOUR_ADDRESS);
  });

  it('trusting the proxy (127.0.0.1): each forwarded client has its own count', async () => {
    await fiveFailures(trusting, () => ({ forwardedFor: '203.0.113.11' }));
    // The client that failed is refused, even with the right keys …
    const same = await signIn(trusting, KEYS, { forwardedFor: '203.0.113.11' });
    expect(same.status).toBe(429);
    expect(same.alert).toBe(FROM_YOUR_ADDRESS);
    // … another client behind the same proxy is not, and the proxy's own address is not either.
    expect((await signIn(trusting, KEYS, { forwardedFor: '203.0.113.12' })).status).toBe(303);
    expect((await signIn(trusting, KEYS, {})).status).toBe(303);
  });

  it('a client cannot escape through the trusted proxy by writing an X-Forwarded-For of its own in front of what the proxy appends', async () => {
    // nginx's $proxy_add_x_forwarded_for: the client's header, then the address the proxy saw.
    await fiveFailures(trusting, (i) => ({ forwardedFor: `198.51.100.${i + 1}, 203.0.113.21` }));
    const r = await signIn(trusting, KEYS, { forwardedFor: '198.51.100.99, 203.0.113.21' });
    expect(r.status).toBe(429);
    expect(r.alert).toBe(FROM_YOUR_ADDRESS);
  });

  it('a peer that is not a trusted proxy (127.0.0.2) is counted by its own address whatever X-Forwarded-For it sends', async () => {
    await fiveFailures(trusting, (i) => ({ from: '127.0.0.2', forwardedFor: `203.0.113.${31 + i}` }));
    const spoofed = await signIn(trusting, KEYS, { from: '127.0.0.2', forwardedFor: '203.0.113.99' });
    expect(spoofed.status).toBe(429);
    expect(spoofed.alert).toBe(FROM_YOUR_ADDRESS);
    // The trusted proxy's clients are not held by that peer's failures.
    expect((await signIn(trusting, KEYS, { forwardedFor: '203.0.113.99' })).status).toBe(303);
  });
});

/** UserByAccessKey.Get's `LSQCommonServiceURLs.api`, called with these headers from `from`. */
async function apiHost(s: TestServer, headers: Record<string, string>, from?: string): Promise<string> {
  const q = `?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;
  const res = await exchange(s.url, 'GET', `${AUTH}/UserByAccessKey.Get${q}`, headers, '', from);
  expect(res.status, res.text).toBe(200);
  return JSON.parse(res.text).LSQCommonServiceURLs.api as string;
}

/** The origin of the console's "Copy as curl" for the newest journal entry, its page fetched with these headers. */
async function curlOrigin(s: TestServer, headers: Record<string, string>): Promise<string> {
  const c = await consoleClient(s.url);
  expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=proxy-curl@example.test`));
  const entries = expectOk(await s.call('GET', '/_leadtrail/journal?limit=1&path=Leads.GetByEmailaddress')).entries as { id: string }[];
  const page = await exchange(s.url, 'GET', `/console/requests/${entries[0].id}`, { ...headers, cookie: c.cookie }, '');
  expect(page.status).toBe(200);
  const curl = /<code id="curl">([\s\S]*?)<\/code>/.exec(page.text)![1];
  return /(https?:\/\/[^/]+)\//.exec(curl)![1];
}

describe('LEADTRAIL_TRUST_PROXY and the host a client is told', () => {
  const forwarded = { 'x-forwarded-host': 'leads.example.test' };

  it('UserByAccessKey.Get names the host the client called through a trusted proxy (X-Forwarded-Host)', async () => {
    expect(await apiHost(trusting, forwarded)).toBe('leads.example.test');
    // Without the header, the Host header as before.
    expect(await apiHost(trusting, {})).toBe(new URL(trusting.url).host);
  });

  it('X-Forwarded-Host is ignored when the setting is off, and from a peer that is not a trusted proxy', async () => {
    expect(await apiHost(off, forwarded)).toBe(new URL(off.url).host);
    const untrusted = await apiHost(trusting, forwarded, '127.0.0.2');
    expect(untrusted).toBe(new URL(trusting.url).host);
  });

  it("the console's curl is addressed to the host the browser called through a trusted proxy, and to Host otherwise", async () => {
    expect(await curlOrigin(trusting, forwarded)).toBe('http://leads.example.test');
    expect(await curlOrigin(off, forwarded)).toBe(`http://${new URL(off.url).host}`);
  });
});
