/**
 * How a stopping server lets go of its keep-alive connections without resetting a call a client is
 * sending on one. Closing an idle keep-alive connection races the client's next request on it: a
 * busy client's connection is idle only for the moment between an answer and its next call, and a
 * call sent into a close meets a reset, which a client cannot retry safely (a POST may have been
 * taken). Found by a scale-out trial: 40 keep-alive clients, SIGTERM, 14 calls cut off that way.
 *
 * So a stop first closes the listening socket only (new connections are refused before anything
 * is sent), keeps the connections that answered recently open for a grace period, during which the
 * next call on each is answered 503 with `Connection: close` by the routes' hooks (services.stopping)
 * and its connection then closed by Node, and ends the grace early once no such connection is left.
 */
import type { Server } from 'node:http';
import net, { type Socket } from 'node:net';

/** What is known of one open connection: calls in progress on it, and when it last answered or opened (ms). */
interface Use {
  active: number;
  last: number;
}

/** The open connections of one server and their use, as {@link watchConnections} records them. */
export interface ConnectionWatch {
  server: Server;
  /** Open connections, each with its calls in progress and when it last answered (or opened). */
  readonly open: ReadonlyMap<Socket, Use>;
}

/**
 * Starts recording `server`'s connections: when each opened, and when each last finished an answer.
 * Call before the server listens. `now`: a monotonic clock in ms (default performance.now).
 */
export function watchConnections(server: Server, now: () => number = () => performance.now()): ConnectionWatch {
  const open = new Map<Socket, Use>();
  server.on('connection', (socket: Socket) => {
    open.set(socket, { active: 0, last: now() });
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req, res) => {
    const use = open.get(req.socket);
    if (!use) return;
    use.active += 1;
    res.once('close', () => {
      use.active -= 1;
      use.last = now();
    });
  });
  return { server, open };
}

/**
 * Stops accepting connections on each watched server and waits, `graceMs` at most, until none of
 * their open connections is one a client may be about to reuse: a connection with a call in progress,
 * or one that opened or answered less than `graceMs` ago. Resolves at once when there is none (an idle
 * server, or clients long quiet). Closes nothing itself: the connections left (all idle for
 * `graceMs`, or the grace is over) are closed by the server's close (Node closes idle ones, busy ones
 * once their answers are out) and by {@link closeUnused} (those that never sent a byte, which Node
 * leaves open). `now`: the clock the watches were given (ms); `tickMs`: how often it looks.
 */
export async function stopListening(watches: ConnectionWatch[], graceMs: number, now: () => number = () => performance.now(), tickMs = 25): Promise<void> {
  // `server.close()` would close every idle connection too (Node ≥ 19), the race this avoids: only
  // the listening socket is closed here. Called again by Fastify's close, it waits for the
  // connections and does not fail (ERR_SERVER_NOT_RUNNING, which Fastify accepts).
  for (const w of watches) if (w.server.listening) net.Server.prototype.close.call(w.server);
  const until = now() + graceMs;
  const inUse = () => {
    const t = now();
    return watches.some((w) => [...w.open.values()].some((u) => u.active > 0 || t - u.last < graceMs));
  };
  while (now() < until && inUse()) await new Promise((r) => setTimeout(r, Math.max(1, Math.min(tickMs, until - now()))));
}

/**
 * Destroys each watched connection that has never sent a byte and has no call in progress; returns
 * how many. For a stop, after {@link stopListening}'s grace: Node's `server.close()` and
 * `closeIdleConnections()` close only connections that have carried a request (Node 20 and 24), and
 * no server timeout applies to one that never sends anything, so the stop waited until such a
 * client closed it: 4 s for fetch's pool, which opens a connection ahead now and then and an
 * embedding test's `close()` after an aborted call met one (found while testing a held journal
 * entry); for ever for a client that never does (a pre-opened connection of a load balancer). Its
 * client had sent nothing, so nothing on it is cut off; one whose first bytes were in flight meets
 * the same close as an idle keep-alive connection after the grace.
 */
export function closeUnused(watches: ConnectionWatch[]): number {
  let closed = 0;
  for (const w of watches) {
    for (const [socket, use] of w.open) {
      if (use.active === 0 && socket.bytesRead === 0 && !socket.destroyed) {
        socket.destroy();
        closed += 1;
      }
    }
  }
  return closed;
}
