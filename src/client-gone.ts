/**
 * A client that leaves before its answer (it timed out, closed its tab). Work for it is waste: a
 * search that reads a whole account (storage/sql/seq-ranges.ts) takes a second per million leads,
 * and a client that retries piles such searches up. Handlers hand Fastify's `request.signal`, which
 * aborts when the client's connection closes, to such work; the work then rejects with an AbortError.
 * Counting and journaling such a call (status 499) is done where the connection closes (http/server.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Status recorded for a call whose client left before its answer: nginx's "client closed request". */
export const CLIENT_LEFT = 499;

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
  return reply.hijack();
}
