/**
 * The rest of a body that arrives after its request was answered, read and thrown away before the
 * connection closes: every answer given before the body has all arrived (a 413 for a body over the
 * limit, a 401/403 for keys checked before the body is read, a 404/405 for an unknown path or
 * method, a 503 while starting, a console page without a session).
 *
 * Such an answer says `Connection: close`, and Node closed the socket as soon as the answer was
 * written. The client was still sending its body: on a socket closed with bytes arriving, the
 * kernel answers with a reset, and a client that is still writing (Node's `fetch` and `node:http`
 * without `Expect: 100-continue`) mostly failed with EPIPE or ECONNRESET before it had read the
 * answer, and would retry a request the server had already refused, or report a network error
 * instead of "wrong keys". RFC 9112 §9.6 describes the cure, as nginx and Apache apply it
 * ("lingering close"): keep reading until the client has sent its body or stopped sending, then
 * close.
 *
 * Within caps, so that a client cannot hold the server with an endless body: at most DRAIN_BYTES
 * more bytes, and DRAIN_MS after the answer (Node's request timeout still applies, whichever comes
 * first); past either cap the socket is closed at once. A client without keys can make the server
 * read that much per connection: the cost of answering it legibly (docs/compatibility.md).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** Bytes of an answered body read and thrown away at most, counted from the answer: 64 MB. */
export const DRAIN_BYTES = 64 * 1024 * 1024;
/** Milliseconds a connection is kept open after its answer to read the rest of the body: 5 s. */
export const DRAIN_MS = 5_000;

/** Sockets reading the rest of an answered body. */
const draining = new WeakSet<Socket>();

/**
 * Whether `socket` is reading the rest of an answered body. Its answer is written (or being
 * written): an error on it now (the request timeout, bytes that are not HTTP) closes it without
 * a second answer.
 */
export const isDraining = (socket: Socket): boolean => draining.has(socket);

/**
 * Called when an answer is sent before `req`'s body has arrived, with `Connection: close` on the
 * answer: from now on the body is read and dropped, and the socket is closed once the answer is
 * written and the body has arrived, or at the first cap reached (`caps.bytes` bytes read after
 * this call, `caps.ms` milliseconds after it). Nothing is kept of the body.
 *
 * Node closes a `Connection: close` socket with `socket.destroySoon()` once the answer is written
 * (http server's resOnFinish); that call is held here until the body has arrived.
 *
 * Returns a function that closes the socket at once (a stop cuts drains under way: server.ts), or
 * null when nothing is drained (the body has arrived, the socket is closed, or already drained).
 */
export function drainThenClose(req: IncomingMessage, caps: { bytes: number; ms: number } = { bytes: DRAIN_BYTES, ms: DRAIN_MS }): (() => void) | null {
  const socket = req.socket as Socket & { destroySoon(): void };
  if (req.complete || socket.destroyed || draining.has(socket)) return null;
  draining.add(socket);

  let answered = false;
  let bodyIn = false;
  const close = () => {
    // The own property set below goes; the prototype's closes the socket once the answer is out.
    delete (socket as Partial<typeof socket>).destroySoon;
    socket.destroySoon();
  };
  const cut = () => socket.destroy();
  const timer = setTimeout(cut, caps.ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));

  socket.destroySoon = () => {
    answered = true;
    if (bodyIn) close();
  };
  let read = 0;
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > caps.bytes) cut();
  });
  req.once('end', () => {
    bodyIn = true;
    clearTimeout(timer);
    if (answered) close();
  });
  // A body nobody has read yet (an answer from an onRequest hook) flows from here on.
  req.resume();
  return cut;
}
