/**
 * leadtrail's JSON logs on stdout when stdout does not take them (src/stdout-log.ts). pino's default
 * destination held every line not taken in memory without bound, ended the process at the first
 * write that failed otherwise than with EPIPE, and at exit wrote what it held synchronously,
 * retrying every 100 ms for as long as the write failed, without end:
 * - a reader that had stopped reading (a stalled log shipper): SIGTERM finished the stop, and the
 *   exit then hung in that loop with the event loop blocked (seen with strace) until a second
 *   SIGTERM killed it;
 * - stdout on a full disk (`> file`; here /dev/full, whose every write fails with ENOSPC): the first
 *   line ended the process, whose exit then hung in the same loop: a server that neither served
 *   nor exited.
 * Now at most STDOUT_BUFFER_MAX waits (further lines are dropped and counted in /metrics), a failed
 * write is not the process's error, and the exit gives stdout EXIT_FLUSH_MS for what still waits.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { EXIT_FLUSH_MS, STDOUT_BUFFER_MAX } from '../../src/stdout-log.js';
import { KEYS, tempDir } from '../helpers/server.js';
import { CLI, cleanEnv, freePort } from './cli-runner.js';

/** `leadtrail serve` with its stdout as given, and its exit (code, signal, when) once it comes. */
async function serveTo(stdout: 'pipe' | number, env: Record<string, string>) {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: cleanEnv({
      PORT: String(port),
      LEADTRAIL_DB: path.join(tempDir('leadtrail-stdout-'), 'leadtrail.db'),
      LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
      LEADTRAIL_SECRET_KEY: KEYS.secretKey,
      LEADTRAIL_RATE_LIMIT: '0',
      LEADTRAIL_LOG_FORMAT: 'json',
      ...env,
    }),
    stdio: ['ignore', stdout, 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { port, child, exited, stderr: () => stderr };
}

/** leadtrail_log_lines_dropped_total as the server at `port` reports it. */
async function droppedLines(port: number): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^leadtrail_log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1]);
}

/** Resolves with `exited`, or null if it has not come within `ms`. */
const within = <T>(exited: Promise<T>, ms: number) => Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]);

/** More than the connection to a stalled reader holds (the socket's buffers, the reader's own): a few hundred KB here. */
const MORE_THAN_STDOUT_HOLDS = 8 * 1024 * 1024;
/** What a failed write or a stuck exit would print (an uncaught error's stack). */
const WRITE_TROUBLE = /EAGAIN|ENOSPC|SonicBoom|^\s+at /m;

it('a stalled stdout reader: lines past STDOUT_BUFFER_MAX are dropped and counted, and SIGTERM ends the server with 0 after EXIT_FLUSH_MS', async () => {
  // A line a call with its URL: the calls below log more than the pipe and the buffer hold.
  const { port, child, exited, stderr } = await serveTo('pipe', { LEADTRAIL_LOG_LEVEL: 'debug' });
  const out = child.stdout!;
  try {
    // Read until it listens, then stop reading, as a stalled reader does: the pipe stays open.
    let early = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        early += d.toString();
        if (!early.includes('leadtrail listening')) return;
        out.off('data', onData);
        out.pause();
        resolve();
      };
      out.on('data', onData);
      void exited.then(({ code }) => reject(new Error(`serve exited with ${code} before listening:\n${stderr()}`)));
    });

    // Calls are still answered while the log lines pile up, each logged with its URL (a long one).
    let sent = 0;
    const url = `http://127.0.0.1:${port}/v2/LeadManagement.svc/LeadsMetaData.Get?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}&pad=${'x'.repeat(15_000)}`;
    let logged = 0;
    for (; logged < STDOUT_BUFFER_MAX + MORE_THAN_STDOUT_HOLDS; sent++, logged += url.length) {
      const r = await fetch(url);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    // The lines past the buffer were dropped, and /metrics says so.
    const dropped = await droppedLines(port);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(2 * sent);

    const stoppedAt = performance.now();
    child.kill('SIGTERM');
    const end = await within(exited, 20_000);
    expect(end, `the server did not exit within 20 s of SIGTERM (${sent} calls logged into a stalled stdout)`).not.toBeNull();
    expect(end).toMatchObject({ code: 0, signal: null });
    // It waited for stdout, and no longer than the bound (the stop itself takes well under a second here).
    const tookMs = end!.at - stoppedAt;
    expect(tookMs).toBeGreaterThanOrEqual(EXIT_FLUSH_MS - 50);
    expect(tookMs).toBeLessThan(EXIT_FLUSH_MS + 8_000);

    // The reader really had stalled: what the pipe held is there, the lines it could not take are
    // not (the stop's own among them), and nothing was printed about it.
    let rest = '';
    out.on('data', (d: Buffer) => (rest += d.toString()));
    out.resume();
    await new Promise((resolve) => out.once('end', resolve));
    expect(rest.length).toBeGreaterThan(16 * 1024);
    expect(rest.length).toBeLessThan(logged / 2);
    expect(rest).not.toContain('shutting down');
    expect(stderr()).not.toMatch(WRITE_TROUBLE);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}, 90_000);

/** Waits until the server `serveTo` started answers /health/ready (30 s at most), else fails naming its exit and stderr. */
async function untilServing({ port, child, stderr }: Awaited<ReturnType<typeof serveTo>>): Promise<void> {
  let up = false;
  for (const until = Date.now() + 30_000; !up && Date.now() < until && child.exitCode === null; ) {
    up = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  expect(up, `not serving (exit code ${child.exitCode}): ${stderr()}`).toBe(true);
}

/** Sends SIGTERM and expects an exit with code 0 within 20 s, with no write trouble on stderr. */
async function stopsWithZero({ child, exited, stderr }: Awaited<ReturnType<typeof serveTo>>): Promise<void> {
  child.kill('SIGTERM');
  const end = await within(exited, 20_000);
  expect(end, 'the server did not exit within 20 s of SIGTERM').not.toBeNull();
  expect(end).toMatchObject({ code: 0, signal: null });
  expect(stderr()).not.toMatch(WRITE_TROUBLE);
}

it('stdout on a full disk: the server serves, and SIGTERM ends it with 0', async () => {
  const full = fs.openSync('/dev/full', 'w');
  const server = await serveTo(full, { LEADTRAIL_LOG_LEVEL: 'debug' });
  const { port, child } = server;
  fs.closeSync(full);
  try {
    await untilServing(server);
    const created = await fetch(`http://127.0.0.1:${port}/v2/LeadManagement.svc/Lead.Create?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`, {
      method: 'POST',
      body: JSON.stringify([{ Attribute: 'EmailAddress', Value: 'full-disk@example.com' }]),
    });
    expect(created.status).toBe(200);
    // Each failed write's lines are dropped and counted, not held: the count goes on rising.
    const first = await droppedLines(port);
    expect(first).toBeGreaterThan(0);
    await expect.poll(() => droppedLines(port), { timeout: 10_000 }).toBeGreaterThan(first);
    await stopsWithZero(server);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}, 90_000);

it('a log reader that goes away (EPIPE): the server serves on, every line after is counted as dropped, and SIGTERM ends it with 0', async () => {
  const server = await serveTo('pipe', { LEADTRAIL_LOG_LEVEL: 'debug' });
  const { port, child } = server;
  try {
    // The first line (it is listening), then the reader closes its end.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy();
    await untilServing(server);
    let n = 0;
    const create = () =>
      fetch(`http://127.0.0.1:${port}/v2/LeadManagement.svc/Lead.Create?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`, {
        method: 'POST',
        body: JSON.stringify([{ Attribute: 'EmailAddress', Value: `no-reader-${++n}@example.com` }]),
      });
    expect((await create()).status).toBe(200);
    // Every call logs at debug: after the EPIPE its lines are counted (pino had made them vanish
    // uncounted), so the count goes on rising with the calls.
    await expect.poll(() => droppedLines(port), { timeout: 10_000 }).toBeGreaterThan(0);
    const first = await droppedLines(port);
    for (let i = 0; i < 5; i++) expect((await create()).status).toBe(200);
    expect(await droppedLines(port)).toBeGreaterThanOrEqual(first + 5);
    await stopsWithZero(server);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}, 90_000);

/** Runs `body` (ES module code, `log` being leadtrail's JSON logger on stdout) in a node process of its own. */
function withLogger(body: string) {
  const log = pathToFileURL(path.join(path.dirname(CLI), '..', 'log.js')).href;
  const script = `const { createLogger } = await import(${JSON.stringify(log)});\nconst log = createLogger('info', undefined, 'json');\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, out: () => out, err: () => err, closed };
}

/** The `i` of every line, sorted; throws on a line that is not JSON (one cut or written twice into another). */
const lineNumbers = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { i: number }).i)
    .sort((a, b) => a - b);

it('lines logged just before the process exits are all written out', async () => {
  const LINES = 5_000;
  const p = withLogger(`for (let i = 0; i < ${LINES}; i++) log.info({ i }, 'line');\nprocess.exit(0);`);
  expect(await p.closed, p.err()).toBe(0);
  expect(lineNumbers(p.out())).toEqual(Array.from({ length: LINES }, (_, i) => i));
}, 60_000);

it('a reader that stalls and reads again while the process exits gets every line, none cut', async () => {
  // More than stdout holds, then a pause: the writes run until stdout is full and the chunk being
  // written waits to be tried again (EAGAIN). The exit then finds it waiting, not in flight.
  const LINES = 20_000;
  const p = withLogger(
    `for (let i = 0; i < ${LINES}; i++) log.info({ i, pad: 'x'.repeat(100) }, 'line');\n` +
      `await new Promise((r) => setTimeout(r, 300));\n` +
      `process.prependListener('exit', () => process.stderr.write('exiting\\n'));\n` +
      `process.exit(0);`,
  );
  p.child.stdout.pause();
  // Once the process is in its exit, writing what waits against a full stdout, read again.
  await new Promise<void>((resolve) => p.child.stderr.on('data', () => p.err().includes('exiting') && resolve()));
  await new Promise((r) => setTimeout(r, 200));
  p.child.stdout.resume();
  expect(await p.closed, p.err()).toBe(0);
  expect(lineNumbers(p.out())).toEqual(Array.from({ length: LINES }, (_, i) => i));
}, 60_000);
