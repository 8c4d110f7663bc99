/**
 * A client that leaves before its answer (it timed out, closed its tab). Work for it is waste: a
 * search that reads a whole account (storage/sql/seq-ranges.ts) takes a second per million leads,
 * and a client that retries piles such searches up. Handlers hand `clientGone(reply)` to such work;
 * the work then rejects with an AbortError. Counting and journaling such a call (status 499) is done
 * where the connection closes (http/server.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Status recorded for a call whose client left before its answer: nginx's "client closed request". */
export const CLIENT_LEFT = 499;

/**
 * An AbortSignal that aborts when `reply`'s connection closes before its answer was written in
 * full: the client left. Not Fastify's `request.signal`, which follows the request's `close` event:
 * on Node 20 that comes as soon as a body has been read, while the client still waits.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

/** True for the error work rejects with once its AbortSignal has aborted. */
export function isAbandoned(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * Ends a request whose work stopped because its client left (`isAbandoned`, the connection closed):
 * nothing is sent, there is no one to send it to; logged at debug.
 */
export function abandoned(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  req.log.debug('client left before the answer: its work was stopped');
  // No answer will be sent: the call's journal entry (499, held for the handler's end) is written now.
  if (req.journalLeft) req.server.journalUnanswered?.(req, reply, CLIENT_LEFT);
  return reply.hijack();
}
