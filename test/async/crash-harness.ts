/**
 * Drives the built server (`node dist/cli/main.js serve`) as a child process for the crash test:
 * start it on a SQLite file with known keys, fire async requests from many lanes (connections),
 * SIGKILL it at a chosen point, restart it, and read the file afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { KEYS, request } from '../helpers/server.js';
import { API_KEY_HEADER, sleep } from './helpers.js';
import { freePort } from '../helpers/ports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');

/** Builds dist/ when it is missing or older than the sources (`npm test` has built it already). */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }, 0);
  if (fs.existsSync(CLI) && fs.statSync(CLI).mtimeMs >= newest(path.join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

export { freePort };

export interface Child {
  url: string;
  proc: ChildProcess;
  /** Everything the process printed (JSON log lines), for diagnostics and log checks. */
  output: () => string;
  exited: Promise<number | null>;
}

export async function spawnServer(dbPath: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const proc = spawn(process.execPath, [CLI, 'serve', ...extraArgs], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LEADTRAIL_DB: dbPath,
      LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
      LEADTRAIL_SECRET_KEY: KEYS.secretKey,
      LEADTRAIL_API_KEY: KEYS.apiKey,
      LEADTRAIL_RATE_LIMIT: '0',
      LEADTRAIL_LOG_LEVEL: 'warn',
      LEADTRAIL_POLL_MS: '20',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`server did not start:\n${out}`);
    await sleep(50);
  }
  return { url, proc, output: () => out, exited };
}

export async function stopGracefully(c: Child): Promise<number | null> {
  c.proc.kill('SIGTERM');
  return c.exited;
}

export async function kill9(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  await c.exited;
}

/** Request i of a run: its lane (connection), lead and body. A lane sends its requests one after another. */
export interface Plan {
  total: number;
  lanes: number;
  leadsPerLane: number;
  run: string;
  code: number;
}

export const leadOf = (p: Plan, i: number) => (i % p.lanes) + p.lanes * (Math.floor(i / p.lanes) % p.leadsPerLane);
export const emailOf = (p: Plan, lead: number) => `${p.run}-lead${lead}@crash.example`;
export const noteOf = (p: Plan, i: number) => `${p.run}#${i}`;

/** Raw body of request i: even ones on /activity/create, odd ones on /activity/createcustom (SearchBy email). */
export function bodyOf(p: Plan, i: number): { path: string; raw: string } {
  const email = emailOf(p, leadOf(p, i));
  if (i % 2 === 0) return { path: '/activity/create', raw: JSON.stringify({ EmailAddress: email, ActivityEvent: p.code, ActivityNote: noteOf(p, i) }) };
  return {
    path: '/activity/createcustom',
    raw: JSON.stringify({
      LeadDetails: [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'SearchBy', Value: 'EmailAddress' }],
      Activity: { ActivityEvent: p.code, ActivityNote: noteOf(p, i) },
    }),
  };
}

/** Keep-alive connections, one per lane: lighter than fetch, so the client is not the bottleneck. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs `raw` and resolves with the status and parsed body; rejects when the connection dies. */
export function post(base: string, pathAndQuery: string, raw: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const url = new URL(pathAndQuery, base);
  url.searchParams.set('accessKey', KEYS.accessKey);
  url.searchParams.set('secretKey', KEYS.secretKey);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(raw);
  });
}

export type Outcome = { kind: 'accepted'; id: string } | { kind: 'refused'; status: number } | { kind: 'cut' } | { kind: 'unsent' };

/**
 * Sends the plan's requests from `lanes` concurrent lanes. `onAccepted(n)` is told the running count
 * and may stop the run (return true): lanes then send nothing more, and requests in flight end as
 * they may (answered, or cut off by a kill).
 */
export async function fire(base: string, p: Plan, onAccepted: (n: number) => boolean | Promise<boolean>): Promise<Outcome[]> {
  const out: Outcome[] = Array.from({ length: p.total }, () => ({ kind: 'unsent' }) as Outcome);
  let accepted = 0;
  let stopped = false;
  async function lane(l: number) {
    for (let i = l; i < p.total; i += p.lanes) {
      if (stopped) return;
      const { path: pth, raw } = bodyOf(p, i);
      out[i] = { kind: 'cut' };
      try {
        const r = await post(base, pth, raw, API_KEY_HEADER);
        if (r.status === 200 && typeof r.body?.RequestID === 'string') {
          out[i] = { kind: 'accepted', id: r.body.RequestID };
          accepted += 1;
          if (!stopped && (await onAccepted(accepted))) stopped = true;
        } else {
          out[i] = { kind: 'refused', status: r.status };
        }
      } catch {
        // No answer: the connection died with the server.
        out[i] = { kind: 'cut' };
        stopped = true;
      }
    }
  }
  await Promise.all(Array.from({ length: p.lanes }, (_, l) => lane(l)));
  return out;
}

export async function pending(base: string): Promise<number> {
  let n = 0;
  for (const kind of ['create', 'createcustom']) {
    const r = await request(base, 'GET', `/activity/${kind}/metrics`, undefined, { noAuth: true, headers: API_KEY_HEADER });
    if (r.status !== 200) throw new Error(`metrics: ${r.status} ${r.text}`);
    n += r.body.PendingMessages as number;
  }
  return n;
}

export async function drained(base: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await pending(base)) > 0) {
    if (Date.now() > until) throw new Error('queue did not drain');
    await sleep(100);
  }
}
