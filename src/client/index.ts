/**
 * `leadtrail/client`: a typed client of the Lead & Activity API, for leadtrail and for LeadSquared
 * itself (only the base URLs differ). Its types are generated from openapi/leadtrail.json
 * (src/client/openapi.ts, openapi-typescript); requests go through openapi-fetch.
 *
 *   const lsq = createClient({ baseUrl, accessKey, secretKey, apiKey });
 *   const [lead] = await lsq.leadsGetById({ query: { id } });
 *   const done = await lsq.waitFor.asyncLeadCapture({ body: [...] }, { timeoutMs: 30_000 });
 *
 * Every non-2xx answer throws LeadSquaredError carrying the envelope's ExceptionType. Every method
 * takes `{ signal, timeoutMs }` as a second argument: `lsq.activityTypesGet(undefined, { timeoutMs: 5000 })`.
 */
import createFetchClient from 'openapi-fetch';
import type { operations } from './openapi.js';
import { OPERATIONS } from './operations.js';

export type { operations, paths, components } from './openapi.js';

export interface ClientOptions {
  /** The sync API's base URL: leadtrail's URL, or LeadSquared's API host (e.g. https://api-in21.leadsquared.com). */
  baseUrl: string;
  /** The async API's base URL (LeadSquared's async host, e.g. https://asyncapi-in21.leadsquared.com); leadtrail serves both on baseUrl, the default. */
  asyncBaseUrl?: string;
  accessKey: string;
  secretKey: string;
  /** The async API's x-api-key (needed only for the async operations). */
  apiKey?: string;
  /** A fetch of your own (proxies, tests); the global fetch by default. */
  fetch?: typeof fetch;
  /**
   * Give up on any one call after this long (ms; default: no limit): it rejects with LeadSquaredError
   * `Timeout` (status 0). A call's own `timeoutMs` wins over it.
   */
  timeoutMs?: number;
}

/** Per call, as the second argument of every method: `lsq.leadsGetById({ query }, { signal })`. */
export interface CallOptions {
  /** Abort the call: it rejects with the signal's reason (an `AbortError` DOMException by default). */
  signal?: AbortSignal;
  /** Give up after this long (ms): rejects with LeadSquaredError `Timeout` (status 0). */
  timeoutMs?: number;
}

/** An answer other than 2xx: LeadSquared's `{"Status":"Error","ExceptionType","ExceptionMessage"}`, or a failed async request. */
export class LeadSquaredError extends Error {
  override readonly name = 'LeadSquaredError';
  constructor(
    /** The envelope's ExceptionType, e.g. MXInvalidInputException (`Forbidden` for the async gateway's 403). */
    readonly exceptionType: string,
    message: string,
    /** The HTTP status (0 for an async request that ended FAILURE or ERROR). */
    readonly status: number,
    /** The answer's body as received. */
    readonly body: unknown,
    /**
     * The answer's headers (`Retry-After` of a 429 or 503, say); null when there was no HTTP answer
     * to tell it (an async request that ended FAILURE or ERROR, a Timeout).
     */
    readonly headers: Headers | null = null,
  ) {
    super(message);
  }
}

type OpName = keyof typeof OPERATIONS & keyof operations;
type Op<K extends OpName> = operations[K];

type QueryArg<O> = O extends { parameters: { query: infer Q } } ? { query: Q } : O extends { parameters: { query?: infer Q } } ? { query?: Q } : { query?: never };
type BodyArg<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? { body: B }
  : O extends { requestBody?: { content: { 'application/json': infer B } } }
    ? { body?: B }
    : { body?: never };
type PathArg<O> = O extends { parameters: { path: infer P } } ? { path: P } : { path?: never };
/** What a call takes: `query`, `path` (its path parameters) and `body` as the operation declares them. */
export type Args<K extends OpName> = QueryArg<Op<K>> & PathArg<Op<K>> & BodyArg<Op<K>>;
/** What a call answers on success (HTTP 200). */
export type Answer<K extends OpName> = Op<K> extends { responses: { 200: { content: infer C } } } ? C[keyof C] : never;

type RequiredKeys<T> = { [P in keyof T]-?: undefined extends T[P] ? never : P }[keyof T];
type Method<K extends OpName> = RequiredKeys<Args<K>> extends never
  ? (args?: Args<K>, opts?: CallOptions) => Promise<Answer<K>>
  : (args: Args<K>, opts?: CallOptions) => Promise<Answer<K>>;

/** The async submits and the status path each one is polled on. */
const ASYNC_STATUS = {
  asyncActivityCreate: 'asyncActivityCreateStatus',
  asyncActivityCreateCustom: 'asyncActivityCreateCustomStatus',
  asyncLeadCapture: 'asyncLeadStatus',
  asyncLeadUpdate: 'asyncLeadUpdateStatus',
} as const;
type AsyncSubmit = keyof typeof ASYNC_STATUS;
/** The sync operation that each async submit runs, whose answer a Success status carries (its `Message`). */
type SyncOf = { asyncActivityCreate: 'activityCreate'; asyncActivityCreateCustom: 'activityCreateCustom'; asyncLeadCapture: 'leadCapture'; asyncLeadUpdate: 'leadUpdate' };

export interface WaitOptions {
  /**
   * Give up after this long (ms; default 30 000), counted from the call: the submit, every status
   * call and the pauses between all fall within it. LeadSquaredError `Timeout`, whose `body` is the
   * last status answered (null when none was).
   */
  timeoutMs?: number;
  /** Between status polls (ms; default 250). */
  pollMs?: number;
  /** Stop waiting (the submit, a status poll or the pause between): rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A finished async request: its id and the sync answer its status carries. `K`: the submit, whose
 * sync operation's answer `message` is (`waitFor.asyncLeadCapture` resolves `message` as
 * `leadCapture` answers: `message.Message.Id`).
 */
export interface Settled<K extends AsyncSubmit = AsyncSubmit> {
  requestId: string;
  /** The sync endpoint's answer (the status's Message, parsed). */
  message: Answer<SyncOf[K]>;
  status: Answer<'asyncLeadStatus'>;
}

export type Client = { [K in OpName]: Method<K> } & {
  /** Submit to the async API, then poll the status until Success (resolves) or FAILURE/ERROR (throws LeadSquaredError). */
  waitFor: { [K in AsyncSubmit]: (args: Args<K>, opts?: WaitOptions) => Promise<Settled<K>> };
};

const FINAL_FAILURES = new Set(['FAILURE', 'ERROR']);

/** A signal that aborts when either does, with its reason (AbortSignal.any, which Node has from 20.3). */
function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const both = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener('abort', () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

export function createClient(options: ClientOptions): Client {
  // Called before startLeadtrail() resolved (or with a config value left unset), baseUrl is
  // undefined, which failed as "Cannot read properties of undefined (reading 'replace')".
  if (typeof options?.baseUrl !== 'string' || options.baseUrl === '') {
    throw new TypeError(`createClient: baseUrl must be the server's URL, e.g. http://127.0.0.1:8080 or startLeadtrail()'s baseUrl once it has resolved; got ${options?.baseUrl === '' ? 'an empty string' : String(options?.baseUrl)}`);
  }
  const f = options.fetch ?? globalThis.fetch;
  const sync = createFetchClient<Record<string, never>>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), fetch: f });
  const async = createFetchClient<Record<string, never>>({ baseUrl: (options.asyncBaseUrl ?? options.baseUrl).replace(/\/+$/, ''), fetch: f });

  const call = async (
    name: OpName,
    args: { query?: Record<string, unknown>; path?: Record<string, unknown>; body?: unknown } = {},
    opts: CallOptions = {},
  ): Promise<unknown> => {
    const op = OPERATIONS[name];
    const client = op.host === 'async' ? async : sync;
    const keyed = op.path.startsWith('/health') || op.path === '/metrics' || op.path === '/openapi.json' ? {} : { accessKey: options.accessKey, secretKey: options.secretKey };
    const headers: Record<string, string> = op.host === 'async' && options.apiKey ? { 'x-api-key': options.apiKey } : {};
    const timeoutMs = opts.timeoutMs ?? options.timeoutMs;
    const timer = timeoutMs === undefined ? null : AbortSignal.timeout(timeoutMs);
    const signal = timer && opts.signal ? eitherSignal(opts.signal, timer) : (timer ?? opts.signal);
    const init = {
      params: { query: { ...args.query, ...keyed }, ...(args.path ? { path: args.path } : {}) },
      headers,
      parseAs: op.path === '/metrics' ? 'text' : 'json',
      ...(args.body !== undefined ? { body: args.body } : {}),
      ...(signal ? { signal } : {}),
    };
    let answered: { data?: unknown; error?: unknown; response: Response };
    try {
      answered = await (client.request as (m: string, p: string, i: unknown) => Promise<typeof answered>)(op.method, op.path, init);
    } catch (err) {
      // Our own limit, not the caller's signal: the same LeadSquaredError as waitFor's Timeout.
      if (timer?.aborted && !opts.signal?.aborted) throw new LeadSquaredError('Timeout', `${op.method} ${op.path} had no answer after ${timeoutMs} ms`, 0, null);
      throw err;
    }
    const { data, error, response } = answered;
    if (response.ok) return data;
    const e = (error ?? {}) as { ExceptionType?: string; ExceptionMessage?: string; message?: string };
    throw new LeadSquaredError(
      e.ExceptionType ?? (response.status === 403 ? 'Forbidden' : `HTTP${response.status}`),
      e.ExceptionMessage ?? e.message ?? response.statusText,
      response.status,
      error,
      response.headers,
    );
  };

  /** Resolves after ms, or rejects with the signal's reason once it aborts. */
  const pause = (ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const waitFor = async (name: AsyncSubmit, args: Args<AsyncSubmit>, opts: WaitOptions = {}): Promise<Settled> => {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const pollMs = opts.pollMs ?? 250;
    // One deadline over the whole wait, the submit and every status call included: checked only
    // between polls, a status call the server was slow to answer ran past it (a forced 6 s latency
    // against timeoutMs 1000 resolved after 6 s), and one to a server that never answered never
    // settled (a fresh-eyes run).
    const until = Date.now() + timeoutMs;
    // AbortSignal.timeout takes whole ms up to 2^32-1 and fires at once past 2^31-1: a longer or
    // infinite wait (Infinity meant "no limit") arms none (a review).
    const deadline = Number.isFinite(timeoutMs) && timeoutMs <= 2 ** 31 - 1 ? AbortSignal.timeout(Math.max(0, Math.ceil(timeoutMs))) : new AbortController().signal;
    const signal = opts.signal ? eitherSignal(opts.signal, deadline) : deadline;
    let requestId: string | null = null;
    let last: Settled['status'] | null = null;
    try {
      const accepted = (await call(name, args as never, { signal })) as { RequestID: string };
      requestId = accepted.RequestID;
      for (;;) {
        const status = (await call(ASYNC_STATUS[name], { query: { RequestID: accepted.RequestID } }, { signal })) as Settled['status'];
        last = status;
        const t = status.TaskStatus;
        if (t.Status === 'Success') {
          // A Success carries the sync answer (never null: the status schema's Message).
          return { requestId: accepted.RequestID, message: JSON.parse(t.Message ?? 'null') as Settled['message'], status };
        }
        if (FINAL_FAILURES.has(t.Status)) {
          // leadtrail and LeadSquared write a failure's reason as "<ExceptionType>: <message>".
          const m = /^(MX\w+): ([\s\S]*)$/.exec(t.StatusReason ?? '');
          throw new LeadSquaredError(m ? m[1] : t.Status, m ? m[2] : (t.StatusReason ?? t.Status), 0, status);
        }
        if (Date.now() + pollMs > until) throw timedOut(requestId, last, timeoutMs);
        await pause(pollMs, signal);
      }
    } catch (err) {
      // The deadline, not the caller's signal: LeadSquaredError Timeout, as when it passes between polls.
      if (deadline.aborted && !opts.signal?.aborted && !(err instanceof LeadSquaredError)) throw timedOut(requestId, last, timeoutMs);
      throw err;
    }
  };

  /** waitFor's Timeout: the request still waiting (its last status), or the submit not answered. */
  const timedOut = (requestId: string | null, last: Settled['status'] | null, timeoutMs: number) =>
    new LeadSquaredError(
      'Timeout',
      requestId === null ? `The submit had no answer within ${timeoutMs} ms` : `Request ${requestId} was still ${last?.TaskStatus.Status ?? 'unanswered'} after ${timeoutMs} ms`,
      0,
      last,
    );

  const client = {} as Record<string, unknown>;
  for (const name of Object.keys(OPERATIONS) as OpName[]) client[name] = (args?: never, opts?: CallOptions) => call(name, args, opts);
  client.waitFor = Object.fromEntries((Object.keys(ASYNC_STATUS) as AsyncSubmit[]).map((n) => [n, (args: never, opts?: WaitOptions) => waitFor(n, args, opts)]));
  return client as Client;
}
