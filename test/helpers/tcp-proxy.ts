import net from 'node:net';

export interface TcpProxy {
  /** The local port clients connect to (the same after a restore). */
  port(): number;
  /** Drops every connection and stops listening: the backend "goes away". */
  cut(): Promise<void>;
  /** Listens again on the same port: the backend "comes back". */
  restore(): Promise<void>;
  /**
   * Keeps every connection open (and accepts new ones) but forwards nothing, either way: the
   * backend stops answering without closing anything, as a stopped process or a network partition
   * does. What is sent meanwhile is held, in order.
   */
  stall(): void;
  /** Forwards again, what was held first: the stalled backend answers again. */
  resume(): void;
}

/** A TCP pass-through to `host:port` on loopback, to play an outage of PostgreSQL or Redis. */
export async function tcpProxy(host: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  let stalled = false;
  let held: Array<() => void> = [];
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (d: Buffer) => {
      if (stalled) held.push(() => to.destroyed || to.write(d));
      else to.write(d);
    });
    from.on('end', () => to.end());
  };
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          (s === client ? upstream : client).destroy();
        });
      }
      forward(client, upstream);
      forward(upstream, client);
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
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      const todo = held;
      held = [];
      for (const f of todo) f();
    },
  };
}
