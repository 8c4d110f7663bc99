/**
 * Reading one account's rows a bounded stretch at a time, for the searches no index serves: a field
 * that *contains* a text (`Leads.GetByQuickSearch`, the console's lead search, the journal's path
 * filter). Such a search reads the account's rows until enough match, which for a selective text is
 * all of them.
 *
 * Done as one statement, it held the connection for the whole account: on SQLite, whose statements
 * run on the event loop, the server answered nothing else for about a second per million leads (the
 * eighteenth session's `npm run bench`: `console-leads` answered one search a second and starved the
 * scenario after it). Here each statement reads at most `SCAN_SPAN` rows, between two `seq` values
 * read from the `(account_id, seq)` index, and the event loop gets a turn (`setImmediate`) between
 * statements, so other requests are answered while a search goes on. The search costs as much CPU
 * as before; it no longer stops the server.
 *
 * Walks take turns: one at a time in a process, in the order they were asked for. Run side by side,
 * 64 searches of a million leads shared the CPU and all finished after about a minute, long after
 * their clients gave up; one at a time, each is answered in its second. A walk whose signal aborts
 * (its client left) while it waits leaves the queue at once; one running stops before its next
 * stretch.
 *
 * Between two stretches other writes may commit: a stretch is read in its own snapshot. Rows are
 * walked by `seq`, which a row keeps for life, so each row present throughout is read exactly once;
 * one inserted meanwhile is read only if its `seq` falls in a stretch not yet read (the newest ones,
 * walking upwards), and one deleted meanwhile may or may not be.
 */
import { sql, type RawBuilder } from 'kysely';
import PQueue from 'p-queue';
import type { Db } from './schema.js';

/** Rows read per statement (about 2–3 ms of SQLite's time for leads, measured on a 2-core machine). */
export const SCAN_SPAN = 2_000;

/**
 * Rows a statement hands back at most, of those its stretch holds that pass its test: a broad test
 * would otherwise bring back a whole stretch of rows (leads' fields, journal bodies) at once.
 */
export const SCAN_BATCH = 200;

/** A stretch of one account's rows: `above < seq <= atMost`; null is no bound. */
export interface SeqRange {
  above: number | null;
  atMost: number | null;
}

/** Where a walk starts and which way it goes. */
export interface SeqWalk {
  /** Newest first (`seq` descending) or oldest first. */
  descending: boolean;
  /** Descending: only rows with `seq` below this; ascending: only rows with `seq` above it. */
  from?: number;
  /** Once it aborts, the walk stops before its next stretch, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Reads `range` a batch at a time: `read(past, batch)` returns up to `batch` rows of the range in the
 * walk's order, the next ones past `past` (the last seq read; null at first); `use` takes each
 * row and returns false to stop. Resolves false when `use` stopped, true when the range is done.
 */
export async function eachBatch<R extends { seq: number | string }>(
  read: (past: number | null, batch: number) => Promise<R[]>,
  use: (row: R) => boolean,
  batch = SCAN_BATCH,
): Promise<boolean> {
  for (let past: number | null = null; ; ) {
    const rows = await read(past, batch);
    for (const r of rows) if (!use(r)) return false;
    if (rows.length < batch) return true;
    past = Number(rows[rows.length - 1].seq);
  }
}

/** The condition `range` puts on a statement over the walked table (`seq` unqualified). */
export function inSeqRange(range: SeqRange): RawBuilder<boolean> {
  const above = range.above === null ? sql`TRUE` : sql`seq > ${range.above}`;
  const atMost = range.atMost === null ? sql`TRUE` : sql`seq <= ${range.atMost}`;
  return sql<boolean>`(${above} AND ${atMost})`;
}

/** Walks waiting for their turn, and the one running (see above). */
const walks = new PQueue({ concurrency: 1 });

/**
 * Runs `work` in the walks' turn: once every walk asked for before has ended, and before any asked
 * for after. Rejects with `signal`'s reason, without running `work`, if it aborts while waiting;
 * once `work` runs, the turn is its own until it settles (it watches `signal` itself). Tests hold
 * the turn with it to make a walk wait.
 */
export function takeTurn<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return walks.add(work);
  // p-queue gives up a running task's turn when its signal aborts, letting the next one start
  // beside it: only a waiting walk is given a signal there.
  const waiting = new AbortController();
  const leave = () => waiting.abort(signal.reason);
  if (signal.aborted) leave();
  else signal.addEventListener('abort', leave, { once: true });
  return walks.add(
    () => {
      signal.removeEventListener('abort', leave);
      return work();
    },
    { signal: waiting.signal },
  );
}

/** How many walks wait for their turn (not counting the one running). */
export function walksWaiting(): number {
  return walks.size;
}

/** The event loop's next check phase: I/O callbacks waiting run before it. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Once the walks asked for before it have ended, calls `visit` with consecutive stretches of the
 * account's rows of `table`, each holding at most `span` rows, in the walk's order, until `visit`
 * resolves false or the rows run out; the event loop takes a turn between two calls. `visit` reads
 * its stretch with `inSeqRange(range)` in its WHERE clause (and orders it as the walk goes), and
 * must not start a walk of its own (it would wait for itself). Rejects with the database's error,
 * or with the walk's signal's reason (an AbortError) once it has aborted.
 */
export async function eachSeqRange(
  db: Db,
  table: 'leads' | 'journal',
  accountId: string,
  walk: SeqWalk,
  visit: (range: SeqRange) => Promise<boolean>,
  span = SCAN_SPAN,
): Promise<void> {
  await takeTurn(() => walkRanges(db, table, accountId, walk, visit, span), walk.signal);
}

async function walkRanges(db: Db, table: 'leads' | 'journal', accountId: string, walk: SeqWalk, visit: (range: SeqRange) => Promise<boolean>, span: number): Promise<void> {
  const order = walk.descending ? sql`DESC` : sql`ASC`;
  // Descending: the stretch is (edge - 1, cursor]; ascending: (cursor, edge].
  let cursor: number | null = walk.from === undefined ? null : walk.descending ? walk.from - 1 : walk.from;
  for (let first = true; ; first = false) {
    if (!first) await nextTurn();
    walk.signal?.throwIfAborted();
    const bound = cursor === null ? sql`TRUE` : walk.descending ? sql`seq <= ${cursor}` : sql`seq > ${cursor}`;
    const edgeRow = await sql<{ seq: number | string }>`SELECT seq FROM ${sql.table(table)} WHERE account_id = ${accountId} AND ${bound}
      ORDER BY seq ${order} LIMIT 1 OFFSET ${span - 1}`.execute(db);
    const edge = edgeRow.rows[0] === undefined ? null : Number(edgeRow.rows[0].seq);
    const range: SeqRange = walk.descending
      ? { above: edge === null ? null : edge - 1, atMost: cursor }
      : { above: cursor, atMost: edge };
    if (!(await visit(range)) || edge === null) return;
    cursor = walk.descending ? edge - 1 : edge;
  }
}
