/**
 * Starts a real leadtrail on port 0 over a fresh SQLite file (or PostgreSQL when the caller passes a
 * databaseUrl), with known keys. Tests talk to it over real HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { start, type Running, type StartOptions } from '../../src/main.js';
import { openStore } from '../../src/storage/open-store.js';
import type { Store } from '../../src/storage/store.js';
import { freshSchema, schemaUrl, testSchemas } from './pg.js';

export const KEYS = { accessKey: 'test-access', secretKey: 'test-secret', apiKey: 'test-api-key' } as const;

export interface TestServer extends Running {
  dbPath: string;
  /** Sync call with the default account's keys in the query. */
  call(method: string, pathAndQuery: string, body?: unknown, init?: CallInit): Promise<CallResult>;
}

export interface CallInit {
  headers?: Record<string, string>;
  /** Send this raw text instead of JSON-encoding `body`. */
  raw?: string;
  /** Leave out the access/secret keys. */
  noAuth?: boolean;
  keys?: { accessKey: string; secretKey: string };
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Temporary folders made by tempDir, removed when the test process exits (servers may still use them until then). */
const madeDirs: string[] = [];
process.once('exit', () => {
  for (const d of madeDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'leadtrail-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

export async function request(base: string, method: string, pathAndQuery: string, body?: unknown, init: CallInit = {}): Promise<CallResult> {
  let url = `${base}${pathAndQuery}`;
  if (!init.noAuth) {
    const k = init.keys ?? KEYS;
    url += `${url.includes('?') ? '&' : '?'}accessKey=${encodeURIComponent(k.accessKey)}&secretKey=${encodeURIComponent(k.secretKey)}`;
  }
  const payload = init.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const res = await fetch(url, {
    method,
    headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: payload,
  });
  return resultOf(res);
}

/** An answer as tests read it: status, headers, the text, and the text parsed as JSON (undefined when it is not JSON). */
export async function resultOf(res: Response): Promise<CallResult> {
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * Where a test server keeps its data. LEADTRAIL_TEST_STORE=postgres (the second vitest project) puts
 * each server on a fresh PostgreSQL schema, named in `dbPath` as `pg:<schema>`; passing that back as
 * LEADTRAIL_DB reopens the same schema (restart tests). Schemas are dropped at the end of the file
 * (test/helpers/pg-cleanup.ts).
 */
function storeEnv(overrides: Partial<Record<string, string>>): { dbPath: string; env: Record<string, string> } {
  if (process.env.LEADTRAIL_TEST_STORE !== 'postgres' || overrides.DATABASE_URL) {
    const dbPath = path.join(tempDir(), 'leadtrail.db');
    return { dbPath, env: { LEADTRAIL_DB: dbPath } };
  }
  const reuse = overrides.LEADTRAIL_DB?.startsWith('pg:') ? overrides.LEADTRAIL_DB.slice(3) : null;
  const schema = reuse ?? freshSchema().name;
  testSchemas.add(schema);
  return { dbPath: `pg:${schema}`, env: { DATABASE_URL: schemaUrl(schema), LEADTRAIL_PG_POOL: '4' } };
}

export async function startServer(overrides: Partial<Record<string, string>> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const { dbPath, env: storage } = storeEnv(overrides);
  const { LEADTRAIL_DB: _ignored, ...rest } = overrides;
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    ...storage,
    LEADTRAIL_ACCESS_KEY: KEYS.accessKey,
    LEADTRAIL_SECRET_KEY: KEYS.secretKey,
    LEADTRAIL_API_KEY: KEYS.apiKey,
    LEADTRAIL_RATE_LIMIT: '0',
    LEADTRAIL_LOG_LEVEL: 'silent',
    LEADTRAIL_POLL_MS: '20',
    // A test's own keep-alive connections are done when it closes its server: no grace to wait out
    // (test/http/stop-grace.test.ts sets one).
    LEADTRAIL_STOP_GRACE_MS: '0',
    ...((dbPath.startsWith('pg:') ? rest : overrides) as Record<string, string>),
  };
  const config: Readonly<Config> = loadConfig(env);
  const running = await start(config, { announce: () => {}, ...opts });
  return {
    ...running,
    dbPath,
    call: (method, p, body, init) => request(running.url, method, p, body, init),
  };
}

/** Starts a server for the whole file and closes it after. */
export function useServer(overrides: Partial<Record<string, string>> = {}): () => TestServer {
  let server: TestServer | null = null;
  const ready = startServer(overrides).then((s) => (server = s));
  afterAll(async () => {
    await (await ready).close();
  });
  return () => {
    if (!server) throw new Error('server not started yet: await ready() in beforeAll');
    return server;
  };
}

export async function started(overrides: Partial<Record<string, string>> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const s = await startServer(overrides, opts);
  afterAll(() => s.close());
  return s;
}

/** A second store on `server`'s database, opened the way the CLI opens one (its own connections, its own process's view). */
export function storeBeside(server: TestServer, over: { txTimeoutMs?: number; sqliteWriter?: 'thread' } = {}): Promise<Store> {
  const limits = { pgPoolSize: 2, statementTimeoutMs: 15_000, txTimeoutMs: 15_000, ...over };
  return server.dbPath.startsWith('pg:')
    ? openStore({ databaseUrl: schemaUrl(server.dbPath.slice(3)), dbPath: '', ...limits })
    : openStore({ databaseUrl: null as unknown as string, dbPath: server.dbPath, ...limits });
}
