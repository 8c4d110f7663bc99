/**
 * What the machine itself allows and how busy it is: memory of a process, load average, and the
 * commit rate of a bare SQLite file (and of PostgreSQL) with leadtrail's durability settings. The
 * commit rate is the ceiling of any design that commits once per request.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Resident set size of `pid` in MB (Linux /proc, else `ps`); null when it cannot be read. */
export function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux, or gone */
  }
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024 || null;
  } catch {
    return null;
  }
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user + system) `pid` has used so far, from Linux /proc (null elsewhere). Unlike
 * req/s, CPU time per request barely depends on how busy the rest of the machine is: it compares
 * two versions of the server on a shared machine.
 */
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * CPU seconds `pid`'s main thread (its event loop: the thread whose id is the pid) has used so far,
 * from Linux /proc (null elsewhere). With `cpuSeconds` it splits a server's CPU per request into the
 * event loop's and the other threads' (SQLite's writer and read threads, V8's helpers): a server
 * whose two figures add up to one core while the machine idles is waiting, not working.
 */
export function loopCpuSeconds(pid) {
  return cpuSeconds(`${pid}/task/${pid}`);
}

/** Samples the RSS of `pids` every `everyMs`; `stop()` returns the peak seen for each pid. */
export function rssSampler(pids, everyMs = 100) {
  const peak = Object.fromEntries(pids.map((p) => [p, 0]));
  const take = () => {
    for (const p of pids) peak[p] = Math.max(peak[p], rssMB(p) ?? 0);
  };
  take();
  const t = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(t);
      take();
      return peak;
    },
  };
}

export const loadAvg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

const DRIVER = pathToFileURL(fileURLToPath(new URL('../../dist/storage/sqlite/driver.js', import.meta.url))).href;

/** better-sqlite3 the way leadtrail loads it (one of two majors, by Node version). */
export async function sqliteDriver() {
  const { sqliteDriver: load } = await import(DRIVER);
  return load();
}

/**
 * Commits per second on a fresh SQLite file with leadtrail's settings (WAL, synchronous=FULL), one
 * connection, `rowsPerCommit` small rows per transaction, for `seconds`.
 */
export async function sqliteCommitRate(dir, rowsPerCommit, seconds) {
  const Database = await sqliteDriver();
  const file = path.join(dir, `commit-rate-${rowsPerCommit}.db`);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL)');
    const ins = db.prepare('INSERT INTO t (id, body) VALUES (?, ?)');
    const body = JSON.stringify({ EmailAddress: 'lead@bench.example', ActivityEvent: 201, ActivityNote: 'x'.repeat(64) });
    let n = 0;
    const commit = db.transaction(() => {
      for (let i = 0; i < rowsPerCommit; i++) ins.run(`r${n}-${i}`, body);
    });
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      commit();
      n++;
    }
    const secs = (performance.now() - t0) / 1000;
    return { store: 'sqlite', rowsPerCommit, commitsPerSec: n / secs, rowsPerSec: (n * rowsPerCommit) / secs };
  } finally {
    db.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  }
}

/** The same on PostgreSQL: one client, a table in a schema of its own (dropped after), default durability. */
export async function postgresCommitRate(pgUrl, schema, rowsPerCommit, seconds) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await c.query(`CREATE TABLE IF NOT EXISTS "${schema}".bench_commit_rate (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, body TEXT NOT NULL)`);
    const body = JSON.stringify({ EmailAddress: 'lead@bench.example', ActivityEvent: 201, ActivityNote: 'x'.repeat(64) });
    const values = Array.from({ length: rowsPerCommit }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    const text = `INSERT INTO "${schema}".bench_commit_rate (id, body) VALUES ${values}`;
    let n = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      const params = [];
      for (let i = 0; i < rowsPerCommit; i++) params.push(`r${n}-${i}`, body);
      await c.query(text, params); // autocommit: one statement, one commit
      n++;
    }
    const secs = (performance.now() - t0) / 1000;
    return { store: 'postgres', rowsPerCommit, commitsPerSec: n / secs, rowsPerSec: (n * rowsPerCommit) / secs };
  } finally {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await c.end();
  }
}

export function machineInfo() {
  const cpus = os.cpus();
  return { cores: cpus.length, cpu: cpus[0]?.model ?? null, memoryMB: Math.round(os.totalmem() / 1024 / 1024), platform: `${os.platform()} ${os.release()}`, node: process.version };
}
