/**
 * The CLI as a user runs it: help for every command, refused flags, and the admin commands
 * (accounts, keys, activity types, migrate) against a real SQLite file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { tempDir } from '../helpers/server.js';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { CREATING_COMMANDS, SEED_EXAMPLE, announcedKeys, cliJson, freePort, http, refusingCommands, runCli, serve } from './cli-runner.js';

/** Why another program's SQLite database (a table `notes`) is refused. */
const FOREIGN_WHY = "the file is another program's SQLite database (it has tables such as notes, none of leadtrail's), and leadtrail does not add its tables to it";

// Every step starts a Node process; under a full parallel test run each can take seconds.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

/**
 * `fn` over `items`, at most `limit` at a time, results in order. Each call starts a Node process:
 * twenty at once on a loaded 2-core machine each take longer than runCli's time limit.
 */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Every command path, found by walking the help output from the top. */
async function allCommands(prefix: string[] = []): Promise<string[][]> {
  const r = await runCli([...prefix, '--help']);
  expect(r.code, r.stderr).toBe(0);
  const section = r.stdout.split(/\nCommands:\n/)[1];
  if (!section) return [prefix];
  const names = section
    .split('\n')
    .map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'help');
  const children = await pool(names, 3, (n) => allCommands([...prefix, n]));
  return [...(prefix.length ? [prefix] : []), ...children.flat()];
}

describe('help', () => {
  it('prints help and exits 0 for the program and every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: leadtrail');
    const commands = await allCommands();
    const names = commands.map((c) => c.join(' '));
    for (const expected of [
      'serve',
      'migrate',
      'account',
      'account create',
      'account list',
      'keys',
      'keys create',
      'keys list',
      'keys revoke',
      'keys set-limit',
      'activity-types',
      'activity-types create',
      'activity-types list',
      'seed',
      'reset',
    ]) {
      expect(names).toContain(expected);
    }
    const helps = await pool(commands, 4, (c) => runCli([...c, '--help']));
    for (const [i, c] of commands.entries()) {
      const r = helps[i];
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: leadtrail ${c.join(' ')}`);
      // Each command says what it does on the line after Usage.
      expect(r.stdout.split('\n')[2]?.trim().length, `${c.join(' ')} has no description`).toBeGreaterThan(0);
    }
  });

  it('offers every configuration option as a serve flag, named as in src/config.ts', async () => {
    const r = await runCli(['serve', '--help']);
    for (const o of OPTIONS) {
      expect(r.stdout, o.flag).toMatch(new RegExp(`^\\s+${o.flag}\\b`, 'm'));
      // Each option's default and environment variable, on its own line of the help (commander
      // may wrap a long description: compare with runs of spaces and line breaks folded).
      const line = new RegExp(`^\\s+${o.flag}\\b[\\s\\S]*?(?=^\\s+--|^\\s+-h)`, 'm').exec(r.stdout)?.[0].replace(/\s+/g, ' ') ?? '';
      expect(line, o.flag).toContain(o.default ? `(default: ${o.default}; env: ${o.env})` : `(env: ${o.env})`);
    }
    expect(r.stdout).toMatch(/^\s+--no-worker\b/m);
  });

  it('passes every serve flag to the config, over its environment variable', async () => {
    // A value the option's own parser refuses, given as a flag while the environment holds a valid
    // one: the error must name the flag, which shows the flag reached loadConfig and won.
    const bad = '@not-valid@';
    const checked = OPTIONS.filter((o) => {
      try {
        o.parse(bad as never, o.flag);
        return false;
      } catch {
        return true;
      }
    });
    expect(checked.map((o) => o.env)).toEqual(expect.arrayContaining(['PORT', 'LEADTRAIL_RATE_LIMIT', 'LEADTRAIL_WORKER', 'LEADTRAIL_BODY_LIMIT']));
    // Should a flag be ignored, the server would start: keep it off the repo's ./data and port 8080.
    const safe = { PORT: '0', LEADTRAIL_DB: path.join(tempDir('leadtrail-flags-'), 'x.db') };
    const results = await pool(checked, 4, async (o) => ({ o, r: await runCli(['serve', o.flag, bad], { ...safe, ...(o.default ? { [o.env]: o.default } : {}) }) }));
    for (const { o, r } of results) {
      expect(r.code, o.flag).not.toBe(0);
      expect(r.stderr, o.flag).toContain(o.flag);
      expect(r.stderr, o.flag).not.toContain(`${o.env} `);
    }
  });
});

describe('the program itself', () => {
  it('--version and -V print the version from package.json and exit 0', async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('without a command it serves, as npm start does: keys printed, /health OK, keyed calls answered', async () => {
    const db = path.join(tempDir('leadtrail-bare-'), 'leadtrail.db');
    const s = await serve(['--port', String(await freePort()), '--db', db], {}, { bare: true });
    try {
      const keys = announcedKeys(s.stderr());
      expect(keys, s.stderr()).not.toBeNull();
      expect((await http(s.url, 'GET', '/health')).status).toBe(200);
      const types = await http(s.url, 'GET', '/v2/ProspectActivity.svc/ActivityTypes.Get', { keys: keys! });
      expect(types.status, types.text).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('a mistyped command is named as unknown, not run as the server', async () => {
    const r = await runCli(['mirgate'], { PORT: '0', LEADTRAIL_DB: path.join(tempDir('leadtrail-typo-'), 'x.db') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'mirgate'");
  });

  it('a command written after options says where options go, not "too many arguments for serve" (found by a fresh-eyes run)', async () => {
    const db = path.join(tempDir('leadtrail-order-'), 'x.db');
    const r = await runCli(['--db', db, 'account', 'list'], { PORT: '0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`leadtrail: options go after the command: leadtrail account list --db ${db}\n`);
  });
});

describe('refused input', () => {
  it('rejects unknown flags with a message and exit code 2, as every other mistake in what was typed', async () => {
    for (const args of [['serve', '--bogus'], ['account', 'create', '--name', 'X', '--nope', '1'], ['keys', 'list', '--account', 'a', '--secret'], ['--what']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/unknown option/);
    }
    // A missing argument or required option, and a command group without its command (commander's
    // own errors, which exited 1 while ours exited 2: found by a fresh-eyes run).
    for (const args of [['account', 'create'], ['keys', 'set-limit', '--account', 'a'], ['account']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: |Usage: leadtrail account/);
    }
    // A usage error is its line and a pointer to the help, not the whole help (a fresh-eyes run).
    const missing = await runCli(['keys', 'list']);
    expect(missing.stderr).toBe("error: required option '--account <id>' not specified\n(add --help for the command's options)\n");
    // A mistyped required option is named as the mistake, not as the option missing (Commander
    // checks required options first: a fresh-eyes run saw only "required option '--account'").
    for (const args of [['keys', 'list', '--acount', 'a'], ['lead-fields', 'set', '--account', 'a', '--nmae', 'mx_X', '--unique']]) {
      const typo = await runCli(args);
      expect(typo.code, args.join(' ')).toBe(2);
      expect(typo.stderr, args.join(' ')).toMatch(/^error: unknown option '--(acount|nmae)'\n\(Did you mean --(account|name)\?\)\n/);
    }
    // Help and the version are not mistakes.
    for (const args of [['--help'], ['account', 'list', '--help'], ['help'], ['--version']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.length, args.join(' ')).toBeGreaterThan(0);
    }
  });

  it('rejects bad option values and missing required options, naming them', async () => {
    const port = await runCli(['serve', '--port', 'eighty']);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain('--port');
    const env = await runCli(['serve'], { LEADTRAIL_RATE_LIMIT: 'lots' });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toContain('LEADTRAIL_RATE_LIMIT');
    const name = await runCli(['account', 'create']);
    expect(name.code).not.toBe(0);
    expect(name.stderr).toContain('--name');
    const kind = await runCli(['keys', 'create', '--account', 'a', '--kind', 'root']);
    expect(kind.code).not.toBe(0);
    expect(kind.stderr).toContain('--kind');
  });

  it('a --trust-proxy or LEADTRAIL_TRUST_PROXY that is no address list stops the start with exit code 2, naming it', async () => {
    const db = path.join(tempDir('leadtrail-trust-'), 'x.db');
    const hops = await runCli(['serve', '--port', '0', '--db', db, '--trust-proxy', '2']);
    expect(hops.code).toBe(2);
    expect(hops.stderr).toContain('--trust-proxy does not take a number of hops ("2")');
    const name = await runCli(['serve', '--port', '0', '--db', db], { LEADTRAIL_TRUST_PROXY: 'proxy.internal' });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('LEADTRAIL_TRUST_PROXY must be true, false, or addresses and CIDR ranges separated by commas');
    expect(fs.existsSync(db), 'nothing was created').toBe(false);
  });
});

describe('a database that is not there (found by fresh-eyes runs)', () => {
  const refused = (db: string, why = '') =>
    `leadtrail: No database at ${db} (--db, LEADTRAIL_DB): ${why}check the path, or make one with leadtrail migrate or leadtrail account create\n`;
  /** `keys revoke` of `['keys', 'revoke', '--account', …]`. */
  const nameOf = (args: string[]) => args.slice(0, args.findIndex((a) => a.startsWith('-')) >>> 0).filter((a) => !a.includes('/')).join(' ');

  it('every command either may make its database or refuses one that is not there, as a kind', async () => {
    const all = (await allCommands()).map((c) => c.join(' '));
    const leaves = all.filter((c) => !all.some((o) => o.startsWith(`${c} `)));
    const refusing = refusingCommands(tempDir('leadtrail-kinds-')).map(nameOf);
    expect([...CREATING_COMMANDS, ...refusing].sort()).toEqual(leaves.sort());
  });

  it('every other command refuses a file that is not there, named by --db, LEADTRAIL_DB or the default, and creates nothing: no file, no folder', async () => {
    const dir = fs.realpathSync(tempDir('leadtrail-nodb-'));
    const commands = refusingCommands(tempDir('leadtrail-nodb-files-'));
    const typo = path.join(dir, 'sub', 'typo.db');
    const runs = [
      ...commands.map((c) => ({ args: [...c, '--db', typo], env: {}, db: typo })),
      // The variable is read as the flag is: two commands show it.
      ...[commands[0], commands.at(-2)!].map((c) => ({ args: c, env: { LEADTRAIL_DB: 'sub/env.db' }, db: path.join(dir, 'sub', 'env.db') })),
      // No setting at all, in a folder where no server ever ran: ./data/leadtrail.db. `seed` made it,
      // empty and migrated, and then said only that "the database" had no account.
      ...commands.map((c) => ({ args: c, env: {}, db: path.join(dir, 'data', 'leadtrail.db') })),
    ];
    const results = await pool(runs, 3, (r) => runCli(r.args, r.env, { cwd: dir }));
    for (const [i, r] of results.entries()) {
      const label = `${runs[i].args.join(' ')} ${JSON.stringify(runs[i].env)}`;
      expect(r.code, `${label}: ${r.stderr}`).toBe(2);
      expect(r.stderr, label).toBe(refused(runs[i].db));
      expect(r.stdout, label).toBe('');
    }
    expect(fs.readdirSync(dir), 'nothing was created').toEqual([]);
  });

  it("every other command refuses a file without leadtrail's tables (empty, or another program's, named as such), and leaves it as it was", async () => {
    const dir = fs.realpathSync(tempDir('leadtrail-notours-'));
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    const foreign = path.join(dir, 'other-app.db');
    const other = new (sqliteDriver())(foreign);
    other.exec('create table notes (id integer primary key, body text); insert into notes (body) values (\'mine\')');
    other.close();
    const before = fs.readFileSync(foreign);
    const commands = refusingCommands(tempDir('leadtrail-notours-files-'));
    const runs = [...commands.map((c) => ({ args: [...c, '--db', empty], db: empty })), ...[commands[0], commands.at(-2)!].map((c) => ({ args: [...c, '--db', foreign], db: foreign }))];
    const results = await pool(runs, 3, (r) => runCli(r.args));
    for (const [i, r] of results.entries()) {
      expect(r.code, `${runs[i].args.join(' ')}: ${r.stderr}`).toBe(2);
      // Another program's file had been answered as an empty one, with the advice to run
      // `leadtrail migrate` on it, which then added leadtrail's tables to it.
      expect(r.stderr, runs[i].args.join(' ')).toBe(runs[i].db === empty ? refused(empty, 'the file holds no leadtrail tables; ') : `leadtrail: Cannot use ${foreign} as a database (--db, LEADTRAIL_DB): ${FOREIGN_WHY}; check the path\n`);
    }
    expect(fs.statSync(empty).size).toBe(0);
    expect(fs.readFileSync(foreign).equals(before), "the other program's file is unchanged").toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['empty.db', 'other-app.db']);
  });

  it('every command, serve and the creating ones too, refuses a path that cannot hold a database (a folder, a text file, a path under a file), naming it, and creates nothing', async () => {
    const dir = fs.realpathSync(tempDir('leadtrail-unusable-'));
    const notes = path.join(dir, 'notes.txt');
    fs.writeFileSync(notes, 'hello, not a database\n');
    const folder = path.join(dir, 'a-folder');
    fs.mkdirSync(folder);
    const under = path.join(notes, 'x.db');
    const cannot = (db: string, why: string) => `leadtrail: Cannot use ${db} as a database (--db, LEADTRAIL_DB): ${why}; check the path\n`;
    // Another program's SQLite database: serve, migrate and account create had added leadtrail's
    // tables to it and switched it to WAL (a fresh-eyes run).
    const foreign = path.join(dir, 'other-app.db');
    const other = new (sqliteDriver())(foreign);
    other.exec('create table notes (id integer primary key, body text); insert into notes (body) values (\'mine\')');
    other.close();
    const before = fs.readFileSync(foreign);
    const cases = [
      { db: notes, why: "the file is not a SQLite database (another program's file?)" },
      { db: foreign, why: FOREIGN_WHY },
      { db: folder, why: `it is a folder; name a file in it, e.g. ${path.join(folder, 'leadtrail.db')}` },
      { db: under, why: 'a part of its folder path is a file, not a folder' },
    ];
    const port = String(await freePort());
    // The creating commands (serve through start(), the others through withStore) and two of the
    // others: every command opens its store through openStore, where the path is checked.
    const others = refusingCommands(tempDir('leadtrail-unusable-files-'));
    const commands = [['serve', '--port', port], ['migrate'], ['account', 'create', '--name', 'X'], others[0], others.at(-1)!];
    // SQLite's own errors had said "file is not a database" or "unable to open database file", exit 1.
    const runs = cases.flatMap((c) => commands.map((args) => ({ args: [...args, '--db', c.db], ...c })));
    const results = await pool(runs, 3, (r) => runCli(r.args));
    for (const [i, r] of results.entries()) {
      const label = runs[i].args.join(' ');
      expect(r.code, `${label}: ${r.stderr}`).toBe(2);
      expect(r.stderr, label).toBe(cannot(runs[i].db, runs[i].why));
    }
    expect(fs.readFileSync(notes, 'utf8')).toBe('hello, not a database\n');
    expect(fs.readFileSync(foreign).equals(before), "the other program's file is unchanged").toBe(true);
    expect(fs.readdirSync(folder), 'nothing made in the folder').toEqual([]);
    expect(fs.readdirSync(dir).sort(), 'no lock file beside them').toEqual(['a-folder', 'notes.txt', 'other-app.db']);
  });

  it("a broken SQLite file is named with the setting in SQLite's error, serve's and the other commands' alike", async () => {
    // SQLite's words alone ("file is not a database", "Migration  failed: database disk image is
    // malformed") had named neither the file nor the setting (a fresh-eyes run).
    const dir = fs.realpathSync(tempDir('leadtrail-broken-'));
    const broken = path.join(dir, 'broken.db');
    fs.writeFileSync(broken, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(5000, 0xff)]));
    const port = String(await freePort());
    const results = await pool([['serve', '--port', port], ['account', 'list'], ['migrate']], 3, (args) => runCli([...args, '--db', broken]));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toBe(`leadtrail: Cannot open ${broken} (--db, LEADTRAIL_DB): file is not a database\n`);
    }
  });

  it('migrate and account create make the database; then seed on one without accounts names the file it looked at', async () => {
    const dir = fs.realpathSync(tempDir('leadtrail-makes-'));
    const db = path.join(dir, 'sub', 'made.db');
    expect((await runCli(['migrate', '--db', db])).code).toBe(0);
    const seed = await runCli(['seed', '--file', SEED_EXAMPLE, '--db', db]);
    expect(seed.code, seed.stderr).toBe(2);
    expect(seed.stderr).toBe(`leadtrail: The database at ${db} has no account yet: start the server on it once, or run leadtrail account create\n`);
    const created = path.join(dir, 'created.db');
    expect((await runCli(['account', 'create', '--name', 'First', '--db', created])).code).toBe(0);
    expect(await cliJson(['account', 'list', '--db', created])).toEqual([expect.objectContaining({ name: 'First' })]);
  });
});

describe('admin commands on a SQLite file', () => {
  const dir = tempDir('leadtrail-cli-');
  const db = path.join(dir, 'sub', 'leadtrail.db');
  const env = { LEADTRAIL_DB: db };
  let account: { accountId: string; accessKey: string; secretKey: string; apiKey: string };

  beforeAll(async () => {
    account = await cliJson(['account', 'create', '--name', 'Acme'], env);
  });

  it('account create prints the new keys and account list shows the account', async () => {
    expect(account.accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(account.accessKey).toMatch(/\S{8,}/);
    expect(account.secretKey).toMatch(/\S{8,}/);
    expect(account.apiKey).toMatch(/\S{8,}/);
    expect(fs.existsSync(db)).toBe(true);
    const list = await cliJson(['account', 'list'], env);
    const acme = list.find((a: { name: string }) => a.name === 'Acme');
    expect(acme).toMatchObject({ id: account.accountId, name: 'Acme' });
    // A date as `keys list` prints one, and a recent one.
    expect(acme.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(acme.createdAt) - Date.now())).toBeLessThan(10 * 60_000);
    const keys = await cliJson(['keys', 'list', '--account', account.accountId], env);
    expect(keys[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('account create refuses an empty name, and makes no account', async () => {
    const before = await cliJson(['account', 'list'], env);
    for (const name of ['', '   ']) {
      const r = await runCli(['account', 'create', '--name', name], env);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain('An account needs a name that is not empty');
    }
    // Nor a user email that is no address (found by a fresh-eyes run: it was taken).
    const bad = await runCli(['account', 'create', '--name', 'Mail', '--email', 'notanemail'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("The user's email 'notanemail' is not an email address.");
    expect(await cliJson(['account', 'list'], env)).toEqual(before);
    expect((await runCli(['account', 'create', '--name', 'Mail', '--email', 'ops@mail.example'], env)).code).toBe(0);
  });

  it('migrate applies migrations and says so', async () => {
    const r = await runCli(['migrate', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('migrations applied (sqlite)');
  });

  it('keys create, list, set-limit and revoke', async () => {
    const made = await cliJson(['keys', 'create', '--account', account.accountId], env);
    expect(made.accessKey).not.toBe(account.accessKey);
    const api = await cliJson(['keys', 'create', '--account', account.accountId, '--kind', 'api'], env);
    expect(api.apiKey).toMatch(/\S{8,}/);

    const limit = await runCli(['keys', 'set-limit', '--account', account.accountId, made.accessKey, '7/5s'], env);
    expect(limit.code, limit.stderr).toBe(0);
    const badLimit = await runCli(['keys', 'set-limit', '--account', account.accountId, made.accessKey, 'fast'], env);
    expect(badLimit.code).not.toBe(0);

    const revoke = await runCli(['keys', 'revoke', '--account', account.accountId, made.accessKey], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    const again = await runCli(['keys', 'revoke', '--account', account.accountId, made.accessKey], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`Key ${made.accessKey} of account ${account.accountId} is already revoked`);
    // Found by a fresh-eyes run: a revoked key took a limit in silence, an x-api-key was "no key",
    // and an unknown account was "no active key" where other commands name the account.
    const revokedLimit = await runCli(['keys', 'set-limit', '--account', account.accountId, made.accessKey, '9/5s'], env);
    expect(revokedLimit.code).toBe(2);
    expect(revokedLimit.stderr).toContain('is revoked: it takes no limit');
    const apiLimit = await runCli(['keys', 'set-limit', '--account', account.accountId, api.apiKey, '9/5s'], env);
    expect(apiLimit.code).toBe(2);
    expect(apiLimit.stderr).toContain(`${api.apiKey} is an x-api-key: limits are set on access keys`);
    const noAccount = await runCli(['keys', 'revoke', '--account', 'nope', made.accessKey], env);
    expect(noAccount.stderr).toContain('No account with id nope');
    const noKey = await runCli(['keys', 'set-limit', '--account', account.accountId, 'no-such-key', '9/5s'], env);
    expect(noKey.stderr).toContain(`No key no-such-key in account ${account.accountId}`);

    // An x-api-key by its whole value (the list shows only its first characters).
    const revokeApi = await runCli(['keys', 'revoke', '--account', account.accountId, api.apiKey], env);
    expect(revokeApi.code, revokeApi.stderr).toBe(0);

    const list = await cliJson(['keys', 'list', '--account', account.accountId], env);
    const mine = list.find((k: { key: string }) => k.key === made.accessKey);
    expect(mine).toMatchObject({ kind: 'access', rateLimit: '7/5s', revoked: true });
    expect(list.filter((k: { kind: string }) => k.kind === 'api')).toHaveLength(2);
    expect(list.filter((k: { kind: string; revoked: boolean }) => k.kind === 'api' && k.revoked)).toHaveLength(1);
    // Secrets are never listed.
    expect(JSON.stringify(list)).not.toContain(made.secretKey);
    expect(JSON.stringify(list)).not.toContain(account.secretKey);
  });

  it('commands on an unknown account fail with a message, lists included', async () => {
    const runs = await Promise.all(
      [['keys', 'create'], ['keys', 'list'], ['activity-types', 'list'], ['lead-fields', 'list']].map((c) => runCli([...c, '--account', 'no-such-account'], env)),
    );
    for (const r of runs) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('No account with id no-such-account');
      expect(r.stdout).toBe('');
    }
  });

  it('activity-types create takes one CreateType body or an array, and list shows them', async () => {
    const one = path.join(dir, 'one.json');
    fs.writeFileSync(one, JSON.stringify({ ActivityEventName: 'Demo Booked', Score: 5 }));
    const many = path.join(dir, 'many.json');
    fs.writeFileSync(
      many,
      JSON.stringify([
        { ActivityEventName: 'Trial Started', ActivityEvent: 450, Fields: [{ SchemaName: 'mx_Custom_1', DisplayName: 'Plan', DataType: 'String' }] },
        { ActivityEventName: 'Invoice Paid', Score: 20 },
      ]),
    );
    const a = await cliJson(['activity-types', 'create', '--account', account.accountId, '--file', one], env);
    expect(a).toEqual([{ ActivityEventName: 'Demo Booked', ActivityEvent: expect.any(Number), fields: 0 }]);
    expect(a[0].ActivityEvent).toBeGreaterThanOrEqual(201);
    const b = await cliJson(['activity-types', 'create', '--account', account.accountId, '--file', many], env);
    expect(b.map((t: { ActivityEvent: number }) => t.ActivityEvent)[0]).toBe(450);
    expect(b[0].fields).toBe(1);

    const list = await cliJson(['activity-types', 'list', '--account', account.accountId], env);
    const names = list.map((t: { ActivityEventName: string }) => t.ActivityEventName);
    expect(names).toEqual(expect.arrayContaining(['Demo Booked', 'Trial Started', 'Invoice Paid', 'Inbound Phone Call Activity']));
    expect(list.find((t: { ActivityEventName: string }) => t.ActivityEventName === 'Invoice Paid')).toMatchObject({ Score: 20, system: false });
  });

  it('activity-types create refuses a bad file and creates nothing from it', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify([{ ActivityEventName: 'Good One' }, { Score: 1 }]));
    const r = await runCli(['activity-types', 'create', '--account', account.accountId, '--file', bad], env);
    expect(r.code).not.toBe(0);
    // The entry is named, as seed names its entries (found by a fresh-eyes run).
    expect(r.stderr).toMatch(new RegExp(`^leadtrail: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\[1\\]: .*ActivityEventName`));
    const notJson = path.join(dir, 'not.json');
    fs.writeFileSync(notJson, '{nope');
    const r2 = await runCli(['activity-types', 'create', '--account', account.accountId, '--file', notJson], env);
    expect(r2.code).not.toBe(0);
    // A file that is there but is not JSON is named as such, not as one that cannot be read.
    expect(r2.stderr).toContain(`${notJson} is not valid JSON`);
    expect(r2.stderr).not.toContain('Cannot read');
    const list = await cliJson(['activity-types', 'list', '--account', account.accountId], env);
    expect(list.map((t: { ActivityEventName: string }) => t.ActivityEventName)).not.toContain('Good One');
  });
});
