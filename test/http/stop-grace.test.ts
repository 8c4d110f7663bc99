/**
 * The stop's grace for keep-alive connections (LEADTRAIL_STOP_GRACE_MS, src/http/stop.ts). A client
 * reuses the connection its last answer came on; closed under it, its next call meets a reset and a
 * POST is not retried. So once the stop begins the listener is closed (new connections refused), a
 * connection that answered within the grace stays open and its next call is answered 503 with
 * `Connection: close`, and the stop waits for such connections only: not on a server without them.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { KEYS, startServer } from '../helpers/server.js';

const CALL = `GET /v2/LeadManagement.svc/LeadsMetaData.Get?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey} HTTP/1.1\r\nHost: x\r\n\r\n`;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw keep-alive connection: `send` writes a call and resolves with its answer; `closed` resolves when the server closes it. */
async function connection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setEncoding('utf8');
  let data = '';
  let waiting: ((a: Answer) => void) | null = null;
  const take = () => {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0 || !waiting) return;
    const [statusLine, ...lines] = data.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    if (data.length < end + 4 + length) return;
    const answer = { status: Number(statusLine.split(' ')[1]), headers, body: data.slice(end + 4, end + 4 + length) };
    data = data.slice(end + 4 + length);
    const w = waiting;
    waiting = null;
    w(answer);
  };
  socket.on('data', (chunk: string) => {
    data += chunk;
    take();
  });
  const errors: string[] = [];
  socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return {
    send: (text: string) =>
      new Promise<Answer>((resolve, reject) => {
        waiting = resolve;
        socket.write(text);
        void closed.then(() => reject(new Error(`connection closed before an answer (${errors.join(', ') || 'no error'})`)));
      }),
    closed,
    isClosed: () => isClosed,
    destroy: () => socket.destroy(),
  };
}

/** Resolves with the error code of a new connection to `port` (ECONNREFUSED once the listener is closed), or 'connected'. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stopping: keep-alive connections get a grace, not a reset', () => {
  it('a connection that just answered stays open: its next call gets 503 with Connection: close, new connections are refused', async () => {
    const server = await startServer({ LEADTRAIL_STOP_GRACE_MS: '1000' });
    const port = Number(new URL(server.url).port);
    const c = await connection(port);
    expect((await c.send(CALL)).status).toBe(200);
    const t0 = performance.now();
    const closing = server.close();
    // A busy client's next call comes a moment after its answer; here, 100 ms after the stop began.
    await sleep(100);
    expect(await connectOutcome(port)).toBe('ECONNREFUSED');
    expect(c.isClosed()).toBe(false);
    const next = await c.send(CALL);
    expect(next.status).toBe(503);
    expect(JSON.parse(next.body)).toMatchObject({ Status: 'Error', ExceptionType: 'MXServiceUnavailableException' });
    expect(next.headers['connection']).toBe('close');
    expect(next.headers['retry-after']).toBe('1');
    // The server closes it after that answer, and the stop goes on without waiting out the grace.
    await c.closed;
    await closing;
    expect(performance.now() - t0).toBeLessThan(900);
  });

  it('a connection left quiet is kept for the grace, then closed, and the stop goes on', async () => {
    const server = await startServer({ LEADTRAIL_STOP_GRACE_MS: '600' });
    const c = await connection(Number(new URL(server.url).port));
    expect((await c.send(CALL)).status).toBe(200);
    const t0 = performance.now();
    await server.close();
    const took = performance.now() - t0;
    await c.closed;
    // Waited for the client that might have reused it, and not much longer.
    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(3_000);
  });

  it('a server without open connections, or with connections idle for longer than the grace, stops without waiting the grace', async () => {
    const bare = await startServer({ LEADTRAIL_STOP_GRACE_MS: '5000' });
    const used = await connection(Number(new URL(bare.url).port));
    expect((await used.send(CALL)).status).toBe(200);
    used.destroy();
    await used.closed;
    let t0 = performance.now();
    await bare.close();
    expect(performance.now() - t0).toBeLessThan(2_500);

    const quiet = await startServer({ LEADTRAIL_STOP_GRACE_MS: '800' });
    const c = await connection(Number(new URL(quiet.url).port));
    expect((await c.send(CALL)).status).toBe(200);
    // Idle for longer than the grace before the stop: no client is about to reuse it.
    await sleep(900);
    t0 = performance.now();
    await quiet.close();
    expect(performance.now() - t0).toBeLessThan(600);
    await c.closed;
  });

  it('a connection that never sent a byte does not hold the stop; one opened just before it gets its first call answered 503', async () => {
    // Node's close leaves such a connection open, and no server timeout ends it: the stop waited for
    // its client to close it (4 s for fetch's pool, which opens one ahead now and then; for ever here).
    const server = await startServer();
    const silent = await connection(Number(new URL(server.url).port));
    const stopped = await Promise.race([server.close().then(() => 'stopped'), sleep(10_000).then(() => 'still stopping after 10 s')]);
    if (stopped !== 'stopped') silent.destroy();
    expect(stopped).toBe('stopped');
    await silent.closed;

    // Within the grace it is kept, as a connection that just answered is: its client may be about to send.
    const graced = await startServer({ LEADTRAIL_STOP_GRACE_MS: '2000' });
    const fresh = await connection(Number(new URL(graced.url).port));
    const closing = graced.close();
    await sleep(100);
    const first = await fresh.send(CALL);
    expect(first.status).toBe(503);
    expect(first.headers['connection']).toBe('close');
    await fresh.closed;
    await closing;
  });
});
