/**
 * The one declaration of every leadtrail option: environment variable, CLI flag, default and
 * meaning. Nothing else in the code reads `process.env`; `loadConfig` validates everything at
 * boot and hands a frozen `Config` to constructors. The README's configuration table is checked
 * against this list by a test, so the two cannot drift.
 */
import { isIP } from 'node:net';
import { givenKey } from './domain/accounts.js';

export type Role = 'all' | 'api' | 'worker';
/** `auto`: pretty on a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface RateLimitSpec {
  /** Requests allowed per window; 0 means no limit. */
  points: number;
  /** Window length in seconds. */
  seconds: number;
}

export interface Config {
  port: number;
  host: string;
  asyncPort: number | null;
  dbPath: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  role: Role;
  worker: boolean;
  rateLimit: RateLimitSpec;
  asyncRateLimit: RateLimitSpec;
  bulkRateLimit: RateLimitSpec;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** How long a stop keeps recently used keep-alive connections open to answer their next call 503, in ms (src/http/stop.ts). */
  stopGraceMs: number;
  accessKey: string | null;
  secretKey: string | null;
  apiKey: string | null;
  retryScale: number;
  retentionDays: number;
  housekeepingSeconds: number;
  faults: boolean;
  sandbox: boolean;
  workerConcurrency: number;
  /** Requests the local worker may be behind before accepts wait for it (src/queue/pacer.ts); 0: never wait. */
  asyncBacklog: number;
  leaseSeconds: number;
  pollMs: number;
  pgPoolSize: number;
  pgWriteBatches: number;
  pgPrepared: boolean;
  /** Where SQLite's writes run: `loop` (the event loop) or `thread` (a writer thread). */
  sqliteWriter: SqliteWriter;
  statementTimeoutMs: number;
  txTimeoutMs: number;
  logLevel: string;
  logFormat: LogFormat;
  metricsToken: string | null;
  /** Failed console sign-ins allowed per client address and per access key (src/console/sign-in-throttle.ts); points 0: no limit. */
  consoleSignInLimit: RateLimitSpec;
  /**
   * Which peers' `X-Forwarded-For` is believed when telling the client's address (Fastify's
   * `trustProxy`): false, none (the address connected from); true, any; or addresses, CIDR ranges
   * and proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`).
   */
  trustProxy: TrustProxy;
  publicHost: string | null;
  journal: boolean;
  journalMaxEntries: number;
  journalMaxAgeMs: number;
  journalMaxBodyBytes: number;
  webhookTimeoutMs: number;
  webhookRetrySchedule: number[];
  webhookDisableAfter: number;
  webhookAllow: string[];
  /** `deny`: no webhook delivery to a loopback, private or link-local address (checked on the address connected to). */
  webhookPrivate: WebhookPrivate;
  webhookConcurrency: number;
  webhookMax: number;
}

type Parser<T> = (raw: string, name: string) => T;

export interface OptionSpec<K extends keyof Config = keyof Config> {
  key: K;
  env: string;
  flag: string;
  default: string | null;
  description: string;
  parse: Parser<Config[K]>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A whole number written in decimal digits (spaces around it allowed). Not `Number()` alone: it
 * reads an empty value as 0 (`PORT=` listened on a random port, `LEADTRAIL_ASYNC_BACKLOG=` turned
 * the backlog off) and takes `0x1F90` and `1e3` (found by a fresh-eyes run).
 */
const int = (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> => (raw, name) => {
  const v = raw.trim();
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
};

/** A number above 0 in decimal digits, with a fraction or not (`0.001`); not empty, hex or an exponent. */
const positive: Parser<number> = (raw, name) => {
  const v = raw.trim();
  const n = /^\d*\.?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return n;
};

/**
 * Text that must not be empty: an empty `HOST` listened on every interface and an empty
 * `LEADTRAIL_DB` opened a temporary database per connection (found by a fresh-eyes run). An option
 * whose empty value means "none" takes optionalText instead.
 */
const text: Parser<string> = (raw, name) => {
  if (raw.trim() === '') throw new ConfigError(`${name} must not be empty (leave it unset for its default)`);
  return raw;
};
const optionalText: Parser<string | null> = (raw) => (raw === '' ? null : raw);
/**
 * LEADTRAIL_PUBLIC_HOST: empty means none; otherwise a bare host, as `UserByAccessKey.Get` reports
 * it and LeadSquared's answer has it: a host name, an IPv4 address or an IPv6 address in brackets,
 * with an optional port. `http://x y/` had started and been reported as the API's host (a fresh-eyes run).
 */
const bareHost: Parser<string | null> = (raw, name) => {
  if (raw === '') return null;
  const m = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(raw);
  if (m && (m[1] === undefined || Number(m[1]) <= 65535) && raw.length <= 253 + 6) return raw;
  throw new ConfigError(`${name} must be a bare host with an optional port, such as api.example.com or 10.0.0.5:8080 (no scheme, path or space), got "${raw}"`);
};
/**
 * LEADTRAIL_METRICS_TOKEN: empty means none; otherwise printable ASCII without spaces, as it must be
 * sent in `Authorization: Bearer <token>`. A token read from a file with its line break (a
 * Kubernetes secret) had locked `/metrics` for every scraper, which sends it without one.
 */
const bearerToken: Parser<string | null> = (raw, name) => {
  if (raw === '') return null;
  if (/^[\x21-\x7e]+$/.test(raw)) return raw;
  const why = /^\s|\s$/.test(raw) ? 'it starts or ends with a space or line break, as a value read from a file often does' : 'it holds a space, a control character or a non-ASCII character';
  throw new ConfigError(`${name} must be printable ASCII without spaces, since it is sent as "Authorization: Bearer <token>"; ${why}`);
};
const optionalPort: Parser<number | null> = (raw, name) => (raw === '' ? null : int(0, 65535)(raw, name));

const bool: Parser<boolean> = (raw, name) => {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (or on/off, yes/no, 1/0), got "${raw}"`);
};

/**
 * Parses `25/5s`, `100/1m`, `10/5` (seconds) or `0` (off); throws ConfigError naming `name`.
 * `stored`: a key's limit as the database holds it, where `0/5s` (taken before it was refused) is
 * still read as off rather than failing the key's every call.
 */
export function parseRateLimit(raw: string, name = 'rate limit', stored = false): RateLimitSpec {
  const v = raw.trim().toLowerCase();
  if (v === '0' || v === 'off') return { points: 0, seconds: 1 };
  const m = /^(\d+)\s*\/\s*(\d+)\s*(s|m|h)?$/.exec(v);
  if (!m) throw new ConfigError(`${name} must look like 25/5s, 100/1m or 0 (off), got "${raw}"`);
  const unit = m[3] === 'm' ? 60 : m[3] === 'h' ? 3600 : 1;
  const seconds = Number(m[2]) * unit;
  if (seconds <= 0) throw new ConfigError(`${name} window must be longer than 0, got "${raw}"`);
  // `0/5s` reads as "no call at all" but would mean no limit (points 0 is off): only `0` says off
  // (a fresh-eyes run took it for a limit that let every call through).
  if (Number(m[1]) === 0 && !stored) throw new ConfigError(`${name} must allow at least 1 call per window, got "${raw}"; 0 alone turns the limit off`);
  return { points: Number(m[1]), seconds };
}

export function formatRateLimit(spec: RateLimitSpec): string {
  return spec.points === 0 ? '0' : `${spec.points}/${spec.seconds}s`;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'];
/** Checked here so a typo stops the server with the option's name, not a logger error. */
const logLevel: Parser<string> = (raw, name) => {
  const v = raw.toLowerCase();
  if (LOG_LEVELS.includes(v)) return v;
  throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
};

export type WebhookPrivate = 'allow' | 'deny';

const webhookPrivate: Parser<WebhookPrivate> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (v === 'allow' || v === 'deny') return v;
  throw new ConfigError(`${name} must be allow or deny, got "${raw}"`);
};

export type SqliteWriter = 'loop' | 'thread';

/** false: trust no proxy; true: any peer; a list: peers at these addresses (`10.0.0.1`), ranges (`10.0.0.0/8`) or names (`loopback`). */
export type TrustProxy = boolean | string[];

/** proxy-addr's names for ranges (@fastify/proxy-addr IP_RANGES), accepted in a trust list. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * One entry of a trust list as @fastify/proxy-addr reads it, or null when it cannot be one: a range
 * name, an IPv4 or IPv6 address (no brackets; an IPv6 zone of letters and digits), with or without `/bits` (1–32 or 1–128;
 * proxy-addr refuses 0). Checked here, because Fastify throws on a bad entry only as the server is
 * built, with proxy-addr's own words and no option's name.
 */
function trustEntry(raw: string): string | null {
  const v = raw.trim();
  if (PROXY_RANGE_NAMES.includes(v.toLowerCase())) return v.toLowerCase();
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(v);
  // A zone (`fe80::1%eth0`) only of letters and digits: proxy-addr's parser refuses `%eth0.5`.
  const family = m && !/%(?![0-9a-z]+$)/i.test(m[1]) ? isIP(m[1]) : 0;
  if (!m || family === 0) return null;
  if (m[2] !== undefined) {
    const bits = Number(m[2]);
    if (bits < 1 || bits > (family === 4 ? 32 : 128)) return null;
  }
  return v;
}

/**
 * LEADTRAIL_TRUST_PROXY: unset, empty or false (off, no, 0): trust no proxy, X-Forwarded-For is
 * ignored; true (on, yes): trust any peer; otherwise comma-separated addresses, CIDR ranges and
 * proxy-addr's names. A hop count is refused: Fastify 5.12.1 and later ignore one (it trusts
 * nothing), since it cannot tell a proxy from a client that connects directly and writes its own
 * X-Forwarded-For. `1` too, which other options read as true but Express as one hop.
 */
const trustProxy: Parser<TrustProxy> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
  if (['true', 'yes', 'on'].includes(v)) return true;
  if (/^\d+$/.test(v)) {
    throw new ConfigError(
      `${name} does not take a number of hops ("${raw}"): it cannot tell a proxy from a client that connects directly and writes its own X-Forwarded-For, and Fastify ignores it. ` +
        'Give the proxies\' addresses or ranges (e.g. 10.0.0.0/8, or loopback, uniquelocal), or true to trust any peer',
    );
  }
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const out: string[] = [];
  for (const e of entries) {
    const ok = trustEntry(e);
    if (ok === null) {
      throw new ConfigError(
        `${name} must be true, false, or addresses and CIDR ranges separated by commas (e.g. 10.0.0.0/8,192.168.1.7, or loopback, linklocal, uniquelocal); "${e}" is none of those`,
      );
    }
    out.push(ok);
  }
  // Only commas: no address, so none trusted.
  return out.length === 0 ? false : out;
};

const sqliteWriter: Parser<SqliteWriter> = (raw, name) => {
  const v = raw.toLowerCase();
  if (v === 'loop' || v === 'thread') return v;
  throw new ConfigError(`${name} must be one of loop, thread, got "${raw}"`);
};

const logFormat: Parser<LogFormat> = (raw, name) => {
  const v = raw.toLowerCase();
  if (v === 'auto' || v === 'json' || v === 'pretty') return v;
  throw new ConfigError(`${name} must be one of auto, json, pretty, got "${raw}"`);
};

const role: Parser<Role> = (raw, name) => {
  const v = raw.toLowerCase();
  if (v === 'all' || v === 'api' || v === 'worker') return v;
  throw new ConfigError(`${name} must be one of all, api, worker, got "${raw}"`);
};

const bytes: Parser<number> = (raw, name) => {
  const m = /^(\d+)\s*(b|kb|k|mb|m)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a size such as 1048576, 512kb or 1mb, got "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const n = Number(m[1]) * mult;
  if (n < 1024) throw new ConfigError(`${name} must be at least 1kb, got "${raw}"`);
  return n;
};

/** A size in bytes (`16384`, `16kb`, `1mb`), 0 allowed. */
const bytesOrZero: Parser<number> = (raw, name) => {
  const m = /^(\d+)\s*(b|kb|k|mb|m)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a size such as 16384, 16kb or 0, got "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  return Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1);
};

/** A duration in milliseconds: `7d`, `12h`, `30m`, `90s`, `500ms` or a number of seconds; `0` is none. */
const duration: Parser<number> = (raw, name) => {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a duration such as 7d, 12h, 30m, 90s or 0, got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's').toLowerCase() as 'ms'];
  return Number(m[1]) * unit;
};
/** Comma-separated seconds, e.g. `60,300,900`: the wait before each retry. */
const secondsList: Parser<number[]> = (raw, name) => {
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const out = parts.map(Number);
  if (out.length === 0 || out.some((n) => !Number.isFinite(n) || n <= 0)) throw new ConfigError(`${name} must be positive seconds separated by commas, e.g. 60,300,900, got "${raw}"`);
  return out;
};

/** A host name (fully qualified or not: a closing dot), an IPv4 address, or an IPv6 address in brackets or not; `*.` in front for subdomains. */
const HOST_RULE = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$|^\[?[0-9a-f:.]*:[0-9a-f:.]*\]?$/;

/**
 * Comma-separated host names (`*.example.com` for subdomains); empty, or `*` alone: any. An entry
 * that can never match a host (a URL, a port, a `*` elsewhere) stops the start: `*` had been taken
 * as a host name, and allowed none (found by a fresh-eyes user).
 */
const hostList: Parser<string[]> = (raw, name) => {
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  if (hosts.length === 1 && hosts[0] === '*') return [];
  const bad = hosts.find((h) => !HOST_RULE.test(h));
  if (bad !== undefined) {
    throw new ConfigError(`${name} must be host names separated by commas (\`*.example.com\` for subdomains, \`*\` alone for any host), got "${bad}"`);
  }
  return hosts;
};

function opt<K extends keyof Config>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

/** Every option, in the order the README table lists them. */
export const OPTIONS = [
  opt({ key: 'port', env: 'PORT', flag: '--port', default: '8080', description: 'Port of the API: sync and async paths, `/_leadtrail` admin paths, the health paths and `/metrics`.', parse: int(0, 65535) }),
  opt({ key: 'host', env: 'HOST', flag: '--host', default: '127.0.0.1', description: 'Address to listen on; `0.0.0.0` to accept outside connections.', parse: text }),
  opt({ key: 'asyncPort', env: 'LEADTRAIL_ASYNC_PORT', flag: '--async-port', default: '', description: 'Optional second port, other than `PORT`, that also serves the API (not the console, `/docs` or `/openapi.json`, which stay on `PORT`), for clients configured with a separate async host.', parse: optionalPort }),
  opt({ key: 'dbPath', env: 'LEADTRAIL_DB', flag: '--db', default: './data/leadtrail.db', description: 'SQLite database file (`serve`, `migrate` and `account create` make it, with its folder; the other commands need it to exist). Ignored when `DATABASE_URL` is set, unless given as the `--db` flag, which wins over a `DATABASE_URL` from the environment.', parse: text }),
  opt({ key: 'databaseUrl', env: 'DATABASE_URL', flag: '--database-url', default: '', description: '`postgres://…` to store everything in PostgreSQL instead of SQLite.', parse: optionalText }),
  opt({ key: 'redisUrl', env: 'REDIS_URL', flag: '--redis-url', default: '', description: '`redis://…`: share the sync rate limit between API processes. Without it each process counts alone.', parse: optionalText }),
  opt({ key: 'redisPrefix', env: 'LEADTRAIL_REDIS_PREFIX', flag: '--redis-prefix', default: 'leadtrail', description: 'Prefix of the rate-limit keys in Redis; give each deployment that shares one Redis its own.', parse: text }),
  opt({ key: 'role', env: 'LEADTRAIL_ROLE', flag: '--role', default: 'all', description: '`api` (HTTP only), `worker` (async processing only) or `all`.', parse: role }),
  opt({ key: 'worker', env: 'LEADTRAIL_WORKER', flag: '--worker', default: 'true', description: 'Run the async and webhook workers in this process (`--no-worker` turns them off: no async request is applied and no webhook sent here). `--role api` runs none whatever this says (a warning names it when set).', parse: bool }),
  opt({ key: 'rateLimit', env: 'LEADTRAIL_RATE_LIMIT', flag: '--rate-limit', default: '25/5s', description: 'Sync API limit per access key, e.g. `25/5s`, `100/1m`; `0` turns it off. A key may carry its own limit.', parse: parseRateLimit }),
  opt({ key: 'asyncRateLimit', env: 'LEADTRAIL_ASYNC_RATE_LIMIT', flag: '--async-rate-limit', default: '0', description: 'Async API limit per access key, same format; off by default.', parse: parseRateLimit }),
  opt({ key: 'bulkRateLimit', env: 'LEADTRAIL_BULK_RATE_LIMIT', flag: '--bulk-rate-limit', default: '10/5s', description: 'Limit per access key on the bulk APIs (`Lead/Bulk/…`, `Bulk/CustomActivity/…`), same format, counted apart from the sync limit; off whenever the key\'s sync limit is off.', parse: parseRateLimit }),
  opt({ key: 'bodyLimitBytes', env: 'LEADTRAIL_BODY_LIMIT', flag: '--body-limit', default: '1mb', description: 'Largest request body accepted; larger bodies get 413 (with `Expect: 100-continue`, before the body is sent; without it, the rest of the body is read and thrown away, up to 64 MB more and for 5 s at most, before the connection closes).', parse: bytes }),
  opt({ key: 'requestTimeoutMs', env: 'LEADTRAIL_REQUEST_TIMEOUT_MS', flag: '--request-timeout-ms', default: '30000', description: 'Time a client has to send a whole request, headers and body, counted from its first byte. A request still arriving after it gets 408 and its connection is closed.', parse: int(100, 3_600_000) }),
  opt({ key: 'stopGraceMs', env: 'LEADTRAIL_STOP_GRACE_MS', flag: '--stop-grace-ms', default: '1000', description: 'On SIGTERM/SIGINT, how long a keep-alive connection that answered a call within this time is kept open after the listener has stopped, so that the call its client sends next on it is answered 503 with `Connection: close` (and retried elsewhere) instead of meeting a closed connection. Connections idle for longer are closed at once; a server without such connections does not wait. `0`: close every idle connection at once.', parse: int(0, 60_000) }),
  opt({ key: 'accessKey', env: 'LEADTRAIL_ACCESS_KEY', flag: '--access-key', default: '', description: 'Access key given to the first account on an empty database (random if unset).', parse: optionalText }),
  opt({ key: 'secretKey', env: 'LEADTRAIL_SECRET_KEY', flag: '--secret-key', default: '', description: 'Secret key given to the first account on an empty database (random if unset).', parse: optionalText }),
  opt({ key: 'apiKey', env: 'LEADTRAIL_API_KEY', flag: '--api-key', default: '', description: 'Async `x-api-key` given to the first account on an empty database (random if unset).', parse: optionalText }),
  opt({ key: 'retryScale', env: 'LEADTRAIL_RETRY_SCALE', flag: '--retry-scale', default: '1', description: 'Multiplier on the async retry schedule (30 s, 2 m, 7 m … 3 h) and the webhook retry schedule; `0.001` runs them in seconds for tests.', parse: positive }),
  opt({ key: 'retentionDays', env: 'LEADTRAIL_RETENTION_DAYS', flag: '--retention-days', default: '30', description: 'Days an async request status, and a delivered or failed webhook event and its delivery records, are kept after they finished.', parse: positive }),
  opt({ key: 'housekeepingSeconds', env: 'LEADTRAIL_HOUSEKEEPING_SECONDS', flag: '--housekeeping-seconds', default: '60', description: 'How often the worker purges statuses and webhook records past retention, deletes webhook events whose webhook was deleted, and takes over expired leases (also done at start).', parse: positive }),
  opt({ key: 'sandbox', env: 'LEADTRAIL_SANDBOX', flag: '--sandbox', default: 'false', description: 'Enable `POST /_leadtrail/reset`, which empties the calling account (leads, activities, async requests, request journal, webhook events and deliveries, forced faults) but keeps its keys, fields, activity types and webhooks. Off: 404.', parse: bool }),
  opt({ key: 'faults', env: 'LEADTRAIL_FAULTS', flag: '--faults', default: 'false', description: 'Enable the forced-faults admin API (`/_leadtrail/faults`): API requests answered 429/500/503, delayed or dropped, and async attempts failed with a system error; and `/_leadtrail/retries/run-now`. Off: 404.', parse: bool }),
  opt({ key: 'workerConcurrency', env: 'LEADTRAIL_WORKER_CONCURRENCY', flag: '--worker-concurrency', default: '4', description: 'Async requests one worker process handles at once.', parse: int(1, 256) }),
  opt({ key: 'asyncBacklog', env: 'LEADTRAIL_ASYNC_BACKLOG', flag: '--async-backlog', default: '1000', description: 'Async requests a process\'s worker may be behind before that process\'s accepts wait for it: an accept is still answered 200 with its `RequestID` (it is already stored), but only once the worker is back under this, or after 1 s at most. Keeps the worker up with sustained accepts. `0`: accepts never wait. No effect without a worker in the process.', parse: int(0, 10_000_000) }),
  opt({ key: 'leaseSeconds', env: 'LEADTRAIL_LEASE_SECONDS', flag: '--lease-seconds', default: '30', description: 'How long a worker holds a claimed request before another worker may take it over.', parse: positive }),
  opt({ key: 'pollMs', env: 'LEADTRAIL_POLL_MS', flag: '--poll-ms', default: '250', description: 'How often an idle worker looks for due requests (it is also woken on accept).', parse: int(10, 60_000) }),
  opt({ key: 'pgPoolSize', env: 'LEADTRAIL_PG_POOL', flag: '--pg-pool', default: '10', description: 'PostgreSQL connections per process, at least 2 (write batches use up to half, `LEADTRAIL_PG_WRITE_BATCHES`; reads and lead numbering the rest).', parse: int(2, 1000) }),
  opt({ key: 'pgWriteBatches', env: 'LEADTRAIL_PG_WRITE_BATCHES', flag: '--pg-write-batches', default: '3', description: 'PostgreSQL write batches one process runs side by side, each on a pool connection (at most half of `LEADTRAIL_PG_POOL`: set higher, the start stops with exit 2; the default is cut down to fit a smaller pool). Writes that arrive together share a batch: one transaction, one commit. Fewer, larger batches cost less per write; more let a database with many cores work on more at once.', parse: int(1, 500) }),
  opt({ key: 'pgPrepared', env: 'LEADTRAIL_PG_PREPARED', flag: '--pg-prepared', default: 'true', description: 'Name the hot PostgreSQL statements, so that each connection parses and plans them once (about 30% more sync writes per second). `false` for a pooler that does not keep prepared statements across transactions (PgBouncer in transaction mode before 1.21).', parse: bool }),
  opt({ key: 'sqliteWriter', env: 'LEADTRAIL_SQLITE_WRITER', flag: '--sqlite-writer', default: 'thread', description: 'Where SQLite\'s writes run. `loop`: on the event loop, beside the HTTP work. `thread`: on a writer thread of their own (statements, commits and fsyncs), so that no commit or fsync holds the event loop and a second core can serve them; lead searches then run on a read thread of their own. Same answers and durability either way. Ignored on PostgreSQL.', parse: sqliteWriter }),
  opt({ key: 'statementTimeoutMs', env: 'LEADTRAIL_STATEMENT_TIMEOUT_MS', flag: '--statement-timeout-ms', default: '15000', description: 'PostgreSQL statement timeout (migrations run without it).', parse: int(100) }),
  opt({ key: 'txTimeoutMs', env: 'LEADTRAIL_TX_TIMEOUT_MS', flag: '--tx-timeout-ms', default: '15000', description: 'Longest one request may work inside a shared write batch; past it, its part is rolled back and it fails, and the batch goes on. Also the longest a stop waits for a call whose client left.', parse: int(100, 3_600_000) }),
  opt({ key: 'logLevel', env: 'LEADTRAIL_LOG_LEVEL', flag: '--log-level', default: 'info', description: '`fatal`, `error`, `warn`, `info`, `debug` or `silent`. Logs go to stdout.', parse: logLevel }),
  opt({ key: 'logFormat', env: 'LEADTRAIL_LOG_FORMAT', flag: '--log-format', default: 'auto', description: '`json` (one JSON object a line, for machines), `pretty` (readable lines, for people) or `auto`: pretty when stdout is a terminal, JSON otherwise.', parse: logFormat }),
  opt({ key: 'metricsToken', env: 'LEADTRAIL_METRICS_TOKEN', flag: '--metrics-token', default: '', description: 'When set, `GET /metrics` answers 401 unless sent `Authorization: Bearer <token>`. Unset: open to anyone who reaches the port. Printable ASCII without spaces (a line break at its end, as from a file, stops the start).', parse: bearerToken }),
  opt({ key: 'consoleSignInLimit', env: 'LEADTRAIL_CONSOLE_SIGNIN_LIMIT', flag: '--console-signin-limit', default: '5/1m', description: 'Failed console sign-ins allowed per client address, and per access key, e.g. `5/1m`; past it the sign-in form answers 429 with `Retry-After` until the oldest failure leaves the window, and a sign-in that succeeds clears the count. Counted per process. `0` turns it off.', parse: parseRateLimit }),
  opt({ key: 'trustProxy', env: 'LEADTRAIL_TRUST_PROXY', flag: '--trust-proxy', default: 'false', description: 'Proxies whose `X-Forwarded-For` is believed for the client\'s address, by which the console\'s sign-in throttle counts, and whose `X-Forwarded-Host` for the host `UserByAccessKey.Get` and the console\'s curl name: `false`, none (behind a proxy every client then has the proxy\'s address); `true`, any peer (only where nothing but your proxies can reach leadtrail: a client connecting directly could name any address); or the proxies\' addresses and CIDR ranges, comma-separated, e.g. `10.0.0.0/8,192.168.1.7`, and the names `loopback`, `linklocal`, `uniquelocal`. The client is the nearest address, from the peer back along the header, that is not trusted. A number of hops is refused (Fastify ignores one).', parse: trustProxy }),
  opt({ key: 'publicHost', env: 'LEADTRAIL_PUBLIC_HOST', flag: '--public-host', default: '', description: 'Host name reported by `UserByAccessKey.Get` (defaults to the request\'s Host header, or `X-Forwarded-Host` from a trusted proxy, see `LEADTRAIL_TRUST_PROXY`).', parse: bareHost }),
  opt({ key: 'journal', env: 'LEADTRAIL_JOURNAL', flag: '--journal', default: 'true', description: 'Record every keyed API call (method, path, query with keys removed, status, latency, capped bodies, the lead/activity/request it touched) in the account\'s request journal (`GET /_leadtrail/journal`). Bodies may hold personal data: turn it off in production unless you want that record.', parse: bool }),
  opt({ key: 'journalMaxEntries', env: 'LEADTRAIL_JOURNAL_MAX_ENTRIES', flag: '--journal-max-entries', default: '10000', description: 'Journal entries kept per account; older ones are deleted in the background. `0`: no count limit.', parse: int(0) }),
  opt({ key: 'journalMaxAgeMs', env: 'LEADTRAIL_JOURNAL_MAX_AGE', flag: '--journal-max-age', default: '7d', description: 'Journal entries older than this are deleted in the background, e.g. `7d`, `12h`, `30m`. `0`: no age limit.', parse: duration }),
  opt({ key: 'journalMaxBodyBytes', env: 'LEADTRAIL_JOURNAL_MAX_BODY_BYTES', flag: '--journal-max-body-bytes', default: '16kb', description: 'Request and response bodies are stored up to this many bytes each (the rest is cut; the full size is kept). `0`: store no bodies.', parse: bytesOrZero }),
  opt({ key: 'webhookTimeoutMs', env: 'LEADTRAIL_WEBHOOK_TIMEOUT_MS', flag: '--webhook-timeout-ms', default: '10000', description: 'How long a webhook receiver has to answer one delivery; past it the attempt fails and is retried.', parse: int(100, 600_000) }),
  opt({ key: 'webhookRetrySchedule', env: 'LEADTRAIL_WEBHOOK_RETRY_SCHEDULE', flag: '--webhook-retry-schedule', default: '60,300,900,3600,10800,21600', description: 'Seconds to wait before each retry of a failed webhook delivery (scaled by `LEADTRAIL_RETRY_SCALE`); after the last, the event is marked failed. Also the wait between a failing webhook\'s probes, after its 1st, 2nd … failure in a row (from the first again after the last).', parse: secondsList }),
  opt({ key: 'webhookDisableAfter', env: 'LEADTRAIL_WEBHOOK_DISABLE_AFTER', flag: '--webhook-disable-after', default: '20', description: 'Failed delivery attempts in a row after which a webhook is disabled: the events waiting for it are kept until it is saved again with `Webhook.svc/Update`, events raised meanwhile are not (logged at warn, counted in `leadtrail_webhooks_disabled_total`). In a row means in sequence: attempts on their way together count once, and a failing webhook gets one attempt at a time, on the retry schedule.', parse: int(1, 1_000_000) }),
  opt({ key: 'webhookAllow', env: 'LEADTRAIL_WEBHOOK_ALLOW', flag: '--webhook-allow', default: '', description: 'Comma-separated host names webhooks may post to (`*.example.com` for subdomains; `localhost.`, fully qualified, is `localhost`). Empty or `*`: any host, localhost included.', parse: hostList }),
  opt({ key: 'webhookPrivate', env: 'LEADTRAIL_WEBHOOK_PRIVATE', flag: '--webhook-private', default: 'allow', description: '`deny`: refuse webhook deliveries to loopback, private, link-local and other non-public addresses (`127.0.0.1`, `10.x`, `192.168.x`, `169.254.x`, `::1`, `fc00::/7`, documentation and benchmarking ranges …, and IPv6 forms carrying such an IPv4 address: `::ffff:127.0.0.1`, NAT64, 6to4), checked on the address each delivery connects to, after DNS, so a host name that resolves there is refused too; such a delivery fails and is retried like any other failure. `allow`: any address, so that a receiver on localhost works. Set `deny` on a shared server.', parse: webhookPrivate }),
  opt({ key: 'webhookMax', env: 'LEADTRAIL_WEBHOOK_MAX', flag: '--webhook-max', default: '100', description: 'Webhooks one account may have; `Webhook.svc/Create` past it is refused. `0`: no limit.', parse: int(0, 1_000_000) }),
  opt({ key: 'webhookConcurrency', env: 'LEADTRAIL_WEBHOOK_CONCURRENCY', flag: '--webhook-concurrency', default: '8', description: 'Webhook deliveries one worker process makes at once.', parse: int(1, 256) }),
] as const;

/**
 * Builds the config from CLI flag values (already parsed, keyed by `Config` key, raw strings)
 * over environment variables over defaults.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  flags: Partial<Record<keyof Config, string>> = {},
): Readonly<Config> {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS as readonly OptionSpec[]) {
    const fromFlag = flags[o.key];
    const fromEnv = env[o.env];
    const raw = fromFlag ?? fromEnv ?? o.default ?? '';
    const name = fromFlag !== undefined ? o.flag : fromEnv !== undefined ? o.env : `${o.env} default`;
    out[o.key] = o.parse(raw, name);
  }
  // `--db` given as a flag wins over a DATABASE_URL from the environment, as a flag wins over its
  // variable: a CI job's global DATABASE_URL had sent `account list --db a.db` to PostgreSQL in
  // silence (found by a fresh-eyes run). `--database-url` with `--db` still means PostgreSQL.
  if (flags.dbPath !== undefined && flags.databaseUrl === undefined) out.databaseUrl = null;
  // Checked once `--db` has had its say, naming the setting as given (the value is not echoed: it
  // can hold a password). `--database-url mysql://…` had been called DATABASE_URL (a fresh-eyes run).
  if (typeof out.databaseUrl === 'string' && !/^postgres(ql)?:\/\//i.test(out.databaseUrl)) {
    throw new ConfigError(`${flags.databaseUrl !== undefined ? '--database-url' : 'DATABASE_URL'} must start with postgres:// or postgresql://`);
  }
  // Write batches take at most half the pool (postgres-store.ts). Set above that, the setting was
  // cut down without a word (found by a fresh-eyes run); the default is cut down to fit a small pool.
  const batches = flags.pgWriteBatches ?? env.LEADTRAIL_PG_WRITE_BATCHES;
  const half = Math.max(1, Math.floor((out.pgPoolSize as number) / 2));
  if (batches !== undefined && (out.pgWriteBatches as number) > half) {
    const which = flags.pgWriteBatches !== undefined ? '--pg-write-batches' : 'LEADTRAIL_PG_WRITE_BATCHES';
    throw new ConfigError(`${which} ${String(out.pgWriteBatches)} is more than half of the PostgreSQL pool (${settingName('LEADTRAIL_PG_POOL')} ${String(out.pgPoolSize)}, so at most ${half}): raise the pool or lower the batches`);
  }
  // A key no client could send (domain/accounts.ts givenKey) is refused here, naming its setting,
  // before a database is made or a port bound: the first account's creation had refused it after
  // both, naming neither (a fresh-eyes run).
  for (const [key, env, what] of [['accessKey', 'LEADTRAIL_ACCESS_KEY', 'The access key'], ['secretKey', 'LEADTRAIL_SECRET_KEY', 'The secret key'], ['apiKey', 'LEADTRAIL_API_KEY', 'The x-api-key']] as const) {
    const value = out[key] as string | null | undefined;
    if (value === null || value === undefined) continue;
    try {
      givenKey(value, what);
    } catch (e) {
      throw new ConfigError(`${settingName(env)}: ${(e as Error).message}`);
    }
  }
  // An access key and an x-api-key never share a value (domain/accounts.ts): refused here, naming
  // both settings, rather than by the first account's creation, whose message spoke of a key
  // "already taken" by a database that held none (a review).
  if (out.accessKey !== null && out.accessKey !== undefined && out.accessKey === out.apiKey) {
    throw new ConfigError(`${settingName('LEADTRAIL_API_KEY')} must differ from ${settingName('LEADTRAIL_ACCESS_KEY')}: an access key and an x-api-key never share a value, so that revoking one is revoking one key`);
  }
  return Object.freeze(out as unknown as Config);
}

/**
 * What only a server start needs of the configuration (other commands read the same settings and
 * must not fail on them): throws ConfigError. `LEADTRAIL_ASYNC_PORT` must differ from `PORT`: it is
 * a second listener on the same host, and the same number had failed the start with a bare
 * EADDRINUSE after the database was opened (a fresh-eyes run). 0 (any free port) for both is two ports.
 */
export function checkServeConfig(config: Pick<Config, 'port' | 'asyncPort'>): void {
  if (config.asyncPort !== null && config.asyncPort !== 0 && config.asyncPort === config.port) {
    throw new ConfigError(`${settingName('LEADTRAIL_ASYNC_PORT')} must differ from ${settingName('PORT')} (both ${String(config.port)}): it is a second port that also serves the API; leave it unset to serve everything on one`);
  }
}

/**
 * An option as messages name it, by its variable and flag (`PORT (--port)`): whichever of the two
 * the user gave, they find it. `env`: the option's variable (throws for one that is not an option).
 */
export function settingName(env: string): string {
  const o = OPTIONS.find((x) => x.env === env);
  if (!o) throw new Error(`settingName: ${env} is not an option`);
  return `${o.env} (${o.flag})`;
}

/** Edit distance (insertions, deletions, substitutions) between two short names. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/**
 * The option a mistyped environment variable name was meant to be, or null: the same letters without
 * the underscores and case (`LEADTRAIL_RATELIMIT`, `database_url`); for a `LEADTRAIL_` name, also an
 * option without that prefix (`LEADTRAIL_DATABASE_URL`, `LEADTRAIL_PORT`), an option with a word
 * added (`LEADTRAIL_DB_PATH`), or one at most two letters off (`LEADTRAIL_RATE_LIMT`).
 */
export function optionLike(name: string): string | null {
  const squash = (n: string) => n.replace(/_/g, '').toLowerCase();
  // Letters off count only for names of ours: HOME is two letters from HOST.
  const ours = /^leadtrail_/i.test(name);
  const bare = squash(name.replace(/^leadtrail_/i, ''));
  const upper = name.toUpperCase();
  let best: { env: string; d: number } | null = null;
  for (const o of OPTIONS) {
    if (o.env === name) return null;
    let d = squash(o.env) === squash(name) ? 0 : Infinity;
    if (ours && d > 0) {
      if (squash(o.env) === bare) d = 0;
      else if (o.env.startsWith('LEADTRAIL_') && upper.startsWith(`${o.env}_`)) d = 1;
      else d = distance(o.env, upper);
    }
    if (d <= 2 && (!best || d < best.d)) best = { env: o.env, d };
  }
  return best?.env ?? null;
}

/**
 * Names in `env` that are no option of the configuration table (docs: README, Configuration), each
 * with the option it looks like (optionLike) or null. For an environment given whole (startLeadtrail's
 * `env`), where every name is meant as an option.
 */
export function unknownOptions(env: Record<string, unknown>): { name: string; like: string | null }[] {
  const known = new Set(OPTIONS.map((o) => o.env));
  return Object.keys(env)
    .filter((n) => !known.has(n))
    .map((name) => ({ name, like: optionLike(name) }));
}
