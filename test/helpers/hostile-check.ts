/**
 * Sends one hostile request and judges the answer the way a LeadSquared client would: an allowed
 * status, the error envelope with a type that fits the status, never the generic system error,
 * never a stack trace, and (read from the database itself) no change unless the request succeeded.
 * Async accepts are followed until the worker has finished them: a refused body may add only its
 * own request row, and the worker must fail it with an MX type, not crash and retry.
 */
import { expect } from 'vitest';
import { changedTables, type DbReader, type Snapshot } from './db-snapshot.js';
import type { HostileRequest } from './hostile.js';
import { KEYS, type TestServer } from './server.js';

export interface RouteLike {
  method: string;
  path: string;
  auth: string;
}

const ALLOWED = new Set([200, 400, 401, 403, 404, 405, 413, 415, 429, 431, 500]);
/** The MX types each transport status may carry; 500 is for application errors only. */
const TYPES_BY_STATUS: Record<number, string[]> = {
  400: ['MXInvalidJsonException', 'MXInvalidInputException'],
  401: ['MXUnAuthorizedAccessException'],
  404: ['MXAPINotFoundException', 'MXInvalidEntityException'],
  405: ['MXMethodNotAllowedException'],
  413: ['MXRequestTooLargeException'],
  415: ['MXUnsupportedMediaTypeException'],
  429: ['MXAPIRateLimitExceededException'],
  431: ['MXRequestTooLargeException'],
};
const TRANSPORT_TYPES = new Set(Object.values(TYPES_BY_STATUS).flat().filter((t) => t !== 'MXInvalidInputException' && t !== 'MXInvalidEntityException'));
const STACK = /\n\s+at |\bat [\w$.<>]+ \(|node:internal|node_modules|file:\/\/|\/src\/[\w/-]+\.[jt]s|\.[jt]s:\d+:\d+/;
const FINAL = new Set(['succeeded', 'failed', 'errored']);

export interface Judge {
  /**
   * Sends `req` for `route`, asserts everything, and returns the status. With `defer`, an accepted
   * async request is not followed here: `settle()` checks all of them at once.
   */
  check(route: RouteLike, req: HostileRequest, opts?: { defer?: boolean }): Promise<number>;
  /** Waits for deferred async requests and checks them and the database together. */
  settle(): Promise<void>;
  /** Takes the database as it is now as the starting point (after the test itself changed it, e.g. cleared fault rules). */
  forget(): Promise<void>;
  sent: number;
  /** The answer to the last request `check` sent: its status and its body as text. */
  last: { status: number; text: string } | null;
}

function summary(req: HostileRequest): string {
  const body = req.body === null ? 'no body' : typeof req.body.bytes === 'string' ? req.body.bytes.slice(0, 300) : `${req.body.label} (${req.body.bytes.length} bytes)`;
  return `${req.method} ${req.path}?${req.query.join('&').slice(0, 300)} auth=${req.auth} ct=${req.body?.contentType ?? '-'} body=${body}`;
}

async function send(s: TestServer, route: RouteLike, req: HostileRequest): Promise<{ status: number; text: string; body: any; contentType: string | null }> {
  const query = [...req.query];
  const headers: Record<string, string> = {};
  const isAsync = route.auth.startsWith('async');
  if (isAsync && req.auth !== 'none' && req.auth !== 'no-api-key') headers['x-api-key'] = req.auth === 'wrong-api-key' ? "' OR 1=1 --" : KEYS.apiKey;
  if (req.auth === 'query' || req.auth === 'no-api-key' || req.auth === 'wrong-api-key') query.push(`accessKey=${KEYS.accessKey}`, `secretKey=${KEYS.secretKey}`);
  if (req.auth === 'headers') Object.assign(headers, { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey });
  if (req.auth === 'wrong') query.push(`accessKey=${KEYS.accessKey}`, 'secretKey=wrong');
  if (req.auth === 'hostile') query.push('accessKey=%27%3B%20DROP%20TABLE%20credentials%3B--%00', 'secretKey=%00%ED%A0%80');
  const withBody = req.body !== null && req.method !== 'GET' && req.method !== 'HEAD';
  if (withBody && req.body!.contentType !== undefined && req.body!.contentType !== '') headers['content-type'] = req.body!.contentType;
  const res = await fetch(`${s.url}${req.path}${query.length ? `?${query.join('&')}` : ''}`, {
    method: req.method,
    headers,
    body: withBody ? (typeof req.body!.bytes === 'string' ? req.body!.bytes : new Blob([Uint8Array.from(req.body!.bytes)])) : undefined,
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body, contentType: res.headers.get('content-type') };
}

export async function makeJudge(s: TestServer, reader: DbReader, accountId: string): Promise<Judge> {
  let version = await reader.version();
  let last = await reader.snapshot();
  let dirty = false;
  const pending: { id: string; what: string }[] = [];

  /** What changed since the last look; reads the tables only when something may have been written. */
  async function changes(): Promise<ReturnType<typeof changedTables>> {
    const v = await reader.version();
    if (v === version) return {};
    version = v;
    const now = await reader.snapshot();
    const changed = changedTables(last, now);
    last = now;
    return changed;
  }

  const judge: Judge = {
    sent: 0,
    last: null,
    async forget() {
      await changes();
    },
    async check(route, req, opts = {}) {
      if (dirty) {
        // The previous check failed half-way: let the worker settle and start from what is there now.
        await s.worker?.idle();
        await changes();
      }
      dirty = true;
      const r = await send(s, route, req);
      judge.sent++;
      judge.last = { status: r.status, text: r.text };
      const what = `${summary(req)}\n=> ${r.status} ${r.text.slice(0, 600)}`;
      expect(ALLOWED.has(r.status), what).toBe(true);
      expect(r.contentType ?? '', what).toMatch(/^application\/json/);
      expect(STACK.test(r.text), `stack trace or source path in the answer: ${what}`).toBe(false);
      if (r.status === 403) {
        expect(route.auth.startsWith('async'), what).toBe(true);
        expect(r.body, what).toEqual({ message: 'Forbidden' });
      } else if (r.status !== 200) {
        expect(r.body, what).toMatchObject({ Status: 'Error', ExceptionType: expect.stringMatching(/^MX[A-Za-z]+Exception$/), ExceptionMessage: expect.any(String) });
        expect(r.body.ExceptionType, `a generic system error means a crash on client input: ${what}`).not.toBe('MXSystemException');
        if (r.status === 500) expect(TRANSPORT_TYPES.has(r.body.ExceptionType), what).toBe(false);
        else expect(TYPES_BY_STATUS[r.status], what).toContain(r.body.ExceptionType);
        expect(r.body.ExceptionMessage.length, `an error message should not echo a huge input: ${what.slice(0, 800)}`).toBeLessThan(2_000);
      } else {
        expect(r.body, what).toBeDefined();
        expect(r.body?.Status, what).not.toBe('Error');
        for (const row of r.body?.Response ?? []) expect(row.ExceptionType, what).not.toBe('MXSystemException');
      }

      const accepted = r.status === 200 && route.auth === 'async-submit' && req.method === route.method;
      if (accepted) expect(r.body, what).toMatchObject({ RequestID: expect.any(String) });
      if (accepted && opts.defer) pending.push({ id: r.body.RequestID, what });
      if (pending.length > 0) {
        // The worker is busy with deferred requests: the database is checked in settle().
        dirty = false;
        return r.status;
      }
      const outcome = accepted ? await finished(s, accountId, r.body.RequestID, what) : null;
      const changed = await changes();
      // Lead/Delete/ById deletes on a GET too (LeadSquared's method): its success may only remove rows.
      const deletes = /\/delete\/byid$/i.test(route.path);
      const readOnly = !deletes && (req.method === 'GET' || route.method === 'GET' || /\/retrieve$/i.test(route.path));
      const allRowsRefused = Array.isArray(r.body?.Response) && r.body.Response.every((x: any) => x.ActivityCreated === false);
      if (deletes && r.status === 200) {
        expect(Object.values(changed).every((c) => c.added === 0), `a delete added rows: ${what}`).toBe(true);
      } else if (r.status !== 200 || readOnly || allRowsRefused) {
        expect(changed, `a refused or read-only request changed the database: ${what}`).toEqual({});
      } else if (accepted && outcome !== 'succeeded') {
        expect(changed, `only the request row may be added for a body the worker refused: ${what}`).toEqual({ async_requests: { added: 1, removed: 0 } });
      }
      dirty = false;
      return r.status;
    },

    async settle() {
      const batch = pending.splice(0);
      const outcomes = [];
      for (const p of batch) outcomes.push(await finished(s, accountId, p.id, p.what));
      const changed = await changes();
      const succeeded = outcomes.filter((o) => o === 'succeeded').length;
      if (batch.length === 0) expect(changed, 'refused requests changed the database').toEqual({});
      else if (succeeded === 0) expect(changed, 'only request rows may be added when the worker refused every body').toEqual({ async_requests: { added: batch.length, removed: 0 } });
      else expect(changed.activities?.added ?? 0, 'at most one activity per request that succeeded').toBeLessThanOrEqual(succeeded);
    },
  };
  return judge;
}

/** Waits for the worker to finish an accepted request; a system-error retry is a crash on client input. */
export async function finished(s: TestServer, accountId: string, id: string, what: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await s.services.store.requests.get(accountId, id);
    expect(r, `accepted request not stored: ${what}`).not.toBeNull();
    expect(r!.attempts, `the worker crashed on this body (${r!.lastError}): ${what}`).toBe(0);
    if (FINAL.has(r!.status)) {
      expect(r!.status, what).not.toBe('errored');
      if (r!.status === 'failed') expect(r!.statusReason ?? '', what).toMatch(/^MX[A-Za-z]+Exception: /);
      return r!.status;
    }
    if (Date.now() > deadline) throw new Error(`the worker did not finish request ${id} in 10 s: ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}
