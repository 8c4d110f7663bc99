/**
 * The bulk lead reads at scale (issue 13): `Leads.Get` by email and `Leads.RecentlyModified` over an
 * account of 1 million leads (a few thousand with --smoke), reporting p99 like every scenario.
 *
 * Seeding: one lead is made through the API (`Lead.Create`), so it is exactly what a user's call
 * makes; then it is cloned in SQL, in one transaction, straight into the server's database: its
 * `leads` row, its `lead_keys` rows and its `lead_values` rows (the search index), every column kept
 * but the id, the email (in the fields, the key and the index), ProspectAutoId and the dates, which
 * go back one second per copy. (Only the EmailAddress and FirstName index rows are copied: see SEARCHED.) The account's ProspectAutoId counter is moved past the copies. So the
 * copies are whatever the current schema says a lead is, and seeding a million takes seconds.
 */
import fs from 'node:fs';
import { sqliteDriver } from './machine.mjs';
import { post } from './load.mjs';
import { LM, checkpointPostgres } from './seed.mjs';
const DOMAIN = 'reads.bench.example';
/** Zero-padded, so the copies' emails are inserted into the value and key indexes in order: a million random inserts would take minutes. */
export const readEmail = (i) => `lr${String(i).padStart(7, '0')}@${DOMAIN}`;
/** Each RecentlyModified call asks for one hour of changes: about 3,600 leads, 100 a page. */
const WINDOW_S = 3600;
const COLUMNS = 'ProspectID,FirstName,EmailAddress,ModifiedOn';

/** The scenarios that need the million-lead account (create-beside-search is run.mjs's, with its Create). */
const ids = new Set(['leads-get-1m', 'leads-mod-1m', 'create-beside-search']);
let seq = 0;
const fmt = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** The two scenarios, for bench/run.mjs's list. `headers`: the sync call headers. */
export function leadReadScenarios(headers) {
  return [
    {
      id: 'leads-get-1m',
      title: 'LeadManagement.svc/Leads.Get, EmailAddress = one address, over 1 million leads',
      engines: ['sqlite', 'postgres'],
      request: (ctx) => post(`${LM}/Leads.Get`, headers, () => ({
        Parameter: { LookupName: 'EmailAddress', LookupValue: readEmail(seq++ % ctx.leadReads.n), SqlOperator: '=' },
        Columns: { Include_CSV: COLUMNS },
        Paging: { PageIndex: 1, PageSize: 10 },
      })),
    },
    {
      id: 'leads-mod-1m',
      title: 'LeadManagement.svc/Leads.RecentlyModified, a one-hour window (~3,600 leads), first 100, over 1 million leads',
      engines: ['sqlite', 'postgres'],
      request: (ctx) => post(`${LM}/Leads.RecentlyModified`, headers, () => {
        const { newest, n } = ctx.leadReads;
        const span = Math.max(1, n - WINDOW_S);
        const from = newest - ((seq++ * 7919) % span) * 1000 - WINDOW_S * 1000;
        return {
          Parameter: { FromDate: fmt(from), ToDate: fmt(from + WINDOW_S * 1000) },
          Columns: { Include_CSV: COLUMNS },
          Paging: { PageIndex: 1, PageSize: 100 },
          Sorting: { ColumnName: 'ModifiedOn', Direction: '1' },
        };
      }),
    },
  ];
}

/**
 * Heavy searches over the million-lead account, made one after another until `remove()`, for the
 * `create-beside-search` scenario: every other one a `Leads.GetByQuickSearch` and a `Leads.Get` with
 * `LIKE '%…%'` on FirstName, each for a text no lead has, so each reads every lead of the account.
 * Such a search once held the event loop (the quick search) or SQLite's writer thread (`Leads.Get`)
 * for about a second per million leads (docs/performance.md, nineteenth session); the scenario's
 * Create calls, which need both, show any such hold in their longest wait.
 *
 * `headers`: a sync call's keys. `made(until)`: the searches that ended by `until` (a
 * `performance.now()` time), as `{ count, meanMs, failed, running }` (`failed`: answers other than
 * 200, or none within a minute; `running`: one is in flight now, as when a search outlasts the
 * window). `remove()` stops it and resolves once the search in flight has ended.
 */
export function heavySearches(url, headers) {
  const done = [];
  let stopped = false;
  let i = 0;
  const one = (key) =>
    i++ % 2 === 0
      ? fetch(`${url}${LM}/Leads.GetByQuickSearch?key=${key}`, { headers, signal: AbortSignal.timeout(60_000) })
      : fetch(`${url}${LM}/Leads.Get`, {
          method: 'POST',
          signal: AbortSignal.timeout(60_000),
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ Parameter: { LookupName: 'FirstName', LookupValue: `%${key}%`, SqlOperator: 'LIKE' }, Columns: { Include_CSV: COLUMNS }, Paging: { PageIndex: 1, PageSize: 10 } }),
        });
  let running = false;
  const loop = (async () => {
    while (!stopped) {
      const t = performance.now();
      running = true;
      let status = 0;
      try {
        const res = await one(`nobody-${i}-zq`);
        await res.arrayBuffer();
        status = res.status;
      } catch {
        // A refused connection or a timeout counts as a failed search.
      }
      running = false;
      const end = performance.now();
      done.push({ end, ms: end - t, ok: status === 200 });
      // After a failure the loop goes on after a pause, not spinning against a server that refuses.
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    made(until) {
      const ended = done.filter((d) => d.end <= until);
      return { count: ended.length, meanMs: ended.length ? ended.reduce((a, d) => a + d.ms, 0) / ended.length : null, failed: ended.filter((d) => !d.ok).length, running };
    },
    async remove() {
      stopped = true;
      await loop;
    },
  };
}

/** The INSERT … SELECT column lists that clone row `t` into copy `n.i`, given the table's columns and per-column expressions. */
function clone(columns, special) {
  const cols = columns.filter((c) => c !== 'seq');
  return { cols: cols.join(', '), exprs: cols.map((c) => special[c] ?? `t.${c}`).join(', ') };
}

/** Expressions of the copies, per engine: the new id and email of copy `n.i`. */
const EXPR = {
  sqlite: { id: "printf('c0000000-0000-4000-8000-%012x', n.i)", email: `printf('lr%07d@${DOMAIN}', n.i)` },
  postgres: { id: "'c0000000-0000-4000-8000-' || lpad(to_hex(n.i), 12, '0')", email: `'lr' || lpad(n.i::text, 7, '0') || '@${DOMAIN}'` },
};

/**
 * The fields whose search-index rows the copies get. Every lead also has OwnerId, CreatedBy and
 * ModifiedBy rows (one value, the bench user, for all): copying those too would triple the index
 * rows to write (5 million) for searches no scenario makes, and the seed must stay well under a minute.
 */
const SEARCHED = "'EmailAddress', 'FirstName'";

function statements(engine, cols, q, template, accountId) {
  const e = EXPR[engine];
  const email0 = readEmail(0);
  const swap = (col) => `CASE WHEN t.${col} = '${email0}' THEN ${e.email} ELSE t.${col} END`;
  const leads = clone(cols.leads, {
    id: e.id,
    auto_id: 't.auto_id + n.i',
    fields: `replace(t.fields, '"${email0}"', '"' || ${e.email} || '"')`,
    created_on: 't.created_on - n.i * 1000',
    modified_on: 't.modified_on - n.i * 1000',
  });
  const keys = clone(cols.lead_keys, { lead_id: e.id, value: swap('value') });
  const values = clone(cols.lead_values, { lead_id: e.id, value: swap('value') });
  return [
    `INSERT INTO ${q('leads')} (${leads.cols}) SELECT ${leads.exprs} FROM ${q('leads')} t, ${q('lr_n')} n WHERE t.id = '${template}'`,
    `INSERT INTO ${q('lead_keys')} (${keys.cols}) SELECT ${keys.exprs} FROM ${q('lead_keys')} t, ${q('lr_n')} n WHERE t.account_id = '${accountId}' AND t.lead_id = '${template}'`,
    `INSERT INTO ${q('lead_values')} (${values.cols}) SELECT ${values.exprs} FROM ${q('lead_values')} t, ${q('lr_n')} n WHERE t.account_id = '${accountId}' AND t.lead_id = '${template}' AND t.field IN (${SEARCHED})`,
    `UPDATE ${q('accounts')} SET last_lead_auto_id = (SELECT MAX(auto_id) FROM ${q('leads')} WHERE account_id = '${accountId}') WHERE id = '${accountId}'`,
    `DROP TABLE ${q('lr_n')}`,
  ];
}

async function cloneSqlite(file, template, accountId, copies) {
  const Database = await sqliteDriver();
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('cache_size = -262144'); // 256 MB for this one connection: the indexes of a million rows
    db.pragma('synchronous = OFF'); // this connection's seed only: a crash mid-seed fails the bench anyway
    const cols = Object.fromEntries(['leads', 'lead_keys', 'lead_values'].map((t) => [t, db.prepare(`PRAGMA table_info(${t})`).all().map((r) => r.name)]));
    db.transaction(() => {
      db.prepare(`CREATE TABLE lr_n AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i FROM c`).run(copies);
      for (const s of statements('sqlite', cols, (t) => t, template, accountId)) db.prepare(s).run();
    })();
    // No ANALYZE: leadtrail's SQLite databases run without planner statistics, and so does this one.
    // Every frame copied, or the rest of the seed would stay in the log unsynced (the server
    // beside it may hold the log a moment: its journal, its checkpoints).
    for (let attempt = 1; ; attempt++) {
      const [c] = db.pragma('wal_checkpoint(TRUNCATE)');
      if (c.busy === 0 && c.log === c.checkpointed) break;
      if (attempt === 20) throw new Error(`seed: the log could not be checkpointed (${JSON.stringify(c)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    db.close();
  }
  // synchronous=OFF left the copies' few hundred MB in the page cache, unwritten: the server's first
  // fsyncs (a COMMIT's, a checkpoint's) would then wait for the kernel to write them all, and hold
  // every Create for 0.3–1.7 s in the first seconds of the scenarios that follow. Write them now,
  // before anything is measured.
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

async function clonePostgres(pgUrl, schema, template, accountId, copies) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    const cols = {};
    for (const t of ['leads', 'lead_keys', 'lead_values']) {
      cols[t] = (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, [schema, t])).rows.map((r) => r.column_name);
    }
    const q = (t) => `"${schema}".${t}`;
    await c.query('BEGIN');
    await c.query(`CREATE TABLE ${q('lr_n')} AS SELECT i FROM generate_series(1, $1::bigint) AS g(i)`, [copies]);
    for (const s of statements('postgres', cols, q, template, accountId)) await c.query(s);
    await c.query('COMMIT');
    for (const t of ['leads', 'lead_keys', 'lead_values']) await c.query(`ANALYZE ${q(t)}`); // as autovacuum would shortly after
    await checkpointPostgres(c);
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await c.end();
  }
}

/**
 * Seeds the lead-read account when one of the scenarios is wanted: `n` leads (1,000,000; 10,000 with
 * `smoke`), checks that both reads find what was put in, and times one lone call of each.
 * Returns `{ leadReads }` for the scenarios' context (empty when neither is wanted); `seconds` gets
 * the seeding time.
 */
export async function seedLeadReads({ engine, storage, api, pgUrl, wanted, smoke, seconds, leads }) {
  if (![...ids].some((id) => wanted.has(id))) return {};
  const n = leads ?? (smoke ? 10_000 : 1_000_000);
  const t = performance.now();
  const template = (await api.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: readEmail(0) }, { Attribute: 'FirstName', Value: 'Reader' }])).Message.Id;
  const accountId = (await api.call('GET', '/v2/Authentication.svc/UserByAccessKey.Get')).OrgId;
  if (engine === 'sqlite') await cloneSqlite(storage.file, template, accountId, n - 1);
  else await clonePostgres(pgUrl, storage.schema, template, accountId, n - 1);
  seconds.leadReads = (performance.now() - t) / 1000;
  // The server closes a keep-alive connection left idle through the copy; fetch may reuse it once.
  const [lead] = await api.call('GET', `${LM}/Leads.GetById?id=${template}`).catch((e) => {
    if (e instanceof TypeError) return api.call('GET', `${LM}/Leads.GetById?id=${template}`);
    throw e;
  });
  const newest = Date.parse(`${lead.ModifiedOn.replace(' ', 'T')}Z`);
  // The copies must be found as users' leads are: by the index, and in the window.
  const lone = {};
  const t1 = performance.now();
  const found = await api.call('POST', `${LM}/Leads.Get`, { Parameter: { LookupName: 'EmailAddress', LookupValue: readEmail(n - 1), SqlOperator: '=' }, Columns: { Include_CSV: COLUMNS } });
  lone.leadsGetMs = performance.now() - t1;
  if (found.length !== 1 || found[0].EmailAddress !== readEmail(n - 1)) throw new Error(`seed: Leads.Get of the last copy answered ${JSON.stringify(found).slice(0, 300)}`);
  const t2 = performance.now();
  const from = newest - (WINDOW_S + 1800) * 1000;
  const recent = await api.call('POST', `${LM}/Leads.RecentlyModified`, { Parameter: { FromDate: fmt(from), ToDate: fmt(from + WINDOW_S * 1000) }, Columns: { Include_CSV: COLUMNS }, Paging: { PageIndex: 1, PageSize: 100 } });
  lone.recentMs = performance.now() - t2;
  if (recent.RecordCount < WINDOW_S - 2 || recent.RecordCount > WINDOW_S + 2 || recent.Leads.length !== 100) {
    throw new Error(`seed: a one-hour window found ${recent.RecordCount} leads (${recent.Leads.length} on the page), expected ~${WINDOW_S}`);
  }
  return { leadReads: { n, newest, lone } };
}
