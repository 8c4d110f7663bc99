/**
 * Prism (`prism proxy --errors`, validation mode) in front of a running leadtrail, validating every
 * request and answer against openapi/leadtrail.json while the client calls every operation once
 * (test/client/every-endpoint.ts). With --errors a violation turns the call into an error, and the
 * test also fails on any violation Prism logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { callEveryEndpoint } from '../client/every-endpoint.js';
import { freePort } from '../helpers/ports.js';
import { KEYS, started } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('Prism validation proxy', () => {
  let prism: ChildProcess | null = null;
  afterAll(() => {
    prism?.kill();
  });

  it('reports no violation across one call of every endpoint', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_SANDBOX: 'true' });
    const port = await freePort();
    let log = '';
    prism = spawn(
      path.join(ROOT, 'node_modules/.bin/prism'),
      ['proxy', path.join(ROOT, 'openapi/leadtrail.json'), s.url, '--errors', '--host', '127.0.0.1', '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prism.stdout!.on('data', (d) => (log += d));
    prism.stderr!.on('data', (d) => (log += d));
    const until = Date.now() + 60_000;
    while (!log.includes('Prism is listening')) {
      if (Date.now() > until || prism.exitCode !== null) throw new Error(`Prism did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await callEveryEndpoint(createClient({ baseUrl: `http://127.0.0.1:${port}`, ...KEYS }));
    const violations = log.split('\n').filter((l) => /violation|✖|UNPROCESSABLE|Invalid request/i.test(l));
    expect(violations).toEqual([]);
    expect(log.match(/Received forward response/g)?.length ?? 0).toBeGreaterThanOrEqual(52);
  }, 180_000);
});
