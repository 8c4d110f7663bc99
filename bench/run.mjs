#!/usr/bin/env node
/**
 * `npm run bench`: every scenario of issue 11 against the built leadtrail, started as users start it
 * (`node dist/cli/main.js serve`, configured by environment, rate limit off), next to a bare
 * `node:http` baseline measured in the same rounds. Load comes from autocannon at 64 connections.
 * Each round runs the baseline, then every scenario; the ratio leadtrail / baseline of each round is
 * what to read, because client, server and database share a small, busy machine.
 *
 *   npm run build && npm run bench -- [--engine sqlite|postgres|both] [--scenarios a,b] [--rounds 3]
 *     [--duration 10] [--drain-duration 60] [--compare] [--out DIR] [--smoke] [--keep] [--profile DIR]
 *     [--node-option=FLAG] [--instructions [--calls 4000] [--warm-calls 10000] [--windows 4]]
 *
 * See docs/performance.md for what each scenario measures and how to read the result.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { get, load as loadWith, loadCalls, once, post, setBaselineAnswer } from './lib/load.mjs';
import { callgrindAvailable, callgrindWrapper, countDuring } from './lib/instructions.mjs';
import { baseline as startBaseline, CLI, serve } from './lib/serve.mjs';
import { cpuSeconds, loadAvg, loopCpuSeconds, machineInfo, postgresCommitRate, rssSampler, sqliteCommitRate } from './lib/machine.mjs';
import { activityType, client, cloneActivitiesPostgres, cloneActivitiesSqlite, LM, PA, seedLeads, seedRequests, waitDrained } from './lib/seed.mjs';
import { compare, lastSaved, render, spread } from './lib/stats.mjs';
import { CONSOLE_SCENARIOS, signInConsole } from './lib/console.mjs';
import { heavySearches, leadReadScenarios, seedLeadReads } from './lib/lead-reads.mjs';
import { benchWebhook } from './lib/webhooks.mjs';
import { profileArgs, renderProfile, summariseProfile } from './lib/profile.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const USAGE = `Usage: npm run bench -- [options]   (builds first; or node bench/run.mjs after npm run build)

  --engine sqlite|postgres|both   stores to measure (default both)
  --scenarios a,b                 scenarios to run (default all; see below)
  --rounds N                      interleaved rounds (default 3)
  --duration S                    seconds of load per scenario and round (default 10)
  --drain-duration S              seconds of the async-drain window (default 60)
  --warmup S                      seconds of unmeasured load per scenario before round 1 (default 2)
  --connections N                 autocannon connections (default 64; 16 with --smoke)
  --compare                       say what got slower than the last saved result
  --threshold F                   change that counts as slower for --compare (default 0.10)
  --out DIR                       where results go (default bench/results; with --smoke a temp dir)
  --log-level L                   the server's LEADTRAIL_LOG_LEVEL (default: unset, as users start it)
  --journal on|off                the server's LEADTRAIL_JOURNAL (default: unset, i.e. on)
  --server-env NAME=VALUE         a leadtrail setting for the server under test, e.g.
                                  LEADTRAIL_PG_PREPARED=false (repeatable; the caller's own
                                  LEADTRAIL_* variables are not passed on)
  --node-option=FLAG              a node flag for every server under test, leadtrail's and the
                                  baseline's (repeatable; written with '=', as the flag starts
                                  with '--'), e.g. --node-option=--no-concurrent-recompilation
  --pg-url URL                    PostgreSQL (default $LEADTRAIL_BENCH_PG_URL or postgres://postgres@127.0.0.1:5432/test)
  --smoke                         tiny run for CI: 1 round, ~3 s per scenario, small seed;
                                  exits non-zero if a scenario errored or got a non-2xx answer
  --keep                          keep the temp folder (SQLite files, server logs) and PG schemas
  --profile DIR                   write each engine's main server's CPU profile (node --cpu-prof) into
                                  DIR and report where its time went (run one scenario to see one)
  --instructions                  count instructions per call with valgrind's callgrind instead of
                                  timing load (leadtrail and the baseline each under callgrind):
                                  the same for the same code whatever the machine is doing
  --calls N                       with --instructions: calls counted per scenario, split evenly
                                  among the windows (default 4000; 100 with --smoke)
  --warm-calls N                  with --instructions: unmeasured calls before them (default 10000;
                                  300 with --smoke)
  --windows N                     with --instructions: the counted calls in N windows, each counted
                                  alone; figures are their medians (default 4; 2 with --smoke).
                                  The server's workers poll once a minute when idle
                                  (LEADTRAIL_POLL_MS=60000 unless --server-env sets it)

Scenarios: ${'{SCENARIOS}'}`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      engine: { type: 'string', default: 'both' },
      scenarios: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      'drain-duration': { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      compare: { type: 'boolean', default: false },
      threshold: { type: 'string', default: '0.10' },
      out: { type: 'string' },
      'log-level': { type: 'string' },
      journal: { type: 'string' },
      'server-env': { type: 'string', multiple: true },
      'node-option': { type: 'string', multiple: true },
      'pg-url': { type: 'string' },
      smoke: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      profile: { type: 'string' },
      instructions: { type: 'boolean', default: false },
      calls: { type: 'string' },
      'warm-calls': { type: 'string' },
      windows: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  process.stderr.write(`${e.message}\n\n${USAGE.replace('{SCENARIOS}', '')}\n`);
  process.exit(2);
}

const SMOKE = parsed.smoke;
const num = (name, raw, min) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`--${name} must be a number ≥ ${min}, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
};
/** A count: a whole number ≥ min. */
const whole = (name, raw, min) => {
  const n = num(name, raw, min);
  if (!Number.isInteger(n)) {
    process.stderr.write(`--${name} must be a whole number, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
};
/** `--server-env NAME=VALUE` pairs: leadtrail settings for the server under test (to compare two settings). */
function serverEnv(pairs) {
  const out = {};
  for (const p of pairs) {
    const m = /^(LEADTRAIL_[A-Z0-9_]+)=(.*)$/.exec(p);
    if (!m) {
      process.stderr.write(`--server-env takes LEADTRAIL_NAME=value, got "${p}"\n`);
      process.exit(2);
    }
    out[m[1]] = m[2];
  }
  return out;
}
/** `--node-option=FLAG` values: node flags (each starts with `-`) for every server under test. */
function nodeOptions(flags) {
  for (const f of flags) {
    if (!f.startsWith('-')) {
      process.stderr.write(`--node-option takes a node flag such as --no-concurrent-recompilation, got "${f}"\n`);
      process.exit(2);
    }
  }
  return flags;
}
const OPTS = {
  rounds: num('rounds', parsed.rounds ?? (SMOKE ? '1' : '3'), 1),
  duration: num('duration', parsed.duration ?? (SMOKE ? '3' : '10'), 1),
  drainDuration: num('drain-duration', parsed['drain-duration'] ?? (SMOKE ? '2' : '60'), 1),
  warmup: num('warmup', parsed.warmup ?? (SMOKE ? '0' : '2'), 0),
  // The smoke checks that every scenario runs and answers 2xx, not speed: at 64 connections a
  // PostgreSQL write round can stall for seconds on a busy machine (see docs/performance.md).
  connections: num('connections', parsed.connections ?? (SMOKE ? '16' : '64'), 1),
  threshold: num('threshold', parsed.threshold, 0),
  smoke: SMOKE,
  logLevel: parsed['log-level'] ?? null,
  journal: parsed.journal ?? null,
  serverEnv: {
    // Counted under callgrind, the workers' 250 ms idle polls come some fifty times as often per
    // call as natively, and each one in flight makes the journal build its entries on the event loop:
    // read counts swung by a sixth between runs of the same code (docs/performance.md, thirtieth
    // session). Workers are woken on accept, so a poll only finds what nothing woke them for.
    // A --server-env LEADTRAIL_POLL_MS wins; the result's options record what was used.
    ...(parsed.instructions ? { LEADTRAIL_POLL_MS: '60000' } : {}),
    ...serverEnv(parsed['server-env'] ?? []),
  },
  nodeOptions: nodeOptions(parsed['node-option'] ?? []),
  seed: SMOKE ? { leads: 50, requests: 50, retrieveActivities: 2_000 } : { leads: 500, requests: 500, retrieveActivities: 1_000_000 },
  drainEmails: SMOKE ? 50 : 1_000,
  // Under callgrind (--instructions) the worker applies a backlog some fifty times slower.
  drainTimeoutMs: parsed.instructions ? 900_000 : SMOKE ? 15_000 : 120_000,
  machineSeconds: SMOKE ? 0.3 : 2,
  instructions: parsed.instructions,
  calls: whole('calls', parsed.calls ?? (SMOKE ? '100' : '4000'), 1),
  windows: whole('windows', parsed.windows ?? (SMOKE ? '2' : '4'), 1),
  warmCalls: whole('warm-calls', parsed['warm-calls'] ?? (SMOKE ? '300' : '10000'), 0),
};
// Under callgrind a server runs some fifty times slower: a smaller seed, the same for every run.
if (OPTS.instructions && !SMOKE) Object.assign(OPTS.seed, { leads: 300, requests: 300 });
const PROFILE_DIR = parsed.profile ? path.resolve(parsed.profile) : null;
const PG_URL = parsed['pg-url'] ?? process.env.LEADTRAIL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const KEYS = { accessKey: 'bench-access-key', secretKey: 'bench-secret-key', apiKey: 'bench-api-key' };
const SYNC_HEADERS = { 'x-lsq-accesskey': KEYS.accessKey, 'x-lsq-secretkey': KEYS.secretKey, 'content-type': 'application/json' };
const ASYNC_HEADERS = { ...SYNC_HEADERS, 'x-api-key': KEYS.apiKey };
const READ_HEADERS = { 'x-lsq-accesskey': KEYS.accessKey, 'x-lsq-secretkey': KEYS.secretKey };
const STATUS_HEADERS = { 'x-api-key': KEYS.apiKey };

/** A counter shared by every autocannon connection, so bodies differ from request to request. */
let seq = 0;
const runTag = randomBytes(3).toString('hex');

/** Autocannon's request for sync Create by RelatedProspectId, each call on the next seeded lead. */
const createById = (ctx) => post(`${PA}/Create`, SYNC_HEADERS, () => {
  const i = seq++;
  return { RelatedProspectId: ctx.leads[i % ctx.leads.length].id, ActivityEvent: ctx.code, ActivityNote: `bench ${i}` };
});

/**
 * The scenarios. `engines`: where each runs (every write scenario, the single reads and the lead
 * reads over a million leads on both; retrieve-1m and the console pages on SQLite only).
 * `request(ctx)` returns autocannon's request for one call; `measure` replaces the plain load run.
 */
const SCENARIOS = [
  {
    id: 'create-by-id',
    title: 'sync ProspectActivity.svc/Create by RelatedProspectId (existing leads)',
    engines: ['sqlite', 'postgres'],
    request: createById,
  },
  {
    id: 'create-webhook-dead',
    title: 'sync Create by id while a webhook on every activity posts to a receiver that never answers',
    engines: ['sqlite', 'postgres'],
    // Compare with create-by-id: the webhook costs an outbox row per write, and its dead receiver
    // must cost the API nothing more (issue 14).
    setup: async (ctx) => benchWebhook(ctx.api),
    request: createById,
  },
  {
    id: 'create-webhook-live',
    title: 'sync Create by id while a webhook on every activity posts to a receiver that answers 200 at once',
    engines: ['sqlite', 'postgres'],
    // The same outbox rows as create-webhook-dead, every one delivered: what a dead receiver is compared with.
    setup: async (ctx) => benchWebhook(ctx.api, true),
    request: createById,
  },
  {
    id: 'create-beside-search',
    title: 'create-by-id while heavy searches (quick search, Leads.Get LIKE) read the million-lead account one after another',
    engines: ['sqlite', 'postgres'],
    // A search must not hold the server (nineteenth session): the Creates' longest wait shows one
    // that does. The searches run during leadtrail's window only, not the baseline's beside it.
    during: (ctx) => heavySearches(ctx.server.url, READ_HEADERS),
    request: createById,
  },
  {
    id: 'create-by-email',
    title: 'sync Create by EmailAddress, every other call a new lead',
    engines: ['sqlite', 'postgres'],
    request: (ctx) => post(`${PA}/Create`, SYNC_HEADERS, () => {
      const i = seq++;
      const email = i % 2 === 0 ? ctx.leads[(i / 2) % ctx.leads.length].email : `new-${runTag}-${i}@bench.example`;
      return { EmailAddress: email, FirstName: `Bench${i}`, ActivityEvent: ctx.code, ActivityNote: `bench ${i}` };
    }),
  },
  {
    id: 'create-custom',
    title: 'sync CreateCustom with SearchBy EmailAddress (lead update + activity)',
    engines: ['sqlite', 'postgres'],
    request: (ctx) => post(`${PA}/CreateCustom`, SYNC_HEADERS, () => {
      const i = seq++;
      const lead = ctx.leads[i % ctx.leads.length];
      return {
        LeadDetails: [
          { Attribute: 'EmailAddress', Value: lead.email },
          { Attribute: 'FirstName', Value: `Custom${i}` },
          { Attribute: 'SearchBy', Value: 'EmailAddress' },
        ],
        Activity: { ActivityEvent: ctx.code, ActivityNote: `bench ${i}` },
      };
    }),
  },
  {
    id: 'async-accept',
    title: 'async POST /activity/create accepted (worker running); the backlog is then waited out',
    engines: ['sqlite', 'postgres'],
    request: (ctx) => post('/activity/create', ASYNC_HEADERS, () => {
      const i = seq++;
      return { EmailAddress: ctx.leads[i % ctx.leads.length].email, ActivityEvent: ctx.code, ActivityNote: `bench ${i}` };
    }),
    after: async (ctx, row) => {
      const backlog = await ctx.api.pending();
      row.drainAfter = { backlog, ...(await waitDrained(ctx.api, OPTS.drainTimeoutMs)) };
    },
  },
  {
    id: 'async-drain',
    title: 'async accepted → Success per second over the drain window, fresh server, worker running',
    engines: ['sqlite', 'postgres'],
    measure: true, // drainScenario()
  },
  {
    id: 'status',
    title: 'async GET /activity/status of finished requests',
    engines: ['sqlite', 'postgres'],
    request: (ctx) => get(STATUS_HEADERS, () => `/activity/status?RequestID=${ctx.requestIds[seq++ % ctx.requestIds.length]}`),
  },
  {
    id: 'get-by-id',
    title: 'LeadManagement.svc/Leads.GetById',
    engines: ['sqlite', 'postgres'],
    request: (ctx) => get(READ_HEADERS, () => `${LM}/Leads.GetById?id=${ctx.leads[seq++ % ctx.leads.length].id}`),
  },
  {
    id: 'get-by-email',
    title: 'LeadManagement.svc/Leads.GetByEmailaddress',
    engines: ['sqlite', 'postgres'],
    request: (ctx) => get(READ_HEADERS, () => `${LM}/Leads.GetByEmailaddress?emailaddress=${encodeURIComponent(ctx.leads[seq++ % ctx.leads.length].email)}`),
  },
  {
    id: 'retrieve-1m',
    title: 'ProspectActivity.svc/Retrieve, first 25, of one lead with 1 million activities',
    engines: ['sqlite'],
    // Today one call takes ~0.2 s of the server's one thread, so 64 calls in flight answer after
    // ~10 s each: a 10 s window would see none finish. Give it a window where most do.
    minSeconds: 30,
    request: (ctx) => ({ method: 'POST', path: `${PA}/Retrieve?leadId=${ctx.retrieveLeadId}`, headers: SYNC_HEADERS, body: JSON.stringify({ Paging: { Offset: 0, RowCount: 25 } }) }),
  },
  ...CONSOLE_SCENARIOS,
];
SCENARIOS.push(...leadReadScenarios(SYNC_HEADERS));

if (parsed.help) {
  process.stdout.write(`${USAGE.replace('{SCENARIOS}', `\n${SCENARIOS.map((s) => `  ${s.id.padEnd(Math.max(...SCENARIOS.map((x) => x.id.length)) + 1)} ${s.title} [${s.engines.join(', ')}]`).join('\n')}`)}\n`);
  process.exit(0);
}

const load = (url, request, seconds) => loadWith(url, request, seconds, OPTS.connections);

/**
 * autocannon stops at the end of its window and drops the calls still in flight, but the server
 * goes on with them. Wait until /health answers quickly twice in a row (at most 60 s) so that one
 * scenario's leftovers do not slow the next; returns the seconds waited.
 */
async function settle(url) {
  const t0 = performance.now();
  let quick = 0;
  while (quick < 2 && performance.now() - t0 < 60_000) {
    const t = performance.now();
    await fetch(`${url}/health`).then((r) => r.arrayBuffer()).catch(() => {});
    quick = performance.now() - t < 50 ? quick + 1 : 0;
    if (quick < 2) await new Promise((r) => setTimeout(r, 20));
  }
  return (performance.now() - t0) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Storage and servers

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-bench-'));
const schemas = [];
const startFailures = [];
const children = new Set();

function freshStorage(engine, label) {
  if (engine === 'sqlite') {
    const file = path.join(tmp, `${label}.db`);
    return { env: { LEADTRAIL_DB: file }, file };
  }
  const schema = `lt_bench_${runTag}_${label.replace(/[^a-z0-9_]/gi, '_')}`.slice(0, 63);
  schemas.push(schema);
  return { env: { DATABASE_URL: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}` }, schema };
}

async function startServer(storage, label, wrapper = []) {
  // The caller's environment minus anything that would reconfigure the server under test.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEADTRAIL_') && !['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL'].includes(k)));
  const env = {
    ...inherited,
    ...storage.env,
    LEADTRAIL_RATE_LIMIT: '0',
    LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
    LEADTRAIL_SECRET_KEY: KEYS.secretKey,
    LEADTRAIL_API_KEY: KEYS.apiKey,
    ...(OPTS.logLevel ? { LEADTRAIL_LOG_LEVEL: OPTS.logLevel } : {}),
    ...(OPTS.journal ? { LEADTRAIL_JOURNAL: OPTS.journal } : {}),
    ...OPTS.serverEnv,
  };
  // The long-lived server of each engine writes its CPU profile when it stops.
  const nodeArgs = [...OPTS.nodeOptions, ...(PROFILE_DIR && label.endsWith('-main') ? profileArgs(path.join(PROFILE_DIR, label)) : [])];
  // One retry: a start can fail for reasons outside the server under test (on a PostgreSQL shared
  // with other engineers' tests, a schema dropped mid-migration has been seen to fail one). Each
  // failure is logged and counted in the result.
  for (let attempt = 1; ; attempt++) {
    try {
      const s = await serve(env, path.join(tmp, `${label}${attempt > 1 ? `-${attempt}` : ''}.log`), [], nodeArgs, wrapper);
      children.add(s);
      // Listening comes before serving (the server answers 503 until it is ready): seconds apart
      // under a wrapper such as valgrind.
      if (wrapper.length) await untilReady(s.url).catch(async (e) => {
        await stopServer(s);
        throw e;
      });
      return s;
    } catch (e) {
      startFailures.push({ label, attempt, error: String(e.message).slice(0, 500) });
      log(`${label}: the server did not start (attempt ${attempt}): ${e.message.split('\n').slice(0, 3).join(' | ')}`);
      if (attempt >= 2) throw e;
    }
  }
}

/** Waits (at most 10 minutes) until `url`/health/ready answers 200. */
async function untilReady(url) {
  for (const t0 = performance.now(); performance.now() - t0 < 600_000; ) {
    if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not become ready within 10 minutes`);
}

async function stopServer(s) {
  await s.stop();
  children.delete(s);
}

async function dropSchemas(names) {
  if (names.length === 0) return;
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    for (const n of names) await c.query(`DROP SCHEMA IF EXISTS "${n}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** The long-lived server of one engine, seeded for the read scenarios. */
async function setupEngine(engine, wanted, wrapper = []) {
  const storage = freshStorage(engine, `${engine}-main`);
  const t0 = performance.now();
  const server = await startServer(storage, `${engine}-main`, wrapper);
  const seconds = { serverStart: (performance.now() - t0) / 1000 };
  const api = client(server.url, KEYS);
  let t = performance.now();
  const code = await activityType(api);
  const leads = await seedLeads(api, code, OPTS.seed.leads);
  seconds.leads = (performance.now() - t) / 1000;
  let requestIds = [];
  if (wanted.has('status')) {
    t = performance.now();
    requestIds = await seedRequests(api, code, OPTS.seed.requests, leads);
    seconds.asyncRequests = (performance.now() - t) / 1000;
  }
  let retrieveLeadId = null;
  let retrieveActivities = 0;
  let retrieveLoneMs = null;
  if (wanted.has('retrieve-1m')) {
    t = performance.now();
    const first = await api.call('POST', `${PA}/Create`, { EmailAddress: 'retrieve@bench.example', ActivityEvent: code, ActivityNote: 'the template' });
    retrieveLeadId = first.Message.RelatedId;
    const copies = OPTS.seed.retrieveActivities - 1;
    if (engine === 'sqlite') await cloneActivitiesSqlite(storage.file, first.Message.Id, copies);
    else await cloneActivitiesPostgres(PG_URL, storage.schema, first.Message.Id, copies);
    seconds.retrieveActivities = (performance.now() - t) / 1000;
    // One call at a time, for the record: what a lone client waits for one page.
    const lone = [];
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      const check = await api.call('POST', `${PA}/Retrieve?leadId=${retrieveLeadId}`, { Paging: { Offset: 0, RowCount: 25 } });
      lone.push(performance.now() - t1);
      if (check.RecordCount !== OPTS.seed.retrieveActivities) throw new Error(`seed: the Retrieve lead has ${check.RecordCount} activities, expected ${OPTS.seed.retrieveActivities}`);
      retrieveActivities = check.RecordCount;
    }
    retrieveLoneMs = lone.sort((a, b) => a - b)[1];
  }
  if ([...wanted].some((id) => id.startsWith('console-'))) await signInConsole(server, KEYS);
  const { leadReads } = await seedLeadReads({ engine, storage, api, pgUrl: PG_URL, wanted, smoke: SMOKE, seconds });
  return { engine, storage, server, api, code, leads, requestIds, retrieveLeadId, leadReads, seed: { leads: leads.length, requests: requestIds.length, retrieveActivities, retrieveLoneMs, leadReads: leadReads && { leads: leadReads.n, loneMs: leadReads.lone }, seconds } };
}

/** Accept for `seconds` on a fresh server with its worker running; watch the backlog each second. */
async function drainScenario(engine, seconds, round) {
  const storage = freshStorage(engine, `${engine}-drain-${round}`);
  const server = await startServer(storage, `${engine}-drain-${round}`);
  try {
    const api = client(server.url, KEYS);
    const code = await activityType(api);
    const emails = OPTS.drainEmails;
    const samples = [];
    const t0 = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ t: (performance.now() - t0) / 1000, pending: await api.pending() });
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const rss = rssSampler([server.pid]);
    const la0 = loadAvg();
    const cpu0 = cpuSeconds(server.pid);
    const res = await load(
      server.url,
      post('/activity/create', ASYNC_HEADERS, () => {
        const i = seq++;
        return { EmailAddress: `drain${i % emails}@bench.example`, FirstName: `Drain${i % emails}`, ActivityEvent: code, ActivityNote: `drain ${i}` };
      }),
      seconds,
    );
    const pendingAtEnd = await api.pending();
    sampling = false;
    await sampler;
    const peak = rss.stop()[server.pid];
    samples.push({ t: (performance.now() - t0) / 1000, pending: pendingAtEnd });
    // Backlog trend: least-squares slope of pending over the last two thirds of the window (the
    // first third is the queue filling up to whatever level it settles at).
    const tail = samples.filter((s) => s.t >= seconds / 3);
    const slope = slopeOf(tail.length >= 2 ? tail : samples);
    const acceptedPerSec = res.reqPerSec;
    const succeededPerSec = (res.ok - pendingAtEnd) / res.seconds;
    // Then accepts stop: how fast does the worker empty the backlog alone (at most half the window)?
    const alone = await waitDrained(api, Math.min(30, seconds / 2) * 1000);
    const drainAlonePerSec = alone.seconds > 0 ? (pendingAtEnd - alone.left) / alone.seconds : null;
    return {
      ...res,
      loadAvg: [la0, loadAvg()],
      peakRssMB: peak,
      // Server CPU from the window's start until the backlog emptied (or the wait ended), per request
      // finished by then: what accepting and applying one request cost, whoever did it when.
      cpuMsPerRequest: cpuPerRequest(cpu0, cpuSeconds(server.pid), res.ok - alone.left),
      drain: {
        acceptedPerSec,
        succeededPerSec,
        pendingAtStart: 0,
        pendingAtEnd,
        backlogSlopePerSec: slope,
        backlogGrew: slope > Math.max(5, 0.02 * acceptedPerSec),
        afterWindow: { seconds: alone.seconds, left: alone.left, drainAlonePerSec },
        samples: samples.map((s) => [Math.round(s.t * 10) / 10, s.pending]),
      },
    };
  } finally {
    await stopServer(server);
    if (storage.file && !parsed.keep) for (const f of [storage.file, `${storage.file}-wal`, `${storage.file}-shm`]) fs.rmSync(f, { force: true });
    if (storage.schema && !parsed.keep) await dropSchemas([storage.schema]).catch(() => {});
  }
}

/**
 * The server's write batches so far, the callers they held and the seconds they held the writer
 * (its /metrics), with when they were read (performance.now(), ms); null if unreadable.
 */
async function writeBatches(url) {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const at = performance.now();
    const sum = (name) => text.split('\n').filter((l) => l.startsWith(name)).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return { batches: sum('leadtrail_db_write_batches_total'), callers: sum('leadtrail_db_write_batch_callers_total'), busySeconds: sum('leadtrail_db_write_busy_seconds_total'), at };
  } catch {
    return null;
  }
}

/**
 * How busy the writer was between two `writeBatches` readings: seconds batches held it per second
 * (0–1 on SQLite's one writer; up to LEADTRAIL_PG_WRITE_BATCHES on PostgreSQL), or null.
 */
function writerBusy(before, after) {
  if (!before || !after || after.at <= before.at) return null;
  return (after.busySeconds - before.busySeconds) / ((after.at - before.at) / 1000);
}

/** Callers per write batch between two `writeBatches` readings (null without batches). */
function perBatch(before, after) {
  if (!before || !after || after.batches === before.batches) return null;
  return (after.callers - before.callers) / (after.batches - before.batches);
}

/**
 * Server CPU milliseconds per request answered in a load window (the server process only: not the
 * load generator, nor PostgreSQL's own processes). Includes whatever else the process did meanwhile
 * (the async worker applying accepted requests).
 */
function cpuPerRequest(before, after, requests) {
  return before === null || after === null || !requests ? null : ((after - before) * 1000) / requests;
}

function slopeOf(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.pending, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.pending - my);
    den += (p.t - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

// ---------------------------------------------------------------------------------------------
// The run

const engines = parsed.engine === 'both' ? ['sqlite', 'postgres'] : [parsed.engine];
if (!engines.every((e) => e === 'sqlite' || e === 'postgres')) {
  process.stderr.write(`--engine must be sqlite, postgres or both, got "${parsed.engine}"\n`);
  process.exit(2);
}
const wantedIds = parsed.scenarios ? parsed.scenarios.split(',').map((s) => s.trim()).filter(Boolean) : SCENARIOS.map((s) => s.id);
const unknown = wantedIds.filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}\n`);
  process.exit(2);
}
if (!fs.existsSync(CLI)) {
  process.stderr.write('dist/ is missing: run `npm run build` first\n');
  process.exit(2);
}
const outDir = path.resolve(parsed.out ?? (SMOKE ? path.join(tmp, 'results') : path.join(HERE, 'results')));
const log = (m) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

let cleanedUp = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const s of [...children]) await s.stop().catch(() => {});
  if (!parsed.keep) {
    await dropSchemas(schemas).catch((e) => log(`could not drop schemas ${schemas.join(', ')}: ${e.message}`));
    // Keep the smoke results when they were written into the temp folder, so a caller can read them.
    for (const f of fs.readdirSync(tmp)) if (path.join(tmp, f) !== outDir) fs.rmSync(path.join(tmp, f), { recursive: true, force: true });
    if (!fs.existsSync(outDir) || !outDir.startsWith(tmp)) fs.rmSync(tmp, { recursive: true, force: true });
  } else log(`kept ${tmp}${schemas.length ? ` and schemas ${schemas.join(', ')}` : ''}`);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

async function main() {
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = machineInfo();
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a checkout */
  }
  log(`${engines.join(' + ')}: ${OPTS.rounds} round(s) × ${OPTS.duration} s, drain ${OPTS.drainDuration} s, ${OPTS.connections} connections; temp ${tmp}`);

  const base = await startBaseline(path.join(tmp, 'baseline.log'), [], OPTS.nodeOptions);
  children.add(base);
  const setups = {};
  for (const engine of engines) {
    const here = new Set(wantedIds.filter((id) => SCENARIOS.find((s) => s.id === id).engines.includes(engine)));
    log(`${engine}: starting and seeding (${OPTS.seed.leads} leads${here.has('status') ? `, ${OPTS.seed.requests} async requests` : ''}${here.has('retrieve-1m') ? `, ${OPTS.seed.retrieveActivities.toLocaleString('en-US')} activities on one lead` : ''})`);
    const st = await setupEngine(engine, here);
    st.scenarios = SCENARIOS.filter((s) => here.has(s.id));
    setups[engine] = st;
    log(`${engine}: seeded in ${Object.entries(st.seed.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  }

  const rows = Object.fromEntries(engines.map((e) => [e, { baseline: [], machine: [], scenarios: {} }]));
  const runOne = async (url, request, seconds) => load(url, request, seconds);

  for (let round = 1; round <= OPTS.rounds; round++) {
    for (const engine of engines) {
      const st = setups[engine];
      const R = rows[engine];
      // The machine's own limit, measured in every round, next to the scenarios it bounds.
      R.machine.push({ round, ...(await sqliteCommitRate(tmp, 1, OPTS.machineSeconds)) });
      R.machine.push({ round, ...(await sqliteCommitRate(tmp, 64, OPTS.machineSeconds)) });
      if (engine === 'postgres') {
        R.machine.push({ round, ...(await postgresCommitRate(PG_URL, `lt_bench_${runTag}_commits`, 1, OPTS.machineSeconds)) });
        R.machine.push({ round, ...(await postgresCommitRate(PG_URL, `lt_bench_${runTag}_commits`, 64, OPTS.machineSeconds)) });
      }
      // The round's own baseline: a Create's answer to a Create's call (what every ratio was
      // measured against before 2 Dec 2026; now each scenario's ratio is against a baseline run
      // next to it that answers what leadtrail answered, and this one is reported beside it).
      await setBaselineAnswer(base.url, null);
      const baselineRequest = post('/v2/ProspectActivity.svc/Create', SYNC_HEADERS, () => ({ RelatedProspectId: st.leads[seq++ % st.leads.length].id, ActivityEvent: st.code, ActivityNote: `bench ${seq}` }));
      if (round === 1 && OPTS.warmup > 0) await runOne(base.url, baselineRequest, OPTS.warmup);
      const la0 = loadAvg();
      const bcpu0 = cpuSeconds(base.pid);
      const b = await runOne(base.url, baselineRequest, OPTS.duration);
      R.baseline.push({ round, ...b, loadAvg: [la0, loadAvg()], cpuMsPerRequest: cpuPerRequest(bcpu0, cpuSeconds(base.pid), b.total) });
      log(`${engine} round ${round}: baseline ${b.reqPerSec.toFixed(0)} req/s, p99 ${b.p99} ms`);
      for (const sc of st.scenarios) {
        let row;
        const la0 = loadAvg();
        try {
          row = await measureScenario(st, sc, engine, round);
        } catch (e) {
          // One broken round must not lose the whole run: record it as a failed round and go on.
          log(`${engine} round ${round}: ${sc.id} FAILED: ${e.stack ?? e}`);
          row = { error: String(e.message).slice(0, 1000), reqPerSec: 0, total: 0, ok: 0, non2xx: 0, errors: 1, timeouts: 0, statusCodes: {}, p50: null, p99: null, peakRssMB: null, loadAvg: [la0, loadAvg()] };
        }
        const roundRatio = row.reqPerSec / b.reqPerSec;
        row = row.baseline ? { round, ...row, roundRatio } : { round, ...row, ratio: roundRatio, roundRatio, ratioAgainst: 'round' };
        (R.scenarios[sc.id] ??= []).push(row);
        if (row.error) continue;
        const bad = row.non2xx + row.errors; // autocannon counts timeouts among errors
        log(
          `${engine} round ${round}: ${sc.id} ${row.reqPerSec.toFixed(0)} req/s, ratio ${row.ratio.toFixed(3)}${row.baseline ? ` (baseline beside it ${row.baseline.reqPerSec.toFixed(0)} req/s; to the round's ${roundRatio.toFixed(3)})` : ''}, p50 ${row.p50} / p99 ${row.p99} ms, RSS ${row.peakRssMB?.toFixed(0)} MB` +
            (bad ? `, ${row.non2xx} non-2xx (${JSON.stringify(row.statusCodes)}), ${row.errors} errors, ${row.timeouts} timeouts !!` : '') +
            (row.drain ? `, Success ${row.drain.succeededPerSec.toFixed(0)}/s, backlog → ${row.drain.pendingAtEnd} (${row.drain.backlogSlopePerSec.toFixed(1)}/s); then alone ${row.drain.afterWindow.drainAlonePerSec?.toFixed(0) ?? '-'}/s` : '') +
            (row.drainAfter ? `, backlog ${row.drainAfter.backlog} emptied in ${row.drainAfter.seconds.toFixed(1)} s` : ''),
        );
      }
    }
  }

  /** One scenario, one round: its load run, or the drain scenario on its own server. */
  async function measureScenario(st, sc, engine, round) {
    let row;
    if (sc.measure) {
      row = await drainScenario(engine, OPTS.drainDuration, round);
    } else {
      // A scenario's setup (e.g. a webhook) holds for its warm-up and measured run, then is undone.
      const held = sc.setup ? await sc.setup(st) : null;
      try {
        row = await loadScenario(st, sc, round);
      } finally {
        await held?.remove();
      }
    }
    return row;
  }

  /**
   * A scenario's load run (after a warm-up in round 1), with the server's memory, CPU and load, and
   * right before it the baseline's run with the same calls, answering what leadtrail answered to one
   * of them (captured once per engine): the scenario's ratio is against that run.
   */
  async function loadScenario(st, sc, round) {
    const req = sc.request(st);
    st.answers ??= {};
    if (!st.answers[sc.id]) {
      const a = await once(st.server.url, req);
      if (a.status < 200 || a.status > 299) throw new Error(`${sc.id}: one call answered ${a.status}: ${a.body.slice(0, 300)}`);
      st.answers[sc.id] = a;
    }
    if (round === 1 && OPTS.warmup > 0 && !sc.minSeconds) {
      await runOne(st.server.url, req, OPTS.warmup);
      if (sc.after) await sc.after(st, {});
      await settle(st.server.url);
    }
    await setBaselineAnswer(base.url, st.answers[sc.id]);
    if (round === 1 && OPTS.warmup > 0) await runOne(base.url, req, OPTS.warmup);
    const bcpu0 = cpuSeconds(base.pid);
    const b = await runOne(base.url, req, SMOKE ? 1 : OPTS.duration);
    const baseline = { reqPerSec: b.reqPerSec, p50: b.p50, p99: b.p99, non2xx: b.non2xx, errors: b.errors, cpuMsPerRequest: cpuPerRequest(bcpu0, cpuSeconds(base.pid), b.total), answerBytes: Buffer.byteLength(st.answers[sc.id].body) };
    const rss = rssSampler([st.server.pid]);
    const la = loadAvg();
    const batches0 = await writeBatches(st.server.url);
    const cpu0 = cpuSeconds(st.server.pid);
    const loop0 = loopCpuSeconds(st.server.pid);
    // Load of its own beside the scenario's (heavy searches), for leadtrail's window only.
    const side = sc.during ? sc.during(st) : null;
    let row;
    try {
      const r = await runOne(st.server.url, req, SMOKE ? OPTS.duration : Math.max(OPTS.duration, sc.minSeconds ?? 0));
      // The window's end, read before the search still in flight is waited for: what the server
      // does after the window is not the window's. The event loop's CPU first, then the whole
      // process's, so the loop's window lies inside the process's.
      const windowEnd = performance.now();
      const loop1 = loopCpuSeconds(st.server.pid);
      const cpu1 = cpuSeconds(st.server.pid);
      row = {
        ...r,
        peakRssMB: rss.stop()[st.server.pid],
        loadAvg: [la, loadAvg()],
        cpuMsPerRequest: cpuPerRequest(cpu0, cpu1, r.total),
        loopCpuMsPerRequest: cpuPerRequest(loop0, loop1, r.total),
        ...(await writeBatches(st.server.url).then((batches1) => ({ callersPerBatch: perBatch(batches0, batches1), writerBusy: writerBusy(batches0, batches1) }))),
        baseline,
        ratio: r.reqPerSec / baseline.reqPerSec,
        ratioAgainst: 'same-answer',
      };
      if (side) row.beside = { ...side.made(windowEnd), maxMs: r.max };
    } finally {
      await side?.remove();
    }
    if (sc.after) await sc.after(st, row);
    row.settleSeconds = await settle(st.server.url);
    return row;
  }

  const peakMain = {};
  for (const engine of engines) peakMain[engine] = Math.max(...Object.values(rows[engine].scenarios).flat().map((r) => r.peakRssMB ?? 0));
  for (const engine of engines) await stopServer(setups[engine].server);
  const profiles = {};
  if (PROFILE_DIR) for (const engine of engines) profiles[engine] = summariseProfile(path.join(PROFILE_DIR, `${engine}-main`));
  await base.stop();
  children.delete(base);

  const seconds = (performance.now() - t0) / 1000;
  const results = engines.map((engine) => {
    const R = rows[engine];
    const st = setups[engine];
    const allLoads = [...R.baseline, ...Object.values(R.scenarios).flat()].flatMap((r) => r.loadAvg.map((l) => l[0]));
    const scenarios = {};
    for (const sc of st.scenarios) {
      const rs = R.scenarios[sc.id] ?? [];
      scenarios[sc.id] = {
        title: sc.title,
        rounds: rs,
        summary: {
          ratio: spread(rs.map((r) => r.ratio)),
          ratioAgainst: rs.find((r) => r.ratioAgainst)?.ratioAgainst ?? null,
          roundRatio: spread(rs.map((r) => r.roundRatio)),
          baselineReqPerSec: spread(rs.map((r) => r.baseline?.reqPerSec)),
          baselineCpuMsPerRequest: spread(rs.map((r) => r.baseline?.cpuMsPerRequest)),
          reqPerSec: spread(rs.map((r) => r.reqPerSec)),
          p50: spread(rs.map((r) => r.p50)),
          p99: spread(rs.map((r) => r.p99)),
          cpuMsPerRequest: spread(rs.map((r) => r.cpuMsPerRequest)),
          loopCpuMsPerRequest: spread(rs.map((r) => r.loopCpuMsPerRequest)),
          callersPerBatch: spread(rs.map((r) => r.callersPerBatch)),
          writerBusy: spread(rs.map((r) => r.writerBusy)),
          maxMs: spread(rs.map((r) => r.max)),
          peakRssMB: Math.max(...rs.map((r) => r.peakRssMB ?? 0)),
          non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
          errors: rs.reduce((a, r) => a + r.errors, 0),
          timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
          loadAvg: spread(rs.flatMap((r) => r.loadAvg.map((l) => l[0]))),
          ...(sc.id === 'async-drain'
            ? {
                succeededPerSec: spread(rs.map((r) => r.drain?.succeededPerSec)),
                acceptedPerSec: spread(rs.map((r) => r.drain?.acceptedPerSec)),
                drainAlonePerSec: spread(rs.map((r) => r.drain?.afterWindow.drainAlonePerSec)),
                backlogGrewInRounds: rs.filter((r) => r.drain?.backlogGrew).length,
              }
            : {}),
        },
      };
    }
    const machineSummary = [];
    for (const store of ['sqlite', 'postgres']) {
      for (const rowsPerCommit of [1, 64]) {
        const ms = R.machine.filter((m) => m.store === store && m.rowsPerCommit === rowsPerCommit);
        if (ms.length) machineSummary.push({ store, rowsPerCommit, commitsPerSec: spread(ms.map((m) => m.commitsPerSec)), rowsPerSec: spread(ms.map((m) => m.rowsPerSec)) });
      }
    }
    return {
      // 2: each scenario's ratio is against a baseline run beside it answering leadtrail's answer;
      // 1: against the round's baseline (a Create's answer), which version 2 keeps as roundRatio.
      version: 2,
      startFailures: startFailures.filter((f) => f.label.startsWith(`${engine}-`)),
      engine,
      startedAt: startedAt.toISOString(),
      seconds,
      commit,
      rounds: OPTS.rounds,
      options: { duration: OPTS.duration, drainDuration: OPTS.drainDuration, warmup: OPTS.warmup, connections: OPTS.connections, smoke: OPTS.smoke, logLevel: OPTS.logLevel ?? 'default (info)', journal: OPTS.journal ?? 'default (on)', serverEnv: OPTS.serverEnv, nodeOptions: OPTS.nodeOptions, scenarios: st.scenarios.map((s) => s.id) },
      machine,
      seed: st.seed,
      machineLimit: { rounds: R.machine, summary: machineSummary },
      baseline: { rounds: R.baseline, summary: { reqPerSec: spread(R.baseline.map((r) => r.reqPerSec)), cpuMsPerRequest: spread(R.baseline.map((r) => r.cpuMsPerRequest)), p50: spread(R.baseline.map((r) => r.p50)), p99: spread(R.baseline.map((r) => r.p99)) } },
      scenarios,
      peakRssMB: peakMain[engine],
      loadAvg: spread(allLoads),
      ...(PROFILE_DIR ? { profile: profiles[engine] } : {}),
    };
  });

  fs.mkdirSync(outDir, { recursive: true });
  let failed = false;
  for (const result of results) {
    process.stdout.write(`\n${render(result)}\n`);
    if (PROFILE_DIR) process.stdout.write(result.profile ? `\n${renderProfile(`the ${result.engine} server`, result.profile)}\n` : `\n!! no CPU profile was written for ${result.engine}\n`);
    if (parsed.compare) {
      const prev = lastSaved(outDir, result.engine);
      if (!prev) process.stdout.write(`\n--compare: no saved ${result.engine} result in ${outDir} yet\n`);
      else {
        const c = compare(prev.r, result, OPTS.threshold);
        process.stdout.write(`\n--compare with ${prev.file} (${prev.r.startedAt}, commit ${prev.r.commit?.slice(0, 8) ?? '?'}), threshold ${(OPTS.threshold * 100).toFixed(0)}%:\n${c.lines.map((l) => `  ${l}`).join('\n')}\n`);
        process.stdout.write(c.slower.length ? `SLOWER: ${c.slower.join('; ')}\n` : 'nothing got slower\n');
        result.comparedWith = { file: prev.file, slower: c.slower };
      }
    }
    const day = result.startedAt.slice(0, 10);
    let file = path.join(outDir, `${result.engine}-${day}.json`);
    for (let n = 2; fs.existsSync(file); n++) file = path.join(outDir, `${result.engine}-${day}-${n}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nwrote ${file}\n`);
    for (const [id, s] of Object.entries(result.scenarios)) {
      const m = s.summary;
      const ok = m.non2xx === 0 && m.errors === 0 && s.rounds.every((r) => r.ok > 0);
      if (!ok) {
        failed = true;
        process.stdout.write(`!! ${result.engine} ${id}: ${m.non2xx} non-2xx answers, ${m.errors} errors (${m.timeouts} of them timeouts)${s.rounds.some((r) => r.ok === 0) ? ', a round with no 2xx at all' : ''}\n`);
      }
      // The searches beside create-beside-search are calls too: one that failed, or none at all in
      // the window (none ended and none running), fails a smoke run.
      const beside = s.rounds.filter((r) => r.beside);
      if (beside.some((r) => r.beside.failed > 0 || (r.beside.count === 0 && !r.beside.running))) {
        failed = true;
        process.stdout.write(`!! ${result.engine} ${id}: heavy searches ${beside.map((r) => `${r.beside.count} made, ${r.beside.failed} failed`).join('; ')}\n`);
      }
    }
  }
  // A smoke run is a check: any failed call fails it. A full run is a measurement: failures are
  // part of the result (flagged above and in the JSON), and the run itself succeeded.
  return failed && SMOKE ? 1 : 0;
}

/** The scenarios --instructions counts when none are named: the issue's sync, async and read calls. */
const INSTRUCTION_SCENARIOS = ['create-by-id', 'create-by-email', 'async-accept', 'status', 'get-by-id', 'get-by-email'];

/**
 * `--instructions`: per engine, one leadtrail server under callgrind, seeded as for the load run;
 * per scenario, `warmCalls` unmeasured calls, then `calls` counted in `windows` windows, then the
 * same counted on the baseline (also under callgrind) answering what leadtrail answered. Reports
 * instructions per call, medians of the windows: all of the server's threads, by kind of thread,
 * and its own threads (all but V8's helpers, whose collections and compiles come in bursts), and the
 * ratio baseline / leadtrail of the own threads' figures, comparable with the load run's ratio
 * where the machine's cores are the limit. A scenario's `after` (async-accept: wait until the
 * worker has applied every accepted call) is counted with it. On PostgreSQL only leadtrail's own
 * process is counted, not the database's.
 */
async function instructionsMain() {
  if (!callgrindAvailable()) {
    log('--instructions needs valgrind (its callgrind tool) and callgrind_control on the PATH');
    return 2;
  }
  const named = parsed.scenarios ? wantedIds : INSTRUCTION_SCENARIOS;
  const unfit = named.filter((id) => {
    const sc = SCENARIOS.find((x) => x.id === id);
    return sc.measure || sc.during;
  });
  if (unfit.length) {
    log(`--instructions counts calls of one kind; these scenarios are more than that: ${unfit.join(', ')}`);
    return 2;
  }
  const startedAt = new Date();
  const t0 = performance.now();
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a checkout */
  }
  const perWindow = Math.max(1, Math.round(OPTS.calls / OPTS.windows));
  log(`${engines.join(' + ')}: instructions per call, ${OPTS.windows} windows of ${perWindow} calls counted after ${OPTS.warmCalls}, ${OPTS.connections} connections; temp ${tmp}`);
  const baseOut = path.join(tmp, 'callgrind-baseline.out');
  const base = await startBaseline(path.join(tmp, 'baseline.log'), callgrindWrapper(baseOut), OPTS.nodeOptions);
  children.add(base);
  let baseDumps = 0;
  const calls = (url, req, n) => loadCalls(url, req, n, OPTS.connections);
  const perCall = (counted, ok) => {
    const byKind = {};
    for (const t of counted.threads) byKind[t.kind] = (byKind[t.kind] ?? 0) + t.instructions;
    // Own threads: all but V8's helpers, whose garbage collection and compiling come in bursts
    // that land in one window and not the next (docs/performance.md, counting instructions).
    const own = counted.total - (byKind['V8 helper'] ?? 0);
    return { total: counted.total / ok, ownThreads: own / ok, withoutCompiler: (counted.total - counted.compiler) / ok, compiler: counted.compiler / ok, byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, v / ok])) };
  };
  /** Each figure's median over the windows (byKind: each kind's). */
  const medianPerCall = (xs) => {
    const med = (f) => spread(xs.map(f)).median;
    const kinds = [...new Set(xs.flatMap((x) => Object.keys(x.byKind)))];
    return { total: med((x) => x.total), ownThreads: med((x) => x.ownThreads), withoutCompiler: med((x) => x.withoutCompiler), compiler: med((x) => x.compiler), byKind: Object.fromEntries(kinds.map((k) => [k, med((x) => x.byKind[k] ?? 0)])) };
  };
  const M = (n) => Math.round(n).toLocaleString('en-US');
  /** Prints one engine's counts, compares them with the last saved ones, and saves them. */
  const report = (result) => {
    fs.mkdirSync(outDir, { recursive: true });
    const lines = [
      `leadtrail bench — instructions per call, ${result.engine}, ${OPTS.windows} windows of ${perWindow} calls counted after ${OPTS.warmCalls}, ${OPTS.connections} connections, node ${process.version}`,
      "each figure the median of the windows; own threads: all but V8's helper threads (garbage collection, compiler); ratio: the baseline's own-thread instructions a call over leadtrail's",
      '',
      '| scenario | all threads | own threads (windows min–max) | event loop | worker threads | other | V8 helpers (compiler) | baseline, own threads | ratio |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...Object.entries(result.scenarios).map(([id, r]) => `| ${id} | ${M(r.perCall.total)} | ${M(r.perCall.ownThreads)} (${M(r.ownThreads.min)}–${M(r.ownThreads.max)}) | ${M(r.perCall.byKind['event loop'] ?? 0)} | ${M(r.perCall.byKind['worker thread'] ?? 0)} | ${M(r.perCall.byKind.other ?? 0)} | ${M(r.perCall.byKind['V8 helper'] ?? 0)} (${M(r.perCall.compiler)}) | ${M(r.baseline.perCall.ownThreads)} | ${r.ratio.toFixed(3)} |`),
    ];
    process.stdout.write(`\n${lines.join('\n')}\n`);
    if (parsed.compare) {
      const prev = lastSaved(outDir, result.engine, 'instructions-');
      if (!prev) process.stdout.write(`\n--compare: no saved ${result.engine} instruction counts in ${outDir} yet\n`);
      else {
        // Counts depend on how they were taken: say so when the saved ones were taken otherwise.
        const how = (r) => JSON.stringify([r.options?.calls, r.options?.windows, r.options?.warmCalls, r.options?.connections, r.options?.journal, r.options?.serverEnv, r.options?.nodeOptions ?? [], r.machine?.node]);
        if (how(prev.r) !== how(result)) process.stdout.write(`\n!! ${prev.file} was counted with other settings (calls, windows, warm-up, connections, journal, server settings, node flags or node): its counts compare only roughly\n`);
        const more = [];
        for (const [id, r] of Object.entries(result.scenarios)) {
          const was = prev.r.scenarios?.[id]?.perCall?.ownThreads;
          if (!was) continue;
          const change = r.perCall.ownThreads / was - 1;
          process.stdout.write(`  ${id}: ${M(was)} → ${M(r.perCall.ownThreads)} instructions a call on its own threads (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%)\n`);
          if (change > OPTS.threshold) more.push(`${id} +${(change * 100).toFixed(1)}%`);
        }
        process.stdout.write(more.length ? `MORE INSTRUCTIONS: ${more.join('; ')}\n` : `nothing takes more than ${(OPTS.threshold * 100).toFixed(0)}% more instructions than in ${prev.file}\n`);
        result.comparedWith = { file: prev.file, more };
      }
    }
    const day = result.startedAt.slice(0, 10);
    let file = path.join(outDir, `instructions-${result.engine}-${day}.json`);
    for (let n = 2; fs.existsSync(file); n++) file = path.join(outDir, `instructions-${result.engine}-${day}-${n}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nwrote ${file}\n`);
  };
  let failed = false;
  for (const engine of engines) {
    const here = new Set(named.filter((id) => SCENARIOS.find((s) => s.id === id).engines.includes(engine)));
    if (here.size === 0) continue;
    const out = path.join(tmp, `callgrind-${engine}.out`);
    log(`${engine}: starting under callgrind and seeding (${OPTS.seed.leads} leads${here.has('status') ? `, ${OPTS.seed.requests} async requests` : ''})`);
    const st = await setupEngine(engine, here, callgrindWrapper(out));
    let dumps = 0;
    const scenarios = {};
    try {
      for (const sc of SCENARIOS.filter((x) => here.has(x.id))) {
        const held = sc.setup ? await sc.setup(st) : null;
        try {
          const req = sc.request(st);
          const answer = await once(st.server.url, req);
          if (answer.status < 200 || answer.status > 299) throw new Error(`${sc.id}: one call answered ${answer.status}: ${answer.body.slice(0, 300)}`);
          if (OPTS.warmCalls > 0) await calls(st.server.url, req, OPTS.warmCalls);
          const warmAfter = {};
          if (sc.after) await sc.after(st, warmAfter);
          // A backlog left from the warm-up would be applied, and counted, in the first window.
          if (warmAfter.drainAfter?.left) throw new Error(`${sc.id}: ${warmAfter.drainAfter.left} accepted calls of the warm-up still not applied after ${warmAfter.drainAfter.seconds.toFixed(0)} s`);
          // The counted calls in windows, each counted on its own: a collection or a compile that
          // falls into one window shows as spread between windows instead of moving the figure.
          const windows = [];
          for (let w = 0; w < OPTS.windows; w++) {
            let run;
            const after = {};
            const counted = await countDuring(st.server.pid, out, ++dumps, async () => {
              run = await calls(st.server.url, req, perWindow);
              if (sc.after) await sc.after(st, after);
            });
            windows.push({ ok: run.ok, non2xx: run.non2xx, errors: run.errors, statusCodes: run.statusCodes, ...(sc.after ? { after: after.drainAfter ?? null } : {}), perCall: perCall(counted, Math.max(1, run.ok)), threads: counted.threads });
          }
          await setBaselineAnswer(base.url, answer);
          if (OPTS.warmCalls > 0) await calls(base.url, req, OPTS.warmCalls);
          const baseWindows = [];
          for (let w = 0; w < OPTS.windows; w++) {
            let b;
            const counted = await countDuring(base.pid, baseOut, ++baseDumps, async () => {
              b = await calls(base.url, req, perWindow);
            });
            baseWindows.push({ ok: b.ok, non2xx: b.non2xx, errors: b.errors, perCall: perCall(counted, Math.max(1, b.ok)) });
          }
          const lt = medianPerCall(windows.map((x) => x.perCall));
          const bl = medianPerCall(baseWindows.map((x) => x.perCall));
          const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
          const row = {
            title: sc.title,
            ok: sum(windows, 'ok'),
            non2xx: sum(windows, 'non2xx'),
            errors: sum(windows, 'errors'),
            perCall: lt,
            ownThreads: spread(windows.map((x) => x.perCall.ownThreads)),
            windows,
            baseline: { ok: sum(baseWindows, 'ok'), non2xx: sum(baseWindows, 'non2xx'), errors: sum(baseWindows, 'errors'), perCall: bl, windows: baseWindows },
            ratio: bl.ownThreads / lt.ownThreads,
          };
          scenarios[sc.id] = row;
          // async-accept's windows end when the worker has applied every accepted call; one that
          // timed out instead counts less than it should.
          const undrained = windows.filter((x) => x.after?.left).length;
          if (undrained) row.undrainedWindows = undrained;
          if (row.non2xx + row.errors > 0 || windows.some((x) => x.ok === 0) || undrained) failed = true;
          if (!windows.some((x) => x.perCall.byKind['V8 helper'])) log(`${engine}: ${sc.id}: no V8 helper thread was recognised (a node without its symbols?): garbage collection and the compiler count as "other", within the own threads`);
          log(`${engine}: ${sc.id} ${M(lt.total)} instructions a call, ${M(lt.ownThreads)} on its own threads (windows ${M(row.ownThreads.min)}–${M(row.ownThreads.max)}), baseline ${M(bl.ownThreads)}: ratio ${row.ratio.toFixed(3)}${row.non2xx + row.errors ? `, ${row.non2xx} non-2xx and ${row.errors} errors !!` : ''}${undrained ? `, ${undrained} window(s) ended before the worker had applied every call !!` : ''}`);
        } finally {
          await held?.remove();
        }
      }
    } finally {
      await stopServer(st.server);
    }
    // Saved as soon as the engine is done: a failure on the next one does not lose this one.
    report({
      mode: 'instructions',
      engine,
      startedAt: startedAt.toISOString(),
      seconds: (performance.now() - t0) / 1000,
      commit,
      options: { calls: perWindow * OPTS.windows, windows: OPTS.windows, warmCalls: OPTS.warmCalls, connections: OPTS.connections, smoke: OPTS.smoke, logLevel: OPTS.logLevel ?? 'default (info)', journal: OPTS.journal ?? 'default (on)', serverEnv: OPTS.serverEnv, nodeOptions: OPTS.nodeOptions, scenarios: Object.keys(scenarios) },
      machine: machineInfo(),
      seed: st.seed,
      scenarios,
    });
  }
  await base.stop();
  children.delete(base);

  return failed && SMOKE ? 1 : 0;
}

let code = 1;
try {
  code = await (OPTS.instructions ? instructionsMain() : main());
} catch (e) {
  log(`failed: ${e.stack ?? e}`);
} finally {
  await cleanup();
}
process.exit(code);
