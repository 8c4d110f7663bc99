/**
 * `startLeadtrail()`: leadtrail in-process for a test suite or a script, in one call. A free port,
 * a temporary SQLite database (removed again by `close()`) unless given one, and keys that are
 * returned whether they were given or generated.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, OPTIONS, unknownOptions } from './config.js';
import { accountForApiKey, authenticate, givenKey } from './domain/accounts.js';
import { isMxError } from './domain/errors.js';
import { start, type Running } from './main.js';
import type { SeedInput, SeedResult } from './cli/seed-file.js';
import { actingAs } from './domain/context.js';
import { resetServedAccount } from './http/admin.js';
import { DatabaseInUseError } from './storage/sqlite/owner-lock.js';

export interface LeadtrailKeys {
  accessKey: string;
  secretKey: string;
  /** The async API's `x-api-key`. */
  apiKey: string;
}

export interface StartLeadtrailOptions {
  /** Port to listen on; 0 (default) takes a free one. */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** `postgres://…`: use this PostgreSQL database (it is not dropped by `close()`). */
  databaseUrl?: string;
  /** SQLite file to use and keep. Without it or `databaseUrl`, a temporary file is made and removed by `close()`. */
  dbPath?: string;
  /**
   * Keys of the first account. Any left out are generated. On a database that already has accounts
   * (a `dbPath` or `databaseUrl` used before), give all three keys of one of them.
   */
  keys?: Partial<LeadtrailKeys>;
  /**
   * Any other option of the README's configuration table, by its environment variable name, e.g.
   * `{ LEADTRAIL_RATE_LIMIT: '0' }`. `process.env` is not read: the server gets only what is given.
   */
  env?: Record<string, string | number | boolean>;
  /** Log level (default `silent`); or pass `log`, a pino logger. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  log?: Logger;
}

export interface Leadtrail {
  /** e.g. `http://127.0.0.1:41235`: the sync and async API, health and metrics. */
  baseUrl: string;
  keys: LeadtrailKeys;
  /** The database file in use, or null on PostgreSQL. */
  dbPath: string | null;
  /** The started server (as `start()` returns it), for its worker and second port. */
  server: Running;
  /**
   * Empties the keys' account as `leadtrail reset` does (leads, activities, async requests, the
   * request journal, webhook events, forced-fault rules; keys, lead fields, activity types and
   * webhooks stay), e.g. in a `beforeEach`. Returns how many of each went.
   */
  reset(): Promise<{ leads: number; activities: number; requests: number }>;
  /**
   * Loads a seed (the content of a `leadtrail seed` file: activity types, lead fields, leads,
   * activities) into the keys' account in one transaction, as `leadtrail seed` does. Rejects with
   * an error naming the bad entry, having stored nothing.
   */
  seed(data: SeedInput): Promise<SeedResult>;
  /** Stops the server and removes the temporary files it made. Safe to call more than once. */
  close(): Promise<void>;
}

const generated = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/**
 * Starts leadtrail in this process and resolves once it serves its keys. Rejects (having removed
 * what it made) if it cannot start, or if the database's accounts do not have the given keys.
 */
export async function startLeadtrail(opts: StartLeadtrailOptions = {}): Promise<Leadtrail> {
  const env = checkedEnv(opts);
  const keys = checkedKeys(opts.keys);
  const tempDir = opts.databaseUrl || opts.dbPath ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-'));
  const dbPath = opts.databaseUrl ? null : (opts.dbPath ?? path.join(tempDir!, 'leadtrail.db'));
  const removeTemp = () => {
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  };

  let server: Running;
  try {
    const config = loadConfig({
      LEADTRAIL_LOG_LEVEL: opts.logLevel ?? 'silent',
      // The program that stops an embedded server owns its clients and stops it when they are done
      // (a test's afterAll): keeping their idle keep-alive connections for the grace would only slow
      // every close by up to that. `env` may set it.
      LEADTRAIL_STOP_GRACE_MS: '0',
      // SQLite's writes on the event loop rather than a writer thread of their own: the thread loads
      // its own copy of the code (kysely, the domain), and a start took 0.5–0.9 s instead of
      // 0.04–0.1 s on 2 cores. The thread pays under dozens of concurrent writers, which a test
      // suite's calls are not; the answers and durability are the same. `env` may set it.
      LEADTRAIL_SQLITE_WRITER: 'loop',
      ...env,
      PORT: String(opts.port ?? 0),
      HOST: opts.host ?? '127.0.0.1',
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { LEADTRAIL_DB: dbPath!, DATABASE_URL: '' }),
      LEADTRAIL_ACCESS_KEY: keys.accessKey,
      LEADTRAIL_SECRET_KEY: keys.secretKey,
      LEADTRAIL_API_KEY: keys.apiKey,
    });
    // The keys are returned, so they are not printed.
    server = await start(config, { announce: () => {}, ...(opts.log ? { log: opts.log } : {}) });
  } catch (e) {
    removeTemp();
    // The owner lock's own message names LEADTRAIL_DB, the setting of `leadtrail serve`.
    if (e instanceof DatabaseInUseError) {
      throw new Error(`startLeadtrail: another leadtrail server, in this process or another, is serving ${path.resolve(dbPath!)}; give each server a dbPath of its own, or none for a temporary file`);
    }
    throw e;
  }

  // A database used before keeps its first account: the keys given (or generated) must be its.
  const store = server.services.store;
  const works = await authenticate(store, keys.accessKey, keys.secretKey).then(
    async (cred) => (await accountForApiKey(store, keys.apiKey)) === cred.accountId,
    () => false,
  );
  if (!works) {
    await server.close();
    removeTemp();
    const where = dbPath ?? 'at databaseUrl';
    throw new Error(
      opts.keys
        ? `startLeadtrail: the database ${where} already has accounts, and the keys given are not one account's access key, secret key and x-api-key`
        : `startLeadtrail: the database ${where} already has accounts; pass keys: { accessKey, secretKey, apiKey } of one of them`,
    );
  }

  const cred = await authenticate(store, keys.accessKey, keys.secretKey);
  let closing: Promise<void> | null = null;
  return {
    baseUrl: server.url,
    keys,
    dbPath,
    server,
    reset: () => resetServedAccount(server.services, cred.accountId),
    async seed(data) {
      // Loaded on first use: the seed file's schema (zod) is not needed to serve.
      const { loadSeed, parseSeedFile } = await import('./cli/seed-file.js');
      const file = parseSeedFile(data, "seed()'s data");
      const ctx = actingAs(server.services.ctx, cred.userId ?? null);
      return store.transaction((tx) => loadSeed(tx, ctx, cred.accountId, file));
    },
    close() {
      closing ??= server.close().finally(removeTemp);
      return closing;
    },
  };
}

/** Each key's name in `keys`, and the prefix of one generated for it. */
const KEY_PREFIX: Record<keyof LeadtrailKeys, string> = { accessKey: 'lt-access-', secretKey: '', apiKey: 'lt-api-' };

/**
 * `opts.keys` completed: each key given (a string), the others generated. Throws ConfigError for
 * what the server cannot use as given (all found by a fresh-eyes run): a key that breaks the rules
 * of a key given by hand (README "Quick start": 1–256 characters, no control character, no space at
 * either end; an empty one the configuration read as "none": a random key was stored, '' returned,
 * and the start then failed as if the new database had other accounts; the others failed with the
 * server's MxError), a key that is not a string, a name that is no key (`accesskey`), and `keys`
 * that is not an object.
 */
function checkedKeys(given: StartLeadtrailOptions['keys']): LeadtrailKeys {
  const names = Object.keys(KEY_PREFIX) as (keyof LeadtrailKeys)[];
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new ConfigError(`startLeadtrail: keys must be an object { ${names.join(', ')} }, got ${given === null ? 'null' : Array.isArray(given) ? 'an array' : typeof given}.`);
  }
  for (const name of Object.keys(given ?? {})) {
    if (!(names as string[]).includes(name)) throw new ConfigError(`startLeadtrail: keys.${name} is not one of its keys (${names.join(', ')}).`);
  }
  const out = {} as LeadtrailKeys;
  for (const name of names) {
    const value: unknown = given?.[name];
    if (value === undefined || value === null) out[name] = generated(KEY_PREFIX[name]);
    else if (typeof value !== 'string') throw new ConfigError(`startLeadtrail: keys.${name} must be a string, got ${typeof value}.`);
    else out[name] = keyAsGiven(value, name);
  }
  return out;
}

/** A key given by hand, checked by the server's own rules (givenKey: 1–256 characters, …) before anything starts; ConfigError if it breaks one. */
function keyAsGiven(value: string, name: keyof LeadtrailKeys): string {
  try {
    return givenKey(value, `keys.${name}`);
  } catch (e) {
    if (isMxError(e)) throw new ConfigError(`startLeadtrail: ${e.message}`);
    throw e;
  }
}

/** startLeadtrail's own options; any other name is a mistake (`faults: true` meant `env`). */
const OWN_OPTIONS = new Set(['port', 'host', 'databaseUrl', 'dbPath', 'keys', 'env', 'logLevel', 'log']);

/** Settings startLeadtrail makes itself from its own options: in `env` they would be overridden in silence. */
const SET_BY_OPTION: Record<string, string> = {
  PORT: 'port',
  HOST: 'host',
  DATABASE_URL: 'databaseUrl',
  LEADTRAIL_DB: 'dbPath',
  LEADTRAIL_ACCESS_KEY: 'keys.accessKey',
  LEADTRAIL_SECRET_KEY: 'keys.secretKey',
  LEADTRAIL_API_KEY: 'keys.apiKey',
};

/**
 * `opts.env` as the settings' text, having refused what would otherwise be ignored in silence (all
 * found by fresh-eyes runs): a name that is no option (a misspelling), a setting startLeadtrail makes
 * from an option of its own (`PORT` → `port`), a top-level name that is no option of startLeadtrail
 * (`faults: true`, meant as `env: { LEADTRAIL_FAULTS: 'true' }`), and a value that is not a string,
 * number or boolean (numbers and booleans are written as text: `0`, `true`). Throws ConfigError.
 */
function checkedEnv(opts: StartLeadtrailOptions): Record<string, string> {
  for (const name of Object.keys(opts)) {
    if (OWN_OPTIONS.has(name)) continue;
    const option = OPTIONS.find((o) => o.key.toLowerCase() === name.toLowerCase() || o.env.toLowerCase() === name.toLowerCase());
    throw new ConfigError(
      `startLeadtrail: ${name} is not an option of startLeadtrail${option ? `; pass it as env: { ${option.env}: … }` : ''} (its options: ${[...OWN_OPTIONS].join(', ')}).`,
    );
  }
  const given = opts.env ?? {};
  const unknown = unknownOptions(given);
  if (unknown.length > 0) {
    const [{ name, like }] = unknown;
    throw new ConfigError(`env: ${name} is not an option of leadtrail${like ? ` (did you mean ${like}?)` : ''}; the options are the README's configuration table.`);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (SET_BY_OPTION[name]) throw new ConfigError(`env: ${name} is set by startLeadtrail's ${SET_BY_OPTION[name]} option; pass that instead.`);
    if (typeof value === 'string') out[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    else throw new ConfigError(`env: ${name} must be a string (or a number or boolean), got ${value === null ? 'null' : typeof value}.`);
  }
  return out;
}
