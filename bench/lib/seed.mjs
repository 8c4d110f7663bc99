/**
 * Seed data for the read scenarios, put in fast. Everything that carries meaning (the account, the
 * activity type, leads with their keys, async requests) goes in through leadtrail's own HTTP API,
 * so it is exactly what users' calls make. Only the million activities of the `Retrieve` lead are
 * copied in SQL: one activity posted through the API is cloned row for row, every column kept but
 * the id and the dates, so the copies are whatever the current schema says an activity is.
 */
import { sqliteDriver } from './machine.mjs';

/** Sync and async calls with the bench's keys. Throws on any non-2xx answer: a seed must be whole. */
export function client(base, keys) {
  const call = async (method, path, body, { async = false } = {}) => {
    const headers = { 'x-LSQ-AccessKey': keys.accessKey, 'x-LSQ-SecretKey': keys.secretKey };
    if (async) headers['x-api-key'] = keys.apiKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  return { call, pending: async () => (await call('GET', '/activity/create/metrics', undefined, { async: true })).PendingMessages };
}

/** Runs `fn(i)` for i in [0, n) with `width` in flight; returns the results in order. */
export async function pool(n, width, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until the account's async queue is empty; returns seconds waited and what is left. */
export async function waitDrained(api, timeoutMs) {
  const t0 = performance.now();
  let left = await api.pending();
  while (left > 0 && performance.now() - t0 < timeoutMs) {
    await sleep(200);
    left = await api.pending();
  }
  return { seconds: (performance.now() - t0) / 1000, left };
}

export const leadEmail = (i) => `lead${i}@bench.example`;
export const PA = '/v2/ProspectActivity.svc';
export const LM = '/v2/LeadManagement.svc';

/** The activity type every scenario posts. */
export async function activityType(api) {
  return (await api.call('POST', `${PA}/CreateType`, { ActivityEventName: 'Bench Event', Score: 1 })).Message.Id;
}

/** `n` leads, made by posting one activity each by email (which creates the lead). */
export async function seedLeads(api, code, n) {
  return pool(n, 32, async (i) => {
    const r = await api.call('POST', `${PA}/Create`, { EmailAddress: leadEmail(i), FirstName: `Lead${i}`, ActivityEvent: code, ActivityNote: 'seed' });
    return { id: r.Message.RelatedId, email: leadEmail(i) };
  });
}

/** `n` async requests over the seeded leads, processed by the server's worker; returns their ids. */
export async function seedRequests(api, code, n, leads, timeoutMs = 120_000) {
  const ids = await pool(n, 32, async (i) => (await api.call('POST', '/activity/create', { EmailAddress: leads[i % leads.length].email, ActivityEvent: code, ActivityNote: `status seed ${i}` }, { async: true })).RequestID);
  const w = await waitDrained(api, timeoutMs);
  if (w.left > 0) throw new Error(`seed: ${w.left} async requests still pending after ${timeoutMs / 1000} s`);
  return ids;
}

/** Column list of `activities` and the SELECT expressions that clone row `t` into copy number `i`. */
function cloneColumns(columns, idExpr) {
  const cols = columns.filter((c) => c !== 'seq');
  const expr = cols.map((c) => {
    if (c === 'id') return idExpr;
    if (c === 'occurred_at' || c === 'created_on') return `t.${c} - n.i * 1000`;
    if (c === 'request_id') return 'NULL';
    return `t.${c}`;
  });
  return { cols: cols.join(', '), exprs: expr.join(', ') };
}

/**
 * Gives the lead of activity `templateId` `copies` more activities, one second apart going back in
 * time, in one SQLite transaction on a second connection to the server's file (WAL lets the idle
 * server keep its own).
 */
export async function cloneActivitiesSqlite(file, templateId, copies) {
  const Database = await sqliteDriver();
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    const columns = db.prepare('PRAGMA table_info(activities)').all().map((r) => r.name);
    const { cols, exprs } = cloneColumns(columns, "printf('b0000000-0000-4000-8000-%012x', n.i)");
    db.prepare(
      `INSERT INTO activities (${cols})
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       SELECT ${exprs} FROM activities t, n WHERE t.id = ?`,
    ).run(copies, templateId);
    // The lead row keeps its activity count (what Retrieve answers as RecordCount), as posting would.
    db.prepare(`UPDATE leads SET activity_count = activity_count + ? WHERE id = (SELECT lead_id FROM activities WHERE id = ?)`).run(copies, templateId);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * PostgreSQL's CHECKPOINT after a bulk seed on client `c`: the seed's dirty pages are written out
 * now, not by a checkpoint whose writes compete with the first measured scenarios for the disk (the
 * SQLite seeds are synced for the same reason). Only a superuser may run it, or, from PostgreSQL 15,
 * a member of pg_checkpoint: refused for want of that privilege (SQLSTATE 42501), the seed goes on
 * and this says so on stderr; any other error is thrown.
 */
export async function checkpointPostgres(c) {
  try {
    await c.query('CHECKPOINT');
  } catch (e) {
    if (e?.code !== '42501') throw e;
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] PostgreSQL refused CHECKPOINT after the seed (${e.message}): its pages are left to a later checkpoint, which may fall into a measured scenario\n`);
  }
}

/** The same on PostgreSQL, in the server's schema. */
export async function cloneActivitiesPostgres(pgUrl, schema, templateId, copies) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    const columns = (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'activities' ORDER BY ordinal_position`, [schema])).rows.map((r) => r.column_name);
    const { cols, exprs } = cloneColumns(columns, `'b0000000-0000-4000-8000-' || lpad(to_hex(n.i), 12, '0')`);
    await c.query(`INSERT INTO "${schema}".activities (${cols}) SELECT ${exprs} FROM "${schema}".activities t, generate_series(1, $1::bigint) AS n(i) WHERE t.id = $2`, [copies, templateId]);
    await c.query(`UPDATE "${schema}".leads SET activity_count = activity_count + $1 WHERE id = (SELECT lead_id FROM "${schema}".activities WHERE id = $2)`, [copies, templateId]);
    await c.query(`ANALYZE "${schema}".activities`); // what autovacuum would do shortly after such an insert
    await checkpointPostgres(c);
  } finally {
    await c.end();
  }
}
