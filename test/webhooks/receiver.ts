/**
 * A real webhook receiver for tests: a node:http server on port 0 that keeps every request it gets
 * (method, path, headers, raw body) and answers as the test says (status, body, or a delay first).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Parsed per content type: JSON for JSON and text/plain, the form's fields for form encoding. */
  json: Record<string, any>;
  eventId: string;
  /** When the answer was sent (Date.now()); undefined while it is held. */
  answeredAt?: number;
}

export interface Answer {
  status: number;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** How to answer the nth request (0-based) to each path; default 200 `{"Status":"Success"}`. */
  answer: (r: Received, n: number) => Answer;
  on(path: string): Received[];
  /** Waits until `done` holds for the requests received (polling), or fails after `timeoutMs`. */
  until(done: (all: Received[]) => boolean, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

function parse(contentType: string, body: string): Record<string, any> {
  if (contentType.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  try {
    return JSON.parse(body) as Record<string, any>;
  } catch {
    return {};
  }
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const perPath = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const r: Receiver = {
    url: '',
    received,
    answer: () => ({ status: 200, body: '{"Status":"Success"}' }),
    on: (path) => received.filter((x) => x.path === path),
    async until(done, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      while (!done(received)) {
        if (Date.now() > end) throw new Error(`receiver: condition not met in ${timeoutMs} ms; got ${received.length} requests: ${received.map((x) => `${x.path} ${x.eventId}`).join(', ')}`);
        await new Promise((res) => setTimeout(res, 20));
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0];
      const got: Received = {
        method: req.method ?? '',
        path,
        headers: req.headers,
        body,
        json: parse(String(req.headers['content-type'] ?? ''), body),
        eventId: String(req.headers['x-leadtrail-event-id'] ?? ''),
      };
      received.push(got);
      const n = perPath.get(path) ?? 0;
      perPath.set(path, n + 1);
      const a = r.answer(got, n);
      const send = () => {
        got.answeredAt = Date.now();
        res.statusCode = a.status;
        res.setHeader('content-type', 'application/json');
        res.end(a.body ?? (a.status < 300 ? '{"Status":"Success"}' : '{"Status":"Error","StatusReason":"test receiver says no"}'));
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

/** A receiver for the whole file, closed after it. */
export async function receiverForFile(): Promise<Receiver> {
  const r = await startReceiver();
  afterAll(() => r.close());
  return r;
}
