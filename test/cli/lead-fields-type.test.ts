/**
 * `leadtrail lead-fields set --type` and `--max-length`: an unknown data type is refused with the
 * valid ones, a length that is not a whole number (as the API reads numbers, not as Number() does:
 * "0x10" was 16) is refused, and nothing is stored.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { cliJson, runCli } from './cli-runner.js';

describe('lead-fields set --type', () => {
  const env = { LEADTRAIL_DB: path.join(tempDir(), 'leadtrail.db') };
  let accountId: string;
  beforeAll(async () => {
    accountId = (await cliJson(['account', 'create', '--name', 'Types'], env)).accountId;
  });

  it('refuses --type Foo, naming the valid types, and stores nothing', async () => {
    const r = await runCli(['lead-fields', 'set', '--account', accountId, '--name', 'mx_Kind', '--type', 'Foo'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unknown lead field data type 'Foo'/);
    expect(r.stderr).toMatch(/String, Text, TextArea, Number/);
    const fields = await cliJson(['lead-fields', 'list', '--account', accountId], env);
    expect(JSON.stringify(fields)).not.toContain('mx_Kind');
  });

  it('takes a known type in any case and stores LeadSquared\'s spelling', async () => {
    const r = await runCli(['lead-fields', 'set', '--account', accountId, '--name', 'mx_When', '--type', 'datetime'], env);
    expect(r.code, r.stderr).toBe(0);
    const fields = await cliJson(['lead-fields', 'list', '--account', accountId], env);
    expect(JSON.stringify(fields)).toMatch(/mx_When[^}]*DateTime|DateTime[^}]*mx_When/);
  });

  it('--max-length takes a whole number, with spaces and leading zeros, and refuses 0x10, 1e2, 1.5 and 0', async () => {
    const ok = await runCli(['lead-fields', 'set', '--account', accountId, '--name', 'mx_Short', '--max-length', ' 040 '], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ schemaName: 'mx_Short', maxLength: 40 });
    for (const bad of ['0x10', '1e2', '1.5', '0', 'ten']) {
      const r = await runCli(['lead-fields', 'set', '--account', accountId, '--name', `mx_Bad`, '--max-length', bad], env);
      expect(r.code, bad).toBe(2);
      // Named as the flag (it had said MaxLength, the API's property: a fresh-eyes run).
      expect(r.stderr.trim(), bad).toBe(`leadtrail: --max-length must be a whole number from 1 to 2147483647, got "${bad}"`);
    }
    const fields = await cliJson(['lead-fields', 'list', '--account', accountId], env);
    expect(JSON.stringify(fields)).not.toContain('mx_Bad');
  });
});
