/**
 * trackLeftCalls (src/http/left-calls.ts) on a bare Fastify app: a call whose client left while its
 * handler runs is waited for by the app's close, and a handler that takes its reply over (hijack,
 * as the console's live stream does) ends it too, though no onSend runs: it held every later close
 * for the whole wait (found by a review, with a client that left while its keys were checked).
 */
import Fastify, { type FastifyInstance, type RouteHandlerMethod } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { trackLeftCalls } from '../../src/http/left-calls.js';

const WAIT_MS = 60_000;
let app: FastifyInstance;
afterEach(() => app?.close());

/** An app whose route `GET /held` waits for `gate` in an onRequest hook, then runs `handler`; the 499 hook marks left calls as server.ts does. */
async function appWith(gate: Promise<void>, handler: RouteHandlerMethod) {
  // Every connection closed at close (fetch's pool may hold one that never sent a byte: src/http/stop.ts).
  app = Fastify({ forceCloseConnections: true });
  trackLeftCalls(app, WAIT_MS);
  let left = false;
  app.addHook('onRequest', (req, reply, done) => {
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished || reply.sent || !req.raw.complete) return;
      req.server.leftCallRunning(req, reply);
      left = true;
    });
    done();
  });
  app.get('/held', { onRequest: async () => gate }, handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/held`, left: () => left };
}

/** Sends a GET to `url`, leaves a moment later (while the gate holds it), and resolves once the server saw it leave. */
async function leave(url: string, seen: () => boolean) {
  const client = new AbortController();
  const sent = fetch(url, { signal: client.signal }).catch(() => 'left');
  await new Promise((r) => setTimeout(r, 50));
  client.abort();
  await sent;
  await expect.poll(seen).toBe(true);
}

describe('trackLeftCalls', () => {
  it('the close waits for a left call still running, and ends once it answers (to no one)', async () => {
    let open!: () => void;
    let answered = false;
    const { url, left } = await appWith(new Promise<void>((r) => (open = r)), async () => {
      await new Promise((r) => setTimeout(r, 200));
      answered = true;
      return { ok: true };
    });
    await leave(url, left);
    const closing = app.close();
    open();
    await closing;
    expect(answered).toBe(true);
  });

  it('a left call whose handler takes the reply over (hijack) does not hold the close', async () => {
    let open!: () => void;
    let hijacked = false;
    const { url, left } = await appWith(new Promise<void>((r) => (open = r)), async (_req, reply) => {
      reply.hijack();
      hijacked = true;
    });
    await leave(url, left);
    open();
    await expect.poll(() => hijacked).toBe(true);
    const stopped = await Promise.race([app.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing after 5 s'), 5_000))]);
    expect(stopped).toBe('closed');
  });
});
