#!/usr/bin/env node
/**
 * Store throughput: sync ProspectActivity.svc/Create and async processing, on SQLite (one process,
 * the baseline) and on PostgreSQL (one and two API processes; one and two worker processes), all
 * measured in this run on this machine and reported as ratios to the SQLite baseline.
 *
 *   npm run build && node bench/store-throughput.mjs [--sync 3000] [--async 4000] [--concurrency 32]
 *
 * PostgreSQL from BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test); each scenario
 * gets a fresh schema, dropped afterwards. Rate limits are off. Numbers depend on the machine:
 * client, servers and database share its cores, so read the ratios, not the absolute values.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { serve } from './lib/serve.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : null)).filter(Boolean));
const SYNC_N = Number(args.sync ?? 3000);
const ASYNC_N = Number(args.async ?? 4000);
const CONC = Number(args.concurrency ?? 32);
const LEADS = 400;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const KEYS = { accessKey: 'bench-access', secretKey: 'bench-secret', apiKey: 'bench-api' };
const BASE_ENV = {
  LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
  LEADTRAIL_SECRET_KEY: KEYS.secretKey,
  LEADTRAIL_API_KEY: KEYS.apiKey,
  LEADTRAIL_RATE_LIMIT: '0',
  LEADTRAIL_LOG_LEVEL: 'info',
  LEADTRAIL_POLL_MS: '50',
};

async function call(base, method, p, body, headers = {}) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${p} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Runs `n` calls with `CONC` in flight, spread round-robin over `bases`; returns calls per second. */
async function drive(bases, n, make) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < n) {
        const i = next++;
        await make(bases[i % bases.length], i);
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

const activity = (code, i) => ({ EmailAddress: `lead${i % LEADS}@bench.example`, ActivityEvent: code, ActivityNote: `note ${i}` });

async function activityType(base) {
  return (await call(base, 'POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: 'Bench Call', Score: 1 })).Message.Id;
}

async function pending(base) {
  return (await call(base, 'GET', '/activity/create/metrics', undefined, { 'x-api-key': KEYS.apiKey })).PendingMessages;
}

/** Storage for one scenario: a fresh SQLite file or a fresh PostgreSQL schema. */
async function storage(engine) {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-bench-'));
    return { env: { LEADTRAIL_DB: path.join(dir, 'bench.db') }, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `lt_bench_${Math.random().toString(36).slice(2, 10)}`;
  const sep = PG_URL.includes('?') ? '&' : '?';
  return {
    env: { DATABASE_URL: `${PG_URL}${sep}schema=${name}` },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await c.end();
    },
  };
}

/** Sync Create per second with `apis` API processes. */
async function syncScenario(engine, apis) {
  const st = await storage(engine);
  const procs = [];
  try {
    procs.push(await serve(st.env, ['--role', 'api']));
    for (let i = 1; i < apis; i++) procs.push(await serve(st.env, ['--role', 'api']));
    const bases = procs.map((p) => p.url);
    const code = await activityType(bases[0]);
    await drive(bases, Math.min(200, SYNC_N), (b, i) => call(b, 'POST', '/v2/ProspectActivity.svc/Create', activity(code, i))); // warm-up
    return await drive(bases, SYNC_N, (b, i) => call(b, 'POST', '/v2/ProspectActivity.svc/Create', activity(code, i)));
  } finally {
    for (const p of procs) await p.stop();
    await st.drop();
  }
}

/** Async requests processed per second by `workers` worker processes, from a full queue. */
async function asyncScenario(engine, workers, workerEnv = {}) {
  const st = await storage(engine);
  const procs = [];
  try {
    const api = await serve(st.env, ['--role', 'api']);
    procs.push(api);
    const code = await activityType(api.url);
    await drive([api.url], ASYNC_N, (b, i) => call(b, 'POST', '/activity/create', activity(code, i), { 'x-api-key': KEYS.apiKey }));
    if (engine === 'sqlite') {
      // One process owns a SQLite file: the api process stops and an all-in-one process drains.
      await api.stop();
      procs.length = 0;
    }
    const t0 = performance.now();
    for (let i = 0; i < workers; i++) procs.push(await serve({ ...st.env, ...workerEnv }, engine === 'sqlite' ? [] : ['--role', 'worker']));
    const reader = engine === 'sqlite' ? procs[0].url : api.url;
    while ((await pending(reader)) > 0) await new Promise((r) => setTimeout(r, 50));
    return ASYNC_N / ((performance.now() - t0) / 1000);
  } finally {
    for (const p of procs) await p.stop();
    await st.drop();
  }
}

const results = [];
async function measure(label, fn, baseline) {
  const rate = await fn();
  results.push({ label, rate, baseline });
  process.stderr.write(`${label}: ${rate.toFixed(0)}/s\n`);
  return rate;
}

const syncBase = await measure('sync Create, SQLite, 1 process', () => syncScenario('sqlite', 1));
await measure('sync Create, PostgreSQL, 1 API process', () => syncScenario('postgres', 1), syncBase);
await measure('sync Create, PostgreSQL, 2 API processes', () => syncScenario('postgres', 2), syncBase);
const asyncBase = await measure('async processing, SQLite, 1 process', () => asyncScenario('sqlite', 1));
await measure('async processing, PostgreSQL, 1 worker', () => asyncScenario('postgres', 1), asyncBase);
await measure('async processing, PostgreSQL, 2 workers', () => asyncScenario('postgres', 2), asyncBase);
// The default of 4 requests in flight per worker leaves PostgreSQL idle between round trips.
const wide = { LEADTRAIL_WORKER_CONCURRENCY: '16', LEADTRAIL_PG_POOL: '20' };
await measure('async processing, PostgreSQL, 1 worker, concurrency 16', () => asyncScenario('postgres', 1, wide), asyncBase);
await measure('async processing, PostgreSQL, 2 workers, concurrency 16', () => asyncScenario('postgres', 2, wide), asyncBase);

const lines = [
  `leadtrail store throughput — ${os.cpus().length} cores, node ${process.version}, ${SYNC_N} sync / ${ASYNC_N} async requests, ${CONC} in flight`,
  '',
  '| scenario | per second | vs SQLite, 1 process |',
  '|---|---:|---:|',
  ...results.map((r) => {
    const base = r.baseline ?? r.rate;
    return `| ${r.label} | ${r.rate.toFixed(0)} | ${(r.rate / base).toFixed(2)}× |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
