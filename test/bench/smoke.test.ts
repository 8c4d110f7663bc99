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
    const r = await runBench(['--smoke', '--engine', ENGINE, '--out', out, '--profile', prof, '--server-env', 'LEADTRAIL_JOURNAL_MAX_BODY_BYTES=1kb']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

    const files = fs.readdirSync(out).filter((f) => f !== 'profiles');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^${ENGINE}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const result = JSON.parse(fs.readFileSync(path.join(out, files[0]), 'utf8'));

    expect(result).toMatchObject({ version: 2, engine: ENGINE, rounds: 1, options: { smoke: true, connections: 16, serverEnv: { LEADTRAIL_JOURNAL_MAX_BODY_BYTES: '1kb' } } });
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.baseline.rounds).toHaveLength(1);
    expect(result.baseline.summary.reqPerSec.median).toBeGreaterThan(0);
    const expected = ENGINE === 'sqlite' ? [...WRITES, ...READS, ...CONSOLE, ...LEAD_READS] : [...WRITES, ...LEAD_READS];
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
