/**
 * How a webhook delivery reaches its receiver: one POST over node:http or node:https, through agents
 * of the worker's own (kept-alive connections, as fetch had). With LEADTRAIL_WEBHOOK_PRIVATE=deny the
 * agents resolve host names themselves and refuse any address in a range `privateRange` names: the
 * check is on the addresses the socket then connects to, so a name that resolves to 127.0.0.1, or
 * one whose DNS answer changes between a check and the connection (DNS rebinding), is refused. A URL
 * whose host is an IP address is checked before any connection (no lookup happens for those).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { aRange, privateRange } from '../domain/webhooks.js';

/** A delivery refused by LEADTRAIL_WEBHOOK_PRIVATE=deny before any byte was sent. */
export class PrivateAddressRefused extends Error {
  constructor(host: string, address: string, range: string) {
    const via = host === address ? `${address} is` : `'${host}' resolves to ${address},`;
    super(`${via} ${aRange(range)} address; LEADTRAIL_WEBHOOK_PRIVATE=deny refuses deliveries to those`);
    this.name = 'PrivateAddressRefused';
  }
}

/**
 * An answer whose status line and headers came but whose body did not end: the receiver closed the
 * connection, the body failed, or `signal` aborted (the timeout) while it was being read. `status`
 * is the answer's HTTP status, `body` what of the body came (as PostResult's), `cause` what cut it
 * off (the signal's reason, or the stream's error). The attempt has failed; its record keeps the
 * status (it had been recorded without one: a fresh-eyes run).
 */
export class IncompleteAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: string | null,
    override readonly cause: unknown,
  ) {
    super(`HTTP ${status} came, but its body did not end`);
    this.name = 'IncompleteAnswer';
  }
}

export interface PostResult {
  status: number;
  /** Up to `maxBytes` of the answer's body as text (NUL bytes replaced), or null when it had none. */
  body: string | null;
}

export interface WebhookTransport {
  /**
   * POSTs `body` to `url` with `headers`. Resolves once the status and the first `maxBytes` of the
   * answer are in (the rest is not read); rejects on a connection or protocol error, with
   * PrivateAddressRefused, or with `signal`'s reason once it aborts (at any point until then);
   * with IncompleteAnswer for any of those after the status came and before the body ended.
   * A kept-alive connection reset or closed before any answer is not an error of the receiver's:
   * the request is sent again once, on a new connection, and that one's outcome is the result.
   */
  post(url: string, init: { headers: Record<string, string>; body: string; signal: AbortSignal; maxBytes: number }): Promise<PostResult>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** dns.lookup, refusing every answer that holds an address privateRange names. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return (callback as (e: Error) => void)(err);
    for (const a of addresses) {
      const range = privateRange(a.address);
      if (range) return (callback as (e: Error) => void)(new PrivateAddressRefused(hostname, a.address, range));
    }
    if (options.all) return (callback as unknown as (e: null, list: dns.LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (!first) return (callback as (e: Error) => void)(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    callback(null, first.address, first.family);
  });
};

/** A transport; `denyPrivate` is LEADTRAIL_WEBHOOK_PRIVATE=deny. */
export function webhookTransport(denyPrivate: boolean): WebhookTransport {
  const lookup = denyPrivate ? guardedLookup : undefined;
  const agents = { 'http:': new http.Agent({ keepAlive: true, lookup }), 'https:': new https.Agent({ keepAlive: true, lookup }) };
  /**
   * One POST. `fresh`: on a new connection of its own (`agent: false`, the guarded lookup kept)
   * rather than one the agent kept alive.
   */
  function send(url: URL, init: Parameters<WebhookTransport['post']>[1], fresh: boolean): Promise<PostResult> {
    return new Promise<PostResult>((resolve, reject) => {
      const protocol = url.protocol as 'http:' | 'https:';
      if (init.signal.aborted) return reject(init.signal.reason);
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        init.signal.removeEventListener('abort', onAbort);
        fn();
      };
      const req = (protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        ...(fresh ? { agent: false, lookup } : { agent: agents[protocol] }),
        headers: { ...init.headers, 'Content-Length': String(Buffer.byteLength(init.body)) },
      });
      const closed = () => new Error('the receiver closed the connection before the answer was complete');
      /** Once the answer's status came: the answer, and what of its body has come so far. */
      let answer: { status: number; chunks: Buffer[] } | null = null;
      /** `e`, or IncompleteAnswer holding it when the answer's status had come. */
      const cutOff = (e: unknown) => (answer === null ? e : new IncompleteAnswer(answer.status, text(answer.chunks, init.maxBytes), e));
      function onAbort() {
        settle(() => reject(cutOff(init.signal.reason)));
        req.destroy();
      }
      init.signal.addEventListener('abort', onAbort, { once: true });
      let answered = false;
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the receiver had closed as this request went out on it (its
        // keep-alive timeout, 5 s for Node's http server, ran out then; Node 20's agent does not
        // read the `Keep-Alive: timeout` hint): reset or closed before any answer. Sent again
        // once, on a connection of its own, within the same attempt. Counted as a failure, it
        // paced a failing webhook's next probe to the following retry delay (30 s instead of 6 s
        // at LEADTRAIL_RETRY_SCALE=0.1 in test/webhooks/outage.test.ts, under load in CI). The
        // receiver may have read the request before it closed: a duplicate, as at-least-once allows.
        if (!fresh && !answered && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE') && !init.signal.aborted) {
          return settle(() => send(url, init, true).then(resolve, reject));
        }
        // A reset after the status came (Node reports it here, before the answer's own error).
        settle(() => reject(answer !== null && e.code === 'ECONNRESET' ? cutOff(closed()) : cutOff(e)));
      });
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        answer = { status: res.statusCode ?? 0, chunks };
        let n = 0;
        const done = () => settle(() => resolve({ status: res.statusCode ?? 0, body: text(chunks, init.maxBytes) }));
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          n += c.length;
          if (n >= init.maxBytes) {
            done();
            // The rest is not read: this connection is not reused.
            res.destroy();
          }
        });
        res.on('end', done);
        // Node's error for a connection closed mid-body is `aborted` (ECONNRESET): said as the close it is.
        res.on('error', (e: NodeJS.ErrnoException) => settle(() => reject(cutOff(e.code === 'ECONNRESET' ? closed() : e))));
        res.on('close', () => settle(() => reject(cutOff(closed()))));
      });
      // As bytes: Node writes a string body in one piece with the headers, all as UTF-8, and a
      // Latin-1 custom header value (which Create accepts, domain/webhooks.ts) then went out as its
      // UTF-8 bytes; with a Buffer the headers are written as Latin-1, one byte a character.
      req.end(Buffer.from(init.body, 'utf8'));
    });
  }

  return {
    // async: a URL that does not parse rejects, as the interface says, rather than throwing.
    async post(raw, init) {
      const url = new URL(raw);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const literal = denyPrivate ? privateRange(host) : null;
      if (literal) throw new PrivateAddressRefused(host, host, literal);
      return send(url, init, false);
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function text(chunks: Buffer[], max: number): string | null {
  const all = Buffer.concat(chunks).subarray(0, max);
  // PostgreSQL text cannot hold U+0000: a receiver answering NUL bytes must not make the record unwritable.
  return all.length === 0 ? null : all.toString('utf8').replace(/\u0000/g, '\uFFFD');
}
