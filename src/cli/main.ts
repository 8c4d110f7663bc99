#!/usr/bin/env node
/**
 * `leadtrail` command line: serve (the default command), migrate, and local administration of accounts, keys and
 * activity types (these open the database directly; run them where the server's database is).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, OPTIONS, loadConfig, optionLike, parseRateLimit, settingName, type Config } from '../config.js';
import { addAccessKey, addApiKey, createAccount, revokeKey, sha256 } from '../domain/accounts.js';
import { createActivityType } from '../domain/activity-types.js';
import { changeLeadField } from '../domain/leads.js';
import { actingAs, systemCtx } from '../domain/context.js';
import { isMxError } from '../domain/errors.js';
import { INT32, wholeNumber } from '../domain/numbers.js';
import { start, type Running } from '../main.js';
import { openStore } from '../storage/open-store.js';
import { NoDatabaseError, UnusableDatabaseError, type Store } from '../storage/store.js';
import { parseCreateType } from '../wire/activity-type.js';
import { jsonSyntaxMessage, parseJsonBody } from '../wire/json-body.js';
import { resetAccount } from '../http/admin.js';
import { boundHeapGrowth } from './heap-growth.js';

type Flags = Record<string, unknown>;

/** Maps commander's parsed options back to config keys (flag `--rate-limit` → key `rateLimit`). */
function configFrom(flags: Flags): Readonly<Config> {
  const raw: Partial<Record<keyof Config, string>> = {};
  for (const o of OPTIONS) {
    // Bare `--faults` gives true and `--no-faults` false; both become the text loadConfig parses.
    const v = flags[attr(o.flag)];
    if (v !== undefined) raw[o.key] = String(v);
  }
  warnNearMisses(process.env);
  return loadConfig(process.env, raw);
}

/**
 * One stderr line for each environment variable that looks like a misspelt option
 * (`LEADTRAIL_RATELIMIT`: config.optionLike), which would otherwise be ignored in silence. Other
 * variables are the environment's business and are not named.
 */
function warnNearMisses(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(env)) {
    const like = optionLike(name);
    if (like) process.stderr.write(`leadtrail: warning: ${name} is not an option and is ignored; did you mean ${like}?\n`);
  }
}

/**
 * One stderr line when a worker is asked for (`--worker`, or `LEADTRAIL_WORKER` set true) in a
 * process whose role runs none (`--role api`): the setting is ignored, as an env file shared by
 * every service may well set it, but not in silence (`--role worker --no-worker`, which would do
 * nothing at all, is refused instead).
 */
function warnWorkerIgnored(config: Readonly<Config>, flags: Flags, env: NodeJS.ProcessEnv): void {
  if (config.role !== 'api' || !config.worker) return;
  const given = flags.worker !== undefined ? '--worker' : env.LEADTRAIL_WORKER !== undefined ? `LEADTRAIL_WORKER=${env.LEADTRAIL_WORKER}` : null;
  const role = flags.role !== undefined ? '--role api' : 'LEADTRAIL_ROLE=api';
  if (given) process.stderr.write(`leadtrail: warning: ${role} runs no async or webhook worker; ${given} is ignored\n`);
}

/** commander's attribute name for a flag: `--rate-limit` → `rateLimit`. */
const attr = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function addConfigOptions(cmd: Command, keys?: (keyof Config)[]): Command {
  for (const o of OPTIONS) {
    if (keys && !keys.includes(o.key)) continue;
    const name = o.flag.slice(2);
    // A true/false option may be given bare (`--faults` means true) or negated (`--no-worker`).
    const isBool = o.default === 'true' || o.default === 'false';
    const arg = isBool ? `[${name}]` : `<${name}>`;
    // The default and the variable in the help text only: a commander default would be a flag
    // value, and would hide the environment variable (a flag wins over it).
    const origin = o.default ? `default: ${o.default}; env: ${o.env}` : `env: ${o.env}`;
    cmd.addOption(new Option(`${o.flag} ${arg}`, `${o.description.replace(/`/g, '')} (${origin})`));
    if (isBool) cmd.addOption(new Option(`--no-${name}`, `same as ${o.flag} false`));
  }
  return cmd;
}

const DB_KEYS: (keyof Config)[] = ['dbPath', 'databaseUrl', 'pgPoolSize', 'pgPrepared', 'statementTimeoutMs'];

/** A key given with an `--access-key`, `--secret-key` or `--api-key` flag, or undefined (generated); its rules are the domain's (addAccessKey). */
const givenFlag = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/**
 * How long one operator command's transaction may run (ms): a day. The store's per-request limit
 * (LEADTRAIL_TX_TIMEOUT_MS, 15 s) is for API calls sharing a write batch; a seed or a re-key of
 * every lead of an account is one transaction however many leads (20,000 took 13 s on PostgreSQL).
 */
const OPERATOR_TX_TIMEOUT_MS = 24 * 3_600_000;

/**
 * Opens the store the flags and environment name, runs `fn`, closes it. `creates`: the command
 * may make the database (migrate, account create; serve does too, through start()): a new SQLite
 * file, or a PostgreSQL `?schema=`, then migrated. Every other command reads or changes what a
 * database holds, so a database that is not there is a mistyped setting, never an empty database:
 * it throws ConfigError (exit 2) naming the place and the setting, having created nothing (a missing
 * file or schema had been made, migrated, and listed as holding no accounts: found by fresh-eyes
 * runs, on SQLite and then on PostgreSQL). `long`: `fn` may run one transaction of any length
 * (OPERATOR_TX_TIMEOUT_MS instead of the API's per-request limit).
 */
async function withStore<T>(flags: Flags, fn: (store: Store) => Promise<T>, creates = false, long = false): Promise<T> {
  const config = long ? { ...configFrom(flags), txTimeoutMs: OPERATOR_TX_TIMEOUT_MS } : configFrom(flags);
  let store: Store;
  try {
    store = await openStore(config, undefined, { mustExist: !creates });
  } catch (e) {
    if (e instanceof NoDatabaseError) throw noDatabase(e, config.databaseUrl !== null && config.databaseUrl !== '');
    throw unusableDatabase(e, config.databaseUrl !== null && config.databaseUrl !== '', config.dbPath);
  }
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * The message for a database that is not there: the place, the setting that named it, what is
 * missing, and how to make one. `No database at /srv/lt.db (--db, LEADTRAIL_DB): check the path, or
 * make one with leadtrail migrate or leadtrail account create`.
 */
function noDatabase(e: NoDatabaseError, postgres: boolean): ConfigError {
  const setting = postgres ? '--database-url, DATABASE_URL' : '--db, LEADTRAIL_DB';
  const make = e.creatable ? 'make one with leadtrail migrate or leadtrail account create' : 'create that database (leadtrail makes its schema and tables, not the database)';
  return new ConfigError(`No database at ${e.where} (${setting}): ${e.why ? `${e.why}; ` : ''}check the ${postgres ? 'URL' : 'path'}, or ${make}`);
}

/**
 * For a place that cannot hold a database (UnusableDatabaseError): a ConfigError (exit 2) naming it,
 * the setting and why: `Cannot use /srv/notes.txt as a database (--db, LEADTRAIL_DB): the file is
 * not a SQLite database (another program's file?); check the path`. Any other error as it is.
 */
function unusableDatabase(e: unknown, postgres: boolean, dbPath?: string): unknown {
  if (e instanceof UnusableDatabaseError) {
    return new ConfigError(`Cannot use ${e.where} as a database (${postgres ? '--database-url, DATABASE_URL' : '--db, LEADTRAIL_DB'}): ${e.why}; check the ${postgres ? 'URL' : 'path'}`);
  }
  return postgres || dbPath === undefined ? e : sqliteFileError(e, dbPath);
}

/**
 * SQLite's own error opening or migrating the file (`unable to open database file`, `database
 * disk image is malformed`, `attempt to write a readonly database`, …), which names neither the
 * file nor the setting, with both added (exit 1: the file is there, but broken or not writable).
 * Any other error as it is. A read-only mount and a corrupt file had printed only SQLite's words
 * (a fresh-eyes run).
 */
function sqliteFileError(e: unknown, dbPath: string): unknown {
  const code = typeof e === 'object' && e !== null ? String((e as { code?: unknown }).code ?? '') : '';
  const msg = e instanceof Error ? e.message : String(e);
  // The file system's own refusals too (making the file's folder or its lock file in a folder
  // leadtrail may not write, a read-only mount, a full disk): a bare `EACCES: permission denied,
  // mkdir …` had named no setting (a fresh-eyes run).
  const fsRefusal = /^(EACCES|EPERM|EROFS|ENOSPC)$/.test(code);
  if (!fsRefusal && !/^SQLITE_(CANTOPEN|READONLY|CORRUPT|NOTADB|IOERR|PERM|FULL)/.test(code) && !/unable to open database file|disk image is malformed|file is not a database|readonly database/.test(msg)) return e;
  const where = path.resolve(dbPath);
  const hint = /readonly|CANTOPEN|PERM|unable to open|EACCES|EROFS/i.test(`${code} ${msg}`)
    ? ' (leadtrail makes the folder when it is missing, and writes the file and, beside it, its -wal, -shm and -lock files: is the folder writable?)'
    : '';
  return new Error(`Cannot open ${where} (--db, LEADTRAIL_DB): ${msg}${hint}`);
}

async function requireAccount(store: Store, id: string): Promise<void> {
  if (!(await store.accounts.get(id))) throw new ConfigError(`No account with id ${id}. See: leadtrail account list`);
}

/**
 * The account's key that `key` names (its id, access key, or an x-api-key by its hash), revoked or
 * not; null when none. Throws ConfigError naming a missing account, as the other commands do.
 */
async function namedKey(store: Store, account: string, key: string) {
  await requireAccount(store, account);
  const hash = sha256(key);
  return (await store.accounts.listCredentials(account)).find((c) => c.id === key || c.label === key || c.lookup === key || c.lookup === hash) ?? null;
}

/** `--account`, or the only account when there is one (a sandbox's first account). */
async function accountOrOnly(store: Store, given: unknown): Promise<string> {
  if (given !== undefined) {
    await requireAccount(store, String(given));
    return String(given);
  }
  const all = await store.accounts.list();
  if (all.length === 1) return all[0].id;
  throw new ConfigError(
    all.length === 0
      ? `The database at ${store.where} has no account yet: start the server on it once, or run leadtrail account create`
      : `The database at ${store.where} has ${all.length} accounts: pass --account <id> (see: leadtrail account list)`,
  );
}

/** The JSON in `file`; a file that cannot be read, and one that is not JSON, are told apart. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`Cannot read ${file}: ${(e as Error).message}`);
  }
  // A byte order mark (Windows editors write one) is no JSON, but no mistake of the file's either.
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    // Read as the API reads a body: a number with more than 15 significant digits keeps its digits
    // as text, where JSON.parse had rounded it in silence (a fresh-eyes run).
    return parseJsonBody(json);
  } catch {
    throw new ConfigError(`${file} is not valid JSON: ${jsonSyntaxMessage(json)}`);
  }
}

/** The version in package.json (two folders up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const print = (v: unknown) => process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`);

/**
 * Commander's Command, but a mistyped option is named as unknown even when the command also misses
 * a required one: Commander checks required options first, so `keys list --acount x` said
 * "required option '--account <id>' not specified", hiding the typo (a fresh-eyes run).
 */
class CliCommand extends Command {
  #unknown: string[] = [];

  override createCommand(name?: string): Command {
    return new CliCommand(name);
  }

  override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
    const parsed = super.parseOptions(argv);
    this.#unknown = parsed.unknown;
    return parsed;
  }

  /**
   * Called by Commander for a required option not given (not in its typings; after `--help` was
   * looked for). As Commander's own check after it, the first unknown argument (an option: what
   * follows one is unknown too) is the error; `unknownOption` returns for a command that allows
   * unknown options, and the missing option is the error then.
   */
  missingMandatoryOptionValue(option: Option): void {
    const commander = Command.prototype as unknown as { unknownOption(flag: string): void; missingMandatoryOptionValue(option: Option): void };
    if (this.#unknown.length > 0) commander.unknownOption.call(this, this.#unknown[0]);
    commander.missingMandatoryOptionValue.call(this, option);
  }
}

export function buildCli(): Command {
  const program = new CliCommand('leadtrail')
    .description("A self-hostable server that speaks LeadSquared's Lead & Activity API")
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    // One line after an error, not the command's whole help (15 lines and more, every database
    // option among them, after a missing --account: a fresh-eyes run).
    .showHelpAfterError("(add --help for the command's options)")
    .configureHelp({ sortSubcommands: true })
    // Commander's own usage errors (an unknown option, a missing argument) throw instead of
    // exiting 1, so that runCli exits 2 for them as for every other mistake in what was typed.
    // Commands made below inherit it.
    .exitOverride();

  // `serve` is the default: `npx leadtrail [flags]` runs the server, as `npm start` does.
  addConfigOptions(
    program.command('serve', { isDefault: true }).description('start the API and, unless --role api or --no-worker, the async worker (the default command)'),
  ).action(async (flags: Flags) => {
    const config = configFrom(flags);
    if (config.role === 'worker' && !config.worker) {
      // Named as the user gave each (a flag or a variable): the message had said `--role worker
      // with --no-worker` for LEADTRAIL_ROLE=worker LEADTRAIL_WORKER=false (a fresh-eyes run).
      const role = flags.role !== undefined ? '--role worker' : 'LEADTRAIL_ROLE=worker';
      const worker = flags.worker === false ? '--no-worker' : flags.worker !== undefined ? `--worker ${String(flags.worker)}` : `LEADTRAIL_WORKER=${String(process.env.LEADTRAIL_WORKER)}`;
      throw new ConfigError(`${role} with ${worker} would do nothing: a worker process that runs no worker`);
    }
    warnWorkerIgnored(config, flags, process.env);
    // Before any heap grows under load: keeps peak RSS near what the server holds (heap-growth.ts).
    boundHeapGrowth();
    // A store that failed for good (the SQLite writer thread died, a WAL sync failed) recovers only
    // by a restart: stop with exit code 1 so that a supervisor restarts leadtrail.
    let started: Running | null = null;
    let storeFailed = false;
    let failedStop: Promise<void> | null = null;
    const onStoreFailed = () => {
      storeFailed = true;
      if (started) failedStop ??= started.close().finally(() => process.exit(1));
    };
    const running = await start(config, { onStoreFailed }).catch((e: unknown) => {
      throw unusableDatabase(e, config.databaseUrl !== null && config.databaseUrl !== '', config.dbPath);
    });
    started = running;
    if (storeFailed) onStoreFailed();
    const stop = async (signal: string) => {
      running.services.log.info({ signal }, 'shutting down');
      await running.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });

  addConfigOptions(program.command('migrate').description('apply database migrations and exit'), DB_KEYS).action(async (flags: Flags) => {
    await withStore(
      flags,
      async (store) => {
        await store.migrate();
        print(`migrations applied (${store.engine})`);
      },
      true,
    );
  });

  const account = program.command('account').description('manage accounts');
  addConfigOptions(
    account
      .command('create')
      .description('create an account with one user, an access/secret key pair and an async x-api-key')
      .requiredOption('--name <name>', 'account name')
      .option('--email <email>', "the user's email")
      .option('--access-key <key>', 'its access key, as given (random if left out)')
      .option('--secret-key <key>', 'its secret key, as given (random if left out)')
      .option('--api-key <key>', 'its async x-api-key, as given (random if left out)'),
    DB_KEYS,
  ).action(async (flags: Flags) => {
    const given = { accessKey: givenFlag(flags.accessKey), secretKey: givenFlag(flags.secretKey), apiKey: givenFlag(flags.apiKey) };
    const made = await withStore(
      flags,
      (store) => store.transaction((tx) => createAccount(tx, systemCtx, { name: String(flags.name), email: flags.email as string | undefined, ...given })),
      true,
    );
    print({ accountId: made.account.id, accessKey: made.keys.accessKey, secretKey: made.keys.secretKey, apiKey: made.apiKey });
  });
  addConfigOptions(account.command('list').description('list accounts'), DB_KEYS).action(async (flags: Flags) => {
    // Dates as `keys list` prints them (ISO 8601, UTC), not milliseconds since 1970.
    const accounts = await withStore(flags, (store) => store.accounts.list());
    print(accounts.map((a) => ({ id: a.id, name: a.name, createdAt: new Date(a.createdAt).toISOString() })));
  });

  const keys = program.command('keys').description("manage an account's keys");
  addConfigOptions(
    keys
      .command('create')
      .description('create an access/secret key pair (or, with --kind api, an async x-api-key)')
      .requiredOption('--account <id>', 'account id')
      .addOption(new Option('--kind <kind>', 'key kind').choices(['access', 'api']).default('access'))
      .option('--access-key <key>', 'the access key, as given (random if left out)')
      .option('--secret-key <key>', 'the secret key, as given (random if left out)')
      .option('--api-key <key>', 'with --kind api: the x-api-key, as given (random if left out)'),
    DB_KEYS,
  ).action(async (flags: Flags) => {
    const accountId = String(flags.account);
    const api = flags.kind === 'api';
    // A key of the other kind would be ignored in silence: refused instead.
    if (api && (flags.accessKey !== undefined || flags.secretKey !== undefined)) throw new ConfigError('--access-key and --secret-key make an access key pair: leave out --kind api');
    if (!api && flags.apiKey !== undefined) throw new ConfigError('--api-key makes an x-api-key: add --kind api');
    const out = await withStore(flags, async (store) => {
      await requireAccount(store, accountId);
      return store.transaction(async (tx) => {
        if (api) return { apiKey: await addApiKey(tx, systemCtx, accountId, givenFlag(flags.apiKey)) };
        const user = await tx.accounts.firstUser(accountId);
        return addAccessKey(tx, systemCtx, accountId, user?.id ?? null, givenFlag(flags.accessKey), givenFlag(flags.secretKey));
      });
    });
    print(out);
  });
  addConfigOptions(keys.command('list').description('list keys (secrets are never shown again)').requiredOption('--account <id>', 'account id'), DB_KEYS).action(
    async (flags: Flags) => {
      const creds = await withStore(flags, async (store) => {
        await requireAccount(store, String(flags.account));
        return store.accounts.listCredentials(String(flags.account));
      });
      print(creds.map((c) => ({ id: c.id, kind: c.kind, key: c.label, rateLimit: c.rateLimit, createdAt: new Date(c.createdAt).toISOString(), revoked: c.revokedAt !== null })));
    },
  );
  addConfigOptions(
    keys.command('revoke').description('revoke a key by id, access key or x-api-key').requiredOption('--account <id>', 'account id').argument('<key>', 'key id, access key or x-api-key'),
    DB_KEYS,
  ).action(async (key: string, flags: Flags) => {
    const account = String(flags.account);
    await withStore(flags, async (store) => {
      if (await store.transaction((tx) => revokeKey(tx, account, key, Date.now()))) return;
      const found = await namedKey(store, account, key);
      throw new ConfigError(found ? `Key ${key} of account ${account} is already revoked` : `No key ${key} in account ${account}. See: leadtrail keys list --account ${account}`);
    });
    print(`revoked ${key}`);
  });
  addConfigOptions(
    keys
      .command('set-limit')
      .description("set one access key's sync rate limit (e.g. 100/5s, 0 for none, default for the server's)")
      .requiredOption('--account <id>', 'account id')
      .argument('<key>', 'key id or access key')
      .argument('<limit>', 'limit such as 100/5s, 0, or default'),
    DB_KEYS,
  ).action(async (key: string, limit: string, flags: Flags) => {
    const value = limit === 'default' ? null : limit;
    if (value !== null) parseRateLimit(value, 'limit');
    const account = String(flags.account);
    await withStore(flags, async (store) => {
      // Checked first: a revoked key took a limit in silence, and an x-api-key was "no key".
      const found = await namedKey(store, account, key);
      if (!found) throw new ConfigError(`No key ${key} in account ${account}. See: leadtrail keys list --account ${account}`);
      if (found.kind !== 'access') {
        throw new ConfigError(`${key} is an x-api-key: limits are set on access keys (the async API's limit is ${settingName('LEADTRAIL_ASYNC_RATE_LIMIT')}, counted per access key)`);
      }
      if (found.revokedAt !== null) throw new ConfigError(`Key ${key} of account ${account} is revoked: it takes no limit`);
      await store.accounts.setCredentialRateLimit(account, found.id, value);
    });
    print(`limit of ${key} is now ${limit}`);
  });

  addConfigOptions(
    program
      .command('seed')
      .description('load activity types, lead fields, leads and activities from a JSON file into an account, all in one transaction (all or nothing)')
      .option('--file <path>', 'seed file (its JSON Schema: docs/seed.schema.json, or --print-schema)')
      .option('--account <id>', 'account id (default: the only account)')
      .option('--print-schema', "print the seed file's JSON Schema and exit"),
    DB_KEYS,
  ).action(async (flags: Flags) => {
    // Loaded only here: zod and the progress bar would slow every other command's start.
    const { SeedError, ignoredInSeed, loadSeed, parseSeedFile, seedJsonSchema, seedSize } = await import('./seed-file.js');
    const { progressLine } = await import('./progress.js');
    if (flags.printSchema) {
      print(seedJsonSchema());
      return;
    }
    if (flags.file === undefined) throw new ConfigError('seed needs --file <path> (or --print-schema)');
    let file;
    try {
      file = parseSeedFile(readJson(String(flags.file)));
    } catch (e) {
      if (e instanceof SeedError) throw new ConfigError(`${String(flags.file)}: ${e.message}`);
      throw e;
    }
    // One transaction however long the file: the store's per-request time limit is for the API.
    // A seed goes into an account, so a database that is not there is refused, not made.
    const result = await withStore(
      flags,
      async (store) => {
        const accountId = await accountOrOnly(store, flags.account);
        const bar = progressLine('seeding', seedSize(file));
        try {
          return await store.transaction(async (tx) => {
            // As the API does for the account's own keys: entries are made by (and owned by) its first user.
            const ctx = actingAs(systemCtx, (await tx.accounts.firstUser(accountId))?.id ?? null);
            return loadSeed(tx, ctx, accountId, file, (stage) => bar.tick(stage));
          });
        } catch (e) {
          if (e instanceof SeedError) throw new ConfigError(`${String(flags.file)}: ${e.message}`);
          throw e;
        } finally {
          bar.stop();
        }
      },
      false,
      true,
    );
    print(result);
    // Loaded, as the API answers such a body: the properties it did not read are named, not refused.
    const ignored = ignoredInSeed(file);
    if (ignored.length > 0) {
      const shown = ignored.length > 20 ? [...ignored.slice(0, 20), `… ${ignored.length - 20} more`] : ignored;
      process.stderr.write(`leadtrail: ${String(flags.file)}: not read, as the API would not read them (misspelt?): ${shown.join(', ')}\n`);
    }
  });

  addConfigOptions(
    program
      .command('reset')
      .description("empty an account as POST /_leadtrail/reset does: its leads, activities and async requests go; users, keys, lead fields and activity types stay")
      .option('--account <id>', 'account id (default: the only account)'),
    DB_KEYS,
  ).action(async (flags: Flags) => {
    const out = await withStore(flags, async (store) => {
      const accountId = await accountOrOnly(store, flags.account);
      return { accountId, deleted: await resetAccount(store, accountId) };
    });
    print(out);
  });

  const types = program.command('activity-types').description('manage activity types');
  addConfigOptions(
    types
      .command('create')
      .description('create activity types from a JSON file: one CreateType body or an array of them (ActivityEvent pins a code)')
      .requiredOption('--account <id>', 'account id')
      .requiredOption('--file <path>', 'JSON file'),
    DB_KEYS,
  ).action(async (flags: Flags) => {
    const accountId = String(flags.account);
    const file = String(flags.file);
    const parsed = readJson(file);
    const many = Array.isArray(parsed);
    const bodies: unknown[] = many ? parsed : [parsed];
    // In an array, an error names its entry, as `seed` does: `types.json: [1]: …`.
    const named = (i: number, e: unknown): never => {
      if (many && (e instanceof ConfigError || isMxError(e))) e.message = `${file}: [${i}]: ${e.message}`;
      throw e;
    };
    const inputs = bodies.map((b, i) => {
      try {
        return parseCreateType(b);
      } catch (e) {
        return named(i, e);
      }
    });
    const created = await withStore(flags, async (store) => {
      await requireAccount(store, accountId);
      return store.transaction(async (tx) => {
        const out = [];
        for (const [i, input] of inputs.entries()) {
          try {
            out.push(await createActivityType(tx, systemCtx, accountId, input));
          } catch (e) {
            named(i, e);
          }
        }
        return out;
      });
    });
    print(created.map((t) => ({ ActivityEvent: t.code, ActivityEventName: t.name, fields: t.fields.length })));
  });
  addConfigOptions(types.command('list').description("list an account's activity types").requiredOption('--account <id>', 'account id'), DB_KEYS).action(
    async (flags: Flags) => {
      const list = await withStore(flags, async (store) => {
        await requireAccount(store, String(flags.account));
        return store.activityTypes.list(String(flags.account));
      });
      print(list.map((t) => ({ ActivityEvent: t.code, ActivityEventName: t.name, Score: t.score, system: t.isSystem })));
    },
  );

  const fields = program.command('lead-fields').description("manage an account's lead fields (e.g. mark one unique for SearchBy)");
  addConfigOptions(
    fields
      .command('set')
      .description('add a custom lead field (mx_…) or change one; --unique makes it a SearchBy / duplicate-checked field')
      .requiredOption('--account <id>', 'account id')
      .requiredOption('--name <schemaName>', 'schema name, e.g. mx_Customer_No')
      .option('--display-name <text>', 'display name')
      .option('--type <dataType>', 'data type: String, Number, Decimal, Date, DateTime, Email, Phone, Dropdown, …')
      .option('--unique', 'values must be unique per account; usable as SearchBy')
      .option('--no-unique', 'values need not be unique')
      .option('--max-length <n>', 'longest value accepted')
      .option('--options <list>', 'dropdown options, comma-separated'),
    DB_KEYS,
  ).action(async (flags: Flags) => {
    const accountId = String(flags.account);
    // As text: the domain reads it as every whole number of the API is read (not Number(): "0x10").
    const maxLength = flags.maxLength === undefined ? undefined : String(flags.maxLength);
    // Named as the flag, before any database is opened: the domain's message names the API's
    // property, MaxLength, which this command has not (a fresh-eyes run).
    if (maxLength !== undefined && wholeNumber(maxLength, { min: 1, max: INT32.max }) === null) {
      throw new ConfigError(`--max-length must be a whole number from 1 to ${INT32.max}, got "${maxLength.slice(0, 40)}"`);
    }
    // A change of uniqueness or type re-keys every lead of the account in this one transaction,
    // holding the database's writes meanwhile (changeLeadField).
    const def = await withStore(
      flags,
      async (store) => {
        await requireAccount(store, accountId);
        return changeLeadField(store, accountId, {
          schemaName: String(flags.name),
          displayName: flags.displayName === undefined ? undefined : String(flags.displayName),
          dataType: flags.type === undefined ? undefined : String(flags.type),
          isUnique: flags.unique === undefined ? undefined : Boolean(flags.unique),
          maxLength,
          options: flags.options === undefined ? undefined : String(flags.options).split(',').map((o) => o.trim()).filter(Boolean),
        });
      },
      false,
      true,
    );
    print(def);
  });
  addConfigOptions(fields.command('list').description("list an account's lead fields").requiredOption('--account <id>', 'account id'), DB_KEYS).action(async (flags: Flags) => {
    print(
      await withStore(flags, async (store) => {
        // A mistyped account id must not look like an account without fields.
        await requireAccount(store, String(flags.account));
        return store.leadFields.list(String(flags.account));
      }),
    );
  });

  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    const program = buildCli();
    // With `serve` as the default command, commander would hand a mistyped command (`leadtrail
    // mirgate`) to serve as an argument, and complain about that; name the real mistake.
    const first = argv[2];
    const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    if (first !== undefined && !first.startsWith('-') && first !== 'help' && !known.includes(first)) {
      process.stderr.write(`leadtrail: unknown command '${first}'. See: leadtrail --help\n`);
      process.exit(2);
    }
    // A command after options (`leadtrail --db a.db account list`) went to serve, which said "too
    // many arguments for 'serve'": options belong after their command.
    if (first?.startsWith('-')) {
      const later = argv.slice(3).find((a) => known.includes(a) && a !== 'serve');
      if (later !== undefined) {
        const at = argv.indexOf(later);
        process.stderr.write(`leadtrail: options go after the command: leadtrail ${[...argv.slice(at), ...argv.slice(2, at)].join(' ')}\n`);
        process.exit(2);
      }
    }
    await program.parseAsync(argv);
  } catch (e) {
    // Commander has written its message (and the command's help) already; --help and --version
    // end here too, with exit code 0.
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
    if (e instanceof ConfigError || isMxError(e)) {
      process.stderr.write(`leadtrail: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`leadtrail: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

void runCli(process.argv);
