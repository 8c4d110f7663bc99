/**
 * GET /metrics: Prometheus text whose counters match the traffic a test sent (creates, 401s, a 429,
 * async requests processed and retried), labels that carry routes but never accounts or keys, an
 * optional bearer token, and queue gauges read from the database.
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_HEADER, accept, settled } from '../async/helpers.js';
import { LM } from '../helpers/lsq.js';
import { KEYS, request, started, storeBeside, type TestServer } from '../helpers/server.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (enough of the format for our own output). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there are none). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(base: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/metrics`, { headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, samples: res.status === 200 ? parse(text) : [] };
}

const CREATE = `${LM}/Lead.Create`;
const CREATES = 3;
const BAD_KEYS = 2;
const CAPTURES = 4;

describe('GET /metrics after known traffic', () => {
  let s: TestServer;
  let accountId: string;
  let leadIds: string[] = [];
  let scraped: Awaited<ReturnType<typeof scrape>>;

  let elapsed = 0;

  beforeAll(async () => {
    const t0 = performance.now();
    // 5 sync calls a minute per key; retries in milliseconds; the faults API to force one retry.
    s = await started({ LEADTRAIL_RATE_LIMIT: '5/60s', LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.001' });
    accountId = (await s.services.store.accounts.list())[0].id;
    for (let i = 0; i < CREATES; i++) {
      const r = await s.call('POST', CREATE, [{ Attribute: 'EmailAddress', Value: `m${i}@example.com` }]);
      expect(r.status, r.text).toBe(200);
      leadIds.push(r.body.Message.Id);
    }
    // Wrong keys: 401, refused before the rate limit, so they use none of its 5 calls.
    for (let i = 0; i < BAD_KEYS; i++) {
      const r = await s.call('POST', CREATE, [], { keys: { accessKey: KEYS.accessKey, secretKey: 'wrong' } });
      expect(r.status).toBe(401);
    }
    // Calls 4 and 5 of the window, then the 6th is refused.
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(200);
    expect((await s.call('GET', `${LM}/LeadsMetaData.Get`)).status).toBe(429);
    // A path that matches no route: counted, but not under its URL.
    expect((await s.call('GET', '/no/such/path-0123456789')).status).toBe(404);

    // Async: the first capture attempt fails with a forced system error and is retried.
    const fault = await request(s.url, 'POST', '/_leadtrail/faults', { operation: 'lead.capture', times: 1 });
    expect(fault.status, fault.text).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < CAPTURES; i++) {
      ids.push(await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: `cap${i}@example.com` }]));
    }
    for (const id of ids) expect((await settled(s.url, id, undefined, '/lead/status')).TaskStatus.Status).toBe('Success');
    scraped = await scrape(s.url);
    elapsed = (performance.now() - t0) / 1000;
  });

  it('answers Prometheus text, not a LeadSquared envelope', () => {
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scraped.text).toContain('# TYPE leadtrail_http_requests_total counter');
  });

  it('counts requests by route table path, method and status', () => {
    const m = scraped.samples;
    expect(value(m, 'leadtrail_http_requests_total', { route: CREATE, method: 'POST', status: '200' })).toBe(CREATES);
    expect(value(m, 'leadtrail_http_requests_total', { route: CREATE, method: 'POST', status: '401' })).toBe(BAD_KEYS);
    expect(value(m, 'leadtrail_http_requests_total', { route: `${LM}/LeadsMetaData.Get`, status: '429' })).toBe(1);
    expect(value(m, 'leadtrail_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(value(m, 'leadtrail_http_requests_total', { route: '/lead/capture', method: 'POST', status: '200' })).toBe(CAPTURES);
    // Every answered request is in the latency histogram too.
    expect(value(m, 'leadtrail_http_request_duration_seconds_count', { route: CREATE, method: 'POST' })).toBe(CREATES + BAD_KEYS);
    expect(value(m, 'leadtrail_http_request_duration_seconds_bucket', { route: CREATE, method: 'POST', le: '+Inf' })).toBe(CREATES + BAD_KEYS);
  });

  it('counts the 429 as a sync rate-limit rejection', () => {
    expect(value(scraped.samples, 'leadtrail_rate_limited_total', { api: 'sync' })).toBe(1);
    expect(value(scraped.samples, 'leadtrail_rate_limited_total', { api: 'async' })).toBe(0);
  });

  it('counts async attempts, the retry and the outcomes, and reads the queue from the database', () => {
    const m = scraped.samples;
    expect(value(m, 'leadtrail_async_attempts_total', { kind: 'lead.capture' })).toBe(CAPTURES + 1);
    expect(value(m, 'leadtrail_async_retries_total', { kind: 'lead.capture' })).toBe(1);
    expect(value(m, 'leadtrail_async_outcomes_total', { kind: 'lead.capture', status: 'succeeded' })).toBe(CAPTURES);
    expect(value(m, 'leadtrail_async_outcomes_total', { status: 'errored' })).toBe(0);
    expect(value(m, 'leadtrail_async_requests', { status: 'succeeded' })).toBe(CAPTURES);
    expect(value(m, 'leadtrail_async_requests', { status: 'queued' })).toBe(0);
    expect(value(m, 'leadtrail_async_oldest_pending_seconds')).toBe(0);
  });

  it('times write transactions and reports process metrics', () => {
    const m = scraped.samples;
    expect(value(m, 'leadtrail_db_transaction_duration_seconds_count', { result: 'committed' })).toBeGreaterThanOrEqual(CREATES + CAPTURES);
    expect(value(m, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value(m, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(m, 'leadtrail_info', { role: 'all', store: s.services.store.engine })).toBe(1);
    expect(value(m, 'leadtrail_db_up')).toBe(1);
    // With a worker beside the API, the accept pacer's gauges are there.
    expect(m.some((x) => x.name === 'leadtrail_async_backlog')).toBe(true);
    expect(m.some((x) => x.name === 'leadtrail_async_accepts_waiting')).toBe(true);
  });

  it('reports write batches and, on PostgreSQL, the connection pool', () => {
    const m = scraped.samples;
    const batches = value(m, 'leadtrail_db_write_batches_total');
    const callers = value(m, 'leadtrail_db_write_batch_callers_total');
    // Every sync Create and every async accept and application ran in some batch.
    expect(callers).toBeGreaterThanOrEqual(CREATES + 2 * CAPTURES);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(callers);
    // The batches held the writer for some of the time the traffic took: at most all of it on
    // SQLite's one writer, at most that many times over on PostgreSQL's batches side by side.
    const busy = value(m, 'leadtrail_db_write_busy_seconds_total');
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(elapsed * (s.services.store.engine === 'postgres' ? s.services.config.pgWriteBatches : 1));
    if (s.services.store.engine === 'postgres') {
      expect(value(m, 'leadtrail_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(m.some((x) => x.name === 'leadtrail_sqlite_checkpoints_total')).toBe(false);
    } else {
      expect(m.some((x) => x.name === 'leadtrail_db_pool_connections')).toBe(false);
      // The checkpoint thread is running (test/storage/checkpoint.test.ts checks what it does).
      expect(value(m, 'leadtrail_sqlite_checkpoint_fallback')).toBe(0);
      expect(value(m, 'leadtrail_sqlite_checkpoints_total', { mode: 'passive' })).toBeGreaterThanOrEqual(0);
    }
  });

  it('the sample Grafana dashboard queries only metrics that exist', () => {
    const dashboard = fs.readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const exprs = (JSON.parse(dashboard).panels as { targets: { expr: string }[] }[]).flatMap((p) => p.targets.map((t) => t.expr));
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:leadtrail|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1])));
    expect(names.size).toBeGreaterThan(8);
    const exposed = new Set(scraped.samples.map((x) => x.name));
    for (const name of names) expect(exposed.has(name), name).toBe(true);
  });

  it('carries no account id, key, lead id or raw URL in any label', () => {
    const secrets = [accountId, KEYS.accessKey, KEYS.secretKey, KEYS.apiKey, 'wrong', ...leadIds, 'path-0123456789', 'cap0@example.com'];
    for (const secret of secrets) expect(scraped.text).not.toContain(secret);
    const labelValues = scraped.samples.flatMap((x) => Object.values(x.labels));
    expect(labelValues.some((v) => v.includes('?') || /accesskey/i.test(v))).toBe(false);
  });
});

describe('LEADTRAIL_METRICS_TOKEN', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await started({ LEADTRAIL_METRICS_TOKEN: 'scrape-me' });
  });

  it('is required as a bearer token when set: 401 in plain JSON without it or with another', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: 'scrape-me' }, API_KEY_HEADER]) {
      const r = await scrape(s.url, headers);
      expect(r.status).toBe(401);
      expect(r.type).toMatch(/^application\/json/);
      expect(JSON.parse(r.text)).toMatchObject({ error: 'unauthorized' });
    }
    const ok = await scrape(s.url, { authorization: 'Bearer scrape-me' });
    expect(ok.status).toBe(200);
    expect(value(ok.samples, 'leadtrail_http_requests_total', { route: '/metrics', status: '401' })).toBe(4);
  });
});

describe('queue gauges', () => {
  it('report requests waiting and the age of the oldest, from an injected clock', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    // An API-only process: nothing processes what it accepts.
    const s = await started({ LEADTRAIL_ROLE: 'api' }, { ctx: { now: () => now, newId: () => crypto.randomUUID() } });
    // The oldest is a lead update: every kind counts (lead.update had been left out of the gauge).
    await accept(s.url, '/lead/update?leadId=00000000-0000-0000-0000-000000000001', [{ Attribute: 'FirstName', Value: 'Old' }]);
    now += 30_000;
    await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'waiting@example.com' }]);
    await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'waiting2@example.com' }]);
    now += 60_000;
    const m = (await scrape(s.url)).samples;
    expect(value(m, 'leadtrail_async_requests', { status: 'queued' })).toBe(3);
    expect(value(m, 'leadtrail_async_oldest_pending_seconds')).toBe(90);
    // Every kind's series exists from the start, at 0.
    for (const kind of ['activity.create', 'activity.createcustom', 'lead.capture', 'lead.update']) {
      for (const name of ['leadtrail_async_attempts_total', 'leadtrail_async_outcomes_total']) {
        const series = m.filter((x) => x.name === name && x.labels.kind === kind);
        expect(series.length, `${name}{kind="${kind}"}`).toBeGreaterThan(0);
        expect(series.every((x) => x.value === 0)).toBe(true);
      }
    }
    expect(value(m, 'leadtrail_info', { role: 'api' })).toBe(1);
    // No worker, no accept pacer: the process does not report a backlog of 0 (found by a fresh-eyes run).
    expect(m.filter((x) => x.name === 'leadtrail_async_backlog' || x.name === 'leadtrail_async_accepts_waiting')).toEqual([]);
    if (s.services.store.engine === 'postgres') {
      // An idle API process has nobody waiting for a pool connection: the scrape's own queries
      // are not counted (they were, as 3 waiting, at every scrape).
      for (let i = 0; i < 3; i++) expect(value((await scrape(s.url)).samples, 'leadtrail_db_pool_connections', { state: 'waiting' })).toBe(0);
    }
  });

  it('the age of the oldest request costs a scrape one query, not one per account and kind: 6,000 accounts scrape as fast as one', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const s = await started({ LEADTRAIL_ROLE: 'api' }, { ctx: { now: () => now, newId: () => crypto.randomUUID() } });
    await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'oldest@example.com' }]);
    now += 42_000;
    /** The quickest of three scrapes (a scrape is a few ms: one slow turn of the machine is not the server's). */
    const quickest = async () => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const m = (await scrape(s.url)).samples;
        best = Math.min(best, performance.now() - t0);
        expect(value(m, 'leadtrail_async_oldest_pending_seconds')).toBe(42);
      }
      return best;
    };
    const one = await quickest();
    const beside = await storeBeside(s);
    try {
      await beside.transaction(async (tx) => {
        for (let i = 0; i < 6_000; i++) await tx.accounts.create({ id: `many-${i}`, name: `many ${i}`, createdAt: now });
      });
    } finally {
      await beside.close();
    }
    const many = await quickest();
    // It made 24,000 queries: about 200 ms on SQLite and 4 s on PostgreSQL, against 10-20 ms for one account.
    expect(many, `a scrape took ${Math.round(many)} ms with 6,001 accounts, ${Math.round(one)} ms with one`).toBeLessThan(one * 2 + 40);
  });

  it('two servers in one process keep separate counters', async () => {
    const a = await started();
    const b = await started();
    await a.call('GET', `${LM}/LeadsMetaData.Get`);
    const ma = (await scrape(a.url)).samples;
    const mb = (await scrape(b.url)).samples;
    expect(value(ma, 'leadtrail_http_requests_total', { route: `${LM}/LeadsMetaData.Get` })).toBe(1);
    expect(value(mb, 'leadtrail_http_requests_total', { route: `${LM}/LeadsMetaData.Get` })).toBe(0);
  });
});
