/**
 * `npm start`, the README's quick start, stopped the way a CI job or a container runtime stops it:
 * SIGTERM to the npm process. npm runs the script under `sh -c`, and where `sh` is dash (Debian,
 * Ubuntu; this machine) the shell did not pass the signal on: npm and the shell ended, leadtrail went
 * on running, holding its port and database, and never stopped gracefully (found by a fresh-eyes
 * run). The script now `exec`s node, so the signal npm forwards reaches leadtrail.
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { cleanEnv, freePort } from './cli-runner.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pids below `pid` (children, grandchildren…), from ps. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of rows) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('SIGTERM to `npm start` stops leadtrail gracefully and frees its port', async () => {
  const port = await freePort();
  const env = cleanEnv({ PORT: String(port), LEADTRAIL_DB: path.join(tempDir(), 'npm-start.db'), LEADTRAIL_LOG_LEVEL: 'info', LEADTRAIL_LOG_FORMAT: 'json' });
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npm.stdout.on('data', (d) => (out += d));
  npm.stderr.on('data', (d) => (out += d));
  let below: number[] = [];
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > until || npm.exitCode !== null) throw new Error(`npm start did not serve:\n${out}`);
      await sleep(100);
    }
    below = descendants(npm.pid!);
    const npmExited = new Promise((r) => npm.once('exit', r));
    npm.kill('SIGTERM');
    await npmExited;
    // leadtrail itself shut down (its log says so) and is gone, and the port refuses connections.
    const gone = Date.now() + 15_000;
    while (below.some(alive) && Date.now() < gone) await sleep(50);
    expect(below.filter(alive), out).toEqual([]);
    expect(out).toContain('"msg":"shutting down"');
    expect(await fetch(`http://127.0.0.1:${port}/health`).then(() => 'answered', () => 'refused')).toBe('refused');
  } finally {
    for (const pid of [...below, npm.pid!]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}, 60_000);
