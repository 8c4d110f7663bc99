/**
 * A Redis stand-in that speaks just enough RESP for the rate limit (ioredis' ready check, PING,
 * SELECT, QUIT, and rate-limiter-flexible's counting script), and that can be told to answer every
 * count with an error on a live connection, as a replica does after a failover (READONLY) or a
 * Redis out of memory: the one kind of outage a real Redis cannot be made to play from a test
 * without changing it for everyone else who uses it.
 */
import net from 'node:net';

export interface FakeRedis {
  port: number;
  /** When set, every count is answered with this error (`-READONLY …`); the connection stays up. */
  failWith: string | null;
  close(): Promise<void>;
}

/** Commands in `buf` (RESP arrays of bulk strings), and how many bytes they took; a partial one is left. */
function parse(buf: Buffer): { commands: string[][]; used: number } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const start = at;
    const line = (from: number) => {
      const end = buf.indexOf('\r\n', from);
      return end < 0 ? null : { text: buf.toString('latin1', from, end), next: end + 2 };
    };
    const head = line(at);
    if (!head || head.text[0] !== '*') return { commands, used: start };
    const n = Number(head.text.slice(1));
    at = head.next;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = line(at);
      if (!len) return { commands, used: start };
      const size = Number(len.text.slice(1));
      if (buf.length < len.next + size + 2) return { commands, used: start };
      args.push(buf.toString('utf8', len.next, len.next + size));
      at = len.next + size + 2;
    }
    commands.push(args);
  }
}

export async function fakeRedis(): Promise<FakeRedis> {
  const counts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const fake: FakeRedis = {
    port: 0,
    failWith: null,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const answer = (args: string[]): string => {
    const cmd = args[0].toUpperCase();
    if (cmd === 'PING') return '+PONG\r\n';
    if (cmd === 'INFO') return '$9\r\nloading:0\r\n';
    if (cmd === 'SELECT' || cmd === 'QUIT') return '+OK\r\n';
    if (cmd === 'EVALSHA' || cmd === 'EVAL') {
      if (fake.failWith) return `-${fake.failWith}\r\n`;
      const key = args[3];
      const n = (counts.get(key) ?? 0) + Number(args[4]);
      counts.set(key, n);
      return `*2\r\n:${n}\r\n:${Number(args[5]) * 1000}\r\n`;
    }
    return `-ERR unknown command '${cmd}'\r\n`;
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      const { commands, used } = parse(pending);
      pending = pending.subarray(used);
      for (const c of commands) socket.write(answer(c));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.port = (server.address() as net.AddressInfo).port;
  return fake;
}
