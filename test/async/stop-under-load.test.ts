/**
 * SIGTERM under load, against the built server run as users run it (`leadtrail serve`, and
 * `--role api`): 40 keep-alive clients, each with one connection it keeps open between calls, post
 * async accepts without pause while the process is told to stop. Every call must end in an answer
 * (200 with a RequestID, or the documented 503 with `Connection: close`) or in a connection that
 * failed while connecting, before anything was sent on it (refused: the listener is gone), which
 * clients retry safely. A call whose request was sent and then met a closed connection
 * ("other side closed", "socket hang up", ECONNRESET) is one whose fate the client cannot know, and
 * does not retry (a POST): a scale-out trial had 14 of those in 40 connections. Every accepted
 * request is in the database and in the request journal afterwards, and the process exits with 0
 * within a bound.
 *
 * One connection per client, not fetch's shared pool: that pool opens a new connection now and then
 * (60 for 40 clients in 3 s), and one that reaches the kernel in the instant the listener closes is
 * reset by the kernel before leadtrail could take it (CI saw two such resets while connecting with
 * fetch clients). That reset is the operating system's, documented in async.md ("Stopping"); what
 * this test holds leadtrail to is its own part, the connections it had taken.
 */
import http from 'node:http';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open-store.js';
import { KEYS, request, tempDir } from '../helpers/server.js';
import { freshSchema, schemaUrl, testSchemas } from '../helpers/pg.js';
import { ensureBuilt, spawnServer } from './crash-harness.js';
import { API_KEY_HEADER } from './helpers.js';

const CLIENTS = 40;
/** Accepts before the stop: every client has its connection open and is busy on it. */
const BEFORE_STOP = 400;
/** The grace (1 s by default) + requests in flight (accepts are held 1 s at most) + drain: well under it. */
const EXIT_WITHIN_MS = 10_000;

beforeAll(() => ensureBuilt(), 120_000);

/** One call's end, with the `ActivityNote` that names it (`client#call`). */
type Outcome = { note: string } & (
  | { kind: 'accepted'; id: string }
  | { kind: 'unavailable'; connection: string | null; retryAfter: string | null; type: unknown }
  /** The connection failed while connecting (`syscall: 'connect'`): nothing was sent. */
  | { kind: 'refused'; code: string }
  | { kind: 'other-status'; status: number; text: string }
  | { kind: 'failed'; code: string; message: string }
);

/** The store the test server used: its own SQLite file, or a fresh PostgreSQL schema in the postgres project. */
function where(): { env: Record<string, string>; open: () => ReturnType<typeof openStore>; dbPath: string } {
  const limits = { pgPoolSize: 2, statementTimeoutMs: 15_000, txTimeoutMs: 15_000 };
  const dbPath = path.join(tempDir('leadtrail-stop-'), 'leadtrail.db');
  if (process.env.LEADTRAIL_TEST_STORE === 'postgres') {
    const schema = freshSchema().name;
    testSchemas.add(schema);
    const url = schemaUrl(schema);
    return { env: { DATABASE_URL: url, LEADTRAIL_PG_POOL: '4' }, open: () => openStore({ databaseUrl: url, dbPath: '', ...limits }), dbPath };
  }
  return { env: {}, open: () => openStore({ databaseUrl: null as unknown as string, dbPath, ...limits }), dbPath };
}

async function stopUnderLoad(args: string[]) {
  const w = where();
  const server = await spawnServer(w.dbPath, args, w.env);
  const type = await request(server.url, 'POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: 'Stop under load', Score: 1 });
  expect(type.status, type.text).toBe(200);
  const code = type.body.Message.Id as number;
  const url = `${server.url}/activity/create?accessKey=${encodeURIComponent(KEYS.accessKey)}&secretKey=${encodeURIComponent(KEYS.secretKey)}`;

  const outcomes: Outcome[] = [];
  let accepted = 0;
  let exitedAfterMs: number | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    const t0 = performance.now();
    server.proc.kill('SIGTERM');
    return server.exited.then(() => {
      exitedAfterMs = performance.now() - t0;
    });
  };
  const deadline = Date.now() + 60_000;

  /** One call on the client's own connection: the answer, or the error and the system call it came from. */
  const post = (agent: http.Agent, body: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string } | { error: NodeJS.ErrnoException }>((resolve) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...API_KEY_HEADER } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      req.end(body);
    });

  async function client(c: number) {
    // Each client keeps one connection open and sends its calls on it, one after another, as a busy
    // keep-alive client does; it opens a new one only when the server closes it (after a 503).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; Date.now() < deadline; i++) {
        let outcome: Outcome;
        const note = `${c}#${i}`;
        const r = await post(agent, JSON.stringify({ EmailAddress: `client${c}@stop.example`, ActivityEvent: code, ActivityNote: note }));
        if ('error' in r) {
          // Failed while connecting: nothing was sent (Node writes a request once connected).
          outcome = r.error.syscall === 'connect' ? { note, kind: 'refused', code: r.error.code ?? '?' } : { note, kind: 'failed', code: r.error.code ?? '?', message: r.error.message };
        } else {
          const body = r.text ? JSON.parse(r.text) : undefined;
          if (r.status === 200 && typeof body?.RequestID === 'string') outcome = { note, kind: 'accepted', id: body.RequestID };
          else if (r.status === 503)
            outcome = { note, kind: 'unavailable', connection: r.headers.connection ?? null, retryAfter: (r.headers['retry-after'] as string | undefined) ?? null, type: body?.ExceptionType };
          else outcome = { note, kind: 'other-status', status: r.status, text: r.text };
        }
        outcomes.push(outcome);
        if (outcome.kind === 'accepted' && ++accepted === BEFORE_STOP) stopping ??= stop();
        // Refused: the listener is gone, as a client that retries elsewhere would find it.
        if (outcome.kind === 'refused' || outcome.kind === 'failed' || outcome.kind === 'other-status') return;
      }
    } finally {
      agent.destroy();
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  expect(stopping, `the clients stopped before the stop: ${JSON.stringify(outcomes.filter((o) => o.kind !== 'accepted').slice(0, 3))}`).not.toBeNull();
  await stopping;

  const count = (k: Outcome['kind']) => outcomes.filter((o) => o.kind === k).length;
  const tally = { accepted: count('accepted'), unavailable: count('unavailable'), refused: count('refused'), failed: count('failed'), otherStatus: count('other-status'), exitedAfterMs };
  console.log(`[stop-under-load] ${args.join(' ') || 'serve'}: ${JSON.stringify(tally)}`);

  // No call whose request was sent went unanswered, and nothing else came back.
  expect(outcomes.filter((o) => o.kind === 'failed' || o.kind === 'other-status')).toEqual([]);
  // The 503s are the documented one: the envelope, Retry-After: 1, Connection: close.
  for (const o of outcomes.filter((x) => x.kind === 'unavailable')) {
    expect(o).toEqual({ note: o.note, kind: 'unavailable', connection: 'close', retryAfter: '1', type: 'MXServiceUnavailableException' });
  }
  // Every client ended on a refused connection: it was never left hanging on an open one.
  expect(tally.refused).toBe(CLIENTS);
  expect(outcomes.filter((o) => o.kind === 'refused' && o.code !== 'ECONNREFUSED')).toEqual([]);
  expect(server.proc.exitCode).toBe(0);
  expect(exitedAfterMs).toBeLessThan(EXIT_WITHIN_MS);

  // Every accepted request is stored.
  const store = await w.open();
  try {
    const [account] = await store.accounts.list();
    const ids = outcomes.flatMap((o) => (o.kind === 'accepted' ? [o.id] : []));
    expect(ids.length).toBeGreaterThanOrEqual(BEFORE_STOP);
    const missing: string[] = [];
    for (const id of ids) if (!(await store.requests.get(account.id, id))) missing.push(id);
    expect(missing).toEqual([]);
    // Every accepted call is in the request journal (on by default), once, with its 200: a stop
    // writes the entries it still holds. The 503s of a stopping server are not (answered before
    // any keys are checked, as journal.md says).
    const entries = await store.journal.list(account.id, { limit: 100_000 });
    const journaled = new Map<string, number[]>();
    for (const e of entries) {
      const note = e.requestBody ? (JSON.parse(e.requestBody) as { ActivityNote?: string }).ActivityNote : undefined;
      if (note) journaled.set(note, [...(journaled.get(note) ?? []), e.status]);
    }
    const misjournaled = outcomes.filter((o) => journaled.get(o.note)?.join() !== (o.kind === 'accepted' ? '200' : undefined));
    expect(misjournaled.map((o) => ({ ...o, journaled: journaled.get(o.note) }))).toEqual([]);
  } finally {
    await store.close();
  }
}

describe('SIGTERM under keep-alive load: every call is answered or refused before it is sent', () => {
  it('leadtrail serve (API and worker)', () => stopUnderLoad([]), 90_000);
  it('leadtrail serve --role api', () => stopUnderLoad(['--role', 'api']), 90_000);
});
