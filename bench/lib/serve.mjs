/** Shared by the benchmarks: `leadtrail serve` (the built CLI) as a child process. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` first');

/** Starts `leadtrail serve --port 0` with `env` over this process's; resolves once it logs its URL. */
export function serve(env, extraArgs = []) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...extraArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.includes('leadtrail listening'));
      if (!line) return;
      child.stdout.off('data', onData);
      child.stdout.resume(); // keep draining request logs so the child never blocks on a full pipe
      resolve({ url: JSON.parse(line).url, child, stop: () => stop(child) });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** SIGTERM (a graceful stop) and wait for the exit. */
export function stop(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}
