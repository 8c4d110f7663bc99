/**
 * LEADTRAIL_WEBHOOK_PRIVATE=deny: no delivery reaches a loopback, private or link-local address,
 * judged on the address connected to. A host name that resolves to 127.0.0.1 (`localhost`) passes
 * the allow list as written, and is refused at connection; the attempt is recorded as a failure with
 * a clear error and retried, and the server goes on. IP literals are refused at Create, and at
 * delivery for webhooks saved before the switch. The default (`allow`) still delivers to localhost.
 * A real receiver on 127.0.0.1. Both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, expectMx, expectOk } from '../helpers/lsq.js';
import { startServer, started, type TestServer } from '../helpers/server.js';
import { receiverForFile, type Receiver } from './receiver.js';

const WH = '/v2/Webhook.svc';
let rx: Receiver;
let port: string;
beforeAll(async () => {
  rx = await receiverForFile();
  port = new URL(rx.url).port;
});

async function hook(s: TestServer, url: string): Promise<string> {
  return expectOk(await s.call('POST', `${WH}/Create`, { URL: url, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3' })).Message.Id;
}
const lead = async (s: TestServer, email: string) => expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }])).Message.Id as string;
const deliveries = async (s: TestServer, wid: string) => expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}`)).deliveries as any[];

async function attempts(s: TestServer, wid: string, n: number): Promise<any[]> {
  const end = Date.now() + 15_000;
  for (;;) {
    const d = await deliveries(s, wid);
    if (d.length >= n) return d;
    if (Date.now() > end) throw new Error(`only ${d.length} attempts of ${wid}: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('LEADTRAIL_WEBHOOK_PRIVATE', () => {
  it('allow (the default): a receiver on localhost gets its events', async () => {
    const s = await started({ LEADTRAIL_RETRY_SCALE: '0.001' });
    expect(s.services.config.webhookPrivate).toBe('allow');
    const wid = await hook(s, `http://localhost:${port}/allowed`);
    await lead(s, 'allowed@private.example');
    await rx.until((all) => all.some((r) => r.path === '/allowed'));
    expect((await attempts(s, wid, 1))[0]).toMatchObject({ outcome: 'delivered', statusCode: 200 });
  });

  it('deny: a host name that resolves to 127.0.0.1 is refused at connection, recorded and retried; nothing reaches the receiver', async () => {
    // `localhost` is in the allow list as written: the list alone would have let it through.
    const s = await started({ LEADTRAIL_WEBHOOK_PRIVATE: 'deny', LEADTRAIL_WEBHOOK_ALLOW: 'localhost', LEADTRAIL_RETRY_SCALE: '0.001' });
    const wid = await hook(s, `http://localhost:${port}/by-name`);
    await lead(s, 'by-name@private.example');
    const [first, second] = (await attempts(s, wid, 2)).sort((a, b) => a.attempt - b.attempt);
    expect(first).toMatchObject({ attempt: 1, outcome: 'retry', statusCode: null, response: null });
    expect(first.error).toBe("'localhost' resolves to 127.0.0.1, a loopback address; LEADTRAIL_WEBHOOK_PRIVATE=deny refuses deliveries to those");
    expect(second).toMatchObject({ attempt: 2, outcome: 'retry', error: first.error });
    expect(rx.on('/by-name')).toEqual([]);
    // The webhook counts the failures like any other, and the server answers on.
    const listed = expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } })).Response[0];
    expect(listed).toBeDefined();
    expect((await s.call('GET', '/health')).status).toBe(200);
  });

  it('deny: Create refuses a URL whose host is a non-public IP address, and takes a public one', async () => {
    const s = await started({ LEADTRAIL_WEBHOOK_PRIVATE: 'deny' });
    const refused: [string, string][] = [
      [`http://127.0.0.1:${port}/x`, "'127.0.0.1' is a loopback address"],
      [`http://127.1:${port}/x`, "'127.0.0.1' is a loopback address"],
      [`http://2130706433:${port}/x`, "'127.0.0.1' is a loopback address"],
      [`http://[::1]:${port}/x`, "'[::1]' is a loopback address"],
      [`http://[::ffff:127.0.0.1]:${port}/x`, "'[::ffff:7f00:1]' is a loopback address"],
      ['http://10.1.2.3/x', "'10.1.2.3' is a private address"],
      ['https://192.168.0.10/x', "'192.168.0.10' is a private address"],
      ['http://169.254.169.254/latest/meta-data', "'169.254.169.254' is a link-local address"],
      ['http://0.0.0.0:80/x', "'0.0.0.0' is an unspecified address"],
      ['http://[fd00::1]/x', "'[fd00::1]' is a private address"],
      // IPv6 forms that carry an IPv4 address, and IANA's other special-purpose ranges (a fresh-eyes
      // run: each had been taken).
      [`http://[::127.0.0.1]:${port}/x`, "'[::7f00:1]' is a loopback address"],
      [`http://[64:ff9b::7f00:1]:${port}/x`, "'[64:ff9b::7f00:1]' is a loopback address"],
      [`http://[2002:7f00:1::]:${port}/x`, "'[2002:7f00:1::]' is a loopback address"],
      ['http://[2002:a00:1::5]/x', "'[2002:a00:1::5]' is a private address"],
      ['http://198.18.0.1/x', "'198.18.0.1' is a benchmarking address"],
      ['http://192.0.0.1/x', "'192.0.0.1' is a reserved address"],
      ['http://203.0.113.7/x', "'203.0.113.7' is a documentation address"],
      ['http://[2001:db8::1]/x', "'[2001:db8::1]' is a documentation address"],
    ];
    for (const [url, says] of refused) {
      expectMx(await s.call('POST', `${WH}/Create`, { URL: url, WebhookEvent: 3 }), 500, 'MXInvalidInputException', `URL host ${says}, which this server does not deliver to (LEADTRAIL_WEBHOOK_PRIVATE=deny).`);
    }
    expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://93.184.216.34/in', WebhookEvent: 3 }));
    // A public IPv4 address behind NAT64 or 6to4 is public.
    expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://[64:ff9b::5db8:d822]/in', WebhookEvent: 3 }));
    expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://[2002:5db8:d822::1]/in', WebhookEvent: 3 }));
  });

  it('deny: a webhook to an IP literal saved before the switch is refused at delivery, not sent', async () => {
    const before = await startServer({});
    const wid = await hook(before, `http://127.0.0.1:${port}/literal`);
    const dbPath = before.dbPath;
    await before.close();
    const s = await started({ LEADTRAIL_DB: dbPath, LEADTRAIL_WEBHOOK_PRIVATE: 'deny', LEADTRAIL_RETRY_SCALE: '0.001' });
    await lead(s, 'literal@private.example');
    const [first] = await attempts(s, wid, 1);
    expect(first).toMatchObject({ outcome: 'retry', statusCode: null, error: '127.0.0.1 is a loopback address; LEADTRAIL_WEBHOOK_PRIVATE=deny refuses deliveries to those' });
    expect(rx.on('/literal')).toEqual([]);
  });

  it('refuses a value other than allow or deny at start, naming the option', async () => {
    await expect(startServer({ LEADTRAIL_WEBHOOK_PRIVATE: 'block' })).rejects.toThrow('LEADTRAIL_WEBHOOK_PRIVATE must be allow or deny, got "block"');
  });
});
