/**
 * A PostgreSQL outage while running (played by cutting a TCP pass-through): the process stays up,
 * answers in LeadSquared's envelope, never says "accepted" for a request it could not store, fails
 * its health check, and recovers by itself (pool and worker) once the database is back.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { accept, createType, settled, waitFor } from '../async/helpers.js';
import { dropSchemas, freshSchema, PG_BASE_URL, pgAvailable } from '../helpers/pg.js';
import { request, started } from '../helpers/server.js';

await pgAvailable();
const schema = freshSchema();
afterAll(() => dropSchemas([schema.name]));

/** A pass-through to PostgreSQL on a fixed port that can be cut and restored. */
async function proxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    port = (server!.address() as net.AddressInfo).port;
  };
  await listen();
  return {
    port: () => port,
    cut: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server!.close(() => r());
      }),
    restore: listen,
  };
}

describe('PostgreSQL outage while running', () => {
  it('errors in the envelope, accepts nothing it cannot store, fails /health, then recovers', { timeout: 60_000 }, async () => {
    const p = await proxy(new URL(PG_BASE_URL));
    const url = new URL(schema.url);
    url.host = `127.0.0.1:${p.port()}`;
    const s = await started({ DATABASE_URL: url.toString(), LEADTRAIL_PG_POOL: '3' });
    const code = await createType(s, 'Outage Call');
    const body = { EmailAddress: 'outage@example.com', ActivityEvent: code };
    expect((await s.call('POST', '/v2/ProspectActivity.svc/Create', body)).status).toBe(200);

    await p.cut();
    const sync = await s.call('POST', '/v2/ProspectActivity.svc/Create', body);
    expect(sync.status).toBe(500);
    expect(sync.body).toMatchObject({ Status: 'Error', ExceptionType: expect.any(String) });
    expect(sync.text).not.toMatch(/\n\s+at /);
    const acc = await request(s.url, 'POST', '/activity/create', body, { headers: { 'x-api-key': 'test-api-key' } });
    expect(acc.status).not.toBe(200);
    expect(acc.text).not.toContain('Request accepted');
    expect((await request(s.url, 'GET', '/health', undefined, { noAuth: true })).status).not.toBe(200);

    await p.restore();
    await waitFor(() => request(s.url, 'GET', '/health', undefined, { noAuth: true }), (r) => r.status === 200, 20_000, 200);
    expect((await s.call('POST', '/v2/ProspectActivity.svc/Create', body)).status).toBe(200);
    const id = await accept(s.url, '/activity/create', body);
    expect((await settled(s.url, id, ['Success', 'FAILURE', 'ERROR'], '/activity/status', 20_000)).TaskStatus.Status).toBe('Success');
    await s.close();
    await p.cut();
  });
});
