/**
 * The packed package's type declarations, as a project that installs it type-checks them: `tsc`
 * with `strict` and without `skipLibCheck`, under `moduleResolution` `nodenext` and `bundler` (the
 * two the README names), over code that uses the README's API (`startLeadtrail`, `start`,
 * `loadConfig`, `leadtrail/client`). The project's node_modules holds the tarball's content and
 * leadtrail's `dependencies` only, as `npm install ./leadtrail-x.y.z.tgz` gives it: none of
 * leadtrail's devDependencies (`@types/better-sqlite3`, `@types/pg`), which a declaration reached
 * from `leadtrail` must therefore not need.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** What a user writes from the README; each `@ts-expect-error` shows the types are applied, not `any`. */
const USER_CODE = `
import { ConfigError, loadConfig, start, startLeadtrail, type Config, type Leadtrail, type Running, type SeedFile } from 'leadtrail';
import { LeadSquaredError, createClient } from 'leadtrail/client';

export async function suite(): Promise<string> {
  const lt: Leadtrail = await startLeadtrail({ env: { LEADTRAIL_RATE_LIMIT: 0, LEADTRAIL_FAULTS: true }, logLevel: 'warn' });
  const seed: SeedFile = { activityTypes: [{ ActivityEventName: 'Webinar Attended', Score: 10 }] };
  const seeded = await lt.seed(seed);
  const deleted: number = (await lt.reset()).leads;
  const lsq = createClient({ baseUrl: lt.baseUrl, ...lt.keys });
  const lead = await lsq.leadCreate({ body: [{ Attribute: 'EmailAddress', Value: 'ada@example.com' }] });
  const [found] = await lsq.leadsGetById({ query: { id: lead.Message.Id } });
  // The sandbox reset's answer names its three counts (README "Reset").
  const cleared: number = (await lsq.reset()).deleted.activities;
  // @ts-expect-error: no such count
  void (await lsq.reset()).deleted.lead;
  try {
    await lsq.leadsGetById({ query: { id: '' } });
  } catch (e) {
    if (e instanceof LeadSquaredError) return e.exceptionType;
  }
  // @ts-expect-error: a top-level option that belongs in env
  await startLeadtrail({ faults: true });
  // @ts-expect-error: the id is a string
  await lsq.leadsGetById({ query: { id: 5 } });
  const config: Config = loadConfig({ PORT: '0' });
  const server: Running = await start(config);
  await server.close();
  await lt.close();
  return \`\${seeded.accountId} \${deleted} \${cleared} \${found?.EmailAddress} \${server.url} \${ConfigError.name}\`;
}
`;

/** node_modules/<name> → this checkout's copy, for one of leadtrail's `dependencies` (or the user's own @types/node). */
function linkModule(nodeModules: string, name: string): void {
  const target = path.join(nodeModules, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', name), target, 'dir');
}

describe('the packed package, type-checked by a project that installs it', () => {
  it('compiles strictly, without skipLibCheck and without leadtrail\'s devDependencies, under nodenext and bundler', async () => {
    const dir = tempDir('leadtrail-pack-types-');
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 << 20 });
    const [packed] = JSON.parse(stdout) as { filename: string }[];

    const project = path.join(dir, 'user');
    const nodeModules = path.join(project, 'node_modules');
    fs.mkdirSync(nodeModules, { recursive: true });
    await run('tar', ['-xzf', path.join(dir, packed.filename), '-C', nodeModules]);
    fs.renameSync(path.join(nodeModules, 'package'), path.join(nodeModules, 'leadtrail'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies)) linkModule(nodeModules, name);
    linkModule(nodeModules, '@types/node');

    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
    fs.mkdirSync(path.join(project, 'src'));
    fs.writeFileSync(path.join(project, 'src', 'suite.ts'), USER_CODE);

    for (const [moduleResolution, module] of [
      ['nodenext', 'nodenext'],
      ['bundler', 'esnext'],
    ]) {
      const tsconfig = path.join(project, `tsconfig.${moduleResolution}.json`);
      const compilerOptions = { strict: true, noUncheckedIndexedAccess: true, skipLibCheck: false, noEmit: true, module, moduleResolution, target: 'es2022', types: ['node'] };
      fs.writeFileSync(tsconfig, JSON.stringify({ compilerOptions, include: ['src'] }));
      const result = await run(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', tsconfig, '--pretty', 'false'], { cwd: project }).then(
        () => '',
        (e: { stdout?: string; message: string }) => e.stdout || e.message,
      );
      expect(result, `tsc, moduleResolution ${moduleResolution}`).toBe('');
    }
  }, 120_000);
});
