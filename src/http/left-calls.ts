/**
 * Calls whose client left before the answer and whose handler still runs (a Create held by a slow
 * write or a forced latency). Fastify's close waits for open connections only, and such a call has
 * none: the stop went on without it and closed the store under it, so its work failed ("the store
 * is closed", logged as an unexpected error) although a client that leaves is told nothing and the
 * call is documented to finish its work (docs/compatibility.md, a client that leaves). The app's
 * close now waits for them first (a preClose hook, so that the journal's entry of such a call is
 * written at its end, naming the lead it made), bounded.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Marks `req` as a call whose client left while its handler runs (http/server.ts's 499 hook). */
    leftCallRunning(req: FastifyRequest, reply: FastifyReply): void;
  }
}

/**
 * Decorates `app` with the method above, ends a call at its answer (onSend) or once its reply is
 * taken over (`reply.sent` without an answer: a stopped search, a dropped fault, the console's live
 * stream), and makes
 * `app.close()` wait for the calls still running, `waitMs` (ms) at most (LEADTRAIL_TX_TIMEOUT_MS:
 * the longest a request may work inside a write batch), logging a warning for those left.
 */
export function trackLeftCalls(app: FastifyInstance, waitMs: number): void {
  // With its reply: a handler that took the reply over (hijack) ends without an answer (no onSend),
  // and its reply is then `sent`.
  const running = new Map<FastifyRequest, FastifyReply>();
  // Answered (onSend ran): a close that comes before the answer is out does not mark it running.
  const answered = new WeakSet<FastifyRequest>();
  let waiters: (() => void)[] = [];
  const wakeIfNone = () => {
    if (running.size > 0) return;
    const wake = waiters;
    waiters = [];
    for (const w of wake) w();
  };
  /** Forgets calls whose reply was taken over (sent, with no onSend). */
  const prune = () => {
    for (const [req, reply] of running) if (reply.sent) running.delete(req);
    wakeIfNone();
  };
  const ended = (req: FastifyRequest) => {
    if (running.delete(req)) wakeIfNone();
  };
  app.decorate('leftCallRunning', (req: FastifyRequest, reply: FastifyReply) => {
    prune();
    if (!answered.has(req)) running.set(req, reply);
  });
  /** Resolves once no call is running, or after `timeoutMs`, with how many still are. */
  const allEnded = async (timeoutMs: number) => {
    prune();
    if (running.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const pruning = setInterval(prune, 50);
    await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    clearInterval(pruning);
    return running.size;
  };
  app.addHook('preClose', async () => {
    const still = await allEnded(waitMs);
    if (still > 0) app.log.warn({ calls: still, waitedMs: waitMs }, 'stopping with calls whose client left still running: their work may fail as the store closes');
  });
  // Every answer passes here, also one written to a connection its client closed.
  app.addHook('onSend', (req, _reply, payload, done) => {
    answered.add(req);
    ended(req);
    done(null, payload);
  });
}
