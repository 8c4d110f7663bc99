#!/usr/bin/env node
/**
 * Async accept throughput: does accepting stay fast while the worker is busy (the group-commit
 * enqueuer), and what does an async accept cost next to a sync Create?
 *
 *   npm run build && node bench/async-accept.mjs [--n 3000] [--concurrency 50] [--backlog 6000] [--seq 300]
 *
 * 1. accepts/s with the worker off;
 * 2. accepts/s while the worker drains a backlog of `--backlog` requests (queued beforehand with the
 *    worker off), checked to still be busy when the last accept is answered;
 * 3. one client, one request at a time: mean latency of sync Create vs async accept.
 * Each scenario runs `leadtrail serve` as a child process on a fresh SQLite file. Client and server
 * share the machine's cores, so read the ratios, not the absolute numbers.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { serve } from './lib/serve.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : null)).filter(Boolean));
const N = Number(args.n ?? 3000);
const CONC = Number(args.concurrency ?? 50);
const BACKLOG = Number(args.backlog ?? 6000);
const SEQ = Number(args.seq ?? 300);
const LEADS = 300;
const KEYS = { accessKey: 'bench-access', secretKey: 'bench-secret', apiKey: 'bench-api' };

const agent = new http.Agent({ keepAlive: true, maxSockets: CONC + 4 });

function call(base, method, pth, body, { async = false } = {}) {
  const url = new URL(pth, base);
  url.searchParams.set('accessKey', KEYS.accessKey);
  url.searchParams.set('secretKey', KEYS.secretKey);
  const raw = body === undefined ? undefined : JSON.stringify(body);
  const headers = { ...(raw ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw) } : {}), ...(async ? { 'x-api-key': KEYS.apiKey } : {}) };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(raw);
  });
}

/** `leadtrail serve` on `db` as a child, with the bench keys and no rate limit. */
function serveDb(db, extra = []) {
  const env = { LEADTRAIL_DB: db, LEADTRAIL_ACCESS_KEY: KEYS.accessKey, LEADTRAIL_SECRET_KEY: KEYS.secretKey, LEADTRAIL_API_KEY: KEYS.apiKey, LEADTRAIL_RATE_LIMIT: '0', LEADTRAIL_LOG_LEVEL: 'info' };
  return serve(env, extra);
}

const freshDb = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-bench-')), 'bench.db');

async function activityType(base) {
  const r = await call(base, 'POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: 'Bench', Score: 1 });
  if (r.status !== 200) throw new Error(`CreateType: ${r.status}`);
  return r.body.Message.Id;
}

const body = (code, i) => ({ EmailAddress: `bench${i % LEADS}@example.com`, ActivityEvent: code, ActivityNote: `#${i}` });

/** Sends `n` requests from `conc` connections; returns requests/s and latencies (ms). */
async function load(n, conc, send) {
  let next = 0;
  const lat = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        const r = await send(i);
        if (r.status !== 200) throw new Error(`request ${i}: ${r.status} ${JSON.stringify(r.body)}`);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rate: n / secs, mean: lat.reduce((a, b) => a + b, 0) / lat.length, p99: lat[Math.floor(lat.length * 0.99)] };
}

async function pending(base) {
  const r = await call(base, 'GET', '/activity/create/metrics', undefined, { async: true });
  return r.body.PendingMessages;
}

const accept = (base, code) => (i) => call(base, 'POST', '/activity/create', body(code, i), { async: true });

// 1. worker off
const db1 = freshDb();
let s = await serveDb(db1, ['--no-worker']);
let code = await activityType(s.url);
const WARMUP = 500; // the same for both servers, so that both are measured with a warm JIT
await load(WARMUP, CONC, accept(s.url, code));
const off = await load(N, CONC, accept(s.url, code));
await s.stop();

// 2. worker on, busy with a backlog
const db2 = freshDb();
s = await serveDb(db2, ['--no-worker']);
code = await activityType(s.url);
await load(BACKLOG, CONC, accept(s.url, code));
await s.stop();
s = await serveDb(db2);
await load(WARMUP, CONC, accept(s.url, code));
const before = await pending(s.url);
const on = await load(N, CONC, accept(s.url, code));
const after = await pending(s.url);
await s.stop();
const busy = after > 0;
const processed = before + N - after;

// 3. one request at a time: sync Create vs async accept (worker off, so the accept is measured alone)
const db3 = freshDb();
s = await serveDb(db3, ['--no-worker']);
code = await activityType(s.url);
await load(50, 1, (i) => call(s.url, 'POST', '/v2/ProspectActivity.svc/Create', body(code, i)));
const syncSeq = await load(SEQ, 1, (i) => call(s.url, 'POST', '/v2/ProspectActivity.svc/Create', body(code, i)));
const asyncSeq = await load(SEQ, 1, accept(s.url, code));
const syncConc = await load(N, CONC, (i) => call(s.url, 'POST', '/v2/ProspectActivity.svc/Create', body(code, i)));
const asyncConc = await load(N, CONC, accept(s.url, code));
await s.stop();
agent.destroy();

const f = (x) => x.toFixed(1);
const row = (name, r) => `| ${name.padEnd(44)} | ${f(r.rate).padStart(8)} | ${f(r.mean).padStart(7)} | ${f(r.p99).padStart(7)} |`;
console.log(`\nasync accept benchmark: n=${N}, concurrency=${CONC}, backlog=${BACKLOG}, ${os.cpus().length} cores, node ${process.version}\n`);
console.log(`| ${'scenario'.padEnd(44)} | ${'req/s'.padStart(8)} | ${'mean ms'.padStart(7)} | ${'p99 ms'.padStart(7)} |`);
console.log(`|${'-'.repeat(46)}|${'-'.repeat(10)}|${'-'.repeat(9)}|${'-'.repeat(9)}|`);
console.log(row('async accept, worker off', off));
console.log(row(`async accept, worker draining a backlog`, on));
console.log(row('sync Create, 1 at a time', syncSeq));
console.log(row('async accept, 1 at a time', asyncSeq));
console.log(row(`sync Create, ${CONC} at a time`, syncConc));
console.log(row(`async accept, ${CONC} at a time`, asyncConc));
console.log('');
console.log(`accept throughput, worker on / off:           ${f((on.rate / off.rate) * 100)}%  (worker ${busy ? 'still busy at the end' : 'went idle before the end: raise --backlog'}; it finished ${processed} requests meanwhile)`);
console.log(`latency, sync Create / async accept (1 at a time): ${(syncSeq.mean / asyncSeq.mean).toFixed(2)}x`);
console.log(`throughput, async accept / sync Create (${CONC} at a time): ${(asyncConc.rate / syncConc.rate).toFixed(2)}x`);
