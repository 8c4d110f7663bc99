/**
 * A receiver that closes a kept-alive connection just as the next delivery goes out on it (its
 * keep-alive timeout running out then: 5 s for Node's http server, whose next probe the outage test
 * sent 6 s later). The delivery goes again at once on a new connection, in the same attempt, and
 * counts no failure; a new connection that fails too is the attempt's failure, not tried a third
 * time. CI saw the first as `read ECONNRESET` on a failing webhook's probe, which paced the next
 * probe 30 s away instead of 6. Real receivers over raw TCP, so that a connection can be reset at
 * the moment a request arrives on it. Both engines.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LM, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

interface Seen {
  /** Which connection (0-based, in the order they were opened) and which request on it. */
  connection: number;
  nth: number;
  eventId: string;
  attempt: string;
  answered: boolean;
}

/** A minimal HTTP/1.1 receiver: `reset(connection, nth)` says which requests get a TCP reset instead of a 200. */
async function rawReceiver(reset: (connection: number, nth: number) => boolean): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const connection = connections++;
    let nth = 0;
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.subarray(end + 4 + length);
        const header = (name: string) => new RegExp(`\\r\\n${name}: *([^\\r]*)`, 'i').exec(head)?.[1] ?? '';
        const s: Seen = { connection, nth: nth++, eventId: header('x-leadtrail-event-id'), attempt: header('x-leadtrail-attempt'), answered: false };
        seen.push(s);
        if (reset(s.connection, s.nth)) {
          socket.resetAndDestroy();
          return;
        }
        s.answered = true;
        const body = '{"Status":"Success"}';
        const close = /^close$/i.test(header('connection'));
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n${body}`);
        if (close) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let s: TestServer;
/** Every request but the first on a connection is reset: the receiver closed it as the request arrived. */
let reused: Awaited<ReturnType<typeof rawReceiver>>;
/** Only the very first request is answered. */
let dead: Awaited<ReturnType<typeof rawReceiver>>;
beforeAll(async () => {
  s = await started();
  reused = await rawReceiver((_c, nth) => nth > 0);
  dead = await rawReceiver((c, nth) => c > 0 || nth > 0);
});
afterAll(async () => {
  await reused.close();
  await dead.close();
});

const WH = '/v2/Webhook.svc';
async function hook(url: string): Promise<string> {
  return expectOk(await s.call('POST', `${WH}/Create`, { URL: url, Method: 'POST', ContentType: 'application/json', WebhookEvent: 3 })).Message.Id;
}
const lead = async (email: string) => expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }])).Message.Id as string;
const listed = async (wid: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } })).Response[0];

interface Delivery {
  eventId: string;
  attempt: number;
  outcome: string;
  error: string | null;
}
async function deliveries(wid: string): Promise<Delivery[]> {
  const r = await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.deliveries as Delivery[];
}
/** Waits until `wid` has `n` delivery records (the worker writes one after each attempt). */
async function recorded(wid: string, n: number): Promise<Delivery[]> {
  for (let i = 0; ; i++) {
    const d = await deliveries(wid);
    if (d.length >= n) return d;
    if (i > 500) throw new Error(`${d.length} delivery records, not ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a kept-alive connection closed by the receiver as a delivery goes out on it', () => {
  it('sends the delivery again on a new connection in the same attempt, and counts no failure', async () => {
    const rx = reused;
    const wid = await hook(`${rx.url}/reused`);
    await lead('first@keepalive.example');
    const [a] = await recorded(wid, 1);
    expect(a).toMatchObject({ attempt: 1, outcome: 'delivered' });
    // The next event goes out on the connection kept alive, is reset, and goes again on a new one.
    await lead('second@keepalive.example');
    const all = await recorded(wid, 2);
    const b = all.find((d) => d.eventId !== a.eventId)!;
    expect(b).toMatchObject({ attempt: 1, outcome: 'delivered', error: null });
    expect(all).toHaveLength(2);
    const tries = rx.seen.filter((x) => x.eventId === b.eventId);
    expect(tries.map((x) => [x.connection, x.nth, x.answered, x.attempt])).toEqual([
      [0, 1, false, '1'],
      [1, 0, true, '1'],
    ]);
    expect(await listed(wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
  });

  it('counts a failure, without a third try, when the new connection is reset too', async () => {
    const rx = dead;
    const wid = await hook(`${rx.url}/dead`);
    await lead('third@keepalive.example');
    const [a] = await recorded(wid, 1);
    expect(a).toMatchObject({ outcome: 'delivered' });
    await lead('fourth@keepalive.example');
    const all = await recorded(wid, 2);
    const b = all.find((d) => d.eventId !== a.eventId)!;
    expect(b).toMatchObject({ attempt: 1, outcome: 'retry' });
    expect(b.error).toMatch(/ECONNRESET/);
    // Its retry is a minute away (the default schedule): nothing more goes out meanwhile.
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.seen.filter((x) => x.eventId === b.eventId).map((x) => [x.connection, x.nth])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(await listed(wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });
  });
});
