/**
 * `leadtrail seed` and `leadtrail reset` (the built CLI) on PostgreSQL: the seed lands whole, a bad
 * one leaves nothing, and reset then seed again works, as on SQLite (test/cli/seed.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, runCli } from '../cli/cli-runner.js';
import { dropSchemas, freshSchema, pgAvailable, pgQuery } from '../helpers/pg.js';
import { tempDir } from '../helpers/server.js';

await pgAvailable();
const made: string[] = [];
afterAll(() => dropSchemas(made));

const FILE = {
  activityTypes: [{ ActivityEventName: 'Webinar Attended', Score: 10 }],
  leadFields: [{ SchemaName: 'mx_Customer_No', IsUnique: true }],
  leads: [{ EmailAddress: 'ada@example.com', mx_Customer_No: 'C-1' }],
  activities: [{ EmailAddress: 'ada@example.com', ActivityEvent: 201 }],
};

describe('leadtrail seed on PostgreSQL', () => {
  it('seeds in one transaction, refuses a bad file whole, and runs again after reset', async () => {
    const s = freshSchema();
    made.push(s.name);
    const env = { DATABASE_URL: s.url };
    const { accountId } = await cliJson(['account', 'create', '--name', 'Acme'], env);
    const dir = tempDir('leadtrail-seed-pg-');
    const file = path.join(dir, 'f.json');
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(FILE));
    fs.writeFileSync(bad, JSON.stringify({ ...FILE, leads: [...FILE.leads, { EmailAddress: 'twin@example.com', mx_Customer_No: 'C-1' }] }));

    const refused = await runCli(['seed', '--file', bad], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/leads\[1\] \(twin@example\.com\): .*MXDuplicateEntryException/);
    expect(await pgQuery(s.name, 'SELECT count(*)::int AS n FROM leads')).toEqual([{ n: 0 }]);
    expect(await pgQuery(s.name, "SELECT count(*)::int AS n FROM activity_types WHERE name = 'Webinar Attended'")).toEqual([{ n: 0 }]);

    const out = await cliJson(['seed', '--file', file], env);
    expect(out).toMatchObject({ accountId, activityTypes: [{ ActivityEvent: 201 }], leadFields: ['mx_Customer_No'] });
    expect(await pgQuery(s.name, 'SELECT score::int AS score FROM leads')).toEqual([{ score: 10 }]);
    expect(await cliJson(['reset'], env)).toEqual({ accountId, deleted: { leads: 1, activities: 1, requests: 0 } });
    expect((await cliJson(['seed', '--file', file], env)).activityTypes).toEqual(out.activityTypes);
  });
});
