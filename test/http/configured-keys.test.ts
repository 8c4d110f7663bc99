/**
 * Keys given in the configuration make the first account's keys on an empty database, and do
 * nothing on one that has accounts: a start with keys the database does not hold says so in a
 * warning (a user who set them later got 401s and no clue). On both engines.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { KEYS, startServer } from '../helpers/server.js';

function warnings(): { lines: { level: number; msg: string; settings?: string[] }[]; sink: Writable } {
  const lines: { level: number; msg: string; settings?: string[] }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').trim().split('\n').map((l) => JSON.parse(l)));
      done();
    },
  });
  return { lines, sink };
}

describe('keys in the configuration', () => {
  it('on a database with accounts: keys it does not hold get a warning naming the settings; its own keys none', async () => {
    const first = await startServer();
    const db = first.dbPath;
    await first.close();

    const other = warnings();
    const s = await startServer(
      { LEADTRAIL_DB: db, LEADTRAIL_ACCESS_KEY: 'other-access', LEADTRAIL_SECRET_KEY: 'other-secret', LEADTRAIL_API_KEY: 'other-api' },
      { log: createLogger('warn', other.sink) },
    );
    // They were not made: the server answers them 401.
    expect((await s.call('GET', '/v2/ProspectActivity.svc/ActivityTypes.Get', undefined, { keys: { accessKey: 'other-access', secretKey: 'other-secret' } })).status).toBe(401);
    await s.close();
    const warned = other.lines.filter((l) => /not keys of this database/.test(l.msg));
    expect(warned).toEqual([expect.objectContaining({ level: 40, settings: ['LEADTRAIL_ACCESS_KEY (--access-key) / LEADTRAIL_SECRET_KEY (--secret-key)', 'LEADTRAIL_API_KEY (--api-key)'] })]);
    expect(JSON.stringify(other.lines)).not.toContain('other-secret');

    // One of the pair alone: an access key the database does not hold, a secret key with no access key.
    for (const [env, setting] of [
      [{ LEADTRAIL_ACCESS_KEY: 'u$rnotthere', LEADTRAIL_SECRET_KEY: '' }, 'LEADTRAIL_ACCESS_KEY (--access-key)'],
      [{ LEADTRAIL_ACCESS_KEY: '', LEADTRAIL_SECRET_KEY: 'lone-secret' }, 'LEADTRAIL_SECRET_KEY (--secret-key)'],
    ] as const) {
      const half = warnings();
      await (await startServer({ LEADTRAIL_DB: db, ...env }, { log: createLogger('warn', half.sink) })).close();
      expect(half.lines.filter((l) => /not keys of this database/.test(l.msg))).toEqual([expect.objectContaining({ level: 40, settings: [setting] })]);
      expect(JSON.stringify(half.lines)).not.toContain('lone-secret');
    }

    const same = warnings();
    const again = await startServer({ LEADTRAIL_DB: db, LEADTRAIL_ACCESS_KEY: KEYS.accessKey }, { log: createLogger('warn', same.sink) });
    await again.close();
    expect(same.lines.filter((l) => /not keys of this database/.test(l.msg))).toEqual([]);
  });
});
