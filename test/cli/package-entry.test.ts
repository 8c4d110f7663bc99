/**
 * The package's programmatic entry: package.json `main` names a file that the build produces, and
 * what it exports starts a working server, as `import { start, loadConfig } from 'leadtrail'` would.
 * Imported from the built dist/ (npm test builds first), not from src/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
const main = path.join(ROOT, pkg.main);

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
});
