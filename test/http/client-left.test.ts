/**
 * A client that leaves before its answer: the call is counted and journaled with status 499 (no
 * answer is written, so Fastify's onResponse never runs). A search that reads the whole account (seq-ranges.ts: `Leads.GetByQuickSearch`, the console's lead
 * search, the journal's path filter) is dropped when its client leaves: it leaves the queue of
 * searches at once, and the call is counted (and, for LeadSquared's routes, journaled) with status
 * 499. Runs on SQLite and PostgreSQL.
 *
 * The searches' turn is held by the test (`takeTurn`), so the request waits at a known place until
 * its client leaves: no timing involved.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { takeTurn, walksWaiting } from '../../src/storage/sql/seq-ranges.js';
import { LM, accountIdOf, createLead, expectOk } from '../helpers/lsq.js';
import { KEYS, started, startServer, storeBeside, type TestServer } from '../helpers/server.js';
import { consoleClient } from '../console/session.js';

let s: TestServer;
let accountId: string;
const auth = `accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;

/** The server's log lines, parsed (pino at debug, into memory). */
const logLines: { level: number; msg?: string }[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line));
    done();
  },
});

beforeAll(async () => {
  s = await started({ LEADTRAIL_FAULTS: 'true' }, { log: pino({ level: 'debug' }, logStream) });
  accountId = await accountIdOf(s);
});

let release: (() => void) | null = null;
afterEach(() => release?.());

/** Holds the searches' turn until the returned function is called. */
function holdSearches(): () => void {
  let done!: () => void;
  void takeTurn(() => new Promise<void>((r) => (done = r)));
  release = () => done?.();
  return () => done();
}

/** Sends a GET that waits for the searches' turn, then leaves (closes its connection) before any answer. */
async function leaveWhileWaiting(path: string, headers: Record<string, string> = {}): Promise<void> {
  const free = holdSearches();
  const client = new AbortController();
  const answered = fetch(`${s.url}${path}`, { signal: client.signal, headers }).then(
    () => 'answered',
    (e: Error) => e.name,
  );
  await expect.poll(walksWaiting).toBe(1);
  client.abort();
  expect(await answered).toBe('AbortError');
  // Its search left the queue as its client left, before the turn came back.
  await expect.poll(walksWaiting).toBe(0);
  free();
}

/** The account's journal entries of `path`, straight from the store (the server writes them in batches). */
async function journaled(path: string): Promise<number[]> {
  const entries = await s.services.store.journal.list(accountId, { limit: 500 });
  return entries.filter((e) => e.path === path).map((e) => e.status);
}

/** `leadtrail_http_requests_total` of `route` answered (or not) with `status`, from GET /metrics. */
async function counted(route: string, status: number, server: TestServer = s): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('leadtrail_http_requests_total{') && l.includes(`route="${route}"`) && l.includes(`status="${status}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a search whose client leaves', () => {
  it('Leads.GetByQuickSearch leaves the queue and is journaled as 499; the next search is answered', async () => {
    const logFrom = logLines.length;
    const id = await createLead(s, { FirstName: 'Zorba', EmailAddress: 'zorba@example.com' });
    await leaveWhileWaiting(`${LM}/Leads.GetByQuickSearch?key=zorba&${auth}`);
    const found = expectOk(await s.call('GET', `${LM}/Leads.GetByQuickSearch?key=zorba`)) as { ProspectID: string }[];
    expect(found.map((l) => l.ProspectID)).toEqual([id]);
    await expect.poll(() => journaled(`${LM}/Leads.GetByQuickSearch`)).toEqual([200, 499]);
    expect(await counted(`${LM}/Leads.GetByQuickSearch`, 499)).toBe(1);
    // The stopped search ended its request quietly (envelope.ts hands the AbortError to `abandoned`):
    // no 500 written to a closed connection, no error logged for a client that simply left.
    expect(await counted(`${LM}/Leads.GetByQuickSearch`, 500)).toBe(0);
    const logged = logLines.slice(logFrom);
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged.some((l) => l.level === 20 && l.msg?.startsWith('client left before the answer'))).toBe(true);
  });

  it('the journal API with a path filter leaves the queue; the next one is answered', async () => {
    await leaveWhileWaiting(`/_leadtrail/journal?path=GetByQuickSearch&${auth}`);
    const listed = expectOk(await s.call('GET', '/_leadtrail/journal?path=GetByQuickSearch')) as { entries: { status: number }[] };
    expect(listed.entries.map((e) => e.status)).toContain(499);
    expect(await counted('/_leadtrail/journal', 499)).toBe(1);
  });

  it("the console's lead search leaves the queue; the console still answers", async () => {
    const c = await consoleClient(s.url);
    await leaveWhileWaiting('/console/leads?q=zorba', { cookie: c.cookie });
    const page = await c.get('/console/leads?q=zorba');
    expect(page.status).toBe(200);
    expect(page.text).toContain('zorba@example.com');
    expect(await counted('/console/leads', 499)).toBe(1);
  });
});

describe("the console's live tail of the journal", () => {
  it('with a path filter, leaves the queue of searches when its page goes', async () => {
    const logFrom = logLines.length;
    const c = await consoleClient(s.url);
    const free = holdSearches();
    const page = new AbortController();
    const res = await fetch(`${s.url}/console/requests/stream?path=GetByQuickSearch`, { signal: page.signal, headers: { cookie: c.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Its first read waits behind the held turn…
    await expect.poll(walksWaiting).toBe(1);
    page.abort();
    // …and leaves the queue as the page goes, before the turn comes back.
    await expect.poll(walksWaiting).toBe(0);
    free();
    expect(logLines.slice(logFrom).filter((l) => l.level >= 40 && /journal stream/.test(l.msg ?? ''))).toEqual([]);
  });
});

/**
 * Posts a Lead.Create for `email` under a forced fault `rule` of one use, and leaves (closes its
 * connection) once the server holds the call (the rule is used up). Returns when it sent and left.
 */
async function createThenLeave(email: string, rule: Record<string, unknown>): Promise<{ sentAt: number; leftAt: number }> {
  const CREATE = `${LM}/Lead.Create`;
  await s.call('POST', '/_leadtrail/faults', { path: CREATE, times: 1, ...rule });
  const client = new AbortController();
  const sentAt = Date.now();
  const sent = fetch(`${s.url}${CREATE}?${auth}`, {
    method: 'POST',
    signal: client.signal,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ Attribute: 'EmailAddress', Value: email }]),
  }).catch((e: Error) => e.name);
  // The rule is used up once the call is in the server's hands, held by the latency.
  await expect.poll(async () => ((await s.call('GET', '/_leadtrail/faults')).body as { faults: unknown[] }).faults.length, { timeout: 5_000 }).toBe(0);
  client.abort();
  const leftAt = Date.now();
  expect(await sent).toBe('AbortError');
  return { sentAt, leftAt };
}

describe('any call whose client leaves before the answer', () => {
  it('a Create held by a forced latency: counted and journaled as 499, and still done', async () => {
    const CREATE = `${LM}/Lead.Create`;
    const { sentAt, leftAt } = await createThenLeave('left-early@example.com', { latencyMs: 1_000 });
    await expect.poll(async () => (await journaled(CREATE)).filter((status) => status === 499), { timeout: 5_000 }).toEqual([499]);
    expect(await counted(CREATE, 499)).toBe(1);
    // What it asked for was done: the client may retry and find the lead.
    const byEmail = async () => (await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=left-early%40example.com`)).body as { ProspectID: string }[];
    await expect.poll(async () => (await byEmail()).length, { timeout: 5_000 }).toBe(1);
    const [lead] = await byEmail();
    // Its entry, written once the Create ended, names that lead (it had none when written as the
    // client left), with the time the client waited and no answer (none was sent).
    const [entry] = (await s.services.store.journal.list(accountId, { limit: 500 })).filter((e) => e.path === CREATE && e.status === 499);
    expect(entry).toMatchObject({ leadId: lead.ProspectID, responseBody: null });
    expect(entry.latencyMs).toBeGreaterThanOrEqual(0);
    expect(entry.latencyMs).toBeLessThan(1_000);
    // Its time is when the call arrived, and it ends when the server saw the client leave, not
    // when the entry was written (after the 1 s latency). The server sees the close a moment after
    // the client's abort, however long the loop (shared with this test) takes to get to it, so the
    // end is bounded below by the abort and above by the latency's end, not by the abort plus a
    // guess (CI once saw it 5.4 ms after). `at` is rounded to the millisecond: 1 ms of slack.
    expect(entry.at).toBeGreaterThanOrEqual(sentAt - 1);
    expect(entry.at + entry.latencyMs).toBeGreaterThanOrEqual(leftAt - 1);
    expect(entry.at + entry.latencyMs).toBeLessThan(sentAt + 1_000);
  });

  it('a call whose client left during a forced latency before a drop: journaled once, as 499', async () => {
    const CREATE = `${LM}/Lead.Create`;
    const mine = async () =>
      (await s.services.store.journal.list(accountId, { limit: 500 })).filter((e) => e.path === CREATE && String(e.requestBody).includes('left-before-drop')).map((e) => e.status);
    await createThenLeave('left-before-drop@example.com', { latencyMs: 600, drop: true });
    // Written when the drop ends the call (no answer will come), not held until the server stops.
    await expect.poll(mine, { timeout: 5_000 }).toEqual([499]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await mine()).toEqual([499]);
  });
});

describe('a call whose client left, still running when the server stops', () => {
  /**
   * Starts a server of its own (debug log into `lines`), posts a Lead.Create held by a forced
   * latency of `latencyMs`, leaves once the server holds it and has seen it leave, then stops the
   * server. Returns the stored journal entries of Lead.Create and the lead they name, read after the
   * stop, when the latency is over.
   */
  async function leaveThenStop(env: Record<string, string>, latencyMs: number) {
    const lines: { level: number; msg?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const own = await startServer({ LEADTRAIL_FAULTS: 'true', ...env }, { log: pino({ level: 'debug' }, sink) });
    const ownAccount = await accountIdOf(own);
    const CREATE = `${LM}/Lead.Create`;
    await own.call('POST', '/_leadtrail/faults', { path: CREATE, times: 1, latencyMs });
    const before = await counted(CREATE, 499, own);
    const client = new AbortController();
    const sent = fetch(`${own.url}${CREATE}?${auth}`, {
      method: 'POST',
      signal: client.signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ Attribute: 'EmailAddress', Value: 'left-at-stop@example.com' }]),
    }).catch((e: Error) => e.name);
    await expect.poll(async () => ((await own.call('GET', '/_leadtrail/faults')).body as { faults: unknown[] }).faults.length, { timeout: 5_000 }).toBe(0);
    client.abort();
    expect(await sent).toBe('AbortError');
    // The server has seen the client leave (counted as it leaves) before it is told to stop.
    await expect.poll(() => counted(CREATE, 499, own), { timeout: 5_000 }).toBe(before + 1);
    // Started after the latency began: fires after its end.
    let latencyOver = false;
    const afterLatency = new Promise<void>((resolve) => setTimeout(() => ((latencyOver = true), resolve()), latencyMs + 300));
    await own.close();
    const stoppedBeforeLatencyEnded = !latencyOver;
    await afterLatency;
    const beside = await storeBeside(own);
    try {
      const entries = (await beside.journal.list(ownAccount, { limit: 500 })).filter((e) => e.path === CREATE);
      const lead = entries[0]?.leadId ? await beside.leads.get(ownAccount, entries[0].leadId) : null;
      return { entries, lead, lines, stoppedBeforeLatencyEnded };
    } finally {
      await beside.close();
    }
  }

  it('the stop waits for its work: the lead is made, and its entry (499) names it', async () => {
    const { entries, lead, lines } = await leaveThenStop({}, 800);
    expect(entries).toMatchObject([{ status: 499, responseBody: null }]);
    expect(lead).not.toBeNull();
    // The work did not meet a closed store ("unexpected error: the store is closed", as it did).
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('waits LEADTRAIL_TX_TIMEOUT_MS at most, says so, and journals the call once, as it stands', async () => {
    const { entries, lines, stoppedBeforeLatencyEnded } = await leaveThenStop({ LEADTRAIL_TX_TIMEOUT_MS: '200' }, 2_000);
    expect(stoppedBeforeLatencyEnded).toBe(true);
    expect(lines.filter((l) => l.level === 40 && /calls whose client left still running/.test(l.msg ?? ''))).toHaveLength(1);
    // Written by the stop, before its work ended (no lead yet), and not again when it ended.
    expect(entries).toMatchObject([{ status: 499, responseBody: null, leadId: null }]);
  });
});
