/**
 * `--role api` runs no worker whatever `--worker` / `LEADTRAIL_WORKER` say. A worker asked for in
 * such a process was ignored in silence; now it is named on stderr (and still ignored: an env file
 * shared by every service may set it). Asked for nowhere, nothing is said.
 */
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ensureBuilt, spawnServer, stopGracefully } from '../async/crash-harness.js';
import { tempDir } from '../helpers/server.js';
import { runCli } from './cli-runner.js';

const started: Awaited<ReturnType<typeof spawnServer>>[] = [];
afterAll(async () => {
  for (const c of started) if (c.proc.exitCode === null) await stopGracefully(c);
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<string> {
  const c = await spawnServer(path.join(tempDir(), 'role.db'), args, env);
  started.push(c);
  const code = await stopGracefully(c);
  expect(code, c.output()).toBe(0);
  return c.output();
}

it('a worker asked for with --role api is named on stderr as ignored; none asked for, nothing is said', async () => {
  ensureBuilt();
  expect(await serve(['--role', 'api', '--worker'])).toContain('leadtrail: warning: --role api runs no async or webhook worker; --worker is ignored\n');
  expect(await serve([], { LEADTRAIL_ROLE: 'api', LEADTRAIL_WORKER: 'true' })).toContain(
    'leadtrail: warning: LEADTRAIL_ROLE=api runs no async or webhook worker; LEADTRAIL_WORKER=true is ignored\n',
  );
  for (const quiet of [await serve(['--role', 'api']), await serve(['--role', 'api', '--no-worker']), await serve(['--worker'])]) {
    expect(quiet).not.toContain('warning');
  }
}, 90_000);

it('a worker process told to run no worker stops at start, naming each setting as it was given (found by a fresh-eyes run)', async () => {
  const db = path.join(tempDir(), 'nothing.db');
  const cases: [string[], Record<string, string>, string][] = [
    [['--role', 'worker', '--no-worker'], {}, '--role worker with --no-worker'],
    [[], { LEADTRAIL_ROLE: 'worker', LEADTRAIL_WORKER: 'false' }, 'LEADTRAIL_ROLE=worker with LEADTRAIL_WORKER=false'],
    [['--role', 'worker'], { LEADTRAIL_WORKER: 'off' }, '--role worker with LEADTRAIL_WORKER=off'],
    [['--role', 'worker', '--worker', 'false'], {}, '--role worker with --worker false'],
  ];
  for (const [args, env, named] of cases) {
    const r = await runCli(['serve', '--port', '0', '--db', db, ...args], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe(`leadtrail: ${named} would do nothing: a worker process that runs no worker`);
  }
});
