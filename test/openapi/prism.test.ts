/**
 * Prism (`prism proxy --errors`, validation mode) in front of a running leadtrail, validating every
 * request and answer against openapi/leadtrail.json while the client calls every operation once
 * (test/client/every-endpoint.ts). With --errors a violation turns the call into an error, and the
 * test also fails on any violation Prism logs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { callEveryEndpoint } from '../client/every-endpoint.js';
import { KEYS, started } from '../helpers/server.js';
import { startPrism, type Prism } from './prism.js';

describe('Prism validation proxy', () => {
  let prism: Prism | null = null;
  afterAll(() => {
    prism?.stop();
  });

  it('reports no violation across one call of every endpoint', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_SANDBOX: 'true' });
    prism = await startPrism(s.url, { errors: true });
    await callEveryEndpoint(createClient({ baseUrl: prism.url, ...KEYS }));
    const log = prism.log();
    const violations = log.split('\n').filter((l) => /violation|✖|UNPROCESSABLE|Invalid request/i.test(l));
    expect(violations).toEqual([]);
    expect(log.match(/Received forward response/g)?.length ?? 0).toBeGreaterThanOrEqual(52);
  }, 180_000);
});
