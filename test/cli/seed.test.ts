/**
 * `leadtrail seed` and `leadtrail reset` as a user runs them (the built CLI, a SQLite file; the same
 * on PostgreSQL in test/scale/seed-postgres.test.ts): the seed lands whole or not at all, the error
 * names the bad entry, the committed JSON Schema is the one the code generates, the progress line
 * shows only on a terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';
import { seedJsonSchema } from '../../src/cli/seed-file.js';
import { KEYS, tempDir } from '../helpers/server.js';
import { cliJson, freePort, http, runCli, serve } from './cli-runner.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const SCHEMA_FILE = new URL('../../docs/seed.schema.json', import.meta.url);
const KEY_ENV = { LEADTRAIL_ACCESS_KEY: KEYS.accessKey, LEADTRAIL_SECRET_KEY: KEYS.secretKey, LEADTRAIL_API_KEY: KEYS.apiKey };

function write(dir: string, name: string, data: unknown): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, JSON.stringify(data));
  return p;
}

/** A SQLite file with its first account (made by `migrate` + `account create`, as an operator would). */
async function database(): Promise<{ dir: string; db: string; accountId: string; keys: { accessKey: string; secretKey: string } }> {
  const dir = tempDir('leadtrail-seed-');
  const db = path.join(dir, 'leadtrail.db');
  const made = await cliJson(['account', 'create', '--name', 'Acme', '--db', db]);
  return { dir, db, accountId: made.accountId, keys: { accessKey: made.accessKey, secretKey: made.secretKey } };
}

const FILE = {
  $schema: '../docs/seed.schema.json',
  activityTypes: [{ ActivityEventName: 'Webinar Attended', Score: 10 }],
  leads: [{ EmailAddress: 'ada@example.com', FirstName: 'Ada' }],
  activities: [{ EmailAddress: 'ada@example.com', ActivityEvent: 201 }, { EmailAddress: 'bob@example.com', ActivityEvent: 201 }],
};

describe('leadtrail seed', () => {
  it('loads a file with properties the API would not read, and names them on stderr (misspelt ones had gone without a word)', async () => {
    const { dir, db } = await database();
    const file = write(dir, 'typos.json', {
      activityTypes: [{ ActivityEventName: 'Call', Scor: 5 }],
      leads: [[{ Attribute: 'EmailAddress', Value: 'typo@example.com', Valeu: 'x' }], { EmailAddress: 'plain@example.com' }],
      activities: [{ EmailAddress: 'typo@example.com', ActivityEvent: 201, ActivityNotes: 'typo' }],
    });
    const r = await runCli(['seed', '--file', file, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).activities).toHaveLength(1);
    expect(r.stderr).toBe(`leadtrail: ${file}: not read, as the API would not read them (misspelt?): activityTypes[0].Scor, leads[0][0].Valeu, activities[0].ActivityNotes\n`);
  });

  it('takes an activity type\'s numbers as their text, as CreateType does, and names a value that is neither', async () => {
    // The seed had refused "202" and "5", which the API and `activity-types create` take (a fresh-eyes run).
    const { dir, db } = await database();
    const file = write(dir, 'texts.json', { activityTypes: [{ ActivityEventName: 'Texted', ActivityEvent: '202', Score: '5', Direction: '1' }], activities: [{ EmailAddress: 'texted@example.com', ActivityEvent: '202' }] });
    const r = await runCli(['seed', '--file', file, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ activityTypes: [{ ActivityEvent: 202, ActivityEventName: 'Texted' }] });
    expect(JSON.parse(r.stdout).activities).toHaveLength(1);
    const bad = await runCli(['seed', '--file', write(dir, 'bad.json', { activityTypes: [{ ActivityEventName: 'Worded', Score: 'five' }] }), '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/activityTypes\[0\].*Score.*Nothing was loaded\./);
  });

  it('loads a file into the only account and prints what it made; reset empties it and the seed runs again', async () => {
    const { dir, db, accountId } = await database();
    const file = write(dir, 'fixtures.json', FILE);
    const r = await runCli(['seed', '--file', file, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: no progress line, no control characters.
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ accountId, activityTypes: [{ ActivityEvent: 201, ActivityEventName: 'Webinar Attended' }], leadFields: [] });
    expect(out.leads).toHaveLength(1);
    expect(out.activities).toHaveLength(2);

    const reset = await cliJson(['reset', '--db', db]);
    expect(reset).toEqual({ accountId, deleted: { leads: 2, activities: 2, requests: 0 } });
    const again = await cliJson(['seed', '--file', file, '--db', db, '--account', accountId]);
    expect(again.activityTypes).toEqual(out.activityTypes);
    expect(again.leads).toHaveLength(1);
  });

  it('a bad entry: exit 2, one message naming it, nothing loaded', async () => {
    const { dir, db, accountId } = await database();
    const bad = write(dir, 'bad.json', { ...FILE, activities: [...FILE.activities, { EmailAddress: 'x@example.com', ActivityEvent: 999 }] });
    const r = await runCli(['seed', '--file', bad, '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^leadtrail: .*bad\.json: activities\[2\] \(x@example\.com\): Event Code is invalid or empty: 999/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    const types = await cliJson(['activity-types', 'list', '--account', accountId, '--db', db]);
    expect(types.map((t: { ActivityEventName: string }) => t.ActivityEventName)).not.toContain('Webinar Attended');

    const outline = write(dir, 'outline.json', { leads: [{ EmailAddress: 'a@example.com' }, 'b@example.com'] });
    const o = await runCli(['seed', '--file', outline, '--db', db]);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('leads[1]:');
    const missing = await runCli(['seed', '--file', path.join(dir, 'nope.json'), '--db', db]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read');
    // A number the loader cannot take is refused by the outline, which the schema's editors see too
    // (found by a fresh-eyes run: the schema allowed 2^53, the loader 2^31).
    const big = write(dir, 'big.json', { activityTypes: [{ ActivityEventName: 'Big', ActivityEvent: 3_000_000_000 }] });
    const b = await runCli(['seed', '--file', big, '--db', db]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('activityTypes[0].ActivityEvent:');
  });

  it("names the place of a value none of its entry's forms take, and keeps a long number's digits, as the API reads a body", async () => {
    const { dir, db, keys } = await database();
    // Zod had said "leads[0]: Invalid input" for these: a lead is a list of attributes or an object
    // of values, and neither took them (a fresh-eyes run).
    const cases: [string, string][] = [
      ['{"leads":[[{"Attribute":"EmailAddress","Value":{"a":1}}]]}', 'leads[0][0].Value: expected string, number, boolean or null, got object'],
      ['{"leads":[[{"Attribute":"EmailAddress","Value":0.1e400}]]}', 'leads[0][0].Value: expected string, number, boolean or null, got a number too large for a double'],
      ['{"leads":[{"EmailAddress":["a@example.com"]}]}', 'leads[0].EmailAddress: expected string, number, boolean or null, got a list'],
      ['{"leads":[5]}', 'leads[0]: expected array or object, got number'],
      ['{"activities":[{"EmailAddress":"a@example.com","ActivityEvent":{"Code":201}}]}', 'activities[0].ActivityEvent: expected number or string, got object'],
    ];
    for (const [text, message] of cases) {
      const file = path.join(dir, 'outline.json');
      fs.writeFileSync(file, text);
      const r = await runCli(['seed', '--file', file, '--db', db]);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toBe(`leadtrail: ${file}: the seed file is not valid:\n  ${message}\n`);
    }
    // Read with JSON.parse, 123456789012345678901234567890.123 was stored as 1.2345678901234568e+29.
    const file = path.join(dir, 'long.json');
    fs.writeFileSync(file, '{"leadFields":[{"SchemaName":"mx_Big","DataType":"String"}],"leads":[[{"Attribute":"EmailAddress","Value":"long@example.com"},{"Attribute":"mx_Big","Value":123456789012345678901234567890.123}]]}');
    expect((await runCli(['seed', '--file', file, '--db', db])).code).toBe(0);
    const s = await serve(['--port', String(await freePort()), '--db', db], KEY_ENV);
    try {
      const lead = await http(s.url, 'GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=long@example.com', { keys });
      expect(lead.body).toMatchObject([{ mx_Big: '123456789012345678901234567890.123' }]);
    } finally {
      await s.stop();
    }
  });

  it('takes a file that starts with a byte order mark, as Windows editors write it (found by a fresh-eyes run)', async () => {
    const { dir, db } = await database();
    const file = path.join(dir, 'bom.json');
    fs.writeFileSync(file, '\uFEFF' + JSON.stringify({ leads: [{ EmailAddress: 'bom@example.com' }] }));
    const r = await runCli(['seed', '--file', file, '--db', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).leads).toHaveLength(1);
  });

  it('with several accounts, --account is needed; an unknown one is named', async () => {
    const { dir, db } = await database();
    await cliJson(['account', 'create', '--name', 'Second', '--db', db]);
    const file = write(dir, 'f.json', FILE);
    const r = await runCli(['seed', '--file', file, '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --account');
    const unknown = await runCli(['reset', '--db', db, '--account', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No account with id nope');
  });

  it('works while the server runs: the API serves what was seeded', async () => {
    const dir = tempDir('leadtrail-seed-live-');
    const db = path.join(dir, 'leadtrail.db');
    const s = await serve(['--port', String(await freePort()), '--db', db], KEY_ENV);
    try {
      const seeded = await cliJson(['seed', '--file', write(dir, 'f.json', FILE), '--db', db]);
      const lead = await http(s.url, 'GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=ada@example.com', { keys: KEYS });
      expect(lead.body).toMatchObject([{ ProspectID: seeded.leads[0], ProspectAutoId: '1', FirstName: 'Ada', Score: '10' }]);
    } finally {
      await s.stop();
    }
  });
});

describe('seed file JSON Schema', () => {
  it('the committed docs/seed.schema.json is the one the zod schema generates (regenerate: leadtrail seed --print-schema > docs/seed.schema.json)', async () => {
    const committed = fs.readFileSync(SCHEMA_FILE, 'utf8');
    expect(committed).toBe(`${JSON.stringify(seedJsonSchema(), null, 2)}\n`);
    const printed = await runCli(['seed', '--print-schema']);
    expect(printed.stdout).toBe(committed);
  });
});

describe('progress line', () => {
  const stream = (tty: boolean) => {
    const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number; cursorTo?: unknown; clearLine?: unknown; moveCursor?: unknown };
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    if (tty) s.isTTY = true;
    s.columns = 100;
    return { s: s as unknown as NodeJS.WriteStream, text: () => text };
  };

  it('draws counts on a terminal and nothing elsewhere', async () => {
    const tty = stream(true);
    const bar = progressLine('seeding', 3, tty.s);
    bar.tick('leads');
    bar.tick('leads');
    bar.tick('activities');
    bar.stop();
    await new Promise((r) => setImmediate(r));
    expect(tty.text()).toContain('seeding');
    expect(tty.text()).toMatch(/[0-3]\/3/);

    const piped = stream(false);
    const quiet = progressLine('seeding', 3, piped.s);
    quiet.tick('leads');
    quiet.stop();
    await new Promise((r) => setImmediate(r));
    expect(piped.text()).toBe('');
  });
});
