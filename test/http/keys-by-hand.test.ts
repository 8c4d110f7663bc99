/**
 * Keys given by hand: `leadtrail keys create --access-key … --secret-key …` (or `--kind api
 * --api-key …`) and `leadtrail account create` with the same flags, so that a team's integration
 * keeps the keys its test configuration already has. The CLI runs as a user runs it, against the
 * database of a running server on the engine of the vitest project; the keys are then used over real
 * HTTP. A key no client could send (a space at an end, a control character or one outside printable
 * ASCII, empty, too long), a key of the other kind, and a key the database has or had are refused
 * with a message and change nothing.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AUTH, LM, expectOk } from '../helpers/lsq.js';
import { schemaUrl } from '../helpers/pg.js';
import { KEYS, request, started, type TestServer } from '../helpers/server.js';
import { cliJson, runCli } from '../cli/cli-runner.js';

// Each step starts a Node process; under a full parallel test run each can take seconds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let s: TestServer;
let env: Record<string, string>;
let accountId: string;
beforeAll(async () => {
  s = await started();
  env = s.dbPath.startsWith('pg:') ? { DATABASE_URL: schemaUrl(s.dbPath.slice(3)) } : { LEADTRAIL_DB: s.dbPath };
  accountId = (await s.services.store.accounts.findCredential('access', KEYS.accessKey))!.accountId;
});

/** The status of a sync call made with these keys in the headers, as LeadSquared's SDKs send them. */
async function syncStatus(accessKey: string, secretKey: string): Promise<number> {
  const r = await request(s.url, 'GET', `${AUTH}/UserByAccessKey.Get`, undefined, { noAuth: true, headers: { 'x-LSQ-AccessKey': accessKey, 'x-LSQ-SecretKey': secretKey } });
  return r.status;
}

/** The status of an async status read sent with this x-api-key alone (403 when no account has it). */
async function asyncStatus(apiKey: string): Promise<number> {
  const r = await request(s.url, 'GET', '/activity/status?RequestID=00000000-0000-4000-8000-000000000000', undefined, { noAuth: true, headers: { 'x-api-key': apiKey } });
  return r.status;
}

const keyCount = async () => (await s.services.store.accounts.listCredentials(accountId)).length;

describe('keys create with keys given by hand', () => {
  it('an access key pair as given: printed back, and it signs sync calls', async () => {
    const made = await cliJson(['keys', 'create', '--account', accountId, '--access-key', 'u$r-team-ci-key', '--secret-key', 'team-ci-secret'], env);
    expect(made).toEqual({ accessKey: 'u$r-team-ci-key', secretKey: 'team-ci-secret' });
    expect(await syncStatus('u$r-team-ci-key', 'team-ci-secret')).toBe(200);
    expect(await syncStatus('u$r-team-ci-key', 'wrong')).toBe(401);
    expectOk(await s.call('GET', `${LM}/Leads.GetByEmailaddress?emailaddress=nobody@example.test`, undefined, { keys: made }));
  });

  it('only the secret given: the access key is generated', async () => {
    const made = await cliJson(['keys', 'create', '--account', accountId, '--secret-key', 'only-the-secret'], env);
    expect(made.secretKey).toBe('only-the-secret');
    expect(made.accessKey).toMatch(/^u\$r[0-9a-f]{32}$/);
    expect(await syncStatus(made.accessKey, 'only-the-secret')).toBe(200);
  });

  it('an x-api-key as given (--kind api): the async API takes it', async () => {
    const made = await cliJson(['keys', 'create', '--account', accountId, '--kind', 'api', '--api-key', 'team-ci-api-key-0001'], env);
    expect(made).toEqual({ apiKey: 'team-ci-api-key-0001' });
    expect(await asyncStatus('team-ci-api-key-0002')).toBe(403);
    expect(await asyncStatus('team-ci-api-key-0001')).not.toBe(403);
  });

  it('keys no client could send, or of the other kind, are refused with a message and add nothing', async () => {
    const before = await keyCount();
    const cases: [string[], string][] = [
      [['--access-key', ' padded'], 'The access key starts or ends with a space'],
      [['--secret-key', 'tab\there'], 'The secret key holds a control character'],
      [['--access-key', ''], 'The access key is empty'],
      [['--access-key', 'k'.repeat(257)], 'The access key is 257 characters long; at most 256.'],
      [['--kind', 'api', '--api-key', 'line\nbreak'], 'The x-api-key holds a control character'],
      // Accepted before, then matched from no client: fetch refuses to send it, curl sends UTF-8.
      [['--kind', 'api', '--api-key', 'api-键'], "The x-api-key holds '键', a character outside printable ASCII"],
      [['--access-key', 'café-access', '--secret-key', 'plain-secret'], "The access key holds 'é', a character outside printable ASCII"],
      [['--kind', 'api', '--access-key', 'x'], '--access-key and --secret-key make an access key pair: leave out --kind api'],
      [['--api-key', 'x'], '--api-key makes an x-api-key: add --kind api'],
      [['--access-key', KEYS.accessKey], `The access key '${KEYS.accessKey}' is already taken by a key of this database`],
      // Of the other kind: an x-api-key is stored by its hash, which the unique index compared with
      // access keys in clear, and `keys revoke <value>` then revoked one of the two (a fresh-eyes run).
      [['--kind', 'api', '--api-key', KEYS.accessKey], `That x-api-key (${KEYS.accessKey.slice(0, 6)}…) is already taken by a key of this database`],
      [['--access-key', KEYS.apiKey, '--secret-key', 'any-secret'], `The access key '${KEYS.apiKey}' is already taken by a key of this database`],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['keys', 'create', '--account', accountId, ...flags], env);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr, flags.join(' ')).toContain(message);
    }
    expect(await keyCount()).toBe(before);
    // The default keys still work as before.
    expect(await syncStatus(KEYS.accessKey, KEYS.secretKey)).toBe(200);
  });
});

describe('account create with keys given by hand', () => {
  it('makes the account with those keys, which reach that account only', async () => {
    const made = await cliJson(['account', 'create', '--name', 'Tenant B', '--access-key', 'u$r-tenant-b', '--secret-key', 'tenant-b-secret', '--api-key', 'tenant-b-api-key'], env);
    expect(made).toMatchObject({ accessKey: 'u$r-tenant-b', secretKey: 'tenant-b-secret', apiKey: 'tenant-b-api-key' });
    expect(made.accountId).not.toBe(accountId);
    const who = await request(s.url, 'GET', `${AUTH}/UserByAccessKey.Get?accessKey=u$r-tenant-b&secretKey=tenant-b-secret`);
    expect(who.status).toBe(200);
    expect(who.body.OrgId).toBe(made.accountId);
  });

  it('a refused key leaves no account behind', async () => {
    const before = (await cliJson(['account', 'list'], env)).length;
    const r = await runCli(['account', 'create', '--name', 'Tenant C', '--api-key', 'tenant-b-api-key'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is already taken by a key of this database');
    expect((await cliJson(['account', 'list'], env)).length).toBe(before);
  });
});
