/**
 * The zero-loss promise, shown with a real crash: the built server runs as a child process on a
 * SQLite file, thousands of async requests arrive from 50 connections over a few hundred leads, and
 * the server is killed with SIGKILL mid-stream, then restarted on the same file. Afterwards every
 * request that got a RequestID has succeeded with exactly one activity, each lead's activities are in
 * the order its requests were sent, and a request cut off in flight is wholly there (with its own
 * status) or not there at all. Run at several kill points, and once while only the worker is busy.
 */
import path from 'node:path';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';

const Database = sqliteDriver();
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, request } from '../helpers/server.js';
import { bodyOf, drained, emailOf, ensureBuilt, fire, kill9, leadOf, noteOf, pending, spawnServer, stopGracefully, type Child, type Outcome, type Plan } from './crash-harness.js';
import { API_KEY_HEADER } from './helpers.js';

const TOTAL = 2000;
const LANES = 50;
const LEADS_PER_LANE = 6; // 300 leads

beforeAll(() => ensureBuilt(), 120_000);

async function newPlan(c: Child, run: string): Promise<Plan> {
  const t = await request(c.url, 'POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: `Crash ${run}`, Score: 1 });
  expect(t.status, t.text).toBe(200);
  return { total: TOTAL, lanes: LANES, leadsPerLane: LEADS_PER_LANE, run, code: t.body.Message.Id };
}

interface Tally {
  accepted: number;
  cut: number;
  cutStored: number;
  refused: number;
  unsent: number;
  stored: number;
  retriedAfterCrash: number;
}

/** Reads the stopped server's SQLite file and checks every promise; returns the counts. */
function verify(dbPath: string, p: Plan, outcomes: Outcome[]): Tally {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT r.seq, r.id, r.body, r.status, r.attempts, (SELECT COUNT(*) FROM activities a WHERE a.request_id = r.id) AS n FROM async_requests r ORDER BY r.seq`)
      .all() as { seq: number; id: string; body: string; status: string; attempts: number; n: number }[];
    const acts = db.prepare(`SELECT seq, lead_id, note, request_id FROM activities WHERE request_id IS NOT NULL ORDER BY seq`).all() as {
      seq: number;
      lead_id: string;
      note: string;
      request_id: string;
    }[];
    const noteRe = new RegExp(`"${p.run}#(\\d+)"`);
    const byIndex = new Map<number, (typeof rows)[number]>();
    for (const r of rows) {
      const m = noteRe.exec(r.body);
      expect(m, `stored body of no request of this run: ${r.body}`).not.toBeNull();
      const i = Number(m![1]);
      expect(byIndex.has(i), `request ${i} stored twice`).toBe(false);
      byIndex.set(i, r);
      // Wholly there: the exact body, finished successfully, exactly one activity.
      expect(r.body).toBe(bodyOf(p, i).raw);
      expect({ i, status: r.status, activities: r.n }).toEqual({ i, status: 'succeeded', activities: 1 });
    }
    const t: Tally = { accepted: 0, cut: 0, cutStored: 0, refused: 0, unsent: 0, stored: rows.length, retriedAfterCrash: rows.filter((r) => r.attempts > 0).length };
    outcomes.forEach((o, i) => {
      const row = byIndex.get(i);
      if (o.kind === 'accepted') {
        t.accepted += 1;
        expect(row?.id, `accepted request ${i} (${o.id}) lost`).toBe(o.id);
      } else if (o.kind === 'cut') {
        t.cut += 1;
        if (row) t.cutStored += 1;
      } else {
        t[o.kind] += 1;
        expect(row, `${o.kind} request ${i} was stored`).toBeUndefined();
      }
    });
    // Each activity is its own request's, one lead per email, and each lead's activities are in send order.
    const idToIndex = new Map([...byIndex].map(([i, r]) => [r.id, i]));
    const leadIds = new Map<number, Set<string>>();
    const lastIndex = new Map<number, number>();
    expect(acts).toHaveLength(rows.length);
    for (const a of acts) {
      const i = idToIndex.get(a.request_id)!;
      expect(a.note).toBe(noteOf(p, i));
      const lead = leadOf(p, i);
      leadIds.set(lead, (leadIds.get(lead) ?? new Set()).add(a.lead_id));
      expect(i, `lead ${emailOf(p, lead)}: request ${i} applied after ${lastIndex.get(lead)}`).toBeGreaterThan(lastIndex.get(lead) ?? -1);
      lastIndex.set(lead, i);
    }
    for (const [lead, ids] of leadIds) expect(ids.size, `lead ${emailOf(p, lead)} created more than once`).toBe(1);
    return t;
  } finally {
    db.close();
  }
}

/** Sends the plan, SIGKILLs the server once `killAfter` requests were accepted, restarts, drains, verifies. */
async function crashRun(run: string, killAfter: number): Promise<Tally> {
  const dbPath = path.join(tempDir('leadtrail-crash-'), 'leadtrail.db');
  const first = await spawnServer(dbPath);
  const p = await newPlan(first, run);
  let killing: Promise<void> | null = null;
  const outcomes = await fire(first.url, p, (n) => {
    if (n < killAfter) return false;
    killing ??= kill9(first);
    return true;
  });
  await (killing ?? kill9(first));
  expect(first.proc.signalCode).toBe('SIGKILL');

  const second = await spawnServer(dbPath);
  await drained(second.url);
  // Spot-check the status API too, on a sample of the accepted requests.
  const accepted = outcomes.flatMap((o) => (o.kind === 'accepted' ? [o.id] : []));
  for (const id of accepted.filter((_, k) => k % 97 === 0)) {
    const st = await request(second.url, 'GET', `/activity/status?RequestID=${id}`, undefined, { noAuth: true, headers: API_KEY_HEADER });
    expect(st.body?.TaskStatus?.Status, id).toBe('Success');
  }
  expect(await stopGracefully(second)).toBe(0);
  const t = verify(dbPath, p, outcomes);
  console.log(`[crash] ${run}: kill after ${killAfter} accepted → ${JSON.stringify(t)}`);
  return t;
}

describe('crash: SIGKILL mid-stream, restart, nothing lost or doubled', () => {
  it.each([
    ['10%', 0.1],
    ['50%', 0.5],
    ['90%', 0.9],
  ])('kill after %s of the sends', async (label, fraction) => {
    const t = await crashRun(`k${label.replace('%', '')}`, Math.round(TOTAL * fraction));
    expect(t.accepted).toBeGreaterThanOrEqual(Math.round(TOTAL * fraction));
    expect(t.accepted).toBeLessThan(TOTAL);
    expect(t.stored).toBeGreaterThanOrEqual(t.accepted);
  }, 90_000);

  it('SIGTERM mid-stream: a graceful stop answers or refuses, and loses nothing it answered', async () => {
    const dbPath = path.join(tempDir('leadtrail-crash-'), 'leadtrail.db');
    const first = await spawnServer(dbPath);
    const p = await newPlan(first, 'term');
    let stopping: Promise<number | null> | null = null;
    const outcomes = await fire(first.url, p, (n) => {
      if (n < TOTAL / 2) return false;
      stopping ??= stopGracefully(first);
      return true;
    });
    expect(await stopping).toBe(0);
    const second = await spawnServer(dbPath);
    await drained(second.url);
    expect(await stopGracefully(second)).toBe(0);
    const t = verify(dbPath, p, outcomes);
    console.log(`[crash] SIGTERM after ${TOTAL / 2} accepted → ${JSON.stringify(t)}`);
    expect(t.accepted).toBeGreaterThanOrEqual(TOTAL / 2);
  }, 90_000);

  it('kill while only the worker is busy', async () => {
    const dbPath = path.join(tempDir('leadtrail-crash-'), 'leadtrail.db');
    // Accept everything with the worker off (the --no-worker flag), and stop cleanly.
    const api = await spawnServer(dbPath, ['--no-worker']);
    const p = await newPlan(api, 'worker');
    const outcomes = await fire(api.url, p, () => false);
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    expect(await pending(api.url)).toBe(TOTAL);
    expect(await stopGracefully(api)).toBe(0);

    // Start the worker and kill it when about half the queue is done.
    const busy = await spawnServer(dbPath);
    let left: number;
    for (;;) {
      left = await pending(busy.url);
      if (left <= TOTAL / 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await kill9(busy);
    // The API answered while the worker still had work: a backlog does not starve HTTP.
    expect(left).toBeGreaterThan(0);

    const again = await spawnServer(dbPath);
    await drained(again.url);
    expect(await stopGracefully(again)).toBe(0);
    const requeued = /"released":(\d+)/.exec(again.output());
    const t = verify(dbPath, p, outcomes);
    console.log(`[crash] worker-only: requeued after kill ${requeued?.[1] ?? 0} → ${JSON.stringify(t)}`);
    expect(t.accepted).toBe(TOTAL);
    expect(t.stored).toBe(TOTAL);
  }, 90_000);
});
