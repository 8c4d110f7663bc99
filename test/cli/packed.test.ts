/**
 * What a project that installs leadtrail gets (package.json `files`): the tarball `npm pack` makes
 * holds what the server needs at run time and none of the tests, benchmarks or CI scripts; unpacked
 * on its own (with this checkout's node_modules beside it), its CLI serves the API through SQLite's
 * writer thread, the console with its templates and assets, and the OpenAPI document.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { cleanEnv } from './cli-runner.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

describe('the packed package', () => {
  it('holds what the server needs and nothing of the tests, and runs from where it is unpacked', async () => {
    const dir = tempDir('leadtrail-pack-');
    // --ignore-scripts: `prepare` would build again; npm test has just built dist/.
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 << 20 });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed.files.map((f) => f.path);
    for (const needed of [
      'package.json',
      'README.md',
      // package.json says MIT: the licence's text goes with the code (npm packs LICENSE by itself).
      'LICENSE',
      'dist/cli/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/client/index.js',
      'dist/storage/sqlite/writer-thread.js',
      'dist/wire/thread-operations.js',
      'src/console/views/layout.eta',
      'src/console/assets/console.css',
      'openapi/leadtrail.json',
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((f) => /^(test|bench|\.ci)\//.test(f))).toEqual([]);

    const unpacked = path.join(dir, 'package');
    await run('tar', ['-xzf', path.join(dir, packed.filename), '-C', dir]);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(unpacked, 'node_modules'), 'dir');
    const env = cleanEnv({
      LEADTRAIL_DB: path.join(dir, 'data', 'leadtrail.db'),
      LEADTRAIL_ACCESS_KEY: 'pack-access',
      LEADTRAIL_SECRET_KEY: 'pack-secret',
      LEADTRAIL_LOG_LEVEL: 'info',
    });
    const child = spawn(process.execPath, [path.join(unpacked, 'dist/cli/main.js'), 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.includes('leadtrail listening'));
          if (line) resolve((JSON.parse(line) as { url: string }).url);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      const keys = { 'x-LSQ-AccessKey': 'pack-access', 'x-LSQ-SecretKey': 'pack-secret', 'content-type': 'application/json' };
      // A write: the writer thread loads its code from the unpacked dist/.
      const created = await fetch(`${url}/v2/LeadManagement.svc/Lead.Create`, {
        method: 'POST',
        headers: keys,
        body: JSON.stringify([{ Attribute: 'EmailAddress', Value: 'packed@example.com' }]),
      });
      expect(created.status).toBe(200);
      expect(((await created.json()) as { Status: string }).Status).toBe('Success');
      // The console's page (templates from src/console/views) and its stylesheet (src/console/assets).
      const signIn = await fetch(`${url}/console/sign-in`);
      expect(signIn.status).toBe(200);
      expect(await signIn.text()).toContain('<form');
      const css = await fetch(`${url}/console/assets/console.css`);
      expect(css.status).toBe(200);
      expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
    } finally {
      // Waited for: a server left behind (one outlived this test's SIGTERM for 40 minutes in a CI
      // run, still holding its database) would go unnoticed, and a stop must end.
      const exited = child.exitCode !== null ? Promise.resolve(true) : new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000).unref())]);
      if (!stopped) child.kill('SIGKILL');
      expect(stopped, 'the packed server did not exit within 20 s of SIGTERM').toBe(true);
    }
  }, 120_000);
});
