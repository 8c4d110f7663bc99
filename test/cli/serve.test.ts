/**
 * `leadtrail serve` as a child process over real HTTP: keys and activity types made by the CLI work
 * on the server, revoked keys do not, accounts stay apart, the first start makes (and prints once)
 * the first account, and flags override environment variables.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { announcedKeys, cliJson, freePort, http, runCli, serve } from './cli-runner.js';

// Every step starts a Node process; under a full parallel test run each can take seconds.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const PA = '/v2/ProspectActivity.svc';
const LM = '/v2/LeadManagement.svc';

describe('serve with accounts, keys and activity types made by the CLI', () => {
  it('serves them over HTTP, refuses revoked keys, and keeps accounts apart', async () => {
    const dir = tempDir('leadtrail-serve-');
    const db = path.join(dir, 'leadtrail.db');
    const env = { LEADTRAIL_DB: db };
    const acme = await cliJson(['account', 'create', '--name', 'Acme'], env);
    const beta = await cliJson(['account', 'create', '--name', 'Beta'], env);
    const extra = await cliJson(['keys', 'create', '--account', acme.accountId], env);
    const doomed = await cliJson(['keys', 'create', '--account', acme.accountId], env);
    const file = path.join(dir, 'types.json');
    fs.writeFileSync(
      file,
      JSON.stringify([{ ActivityEventName: 'Webinar Attended', Score: 7, Fields: [{ SchemaName: 'mx_Custom_1', DisplayName: 'Webinar', DataType: 'String', IsMandatory: true }] }]),
    );
    const [type] = await cliJson(['activity-types', 'create', '--account', acme.accountId, '--file', file], env);

    const s = await serve(['--port', String(await freePort()), '--db', db]);
    // The database already had accounts: nothing is created or printed.
    expect(announcedKeys(s.stderr())).toBeNull();

    const who = await http(s.url, 'GET', '/v2/Authentication.svc/UserByAccessKey.Get', { keys: extra });
    expect(who.status, who.text).toBe(200);
    expect(who.body.OrgName).toBe('Acme');
    expect(who.body.LSQCommonServiceURLs.api).toBe(new URL(s.url).host);

    // A per-key limit set while the server runs applies to that key only, from the next request.
    expect((await runCli(['keys', 'set-limit', '--account', acme.accountId, extra.accessKey, '2/60s'], env)).code).toBe(0);
    expect((await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: extra })).status).toBe(200);
    expect((await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: extra })).status).toBe(200);
    const limited = await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: extra });
    expect(limited.status).toBe(429);
    expect(limited.body.ExceptionMessage).toBe('API calls exceeded the limit of 2 in 60 second(s)');
    expect((await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: acme })).status).toBe(200);

    // Revoked while the server runs: refused on the next request, also while other calls keep the
    // server busy (the requests one turn of its event loop handles share a read snapshot for up to
    // 1 ms, and the CLI waits that out before it returns: src/storage/sqlite/read-turns.ts).
    expect((await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: doomed })).status).toBe(200);
    let busy = true;
    const load = Array.from({ length: 16 }, async () => {
      let calls = 0;
      // Refused by its limit (429) once its keys are checked: a read of the keys all the same.
      for (; busy; calls++) await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: extra });
      return calls;
    });
    expect((await runCli(['keys', 'revoke', '--account', acme.accountId, doomed.accessKey], env)).code).toBe(0);
    const refused = await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: doomed });
    busy = false;
    expect((await Promise.all(load)).reduce((a, b) => a + b)).toBeGreaterThan(16);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException' });

    // The activity type from the file, with its mandatory field and score.
    const missing = await http(s.url, 'POST', `${PA}/Create`, { keys: acme, body: { EmailAddress: 'ann@acme.test', ActivityEvent: type.ActivityEvent } });
    expect(missing.status).toBe(500);
    expect(missing.body.ExceptionType).toBe('MXMandatoryAttributeMissingException');
    const posted = await http(s.url, 'POST', `${PA}/Create`, {
      keys: acme,
      body: { EmailAddress: 'ann@acme.test', FirstName: 'Ann', ActivityEvent: type.ActivityEvent, Fields: [{ SchemaName: 'mx_Custom_1', Value: 'Launch' }] },
    });
    expect(posted.status, posted.text).toBe(200);
    const leadId = posted.body.Message.RelatedId;
    const lead = await http(s.url, 'GET', `${LM}/Leads.GetByEmailaddress?emailaddress=ann@acme.test`, { keys: acme });
    expect(lead.body).toHaveLength(1);
    expect(lead.body[0]).toMatchObject({ ProspectID: leadId, Score: '7' });

    // Beta sees none of Acme's leads, activities or types, and cannot write to them.
    const betaLead = await http(s.url, 'GET', `${LM}/Leads.GetByEmailaddress?emailaddress=ann@acme.test`, { keys: beta });
    expect(betaLead.status).toBe(200);
    expect(betaLead.body).toEqual([]);
    expect((await http(s.url, 'GET', `${LM}/Leads.GetById?id=${leadId}`, { keys: beta })).body).toEqual([]);
    const betaTypes = await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: beta });
    expect(betaTypes.body.map((t: { ActivityEventName: string }) => t.ActivityEventName)).not.toContain('Webinar Attended');
    const cross = await http(s.url, 'POST', `${PA}/Create`, { keys: beta, body: { RelatedProspectId: leadId, ActivityEvent: 21 } });
    expect(cross.status).toBe(500);
    expect(cross.body.ExceptionType).toBe('MXInvalidEntityException');
    const betaTyped = await http(s.url, 'POST', `${PA}/Create`, { keys: beta, body: { EmailAddress: 'bo@beta.test', ActivityEvent: type.ActivityEvent } });
    expect(betaTyped.body.ExceptionType).toBe('MXInvalidActivityException');
    // Beta's x-api-key cannot read Acme's async requests.
    const accepted = await http(s.url, 'POST', `/activity/create?accessKey=${encodeURIComponent(acme.accessKey)}&secretKey=${acme.secretKey}`, {
      apiKey: acme.apiKey,
      body: { RelatedProspectId: leadId, ActivityEvent: 21 },
    });
    expect(accepted.status, accepted.text).toBe(200);
    const foreign = await http(s.url, 'GET', `/activity/status?RequestID=${accepted.body.RequestID}`, { apiKey: beta.apiKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.Status).toBe('Error');
    // Acme's lead still has exactly Acme's activities.
    const acts = await http(s.url, 'POST', `${PA}/Retrieve?leadId=${leadId}`, { keys: beta, body: {} });
    expect(acts.body.RecordCount).toBe(0);
    await s.stop();
  });
});

describe('first start on an empty database', () => {
  it('gives the first account exactly the keys from the environment, and prints them once', async () => {
    const db = path.join(tempDir('leadtrail-first-'), 'leadtrail.db');
    const keys = { LEADTRAIL_ACCESS_KEY: 'u$r-known-access', LEADTRAIL_SECRET_KEY: 'known-secret', LEADTRAIL_API_KEY: 'known-api-key' };
    const s = await serve(['--port', String(await freePort())], { LEADTRAIL_DB: db, ...keys });
    const printed = announcedKeys(s.stderr());
    expect(printed).toMatchObject({ accessKey: 'u$r-known-access', secretKey: 'known-secret', apiKey: 'known-api-key' });
    // Nothing was generated: the banner says where the keys came from, not that they are shown once.
    expect(s.stderr()).toContain('with the configured keys');
    expect(s.stderr()).toContain('known-secret  (configured)');
    expect(s.stderr()).not.toContain('only once');
    const ok = await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: { accessKey: 'u$r-known-access', secretKey: 'known-secret' } });
    expect(ok.status).toBe(200);
    // The system activity types every account starts with.
    expect(ok.body.map((t: { ActivityEvent: number }) => t.ActivityEvent)).toEqual(expect.arrayContaining([21, 22]));
    const status = await http(s.url, 'GET', '/activity/create/metrics', { apiKey: 'known-api-key' });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ PendingMessages: 0 });
    await s.stop();

    const again = await serve(['--port', String(await freePort())], { LEADTRAIL_DB: db, ...keys });
    expect(announcedKeys(again.stderr())).toBeNull();
    await again.stop();
  });

  it('with some keys configured, marks those and says the others were generated', async () => {
    const db = path.join(tempDir('leadtrail-first-'), 'leadtrail.db');
    const s = await serve(['--port', String(await freePort()), '--access-key', 'u$r-flag-access', '--secret-key', 'flag-secret'], { LEADTRAIL_DB: db });
    const printed = announcedKeys(s.stderr());
    expect(printed).toMatchObject({ accessKey: 'u$r-flag-access', secretKey: 'flag-secret' });
    expect(s.stderr()).toContain('The keys not marked (configured) were generated and are shown only once');
    expect(s.stderr()).toContain('u$r-flag-access  (configured)');
    expect(s.stderr()).toMatch(new RegExp(`x-api-key:\\s+${printed!.apiKey}\\n`));
    expect((await http(s.url, 'GET', '/activity/create/metrics', { apiKey: printed!.apiKey })).status).toBe(200);
    await s.stop();
  });

  it('without keys in the environment, makes random keys, prints them once, and they work', async () => {
    const db = path.join(tempDir('leadtrail-first-'), 'data', 'leadtrail.db');
    const s = await serve(['--port', String(await freePort()), '--db', db]);
    const printed = announcedKeys(s.stderr());
    expect(printed).not.toBeNull();
    expect(s.stderr()).toContain('These keys are shown only once');
    expect(s.stderr()).not.toContain('(configured)');
    expect(fs.existsSync(db)).toBe(true);
    const who = await http(s.url, 'GET', '/v2/Authentication.svc/UserByAccessKey.Get', { keys: printed! });
    expect(who.status).toBe(200);
    expect(who.body.OrgId).toBe(printed!.accountId);
    expect((await http(s.url, 'GET', '/activity/create/metrics', { apiKey: printed!.apiKey })).status).toBe(200);
    expect((await http(s.url, 'GET', '/activity/create/metrics', { apiKey: 'wrong' })).status).toBe(403);
    await s.stop();

    const again = await serve(['--port', String(await freePort()), '--db', db]);
    expect(again.stderr()).not.toContain(printed!.secretKey);
    expect(announcedKeys(again.stderr())).toBeNull();
    await again.stop();
  });
});

describe('flags', () => {
  const keys = { LEADTRAIL_ACCESS_KEY: 'ak', LEADTRAIL_SECRET_KEY: 'sk', LEADTRAIL_API_KEY: 'api' };
  const sync = { accessKey: 'ak', secretKey: 'sk' };

  it('a flag overrides its environment variable', async () => {
    const db = path.join(tempDir('leadtrail-flags-'), 'leadtrail.db');
    const envPort = await freePort();
    const port = await freePort();
    const s = await serve(['--port', String(port), '--rate-limit', '2/60s', '--public-host', 'api.example.test'], {
      ...keys,
      LEADTRAIL_DB: db,
      PORT: String(envPort),
      LEADTRAIL_RATE_LIMIT: '0',
    });
    expect(new URL(s.url).port).toBe(String(port));
    const who = await http(s.url, 'GET', '/v2/Authentication.svc/UserByAccessKey.Get', { keys: sync });
    expect(who.body.LSQCommonServiceURLs.api).toBe('api.example.test');
    expect((await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: sync })).status).toBe(200);
    const limited = await http(s.url, 'GET', `${PA}/ActivityTypes.Get`, { keys: sync });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ ExceptionType: 'MXAPIRateLimitExceededException', ExceptionMessage: 'API calls exceeded the limit of 2 in 60 second(s)' });
    await s.stop();
  });

  it('--no-worker leaves async requests queued; --worker over LEADTRAIL_WORKER=false processes them', async () => {
    const db = path.join(tempDir('leadtrail-flags-'), 'leadtrail.db');
    const s = await serve(['--port', String(await freePort()), '--no-worker', '--poll-ms', '20'], { ...keys, LEADTRAIL_DB: db });
    expect(s.stdout()).toMatch(/"worker":false/);
    const lead = await http(s.url, 'POST', `${LM}/Lead.Create`, { keys: sync, body: [{ Attribute: 'EmailAddress', Value: 'q@example.test' }] });
    const acc = await http(s.url, 'POST', '/activity/create?accessKey=ak&secretKey=sk', { apiKey: 'api', body: { RelatedProspectId: lead.body.Message.Id, ActivityEvent: 21 } });
    const id = acc.body.RequestID;
    // A worker polling every 20 ms would have finished it many times over.
    await new Promise((r) => setTimeout(r, 1000));
    const queued = await http(s.url, 'GET', `/activity/status?RequestID=${id}`, { apiKey: 'api' });
    expect(queued.body.TaskStatus.Status).toBe('In-Queue');
    await s.stop();

    const w = await serve(['--port', String(await freePort()), '--worker', '--poll-ms', '20'], { ...keys, LEADTRAIL_DB: db, LEADTRAIL_WORKER: 'false' });
    let status = '';
    const deadline = Date.now() + 60_000;
    while (status !== 'Success' && Date.now() < deadline) {
      status = (await http(w.url, 'GET', `/activity/status?RequestID=${id}`, { apiKey: 'api' })).body.TaskStatus.Status;
      if (status !== 'Success') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('Success');
    await w.stop();
  });
});
