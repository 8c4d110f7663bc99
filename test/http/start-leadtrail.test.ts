/**
 * `import { startLeadtrail } from 'leadtrail'`, from the BUILT package entry (npm test builds first):
 * a server on a free port with keys that work, over a temporary SQLite file that close() removes,
 * or over the PostgreSQL database given (the postgres project).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freshSchema, testSchemas } from '../helpers/pg.js';
import { tempDir } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const main = path.join(ROOT, (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string }).main);
if (!fs.existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` (npm test does it first)`);
const { startLeadtrail, ConfigError } = (await import(pathToFileURL(main).href)) as typeof import('../../src/index.js');

const ON_PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
/** On the postgres project every server gets a fresh schema (dropped after the file); else the default temporary SQLite. */
const storeOpts = () => {
  if (!ON_PG) return {};
  const schema = freshSchema();
  testSchemas.add(schema.name);
  return { databaseUrl: schema.url };
};

type Lt = Awaited<ReturnType<typeof startLeadtrail>>;
const opened: Lt[] = [];
afterAll(async () => {
  for (const lt of opened) await lt.close();
});
async function open(opts: Parameters<typeof startLeadtrail>[0] = {}): Promise<Lt> {
  const lt = await startLeadtrail(opts);
  opened.push(lt);
  return lt;
}

async function call(lt: Lt, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${lt.baseUrl}${p}`, {
    method,
    headers: { 'x-LSQ-AccessKey': lt.keys.accessKey, 'x-LSQ-SecretKey': lt.keys.secretKey, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('startLeadtrail', () => {
  it('serves the API on a free port with generated keys: sync, async and its worker', async () => {
    const lt = await open(storeOpts());
    expect(lt.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lt.keys.accessKey).not.toBe('');
    expect(lt.keys.secretKey).not.toBe(lt.keys.accessKey);
    const created = await call(lt, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'lib@example.com' }]);
    expect(created.status).toBe(200);
    expect(created.body.Status).toBe('Success');
    const accepted = await call(lt, 'POST', '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'async@example.com' }], { 'x-api-key': lt.keys.apiKey });
    expect(accepted.status).toBe(200);
    const id = accepted.body.RequestID as string;
    let status = '';
    for (let i = 0; i < 300 && status !== 'Success'; i++) {
      status = (await call(lt, 'GET', `/lead/status?RequestID=${id}`, undefined, { 'x-api-key': lt.keys.apiKey })).body.TaskStatus.Status;
      if (status !== 'Success') await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe('Success');
    // Wrong keys are refused, so the keys returned really are the ones in force.
    expect((await call(lt, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get', undefined, { 'x-LSQ-SecretKey': 'wrong' })).status).toBe(401);
  });

  it('uses preset keys', async () => {
    const keys = { accessKey: 'preset-access', secretKey: 'preset-secret', apiKey: 'preset-api' };
    const lt = await open({ ...storeOpts(), keys });
    expect(lt.keys).toEqual(keys);
    expect((await call(lt, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get')).status).toBe(200);
  });

  it('two at once get two ports and two databases', async () => {
    const [a, b] = await Promise.all([open(storeOpts()), open(storeOpts())]);
    expect(a.baseUrl).not.toBe(b.baseUrl);
    await call(a, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'only-a@example.com' }]);
    expect((await call(b, 'GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=only-a@example.com')).body).toEqual([]);
  });

  it.skipIf(ON_PG)('close() stops the server and removes the temporary database it made', async () => {
    const lt = await startLeadtrail();
    expect(lt.dbPath).not.toBeNull();
    expect(fs.existsSync(lt.dbPath!)).toBe(true);
    await lt.close();
    await lt.close();
    expect(fs.existsSync(path.dirname(lt.dbPath!))).toBe(false);
    await expect(fetch(`${lt.baseUrl}/health/live`)).rejects.toThrow();
  });

  it.skipIf(ON_PG)('keeps a database file it was given, and opens it again with the same keys', async () => {
    const dbPath = path.join(tempDir('leadtrail-lib-'), 'kept.db');
    const keys = { accessKey: 'kept-access', secretKey: 'kept-secret', apiKey: 'kept-api' };
    const first = await startLeadtrail({ dbPath, keys });
    await call(first, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'kept@example.com' }]);
    await first.close();
    expect(fs.existsSync(dbPath)).toBe(true);
    const again = await open({ dbPath, keys });
    expect((await call(again, 'GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=kept@example.com')).body).toHaveLength(1);
  });

  it.skipIf(ON_PG)('refuses a second server on the same dbPath in its own terms, not the CLI setting', async () => {
    const dbPath = path.join(tempDir('leadtrail-lib-'), 'shared.db');
    const keys = { accessKey: 'shared-access', secretKey: 'shared-secret', apiKey: 'shared-api' };
    await open({ dbPath, keys });
    await expect(startLeadtrail({ dbPath, keys })).rejects.toThrow(
      `startLeadtrail: another leadtrail server, in this process or another, is serving ${dbPath}; give each server a dbPath of its own, or none for a temporary file`,
    );
  });

  it("names seed()'s data, not a file, when it is not valid", async () => {
    const lt = await open(storeOpts());
    await expect(lt.seed({ leads: 5 } as never)).rejects.toThrow(/^seed\(\)'s data is not valid:\n  leads: /);
    await expect(lt.seed([] as never)).rejects.toThrow(/^seed\(\)'s data is not valid:\n  \(seed\(\)'s data\): /);
  });

  it('refuses a used database without its keys, saying what to pass', async () => {
    const store = storeOpts();
    const dbPath = ON_PG ? undefined : path.join(tempDir('leadtrail-lib-'), 'used.db');
    const first = await startLeadtrail({ ...store, dbPath });
    await first.close();
    await expect(startLeadtrail({ ...store, dbPath })).rejects.toThrow(/already has accounts; pass keys: \{ accessKey, secretKey, apiKey \}/);
    await expect(startLeadtrail({ ...store, dbPath, keys: { ...first.keys, secretKey: 'not-it' } })).rejects.toThrow(/keys given are not one account's/);
    // The right keys open it.
    const again = await open({ ...store, dbPath, keys: first.keys });
    expect((await call(again, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get')).status).toBe(200);
  });

  it('refuses a name in env that is no option, naming the one it looks like (found by a fresh-eyes run)', async () => {
    await expect(startLeadtrail({ ...storeOpts(), env: { LEADTRAIL_RATELIMIT: '0' } })).rejects.toThrow(
      'env: LEADTRAIL_RATELIMIT is not an option of leadtrail (did you mean LEADTRAIL_RATE_LIMIT?)',
    );
    await expect(startLeadtrail({ ...storeOpts(), env: { LEADTRAIL_RATE_LIMIT: '0', NODE_ENV: 'test' } })).rejects.toThrow(/^env: NODE_ENV is not an option of leadtrail; /);
  });

  it("runs SQLite's writes on the event loop unless env says otherwise: no writer thread to start", async () => {
    const lt = await open(storeOpts());
    expect(lt.server.services.config.sqliteWriter).toBe('loop');
    expect(lt.server.services.store.operate).toBeUndefined();
    const created = await call(lt, 'POST', '/v2/LeadManagement.svc/Lead.Capture', [{ Attribute: 'EmailAddress', Value: 'loop@example.com' }]);
    expect(created.status).toBe(200);
    if (ON_PG) return;
    const threaded = await open({ env: { LEADTRAIL_SQLITE_WRITER: 'thread' } });
    expect(threaded.server.services.store.operate).toBeTypeOf('function');
    expect((await call(threaded, 'POST', '/v2/LeadManagement.svc/Lead.Capture', [{ Attribute: 'EmailAddress', Value: 'thread@example.com' }])).status).toBe(200);
  });

  it('passes other options through env, and does not read process.env', async () => {
    process.env.LEADTRAIL_RATE_LIMIT = '1/60s';
    try {
      const lt = await open({ ...storeOpts(), env: { LEADTRAIL_METRICS_TOKEN: 'tok' } });
      expect((await fetch(`${lt.baseUrl}/metrics`)).status).toBe(401);
      expect((await fetch(`${lt.baseUrl}/metrics`, { headers: { authorization: 'Bearer tok' } })).status).toBe(200);
      // Not 1/60s from process.env: the server default of 25 per 5 s.
      for (let i = 0; i < 3; i++) expect((await call(lt, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get')).status).toBe(200);
    } finally {
      delete process.env.LEADTRAIL_RATE_LIMIT;
    }
  });

  it('refuses, rather than ignores, a setting it makes from its own options, a top-level name that belongs in env, and a value of no scalar type; numbers and booleans are written as text (found by a fresh-eyes run)', async () => {
    await expect(startLeadtrail({ ...storeOpts(), env: { PORT: '9999' } })).rejects.toThrow("env: PORT is set by startLeadtrail's port option; pass that instead.");
    await expect(startLeadtrail({ ...storeOpts(), env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } })).rejects.toThrow(/env: DATABASE_URL is set by startLeadtrail's databaseUrl option/);
    await expect(startLeadtrail({ ...storeOpts(), env: { LEADTRAIL_ACCESS_KEY: 'ak' } })).rejects.toThrow(/keys\.accessKey option/);
    // A JavaScript caller (or `as any`) passing a switch at the top level.
    await expect(startLeadtrail({ ...storeOpts(), faults: true } as never)).rejects.toThrow(/faults is not an option of startLeadtrail; pass it as env: \{ LEADTRAIL_FAULTS: … \}/);
    await expect(startLeadtrail({ ...storeOpts(), env: { LEADTRAIL_FAULTS: { on: true } } } as never)).rejects.toThrow('env: LEADTRAIL_FAULTS must be a string (or a number or boolean), got object.');
    // 0 and true as such: the limit is off (30 quick calls, no 429) and faults are on.
    const lt = await open({ ...storeOpts(), env: { LEADTRAIL_RATE_LIMIT: 0, LEADTRAIL_FAULTS: true } });
    const statuses = await Promise.all(Array.from({ length: 30 }, () => call(lt, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get').then((r) => r.status)));
    expect(statuses.filter((st) => st !== 200)).toEqual([]);
    expect((await call(lt, 'GET', '/_leadtrail/faults')).status).toBe(200);
  });

  it('refuses keys it cannot serve, naming the key, rather than failing as if the new database had accounts (found by a fresh-eyes run)', async () => {
    // An empty key (as from an unset variable) was taken as "none": a random key was stored, '' returned,
    // and the start failed claiming that the fresh database already had accounts.
    await expect(startLeadtrail({ ...storeOpts(), keys: { accessKey: '' } })).rejects.toThrow('startLeadtrail: keys.accessKey is empty: leave it out to have one generated.');
    await expect(startLeadtrail({ ...storeOpts(), keys: { apiKey: '' } })).rejects.toThrow(/^startLeadtrail: keys\.apiKey is empty: /);
    // The other rules of a key given by hand, as the ConfigError every other refused option is.
    const spaced = await startLeadtrail({ ...storeOpts(), keys: { secretKey: ' sk ' } }).catch((e: unknown) => e);
    expect(spaced).toBeInstanceOf(ConfigError);
    // Named as its class: a log or a test runner printed it as `Error: …` (found by a fresh-eyes run).
    expect((spaced as Error).name).toBe('ConfigError');
    expect(String(spaced)).toMatch(/^ConfigError: startLeadtrail: keys\.secretKey/);
    expect((spaced as Error).message).toBe("startLeadtrail: keys.secretKey starts or ends with a space, which HTTP drops from a header's value: it could never be matched.");
    await expect(startLeadtrail({ ...storeOpts(), keys: { apiKey: 'api-键' } })).rejects.toThrow(/^startLeadtrail: keys\.apiKey holds '键', a character outside printable ASCII/);
    // A JavaScript caller: a number was a TypeError from inside, a misspelt name or a string in place of the object ignored.
    await expect(startLeadtrail({ ...storeOpts(), keys: { secretKey: 123 } } as never)).rejects.toThrow('startLeadtrail: keys.secretKey must be a string, got number.');
    await expect(startLeadtrail({ ...storeOpts(), keys: { accesskey: 'ak' } } as never)).rejects.toThrow(
      'startLeadtrail: keys.accesskey is not one of its keys (accessKey, secretKey, apiKey).',
    );
    await expect(startLeadtrail({ ...storeOpts(), keys: 'ak' } as never)).rejects.toThrow('startLeadtrail: keys must be an object { accessKey, secretKey, apiKey }, got string.');
    // The keys given are the ones that work; the others are generated.
    const lt = await open({ ...storeOpts(), keys: { accessKey: 'fresh-eyes-access' } });
    expect(lt.keys.accessKey).toBe('fresh-eyes-access');
    expect((await call(lt, 'GET', '/v2/LeadManagement.svc/LeadsMetaData.Get')).status).toBe(200);
  });

  it("reset() also empties what the journal had buffered and the account's forced faults, as a clean account for the next test (found by a fresh-eyes run)", async () => {
    const lt = await open({ ...storeOpts(), env: { LEADTRAIL_FAULTS: 'true' } });
    expect((await call(lt, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'before-reset@example.com' }])).status).toBe(200);
    expect((await call(lt, 'POST', '/_leadtrail/faults', { path: '/v2/LeadManagement.svc/Lead.Create', status: 503, times: 5 })).status).toBe(200);
    expect((await call(lt, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'faulted@example.com' }])).status).toBe(503);
    await lt.reset();
    expect((await call(lt, 'GET', '/_leadtrail/journal')).body.entries).toEqual([]);
    expect((await call(lt, 'GET', '/_leadtrail/faults')).body.faults).toEqual([]);
    expect((await call(lt, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'after-reset@example.com' }])).status).toBe(200);
  });

  it('a route whose switch is off says which setting turns it on', async () => {
    const lt = await open(storeOpts());
    const r = await call(lt, 'GET', '/_leadtrail/faults');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ ExceptionType: 'MXAPINotFoundException', ExceptionMessage: expect.stringMatching(/\/_leadtrail\/faults is off on this server; start it with LEADTRAIL_FAULTS=true/) });
    expect((await call(lt, 'POST', '/_leadtrail/reset')).body.ExceptionMessage).toMatch(/LEADTRAIL_SANDBOX=true/);
  });
});
