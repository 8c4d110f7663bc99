/**
 * `npm run bench` in its tiny form (`--smoke`: one round, about a second per scenario, a small
 * seed), on the engine of this vitest project: it must exit 0 (every call 2xx) and write a
 * well-formed result. Plus the two rules the numbers rest on: only 2xx answers count as throughput,
 * and `--compare` names what got slower.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { PG_BASE_URL, pgAvailable } from '../helpers/pg.js';
import { DEFAULT_WRITE_BATCHES } from '../../src/storage/postgres/postgres-store.js';

vi.setConfig({ testTimeout: 240_000 });

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN = path.join(ROOT, 'bench', 'run.mjs');
const ENGINE = process.env.LEADTRAIL_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
const WRITES = ['create-by-id', 'create-webhook-dead', 'create-webhook-live', 'create-beside-search', 'create-by-email', 'create-custom', 'async-accept', 'async-drain'];
const READS = ['status', 'get-by-id', 'get-by-email', 'retrieve-1m'];
/** The single reads run on PostgreSQL too; retrieve-1m on SQLite only. */
const PG_READS = ['status', 'get-by-id', 'get-by-email'];
/** Leads.Get and Leads.RecentlyModified over a million leads (bench/lib/lead-reads.mjs), on both engines. */
const LEAD_READS = ['leads-get-1m', 'leads-mod-1m'];
/** Console pages with the 1M-activity lead (bench/lib/console.mjs), SQLite only. */
const CONSOLE = ['console-lead', 'console-leads', 'console-async'];

// Plain .mjs modules: imported by URL so the typecheck takes them as they are.
const lib = async (name: string): Promise<any> => import(pathToFileURL(path.join(ROOT, 'bench', 'lib', name)).href);

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUN, ...args], { cwd: ROOT, env: { ...process.env, LEADTRAIL_BENCH_PG_URL: PG_BASE_URL }, timeout: 230_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

describe(`npm run bench -- --smoke --engine ${ENGINE}`, () => {
  it('runs every scenario of the engine without a failed call and writes a well-formed result', async (ctx) => {
    if (ENGINE === 'postgres' && !(await pgAvailable())) return ctx.skip();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-bench-smoke-'));
    ctx.onTestFinished(() => fs.rmSync(out, { recursive: true, force: true }));
    const prof = path.join(out, 'profiles');
    // A node flag for the servers under test (--node-option): a --require'd script that notes which
    // script each process that loads it runs (its main thread: worker threads may load it too).
    const marks = path.join(out, 'node-option-marks.txt');
    const marker = path.join(out, 'node-option-marker.cjs');
    fs.writeFileSync(marker, `if (require('node:worker_threads').isMainThread) require('node:fs').appendFileSync(${JSON.stringify(marks)}, process.argv[1] + '\\n');\n`);
    const r = await runBench(['--smoke', '--engine', ENGINE, '--out', out, '--profile', prof, '--server-env', 'LEADTRAIL_JOURNAL_MAX_BODY_BYTES=1kb', `--node-option=--require=${marker}`]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // Every server under test was started with it, leadtrail's and the baseline's, and only they.
    const started = fs.readFileSync(marks, 'utf8').trim().split('\n').map((f) => path.basename(f));
    expect(new Set(started)).toEqual(new Set(['main.js', 'baseline.mjs']));

    const files = fs.readdirSync(out).filter((f) => !['profiles', 'node-option-marks.txt', 'node-option-marker.cjs'].includes(f));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^${ENGINE}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const result = JSON.parse(fs.readFileSync(path.join(out, files[0]), 'utf8'));

    expect(result).toMatchObject({ version: 2, engine: ENGINE, rounds: 1, options: { smoke: true, connections: 16, serverEnv: { LEADTRAIL_JOURNAL_MAX_BODY_BYTES: '1kb' }, nodeOptions: [`--require=${marker}`] } });
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.baseline.rounds).toHaveLength(1);
    expect(result.baseline.summary.reqPerSec.median).toBeGreaterThan(0);
    const expected = ENGINE === 'sqlite' ? [...WRITES, ...READS, ...CONSOLE, ...LEAD_READS] : [...WRITES, ...PG_READS, ...LEAD_READS];
    expect(Object.keys(result.scenarios).sort()).toEqual([...expected].sort());
    for (const [id, s] of Object.entries<any>(result.scenarios)) {
      expect(s.rounds, id).toHaveLength(1);
      const [row] = s.rounds;
      expect(row.ok, id).toBeGreaterThan(0);
      expect(row.non2xx + row.errors, `${id}: ${JSON.stringify(row.statusCodes)}`).toBe(0);
      // Each scenario's ratio is against the baseline run beside it, answering leadtrail's own
      // answer (the drain, on a server of its own, against the round's); the round ratio is kept.
      expect(row.roundRatio, id).toBeCloseTo(row.reqPerSec / result.baseline.rounds[0].reqPerSec, 6);
      if (id === 'async-drain') expect(row.ratio, id).toBe(row.roundRatio);
      else {
        expect(row.ratioAgainst, id).toBe('same-answer');
        expect(row.baseline.reqPerSec, id).toBeGreaterThan(0);
        expect(row.baseline.non2xx + row.baseline.errors, id).toBe(0);
        expect(row.ratio, id).toBeCloseTo(row.reqPerSec / row.baseline.reqPerSec, 6);
      }
      expect(row.p99, id).toBeGreaterThanOrEqual(row.p50);
      expect(row.peakRssMB, id).toBeGreaterThan(10);
      // Server CPU per request, read from /proc (Linux, where this runs).
      if (process.platform === 'linux' && id !== 'async-drain') {
        expect(row.cpuMsPerRequest, id).toBeGreaterThan(0);
        // The event loop's share of it: part of the whole (its window lies inside the whole's; /proc
        // counts in 10 ms ticks, so allow one tick each way).
        expect(row.loopCpuMsPerRequest, id).toBeGreaterThan(0);
        expect(row.loopCpuMsPerRequest, id).toBeLessThanOrEqual(row.cpuMsPerRequest + 20 / row.total);
      }
      // Every sync write commits in a write batch of at least its own caller (from the server's /metrics).
      if (id.startsWith('create-')) expect(row.callersPerBatch, id).toBeGreaterThanOrEqual(1);
      // …and its batch held the writer for part of the window: at most all of it on SQLite's one
      // writer, at most the batches side by side of PostgreSQL's default (the bench passes the
      // server none of the caller's LEADTRAIL_ settings). A little over: a batch already running at
      // the first reading counts whole.
      if (id.startsWith('create-')) {
        expect(row.writerBusy, id).toBeGreaterThan(0);
        expect(row.writerBusy, id).toBeLessThanOrEqual(ENGINE === 'postgres' ? DEFAULT_WRITE_BATCHES + 0.05 : 1.05);
      }
      expect(row.max, id).toBeGreaterThanOrEqual(row.p99);
      for (const k of ['min', 'median', 'max']) expect(s.summary.ratio[k], `${id} ${k}`).toBeGreaterThan(0);
    }
    const drain = result.scenarios['async-drain'].rounds[0].drain;
    expect(drain.acceptedPerSec).toBeGreaterThan(0);
    expect(typeof drain.backlogGrew).toBe('boolean');
    if (ENGINE === 'sqlite') {
      expect(result.seed.retrieveActivities).toBe(2_000);
      // The baseline beside Retrieve answered its 25 activities, not a Create's few bytes.
      expect(result.scenarios['retrieve-1m'].rounds[0].baseline.answerBytes).toBeGreaterThan(20 * result.scenarios['create-by-id'].rounds[0].baseline.answerBytes);
    }
    // The heavy searches beside create-beside-search ran: some ended within the window (10,000 leads
    // in the smoke seed: tens of ms each), every one answered 200.
    const beside = result.scenarios['create-beside-search'].rounds[0];
    expect(beside.beside.failed).toBe(0);
    expect(beside.beside.count).toBeGreaterThan(0);
    expect(beside.beside.meanMs).toBeLessThan(beside.seconds * 1000);
    expect(r.stdout).toMatch(/create-beside-search round 1: \d+ heavy searches ended beside it/);
    const limits = result.machineLimit.summary.map((m: any) => `${m.store}/${m.rowsPerCommit}`);
    expect(limits).toEqual(expect.arrayContaining(['sqlite/1', 'sqlite/64', ...(ENGINE === 'postgres' ? ['postgres/1', 'postgres/64'] : [])]));
    expect(r.stdout).toContain('ratio median (min–max)');

    // --profile: the server's CPU profile is in the folder, and the report says where the time went
    // (leadtrail's own code among it; shares of self time, so they add up to at most 100%).
    expect(fs.readdirSync(path.join(prof, `${ENGINE}-main`)).some((f) => f.endsWith('.cpuprofile'))).toBe(true);
    const owners = result.profile.byOwner as { what: string; share: number }[];
    expect(owners.some((o) => o.what.startsWith('leadtrail '))).toBe(true);
    expect(owners.reduce((a, o) => a + o.share, 0)).toBeLessThanOrEqual(1.000001);
    expect(r.stdout).toContain(`CPU profile of the ${ENGINE} server, event loop`);
    // The event loop's profile is the one summarised (thread 0), not SQLite's writer thread's,
    // which is listed after it.
    expect(path.basename(result.profile.file).split('.')[4]).toBe('0');
    if (ENGINE === 'sqlite') expect(result.profile.threads.length).toBeGreaterThan(0);
  });

  it('--instructions counts instructions per call of leadtrail and the baseline, by thread, and --compare names what takes more', async (ctx) => {
    if (ENGINE === 'postgres' && !(await pgAvailable())) return ctx.skip();
    const { callgrindAvailable } = await lib('instructions.mjs');
    // valgrind is on every machine kind this project's CI runs on (as PostgreSQL is): under CI a
    // missing one fails the run; elsewhere the test skips.
    if (!callgrindAvailable()) {
      if (/^(1|true)$/i.test(process.env.CI ?? '')) throw new Error('valgrind (callgrind) is missing: CI must have it');
      return ctx.skip();
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-bench-instructions-'));
    ctx.onTestFinished(() => fs.rmSync(out, { recursive: true, force: true }));
    const scenarios = ENGINE === 'sqlite' ? ['create-by-id', 'get-by-id'] : ['create-by-id', 'async-accept'];
    // A saved result in which create-by-id took far fewer instructions: --compare must name it.
    const earlier = { mode: 'instructions', engine: ENGINE, startedAt: '2000-01-01T00:00:00.000Z', options: { smoke: false }, scenarios: { 'create-by-id': { perCall: { ownThreads: 1_000 } } } };
    fs.writeFileSync(path.join(out, `instructions-${ENGINE}-2000-01-01.json`), JSON.stringify(earlier));
    const r = await runBench(['--instructions', '--smoke', '--compare', '--engine', ENGINE, '--scenarios', scenarios.join(','), '--out', out]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/MORE INSTRUCTIONS: create-by-id \+\d/);
    const files = fs.readdirSync(out).filter((f) => !f.includes('2000-01-01'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^instructions-${ENGINE}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const result = JSON.parse(fs.readFileSync(path.join(out, files[0]), 'utf8'));
    expect(result).toMatchObject({ mode: 'instructions', engine: ENGINE, options: { calls: 100, windows: 2, warmCalls: 300, smoke: true, serverEnv: { LEADTRAIL_POLL_MS: '60000' } }, comparedWith: { more: [expect.stringMatching(/^create-by-id /)] } });
    expect(Object.keys(result.scenarios)).toEqual(scenarios);
    const median2 = (a: number, b: number) => (a + b) / 2;
    for (const [id, s] of Object.entries<any>(result.scenarios)) {
      expect([s.ok, s.non2xx, s.errors], id).toEqual([100, 0, 0]);
      expect(s.windows, id).toHaveLength(2);
      expect(s.baseline.ok, id).toBe(100);
      for (const w of s.windows) {
        expect(w.ok, id).toBe(50);
        // A call runs tens of thousands of instructions at the least, on the event loop above all.
        expect(w.perCall.withoutCompiler, id).toBeGreaterThan(20_000);
        expect(w.perCall.byKind['event loop'], id).toBeGreaterThan(10_000);
        expect(w.perCall.total, id).toBeCloseTo(w.perCall.withoutCompiler + w.perCall.compiler, 0);
        expect(w.perCall.total, id).toBeCloseTo(w.perCall.ownThreads + (w.perCall.byKind['V8 helper'] ?? 0), 0);
        // Every counted thread is named, and the window's figures are its threads' sums.
        expect(w.threads.every((t: any) => ['event loop', 'worker thread', 'V8 helper', 'other'].includes(t.kind)), id).toBe(true);
        expect(w.threads.reduce((a: number, t: any) => a + t.instructions, 0) / w.ok, id).toBeCloseTo(w.perCall.total, 0);
      }
      // V8's helper threads were told apart (the compiler still works on them after 300 calls).
      expect(s.windows.some((w: any) => w.perCall.byKind['V8 helper'] > 0 && w.perCall.compiler > 0), id).toBe(true);
      // async-accept's windows end once the worker has applied every accepted call.
      if (id === 'async-accept') for (const w of s.windows) expect(w.after, id).toMatchObject({ left: 0 });
      expect(s.undrainedWindows, id).toBeUndefined();
      // Each figure is the median of the windows' (two windows: their mean).
      expect(s.perCall.ownThreads, id).toBeCloseTo(median2(s.windows[0].perCall.ownThreads, s.windows[1].perCall.ownThreads), 6);
      expect(s.ownThreads.min, id).toBe(Math.min(...s.windows.map((w: any) => w.perCall.ownThreads)));
      expect(s.baseline.perCall.ownThreads, id).toBeGreaterThan(10_000);
      expect(s.ratio, id).toBeCloseTo(s.baseline.perCall.ownThreads / s.perCall.ownThreads, 9);
    }
    // On SQLite a Create is written by the writer's own thread, which the count includes.
    if (ENGINE === 'sqlite') expect(result.scenarios['create-by-id'].perCall.byKind['worker thread']).toBeGreaterThan(10_000);
  });
});

describe.runIf(ENGINE === 'sqlite')('what the numbers rest on', () => {
  it('counts only 2xx answers as throughput: a server answering 401 is not fast', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"Status":"Error","ExceptionType":"MXUnAuthorizedAccessException"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { load, get } = await lib('load.mjs');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await load(url, get({}, () => '/v2/LeadManagement.svc/Leads.GetById?id=x'), 1, 8);
      expect(r.total).toBeGreaterThan(0);
      expect(r.non2xx).toBe(r.total);
      expect(r.statusCodes['401']).toBe(r.total);
      expect(r.reqPerSec).toBe(0);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('docs/performance.md names every option and scenario that --help lists', async () => {
    const help = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [RUN, '--help'], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'performance.md'), 'utf8');
    const options = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    const scenarios = [...help.matchAll(/^ {2}([a-z][a-z0-9-]+) {2,}/gm)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(10);
    expect(scenarios).toEqual([...WRITES, ...READS, ...CONSOLE, ...LEAD_READS]);
    expect(options.filter((o) => !doc.includes(`\`${o}`))).toEqual([]);
    expect(scenarios.filter((id) => !doc.includes(`| \`${id}\` |`))).toEqual([]);
  });

  it('the baseline answers what it is told to, serialised afresh, and goes back to a Create answer', async () => {
    const { baseline } = await lib('serve.mjs');
    const { setBaselineAnswer } = await lib('load.mjs');
    const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-baseline-')), 'baseline.log');
    const b = await baseline(logFile);
    try {
      const answer = { RecordCount: 2, ProspectActivities: [{ Id: 'a', ActivityScore: 1 }, { Id: 'b', ActivityScore: 2 }] };
      await setBaselineAnswer(b.url, { contentType: 'application/json; charset=utf-8', body: JSON.stringify(answer, null, 2) });
      const r = await fetch(`${b.url}/v2/ProspectActivity.svc/Retrieve?leadId=x`, { method: 'POST', body: '{"Paging":{"Offset":0,"RowCount":25}}' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await r.text()).toBe(JSON.stringify(answer));
      await setBaselineAnswer(b.url, { contentType: 'text/html; charset=utf-8', body: '<p>page</p>' });
      expect(await (await fetch(`${b.url}/console/async`)).text()).toBe('<p>page</p>');
      await setBaselineAnswer(b.url, null);
      const c = await (await fetch(`${b.url}/v2/ProspectActivity.svc/Create`, { method: 'POST', body: '{"RelatedProspectId":"lead-1"}' })).json();
      expect(c).toMatchObject({ Status: 'Success', Message: { RelatedId: 'lead-1' } });
      expect(c.Message.Id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await b.stop();
      fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
    }
  });

  it('--compare takes a result saved before version 2 by its ratio to the round baseline', async () => {
    const { compare } = await lib('stats.mjs');
    const before = { scenarios: { 'retrieve-1m': { summary: { ratio: { median: 0.14 }, p99: { median: 90 }, peakRssMB: 240 } } } };
    const now = { version: 2, scenarios: { 'retrieve-1m': { summary: { ratio: { median: 0.25 }, roundRatio: { median: 0.12 }, p99: { median: 90 }, peakRssMB: 240 } } } };
    expect(compare(before, now, 0.1).slower).toEqual(['retrieve-1m ratio']);
    expect(compare({ ...now }, now, 0.1).slower).toEqual([]);
  });

  it('--compare names the scenarios whose median ratio, p99 or memory got worse past the threshold', async () => {
    const { compare } = await lib('stats.mjs');
    const summary = (ratio: number, p99: number, rss: number) => ({ summary: { ratio: { median: ratio }, p99: { median: p99 }, peakRssMB: rss } });
    const before = { scenarios: { 'create-by-id': summary(0.1, 40, 120), 'get-by-id': summary(0.4, 20, 120) } };
    const now = { scenarios: { 'create-by-id': summary(0.08, 41, 121), 'get-by-id': summary(0.42, 30, 120), status: summary(0.5, 10, 100) } };
    const c = compare(before, now, 0.1);
    expect(c.slower).toEqual(['create-by-id ratio', 'get-by-id p99 ms']);
    expect(c.lines.join('\n')).toMatch(/status: new/);
  });
});
