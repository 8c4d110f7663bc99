/**
 * The README's vitest global-setup example, run as written: its three files in a new project whose
 * `leadtrail` is this package (built) and whose vitest is ours, then `vitest run` there.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The ```ts blocks after "In a vitest suite", keyed by the file named in their first line. */
function exampleFiles(): Record<string, string> {
  const from = README.indexOf('**In a vitest suite**');
  expect(from).toBeGreaterThan(0);
  const part = README.slice(from, README.indexOf('\n## ', from));
  const files: Record<string, string> = {};
  for (const m of part.matchAll(/```ts\n\/\/ (\S+)\n([\s\S]*?)```/g)) files[m[1]] = m[2];
  return files;
}

it('the global-setup example starts leadtrail once and its test creates a lead', async () => {
  const files = exampleFiles();
  expect(Object.keys(files).sort()).toEqual(['test/global-setup.ts', 'test/leads.test.ts', 'vitest.config.ts']);
  const dir = tempDir('leadtrail-readme-vitest-');
  fs.mkdirSync(path.join(dir, 'test'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'leadtrail'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'vitest'), path.join(dir, 'node_modules', 'vitest'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);

  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'LEADTRAIL_TEST_STORE') delete env[k];
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile(process.execPath, [path.join(dir, 'node_modules/vitest/vitest.mjs'), 'run'], { cwd: dir, env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: stdout + stderr }),
    );
  });
  expect(run.code, run.out).toBe(0);
  expect(run.out).toMatch(/1 passed/);
  fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);
