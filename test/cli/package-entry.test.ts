/**
 * The package's programmatic entry: package.json `main` names a file that the build produces, and
 * what it exports starts a working server, as `import { start, loadConfig } from 'leadtrail'` would.
 * Imported from the built dist/ (npm test builds first), not from src/.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
const main = path.join(ROOT, pkg.main);
/** Node's require() of an ES module without a flag: 20.19 and 22.12 onwards (README "Quick start"). */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const requiresEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);

describe('package.json main', () => {
  it('exists in the build, with type declarations beside it', () => {
    expect(fs.existsSync(main), `${pkg.main} missing: npm run build`).toBe(true);
    expect(fs.existsSync(main.replace(/\.js$/, '.d.ts'))).toBe(true);
  });

  it('exports start and loadConfig, which serve the API with the given keys', async () => {
    const lib = (await import(pathToFileURL(main).href)) as typeof import('../../src/index.js');
    expect(Object.keys(lib).sort()).toEqual(['ConfigError', 'loadConfig', 'start', 'startLeadtrail']);
    expect(() => lib.loadConfig({ PORT: 'eighty' })).toThrow(lib.ConfigError);

    const config = lib.loadConfig({
      PORT: '0',
      LEADTRAIL_DB: path.join(tempDir('leadtrail-lib-'), 'leadtrail.db'),
      LEADTRAIL_ACCESS_KEY: 'lib-access',
      LEADTRAIL_SECRET_KEY: 'lib-secret',
      LEADTRAIL_LOG_LEVEL: 'silent',
    });
    let announced = '';
    const running = await lib.start(config, { announce: (t) => (announced += t) });
    try {
      expect(announced).toContain('lib-access');
      const res = await fetch(`${running.url}/v2/ProspectActivity.svc/ActivityTypes.Get`, {
        headers: { 'x-LSQ-AccessKey': 'lib-access', 'x-LSQ-SecretKey': 'lib-secret' },
      });
      expect(res.status).toBe(200);
      expect(Array.isArray(await res.json())).toBe(true);
    } finally {
      await running.close();
    }
  });

  it.skipIf(!requiresEsm)('is required from CommonJS, the root and leadtrail/client alike, with nothing left running after close()', async () => {
    // A CommonJS script (node -e), resolving the package by its name as a project that installed it would.
    const script = `
      const { startLeadtrail } = require('leadtrail');
      const { createClient, LeadSquaredError } = require('leadtrail/client');
      startLeadtrail().then(async (lt) => {
        const lsq = createClient({ baseUrl: lt.baseUrl, ...lt.keys });
        const created = await lsq.leadCreate({ body: [{ Attribute: 'EmailAddress', Value: 'cjs@example.com' }] });
        const missing = await lsq.leadsGetById({ query: { id: '' } }).catch((e) => e instanceof LeadSquaredError && e.exceptionType);
        await lt.close();
        console.log(JSON.stringify({ status: created.Status, missing }));
      });`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: ROOT, timeout: 60_000 });
    // The process ended by itself once closed (no handle left), and Node said nothing about it.
    expect(JSON.parse(stdout)).toEqual({ status: 'Success', missing: 'MXMandatoryAttributeMissingException' });
    expect(stderr).toBe('');
  });
});

