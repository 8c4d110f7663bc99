/**
 * The processes a benchmark measures, each a child of the bench: `leadtrail serve` (the built CLI,
 * started as users start it) and the bare `node:http` baseline. Both listen on a free port and log
 * to a file, so the bench process does not spend its own CPU reading their logs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./baseline.mjs', import.meta.url));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `node <script> ...args` with exactly `env` as its environment, stdout and stderr to `logFile`,
 * and resolves once a stdout line matches `ready` (a JSON line with a `url`).
 */
async function start(args, env, logFile, ready, timeoutMs = 30_000, wrapper = []) {
  const fd = fs.openSync(logFile, 'a');
  // A wrapper (valgrind, for --instructions) runs node itself; the process is the wrapper's.
  const [command, ...before] = [...wrapper, process.execPath];
  const child = spawn(command, [...before, ...args], { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const t0 = Date.now();
  for (;;) {
    if (exited) throw new Error(`${args.join(' ')} exited (${exited.code ?? exited.signal}) before listening; log:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    const line = fs.readFileSync(logFile, 'utf8').split('\n').find((l) => ready.test(l));
    if (line) {
      const { url } = JSON.parse(line);
      return { url, pid: child.pid, child, logFile, stop: () => stop(child) };
    }
    if (Date.now() - t0 > timeoutMs) {
      await stop(child);
      throw new Error(`${args.join(' ')} did not listen within ${timeoutMs} ms; log:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    await sleep(50);
  }
}

/** What a server started under a wrapper may take to listen: valgrind runs node some fifty times slower. */
const WRAPPED_START_MS = 600_000;

/**
 * `leadtrail serve --port 0` with the environment `env` (the whole of it) and `extraArgs`; `nodeArgs`
 * go to node itself, and node runs under `wrapper` when one is given (a command and its arguments).
 */
export function serve(env, logFile, extraArgs = [], nodeArgs = [], wrapper = []) {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` first');
  return start([...nodeArgs, CLI, 'serve', '--port', '0', ...extraArgs], env, logFile, /"msg":"leadtrail listening"/, wrapper.length ? WRAPPED_START_MS : undefined, wrapper);
}

/** The `node:http` baseline (bench/lib/baseline.mjs), under `wrapper` when one is given. */
export function baseline(logFile, wrapper = [], nodeArgs = []) {
  return start([...nodeArgs, BASELINE], process.env, logFile, /"msg":"baseline listening"/, wrapper.length ? WRAPPED_START_MS : undefined, wrapper);
}

/** SIGTERM (a graceful stop) and wait for the exit; SIGKILL after `graceMs`. */
export function stop(child, graceMs = 20_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
