/**
 * Scale-out, as deployed: two `--role api` and two `--role worker` processes (the built CLI) on one
 * fresh PostgreSQL schema with Redis. Thousands of async requests go to both API processes; one
 * worker is SIGKILLed mid-run. Every accepted request must end Success exactly once, each lead's
 * requests applied in the order they were accepted, and the 25-per-5-s sync limit must hold across
 * both API processes together.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, http, serve, type Served } from '../cli/cli-runner.js';
import { dropSchemas, freshSchema, pgAvailable, pgQuery, REDIS_TEST_URL } from '../helpers/pg.js';

await pgAvailable();

const LEADS = 150;
const PER_LEAD = 16; // 2400 requests
const KEYS = { accessKey: 'scale-access', secretKey: 'scale-secret' };
const API_KEY = 'scale-api-key';

const schema = freshSchema();
let passed = false;
afterAll(async () => {
  if (passed) await dropSchemas([schema.name]);
  else process.stderr.write(`scale-out failed; schema kept for a look: ${schema.name}\n`);
});

const env = {
  DATABASE_URL: schema.url,
  REDIS_URL: REDIS_TEST_URL,
  // Each run counts in its own Redis keys, so parallel or earlier runs cannot eat its window.
  LEADTRAIL_REDIS_PREFIX: `lt-test-${randomBytes(4).toString('hex')}`,
  LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
  LEADTRAIL_SECRET_KEY: KEYS.secretKey,
  LEADTRAIL_API_KEY: API_KEY,
  LEADTRAIL_RATE_LIMIT: '25/5s',
  LEADTRAIL_LEASE_SECONDS: '2',
  LEADTRAIL_POLL_MS: '50',
  LEADTRAIL_WORKER_CONCURRENCY: '8',
  LEADTRAIL_PG_POOL: '6',
};

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/**
 * SIGKILLs the worker at a moment it holds claimed requests, so the kill really cuts work in flight
 * (a worker between two claims holds nothing, and a kill then would prove no takeover).
 *
 * The worker is frozen (SIGSTOP) before its claims are counted, so what is counted is still held
 * when SIGKILL lands; counting a running worker and then killing it raced with it finishing them.
 * If it holds nothing while frozen, it is let go (SIGCONT) and caught again.
 */
async function killWhileHolding(worker: Served): Promise<void> {
  const started = worker.stdout().split('\n').find((l) => l.includes('"worker started"'));
  if (!started) throw new Error(`no "worker started" line in the worker's log:\n${worker.stdout()}`);
  const id = JSON.parse(started).worker as string;
  const until = Date.now() + 20_000;
  for (;;) {
    worker.child.kill('SIGSTOP');
    // A statement the worker sent just before it froze (a COMMIT) finishes in PostgreSQL meanwhile.
    await new Promise((r) => setTimeout(r, 100));
    const held = await pgQuery(schema.name, "SELECT count(*)::int AS n FROM async_requests WHERE status = 'running' AND locked_by = $1", [id]);
    if (held[0].n > 0) break;
    if (Date.now() > until) throw new Error('the worker to be killed never held a claimed request');
    worker.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  worker.child.kill('SIGKILL');
}

describe('two API processes and two workers on one PostgreSQL', () => {
  it('every accepted request succeeds exactly once, in per-lead order, through a worker SIGKILL; the sync limit is shared', { timeout: 150_000 }, async () => {
    // All four start together on an empty schema: migrations and the first account happen once.
    const [api1, api2, w1, w2] = await Promise.all([
      serve(['--port', '0', '--role', 'api'], env),
      serve(['--port', '0', '--role', 'api'], env),
      serve(['--port', '0', '--role', 'worker'], env),
      serve(['--port', '0', '--role', 'worker'], env),
    ]);
    const apis: Served[] = [api1, api2];
    expect((await pgQuery(schema.name, 'SELECT count(*)::int AS n FROM accounts'))[0].n).toBe(1);
    for (const p of [api1, api2, w1, w2]) expect((await http(p.url, 'GET', '/health')).status).toBe(200);

    const type = await http(api1.url, 'POST', '/v2/ProspectActivity.svc/CreateType', { keys: KEYS, body: { ActivityEventName: 'Scale Call', Score: 1 } });
    expect(type.status, type.text).toBe(200);
    const code = type.body.Message.Id as number;

    // Each lead's requests go out one after another (the next once the previous is accepted),
    // alternating between the API processes; leads run side by side.
    const accepted = new Map<string, { lead: number; n: number }>();
    let killedAt = -1;
    let killing: Promise<void> | null = null;
    const total = LEADS * PER_LEAD;
    await pool(
      Array.from({ length: LEADS }, (_, i) => i),
      60,
      async (lead) => {
        for (let n = 0; n < PER_LEAD; n++) {
          const api = apis[(lead + n) % 2];
          const r = await http(api.url, 'POST', '/activity/create', {
            apiKey: API_KEY,
            keys: KEYS,
            body: { EmailAddress: `lead${lead}@scale.example`, ActivityEvent: code, ActivityNote: String(n) },
          });
          expect(r.status, r.text).toBe(200);
          accepted.set(r.body.RequestID as string, { lead, n });
          if (killedAt < 0 && accepted.size >= total / 3) {
            killedAt = accepted.size;
            killing = killWhileHolding(w1);
          }
        }
      },
    );
    await killing;
    expect(accepted.size).toBe(total);
    expect(w1.child.signalCode ?? (await new Promise((r) => w1.child.once('exit', (_c, sig) => r(sig))))).toBe('SIGKILL');

    // The 25-per-5-s limit across both API processes: 15 calls to each at once → 25 pass, 5 get 429.
    // (Counting alone, each process would pass all 15.) A fresh key starts a fresh window.
    const accountId = (await pgQuery<{ id: string }>(schema.name, 'SELECT id FROM accounts'))[0].id;
    const fresh = await cliJson(['keys', 'create', '--account', accountId], { DATABASE_URL: schema.url });
    const keys = { accessKey: fresh.accessKey as string, secretKey: fresh.secretKey as string };
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => http(apis[i % 2].url, 'GET', '/v2/ProspectActivity.svc/ActivityTypes.Get', { keys })));
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(statuses.filter((s) => s === 200)).toHaveLength(25);
    expect(burst.find((r) => r.status === 429)?.body).toMatchObject({ Status: 'Error', ExceptionType: expect.any(String) });

    // Wait for the surviving worker to finish everything, the killed worker's leases included.
    const until = Date.now() + 100_000;
    let counts: { status: string; n: number }[] = [];
    for (;;) {
      counts = await pgQuery(schema.name, 'SELECT status, count(*)::int AS n FROM async_requests GROUP BY status');
      const unfinished = counts.filter((c) => c.status === 'queued' || c.status === 'running').reduce((a, c) => a + c.n, 0);
      if (unfinished === 0) break;
      if (Date.now() > until) throw new Error(`not finished in time: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(counts).toEqual([{ status: 'succeeded', n: total }]);

    // Exactly once: one activity per accepted request, and no activity without one.
    const acts = await pgQuery<{ request_id: string; note: string; lead_id: string }>(
      schema.name,
      'SELECT request_id, note, lead_id FROM activities WHERE request_id IS NOT NULL ORDER BY seq',
    );
    expect(acts).toHaveLength(total);
    expect(new Set(acts.map((a) => a.request_id)).size).toBe(total);
    expect(acts.every((a) => accepted.has(a.request_id))).toBe(true);

    // Per-lead order: each lead's activities were written in the order its requests were accepted.
    const byLead = new Map<number, number[]>();
    const leadIds = new Map<number, Set<string>>();
    for (const a of acts) {
      const { lead, n } = accepted.get(a.request_id)!;
      expect(a.note).toBe(String(n));
      byLead.set(lead, [...(byLead.get(lead) ?? []), n]);
      leadIds.set(lead, (leadIds.get(lead) ?? new Set()).add(a.lead_id));
    }
    const inOrder = Array.from({ length: PER_LEAD }, (_, n) => n);
    for (let lead = 0; lead < LEADS; lead++) {
      expect(byLead.get(lead), `lead ${lead}`).toEqual(inOrder);
      expect(leadIds.get(lead)?.size, `lead ${lead} is one lead`).toBe(1);
    }

    // The status API agrees, through either API process.
    for (const id of [...accepted.keys()].slice(0, 20)) {
      const st = await http(apis[id.charCodeAt(0) % 2].url, 'GET', `/activity/status?RequestID=${id}`, { apiKey: API_KEY });
      expect(st.body.TaskStatus.Status).toBe('Success');
    }
    // Some of the killed worker's requests were taken over after their lease expired.
    const retried = await pgQuery(schema.name, "SELECT count(*)::int AS n FROM async_requests WHERE attempts > 0 AND last_error LIKE '%lease expired%'");
    expect(retried[0].n).toBeGreaterThan(0);
    process.stderr.write(`scale-out: ${total} requests, worker killed after ${killedAt} accepts, ${retried[0].n} taken over after lease expiry\n`);
    for (const p of [api1, api2, w2]) await p.stop();
    passed = true;
  });
});
