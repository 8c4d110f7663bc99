/**
 * `leadtrail lead-fields set` that re-keys every lead of a large account: one transaction however
 * many leads, not cut off by the API's per-request limit (LEADTRAIL_TX_TIMEOUT_MS, 15 s by default,
 * which 20,000 leads on PostgreSQL came close to). Here the limit is set at its 100 ms floor and
 * the account made large enough that the re-key takes longer than that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliJson, runCli } from '../cli/cli-runner.js';
import { dropSchemas, freshSchema, pgAvailable } from '../helpers/pg.js';
import { tempDir } from '../helpers/server.js';

const ON_PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
if (ON_PG) await pgAvailable();
const made: string[] = [];
afterAll(() => dropSchemas(made));

const LEADS = 4_000;

describe('lead-fields set on a large account', () => {
  it('makes a field unique across every lead whatever LEADTRAIL_TX_TIMEOUT_MS says, and the field then finds its leads', async () => {
    const dir = tempDir('leadtrail-rekey-long-');
    let env: Record<string, string>;
    if (ON_PG) {
      const s = freshSchema();
      made.push(s.name);
      env = { DATABASE_URL: s.url };
    } else {
      env = { LEADTRAIL_DB: path.join(dir, 'leadtrail.db') };
    }
    const { accountId } = await cliJson(['account', 'create', '--name', 'Large'], env);
    const file = path.join(dir, 'leads.json');
    const leads = Array.from({ length: LEADS }, (_, i) => ({ EmailAddress: `u${i}@example.com`, mx_Customer_No: `C-${i}` }));
    fs.writeFileSync(file, JSON.stringify({ leads }));
    await cliJson(['seed', '--file', file, '--account', accountId], env);

    const started = Date.now();
    const r = await runCli(['lead-fields', 'set', '--account', accountId, '--name', 'mx_Customer_No', '--unique'], { ...env, LEADTRAIL_TX_TIMEOUT_MS: '100' });
    expect(r.code, r.stderr).toBe(0);
    // The re-key really ran past the limit it is no longer held to.
    expect(Date.now() - started).toBeGreaterThan(100);
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaName: 'mx_Customer_No', isUnique: true });

    // Unique now: a second lead with a value the last lead holds is refused.
    fs.writeFileSync(file, JSON.stringify({ leads: [{ EmailAddress: 'twin@example.com', mx_Customer_No: `C-${LEADS - 1}` }] }));
    const twin = await runCli(['seed', '--file', file, '--account', accountId], env);
    expect(twin.code).toBe(2);
    expect(twin.stderr).toMatch(/MXDuplicateEntryException/);
  }, 120_000);
});
