/**
 * `leadtrail/client` against a running leadtrail: every operation of the document called once
 * through its typed method (the test fails naming any operation it did not call), a flag in every
 * spelling the server reads, an async submit-and-wait, and errors as LeadSquaredError with the
 * envelope's ExceptionType.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { LeadSquaredError, createClient, type Client } from '../../src/client/index.js';
import { OPERATIONS } from '../../src/client/operations.js';
import { KEYS, started } from '../helpers/server.js';
import { callEveryEndpoint } from './every-endpoint.js';
import { FLAG_SPELLINGS } from './flag-spellings.js';

const stamp = Date.now();

describe('leadtrail/client', () => {
  it('calls every endpoint through its typed method', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_SANDBOX: 'true' });
    const called = new Set<string>();
    const recording: typeof fetch = async (input, init) => {
      const req = input instanceof Request ? input : new Request(input, init);
      called.add(`${req.method} ${new URL(req.url).pathname}`);
      return fetch(req);
    };
    const lsq: Client = createClient({ baseUrl: s.url, ...KEYS, fetch: recording });
    await callEveryEndpoint(lsq);

    // A path parameter ({id}) matches any one segment.
    const pattern = (o: { method: string; path: string }) => new RegExp(`^${o.method} ${o.path.replace(/\./g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`);
    const missed = Object.values(OPERATIONS)
      .filter((o) => ![...called].some((c) => pattern(o).test(c)))
      .map((o) => `${o.method} ${o.path}`);
    expect(missed, 'operations the client test never called').toEqual([]);
  }, 120_000);

  it('sends NotifyOnFailure in every spelling the server reads, 0 and null too, and the server stores what each means', async () => {
    const s = await started();
    const lsq = createClient({ baseUrl: s.url, ...KEYS });
    const create = async (NotifyOnFailure: (typeof FLAG_SPELLINGS)[number]) =>
      (await lsq.webhookCreate({ body: { URL: 'http://127.0.0.1:9/flags', WebhookEvent: 6, NotifyOnFailure } })).Message.Id;
    const stored = async (id: string) => (await lsq.webhookRetrieve({ body: { Parameter: { WebhookId: id } } })).Response.map((w) => w.NotifyOnFailure);

    const created: [unknown, boolean[]][] = [];
    for (const flag of FLAG_SPELLINGS) created.push([flag, await stored(await create(flag))]);
    expect(created).toEqual([
      [true, [true]], ['true', [true]], ['True', [true]], [1, [true]], ['1', [true]],
      [false, [false]], ['false', [false]], ['False', [false]], [0, [false]], ['0', [false]], ['', [false]],
      [null, [false]],
    ]);

    // On Update, 0 clears the flag and null leaves it as it was.
    const id = await create(1);
    await lsq.webhookUpdate({ body: { WebhookId: id, NotifyOnFailure: null } });
    expect(await stored(id)).toEqual([true]);
    await lsq.webhookUpdate({ body: { WebhookId: id, NotifyOnFailure: 0 } });
    expect(await stored(id)).toEqual([false]);
    await lsq.webhookUpdate({ body: { WebhookId: id, NotifyOnFailure: null } });
    expect(await stored(id)).toEqual([false]);
  });

  it('answers errors as LeadSquaredError carrying ExceptionType and status', async () => {
    const s = await started();
    const lsq = createClient({ baseUrl: s.url, ...KEYS });
    const missing = await lsq.leadsGetById({ query: { id: '' } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LeadSquaredError);
    expect(missing).toMatchObject({ exceptionType: 'MXMandatoryAttributeMissingException', status: 500, message: "'id' query parameter is mandatory" });

    const wrongKeys = await createClient({ baseUrl: s.url, accessKey: 'nope', secretKey: 'nope' }).activityTypesGet().catch((e: unknown) => e);
    expect(wrongKeys).toMatchObject({ exceptionType: 'MXUnAuthorizedAccessException', status: 401 });

    const noApiKey = await createClient({ baseUrl: s.url, accessKey: KEYS.accessKey, secretKey: KEYS.secretKey }).asyncLeadCapture({ body: [] }).catch((e: unknown) => e);
    expect(noApiKey).toMatchObject({ exceptionType: 'Forbidden', status: 403 });
  });

  it('waitFor gives up after its timeout with LeadSquaredError Timeout', async () => {
    // No worker in this process: the request stays In-Queue.
    const s = await started({ LEADTRAIL_ROLE: 'api' });
    const lsq = createClient({ baseUrl: s.url, ...KEYS });
    const e = await lsq.waitFor.asyncLeadCapture({ body: [{ Attribute: 'EmailAddress', Value: `late-${stamp}@example.com` }] }, { timeoutMs: 300, pollMs: 50 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ exceptionType: 'Timeout', status: 0 });
  });

  it('waitFor keeps to its timeoutMs while a call waits for its answer: a slow status, a slow submit, a server that never answers', async () => {
    // Checked only between polls, the deadline let a status call the server was slow to answer run
    // past it (timeoutMs 1000 resolved after a 6 s latency), and a server that never answered left
    // waitFor pending for good (a fresh-eyes run).
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const lsq = createClient({ baseUrl: s.url, ...KEYS });
    const body = (n: string) => [{ Attribute: 'EmailAddress', Value: `${n}-${stamp}@example.com` }];
    await lsq.faultAdd({ body: { path: '/lead/status', latencyMs: 5000, times: 1 } });
    const slowStatus = await lsq.waitFor.asyncLeadCapture({ body: body('slow-status') }, { timeoutMs: 500, pollMs: 20 }).catch((e: unknown) => e);
    expect(slowStatus).toBeInstanceOf(LeadSquaredError);
    expect(slowStatus).toMatchObject({ exceptionType: 'Timeout', status: 0, body: null });
    expect((slowStatus as Error).message).toMatch(/^Request [0-9a-f-]{36} was still unanswered after 500 ms$/);
    await lsq.faultsClear();
    await lsq.faultAdd({ body: { path: '/lead/capture', latencyMs: 5000, times: 1 } });
    const slowSubmit = await lsq.waitFor.asyncLeadCapture({ body: body('slow-submit') }, { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(slowSubmit).toMatchObject({ exceptionType: 'Timeout', status: 0, message: 'The submit had no answer within 500 ms' });
    await lsq.faultsClear();

    // No limit (Infinity) or one past what a timer holds waits as it did; AbortSignal.timeout
    // refuses Infinity and fires at once past 2^31-1 ms (a review).
    for (const timeoutMs of [Infinity, 2 ** 31 + 5, 1500.5]) {
      const done = await lsq.waitFor.asyncLeadCapture({ body: body(`limit-${String(timeoutMs).replace(/\W/g, '')}`) }, { timeoutMs, pollMs: 20 });
      expect(done.status.TaskStatus.Status, String(timeoutMs)).toBe('Success');
    }

    // A server that takes connections and never answers.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => void held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const nowhere = createClient({ baseUrl: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, ...KEYS });
      const never = await nowhere.waitFor.asyncLeadCapture({ body: body('never') }, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(never).toMatchObject({ exceptionType: 'Timeout', status: 0 });
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it("carries the answer's headers (a forced 429's Retry-After), and gives up at timeoutMs or a caller's signal", async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true' });
    const lsq = createClient({ baseUrl: s.url, ...KEYS });
    await lsq.faultAdd({ body: { path: '/v2/ProspectActivity.svc/ActivityTypes.Get', status: 429, retryAfter: 7, times: 1 } });
    const limited = await lsq.activityTypesGet().catch((e: unknown) => e);
    expect(limited).toMatchObject({ exceptionType: 'MXAPIRateLimitExceededException', status: 429 });
    expect((limited as LeadSquaredError).headers?.get('retry-after')).toBe('7');

    // A slow answer (a forced latency of 2 s) against a call's limit of 200 ms, and the client's.
    await lsq.faultAdd({ body: { path: '/v2/ProspectActivity.svc/ActivityTypes.Get', latencyMs: 2000, times: 3 } });
    const late = await lsq.activityTypesGet(undefined, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(LeadSquaredError);
    expect(late).toMatchObject({ exceptionType: 'Timeout', status: 0, headers: null });
    expect((late as Error).message).toBe('GET /v2/ProspectActivity.svc/ActivityTypes.Get had no answer after 200 ms');
    const lateToo = await createClient({ baseUrl: s.url, ...KEYS, timeoutMs: 200 }).activityTypesGet().catch((e: unknown) => e);
    expect(lateToo).toMatchObject({ exceptionType: 'Timeout', status: 0 });

    // The caller's own abort is theirs: its reason, not a Timeout.
    const ac = new AbortController();
    const aborted = lsq.activityTypesGet(undefined, { signal: ac.signal, timeoutMs: 10_000 }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error('test over')), 50);
    expect(await aborted).toMatchObject({ message: 'test over' });
    expect(await aborted).not.toBeInstanceOf(LeadSquaredError);

    // Without a limit the same call waits for its answer.
    await lsq.faultsClear();
    expect(Array.isArray(await lsq.activityTypesGet(undefined, { timeoutMs: 10_000 }))).toBe(true);
  });

  it("waitFor stops polling when the caller's signal aborts", async () => {
    const s = await started({ LEADTRAIL_ROLE: 'api' }); // no worker: the request stays In-Queue
    const ac = new AbortController();
    const polls: string[] = [];
    const counting = createClient({
      baseUrl: s.url,
      ...KEYS,
      fetch: async (input, init) => {
        const req = input instanceof Request ? input : new Request(input, init);
        polls.push(new URL(req.url).pathname);
        return fetch(req);
      },
    });
    const waiting = counting.waitFor.asyncLeadCapture({ body: [{ Attribute: 'EmailAddress', Value: `stopped-${stamp}@example.com` }] }, { timeoutMs: 30_000, pollMs: 20, signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    const e = await waiting;
    expect((e as Error).name).toBe('AbortError');
    const after = polls.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(polls.length, 'polls after the abort').toBe(after);
    expect(after).toBeGreaterThan(2);
  });

  it('made without a baseUrl (before startLeadtrail() resolved), it says what it needs instead of failing inside', () => {
    expect(() => createClient({ baseUrl: undefined as unknown as string, ...KEYS })).toThrow(/^createClient: baseUrl must be the server's URL, .*got undefined$/);
    expect(() => createClient({ baseUrl: '', ...KEYS })).toThrow(/got an empty string$/);
  });
});

