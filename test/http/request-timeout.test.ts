/**
 * Slow and stalled request bodies (issue 10, item 8). Keys are checked before any body is read, so a
 * caller without keys is answered at once and its body is never parsed or kept (the rest of it is
 * read and dropped, within drain.ts's caps, so that the client reads its answer); a caller with keys has
 * LEADTRAIL_REQUEST_TIMEOUT_MS to send the whole request, then gets a 408 envelope and is closed.
 * Raw sockets, because an HTTP client library would not let a body stall halfway.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAIN_MS } from '../../src/http/drain.js';
import { KEYS, startServer, type TestServer } from '../helpers/server.js';

const CREATE = '/v2/ProspectActivity.svc/Create';
const TIMEOUT_MS = 600;

interface RawAnswer {
  status: number;
  headers: string;
  body: any;
  /** Milliseconds from the first byte sent to the first byte of the answer (-1: none). */
  answeredAfterMs: number;
  /** Milliseconds from the first byte sent to the server closing the connection. */
  closedAfterMs: number;
}

/**
 * Sends a request head announcing `contentLength` bytes and then only `partialBody`; resolves when
 * the server closes the connection, with whatever it answered.
 */
function stalled(base: string, path: string, partialBody: string, contentLength = 1000, extraHeaders = ''): { socket: net.Socket; answer: Promise<RawAnswer> } {
  const { hostname, port } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  const t0 = Date.now();
  let text = '';
  let answeredAfterMs = -1;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
    if (answeredAfterMs < 0) answeredAfterMs = Date.now() - t0;
  });
  socket.on('error', () => {}); // a reset after the answer is a close too
  const answer = new Promise<RawAnswer>((resolve) => {
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head.toLowerCase(), body: parsed, answeredAfterMs, closedAfterMs: Date.now() - t0 });
    });
  });
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${extraHeaders}\r\n${partialBody}`);
  return { socket, answer };
}

const keyQuery = `?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;

describe('request bodies that stop arriving', () => {
  let s: TestServer;
  let patient: TestServer;
  beforeAll(async () => {
    s = await startServer({ LEADTRAIL_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
    // The default timeout (30 s): anything answered quickly here was not answered by the timeout.
    patient = await startServer();
  });
  afterAll(async () => {
    await s?.close();
    await patient?.close();
  });

  it(`without keys, a request whose body never arrives is answered 401 at once, and closed ${DRAIN_MS / 1000} s after`, { timeout: 15_000 }, async () => {
    const { answer } = stalled(patient.url, CREATE, '{"ActivityEvent":');
    const a = await answer;
    expect(a.status).toBe(401);
    expect(a.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException' });
    expect(a.headers).toContain('connection: close');
    expect(a.answeredAfterMs).toBeLessThan(1_000);
    // Waiting for the rest of the body (drain.ts), up to its cap: not until the 30 s request timeout.
    expect(a.closedAfterMs).toBeGreaterThanOrEqual(DRAIN_MS - 100);
    expect(a.closedAfterMs).toBeLessThan(DRAIN_MS + 3_000);
  });

  it('with wrong keys too, on sync and async routes alike, whatever the body size', async () => {
    const wrong = '?accessKey=nope&secretKey=nope';
    const sync = stalled(patient.url, `/v2/LeadManagement.svc/Lead.Capture${wrong}`, '{');
    const asyncNoApiKey = stalled(patient.url, `/activity/create${wrong}`, '{');
    // Even a body announced as far over the limit: the keys are refused before its size matters.
    const huge = stalled(patient.url, `${CREATE}${wrong}`, '{', 50 * 1024 * 1024);
    expect((await sync.answer).status).toBe(401);
    expect((await huge.answer).status).toBe(401);
    const a = await asyncNoApiKey.answer;
    expect(a.status).toBe(403);
    expect(a.body).toEqual({ message: 'Forbidden' });
  });

  it('with valid keys, a stalled body gets the 408 envelope after the configured timeout, and the socket is closed', async () => {
    const { answer } = stalled(s.url, `${CREATE}${keyQuery}`, '{"ActivityEvent":');
    const a = await answer;
    expect(a.status).toBe(408);
    expect(a.body).toEqual({ Status: 'Error', ExceptionType: 'MXInvalidInputException', ExceptionMessage: 'The request was not received in time.' });
    expect(a.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(a.closedAfterMs).toBeLessThan(TIMEOUT_MS + 3_000);
    // Counted once, as the 408 it was: not also as a call whose client left (499).
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/leadtrail_http_requests_total\{[^}]*status="408"[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/status="499"/);
  });

  it('the timeout covers the whole body: one that trickles in past it is cut off too', async () => {
    const { socket, answer } = stalled(s.url, `${CREATE}${keyQuery}`, '{', 1000);
    const drip = setInterval(() => socket.writable && socket.write(' '), TIMEOUT_MS / 6);
    try {
      const a = await answer;
      expect(a.status).toBe(408);
      expect(a.closedAfterMs).toBeLessThan(TIMEOUT_MS + 3_000);
    } finally {
      clearInterval(drip);
    }
  });

  it('many stalled connections do not pile up past the timeout, and the server keeps serving', async () => {
    const withKeys = Array.from({ length: 40 }, () => stalled(s.url, `${CREATE}${keyQuery}`, '{"x":', 100_000));
    const withoutKeys = Array.from({ length: 40 }, () => stalled(s.url, CREATE, '{"x":', 100_000));
    // While they hang, a normal call is still served.
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get')).status).toBe(200);
    const answers = await Promise.all([...withKeys, ...withoutKeys].map((c) => c.answer));
    for (const a of answers.slice(0, 40)) {
      expect(a.status).toBe(408);
      expect(a.closedAfterMs).toBeLessThan(TIMEOUT_MS + 3_000);
    }
    for (const a of answers.slice(40)) expect(a.status).toBe(401);
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get')).status).toBe(200);
  });

  it('a request that arrives in time is unaffected', async () => {
    const body = JSON.stringify([{ Attribute: 'FirstName', Value: 'Ada' }, { Attribute: 'EmailAddress', Value: 'ada@example.com' }]);
    const ok = await s.call('POST', '/v2/LeadManagement.svc/Lead.Capture', undefined, { raw: body });
    expect(ok.status, ok.text).toBe(200);
    // Keys first: a malformed body with wrong keys is a 401 (it was a 400 when the body was read first).
    const refused = await s.call('POST', CREATE, undefined, { raw: '{not json', keys: { accessKey: 'nope', secretKey: 'nope' } });
    expect(refused.status).toBe(401);
    expect(refused.body.ExceptionType).toBe('MXUnAuthorizedAccessException');
  });
});
