/**
 * Fault rules live in the database: a sync fault rule added through one API process is applied by a
 * second API process (a separate `leadtrail serve`, the built CLI) on the same PostgreSQL schema,
 * and "the next N calls" is counted once across both.
 */
import { describe, expect, it } from 'vitest';
import { serve, freePort } from '../cli/cli-runner.js';
import { request, started } from '../helpers/server.js';
import { schemaUrl } from '../helpers/pg.js';

const FAULTS = '/_leadtrail/faults';
const META = '/v2/LeadManagement.svc/LeadsMetaData.Get';

describe('fault rules across processes on PostgreSQL', () => {
  it('a rule added through one API process is seen by another, and N is counted across both', async () => {
    const a = await started({ LEADTRAIL_ROLE: 'api', LEADTRAIL_FAULTS: 'true' });
    expect(a.dbPath.startsWith('pg:')).toBe(true);
    const b = await serve(['--port', String(await freePort()), '--role', 'api', '--faults'], {
      DATABASE_URL: schemaUrl(a.dbPath.slice(3)),
      LEADTRAIL_PG_POOL: '4',
      LEADTRAIL_RATE_LIMIT: '0',
    });
    const onB = () => request(b.url, 'GET', META);
    expect((await onB()).status).toBe(200);

    const added = await a.call('POST', FAULTS, { path: META, status: 429, retryAfter: 3, times: 1 });
    expect(added.status, added.text).toBe(200);
    const hit = await onB();
    expect(hit.status).toBe(429);
    expect(hit.headers.get('retry-after')).toBe('3');
    expect(hit.body.ExceptionType).toBe('MXAPIRateLimitExceededException');
    // Spent on B: A sees it gone.
    expect((await onB()).status).toBe(200);
    expect((await a.call('GET', FAULTS)).body.faults).toEqual([]);

    // Next 9 calls, 30 sent at once half to each process: exactly 9 are hit.
    await request(b.url, 'POST', FAULTS, { path: META, status: 500, times: 9 });
    const calls = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a.call('GET', META) : onB()));
    const statuses = (await Promise.all(calls)).map((r) => r.status);
    expect(statuses.filter((x) => x === 500)).toHaveLength(9);
    expect(statuses.filter((x) => x === 200)).toHaveLength(21);
    await b.stop();
  });
});
