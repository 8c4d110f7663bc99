/** Shared steps of the async tests: calls with the x-api-key, polling a status, activity types. */
import { expect } from 'vitest';
import type { AsyncRequest } from '../../src/domain/types.js';
import { KEYS, request, type CallInit, type CallResult, type TestServer } from '../helpers/server.js';

export const API_KEY_HEADER = { 'x-api-key': KEYS.apiKey };

/** An async-host call with the default account's x-api-key (and access/secret keys unless noAuth). */
export function asyncCall(base: string, method: string, path: string, body?: unknown, init: CallInit = {}): Promise<CallResult> {
  return request(base, method, path, body, { ...init, headers: { ...API_KEY_HEADER, ...init.headers } });
}

/** Accepts one async request and returns its RequestID (asserting the accepted answer). */
export async function accept(base: string, path: string, body: unknown, init: CallInit = {}): Promise<string> {
  const r = await asyncCall(base, 'POST', path, body, init);
  expect(r.status, r.text).toBe(200);
  expect(r.body.Status).toBe('Request accepted. Please use below request id to check the status');
  return r.body.RequestID as string;
}

export async function statusOf(base: string, id: string, path = '/activity/status'): Promise<CallResult> {
  return asyncCall(base, 'GET', `${path}?RequestID=${encodeURIComponent(id)}`, undefined, { noAuth: true });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds (or fails the test after `timeoutMs`). */
export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting; last value: ${JSON.stringify(v).slice(0, 500)}`);
    await sleep(everyMs);
  }
}

/** Waits until the request's wire status is one of `wanted` and returns the status body. */
export async function settled(base: string, id: string, wanted = ['Success', 'FAILURE', 'ERROR'], path = '/activity/status', timeoutMs = 15_000) {
  const r = await waitFor(
    () => statusOf(base, id, path),
    (r) => r.status === 200 && wanted.includes(r.body.TaskStatus.Status),
    timeoutMs,
  );
  return r.body;
}

export async function createType(s: TestServer, name: string): Promise<number> {
  const t = await s.call('POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: name, Score: 1 });
  expect(t.status, t.text).toBe(200);
  return t.body.Message.Id as number;
}

export async function accountIdOf(s: TestServer): Promise<string> {
  const [a] = await s.services.store.accounts.list();
  return a.id;
}

/** The stored request, read through the store (the test's view of what is on disk). */
export async function stored(s: TestServer, id: string): Promise<AsyncRequest | null> {
  return s.services.store.requests.get(await accountIdOf(s), id);
}

export async function countRequests(s: TestServer): Promise<number> {
  const c = await s.services.store.requests.countByStatus(null);
  return Object.values(c).reduce((a, b) => a + b, 0);
}
