/**
 * Clients sending large bodies to a leadtrail served in a process of its own, as users' clients do:
 * Node's fetch (undici) and node:http, which send no `Expect: 100-continue`, curl, and raw sockets
 * for what no client library does (an endless body). Shared by the tests of answers given before
 * the body has arrived (too-large.test.ts, early-answer.test.ts).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve, type Served } from '../cli/cli-runner.js';
import { freshSchema, testSchemas } from './pg.js';
import { KEYS, tempDir } from './server.js';

/**
 * The built server (`leadtrail serve`) in a process of its own, on the vitest project's engine. Not
 * in the test's process: there, client and server shared one event loop, which read the answer
 * before the reset came, and the old code passed.
 */
export async function served(env: Record<string, string> = {}): Promise<Served> {
  let store: Record<string, string>;
  if (process.env.LEADTRAIL_TEST_STORE === 'postgres') {
    const schema = freshSchema();
    testSchemas.add(schema.name);
    store = { DATABASE_URL: schema.url, LEADTRAIL_PG_POOL: '4' };
  } else {
    store = { LEADTRAIL_DB: path.join(tempDir(), 'leadtrail.db') };
  }
  return serve(['--port', '0'], {
    ...store,
    LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
    LEADTRAIL_SECRET_KEY: KEYS.secretKey,
    LEADTRAIL_API_KEY: KEYS.apiKey,
    LEADTRAIL_RATE_LIMIT: '0',
    ...env,
  });
}

export const LIMIT = 1024 * 1024; // the default LEADTRAIL_BODY_LIMIT
export const TRIES = 20;
export const CREATE = '/v2/LeadManagement.svc/Lead.Create';
export const keyQuery = `accessKey=${encodeURIComponent(KEYS.accessKey)}&secretKey=${encodeURIComponent(KEYS.secretKey)}`;

/** A JSON body of `bytes` bytes, as a client would post it. */
export const jsonOf = (bytes: number) => {
  const head = '[{"Attribute":"FirstName","Value":"';
  const tail = '"}]';
  return Buffer.from(head + 'x'.repeat(bytes - head.length - tail.length) + tail);
};
export const MB2 = jsonOf(2 * 1024 * 1024);
export const MB20 = jsonOf(20 * 1024 * 1024);
export const ok = JSON.stringify([{ Attribute: 'FirstName', Value: 'Ada' }]);

export type Outcome = { status: number; headers: Record<string, string>; text: string; body: any } | { error: string };

const parse = (text: string) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** What a caller saw, in one line: `413 MXRequestTooLargeException`, or the error it got instead. */
export const seen = (o: Outcome) => ('error' in o ? `error ${o.error}` : `${o.status} ${o.body?.ExceptionType ?? o.body?.Status ?? o.text.slice(0, 80)}`);

/** Tallies `tries` runs of `call` by what each caller saw, one after the other. */
export async function tally(tries: number, call: () => Promise<Outcome>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < tries; i++) {
    const k = seen(await call());
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** A POST with Node's fetch: a Buffer (sent with its Content-Length) or a stream of `streamBytes` in 64 KB chunks (chunked). */
export async function viaFetch(url: string, body: Buffer | { streamBytes: number }, headers: Record<string, string> = {}): Promise<Outcome> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let left = Buffer.isBuffer(body) ? 0 : body.streamBytes;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (left <= 0) return c.close();
      c.enqueue(chunk);
      left -= chunk.length;
    },
  });
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: Buffer.isBuffer(body) ? body : stream,
      ...(Buffer.isBuffer(body) ? {} : { duplex: 'half' }),
    } as RequestInit);
    const text = await res.text();
    return { status: res.status, headers: Object.fromEntries(res.headers), text, body: parse(text) };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    return { error: err.cause?.code ?? err.cause?.message ?? err.message };
  }
}

/** A POST with node:http: a Buffer (sent with its Content-Length) or `chunkedBytes` written in 64 KB chunks (chunked). */
export function viaNodeHttp(url: string, body: Buffer | { chunkedBytes: number }, opts: { headers?: Record<string, string>; agent?: http.Agent } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent: opts.agent, headers: { 'content-type': 'application/json', ...opts.headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, text, body: parse(text) });
      });
    });
    // Before the answer, an error is what the caller gets; after it, the answer stands.
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    if (Buffer.isBuffer(body)) return void req.end(body);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let left = body.chunkedBytes;
    const pump = () => {
      while (left > 0 && !req.destroyed) {
        left -= chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/** A POST with curl, its `Expect: 100-continue` turned off (as a client that never sends it). */
export async function viaCurl(url: string, file: string): Promise<Outcome> {
  try {
    const { stdout } = await promisify(execFile)('curl', ['-sS', '-w', '\n%{http_code}', '-X', 'POST', url, '-H', 'content-type: application/json', '-H', 'Expect:', '--data-binary', `@${file}`], { encoding: 'utf8' });
    const lines = stdout.split('\n');
    const status = Number(lines.pop());
    const text = lines.join('\n');
    return { status, headers: {}, text, body: parse(text) };
  } catch (e) {
    return { error: String((e as { stderr?: string }).stderr ?? e).trim() };
  }
}

export interface RawRun {
  /** What the server wrote, as text. */
  text: string;
  /** Bytes handed to the socket before it closed. */
  sent: number;
  /** Milliseconds from the first byte of the answer read to the close. */
  closedAfterAnswerMs: number;
}

/**
 * A client that never stops sending: a chunked body written as fast as the socket takes it
 * (`fast`), or announced at 100 MB and sent 1 KB every 20 ms; `opts.headers` as `Name: value`
 * lines, `opts.onAnswer` called at the first byte of the answer. Resolves when the server closes it.
 */
export function endless(base: string, route: string, fast: boolean, opts: { headers?: string[]; onAnswer?: () => void } = {}): Promise<RawRun> {
  const { hostname, port } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  let text = '';
  let sent = 0;
  let answeredAt = 0;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
    if (answeredAt) return;
    answeredAt = Date.now();
    opts.onAnswer?.();
  });
  socket.on('error', () => {}); // a reset once the cap is reached is a close too
  const head = fast ? 'Transfer-Encoding: chunked' : 'Content-Length: 100000000';
  socket.write(`POST ${route} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n${[...(opts.headers ?? []), head].join('\r\n')}\r\n\r\n`);
  let drip: NodeJS.Timeout | undefined;
  if (fast) {
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x20), Buffer.from('\r\n')]);
    const pump = () => {
      while (!socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  } else {
    const piece = Buffer.alloc(1000, 0x20);
    drip = setInterval(() => {
      if (!socket.destroyed) {
        sent += piece.length;
        socket.write(piece);
      }
    }, 20);
  }
  return new Promise((resolve) =>
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ text, sent, closedAfterAnswerMs: answeredAt ? Date.now() - answeredAt : -1 });
    }),
  );
}

export interface RawPost {
  /** What the server wrote, as text. */
  text: string;
  /** Whether the whole body was handed to the socket before it closed. */
  bodySent: boolean;
  /** How the socket ended: `close` (the server closed it), or the error the client saw first. */
  ended: string;
  /** Milliseconds from the last byte of the body handed to the socket to the close (-1: not all sent). */
  closedAfterBodyMs: number;
}

/**
 * A POST of `bytes` bytes (announced by Content-Length) over a socket of its own, written as fast as
 * the socket takes it, `headers` as `Name: value` lines (JSON unless they name a Content-Type). Resolves when the socket closes, with what
 * the server wrote; rejects if the server has not closed it within `waitMs`.
 */
export function rawPost(base: string, route: string, bytes: number, headers: string[] = [], waitMs = 20_000): Promise<RawPost> {
  const { hostname, port } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  let text = '';
  let left = bytes;
  let sentAt = 0;
  let ended = 'close';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', (e: NodeJS.ErrnoException) => void (ended = ended === 'close' ? (e.code ?? e.message) : ended));
  const typed = headers.some((h) => /^content-type:/i.test(h));
  const head = [...(typed ? [] : ['Content-Type: application/json']), ...headers, `Content-Length: ${bytes}`];
  socket.write(`POST ${route} HTTP/1.1\r\nHost: ${hostname}\r\n${head.join('\r\n')}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = () => {
    while (left > 0 && !socket.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (left === 0) socket.write(piece, () => (sentAt = Date.now()));
      else if (!socket.write(piece)) return void socket.once('drain', pump);
    }
  };
  pump();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server had not closed the connection after ${waitMs} ms; it wrote: ${text.slice(0, 200)}`));
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, bodySent: sentAt > 0, ended, closedAfterBodyMs: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}
