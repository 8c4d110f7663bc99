/**
 * Option values that could never work stop the start with the option's name (README: "Invalid
 * values stop the server at start with a message that names the option"). A webhook allow list of
 * `*` had been taken as a host named "*", and every webhook URL was refused (a fresh-eyes user).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ConfigError, checkServeConfig, loadConfig, optionLike, parseRateLimit } from '../../src/config.js';
import { hostAllowed } from '../../src/domain/webhooks.js';

/** Fastify's own reader of trust lists (a dependency of Fastify's, resolved from it). */
const proxyAddr = createRequire(createRequire(import.meta.url).resolve('fastify'))('@fastify/proxy-addr') as { compile(list: string[]): (addr: string, hop: number) => boolean };

describe('LEADTRAIL_ACCESS_KEY and LEADTRAIL_API_KEY', () => {
  it('must differ, both settings named', () => {
    expect(() => loadConfig({ LEADTRAIL_ACCESS_KEY: 'same', LEADTRAIL_API_KEY: 'same' })).toThrow(
      /LEADTRAIL_API_KEY \(--api-key\) must differ from LEADTRAIL_ACCESS_KEY \(--access-key\)/,
    );
    expect(loadConfig({ LEADTRAIL_ACCESS_KEY: 'one', LEADTRAIL_API_KEY: 'two' })).toMatchObject({ accessKey: 'one', apiKey: 'two' });
  });

  it('a key no client could send is refused when the configuration is read, naming its setting', () => {
    // Each had been refused only by the first account's creation, after the database was made and
    // the port bound, naming no setting (a fresh-eyes run).
    const cases: [Record<string, string>, RegExp][] = [
      [{ LEADTRAIL_ACCESS_KEY: ' x' }, /^LEADTRAIL_ACCESS_KEY \(--access-key\): The access key starts or ends with a space/],
      [{ LEADTRAIL_SECRET_KEY: 'a\tb' }, /^LEADTRAIL_SECRET_KEY \(--secret-key\): The secret key holds a control character/],
      [{ LEADTRAIL_API_KEY: 'api-键' }, /^LEADTRAIL_API_KEY \(--api-key\): The x-api-key holds '键'/],
      [{ LEADTRAIL_ACCESS_KEY: 'k'.repeat(257) }, /^LEADTRAIL_ACCESS_KEY \(--access-key\): The access key is 257 characters long/],
    ];
    for (const [env, says] of cases) expect(() => loadConfig(env), JSON.stringify(env)).toThrow(says);
    expect(loadConfig({ LEADTRAIL_ACCESS_KEY: 'u$r-ok_1', LEADTRAIL_SECRET_KEY: 'x'.repeat(256) })).toMatchObject({ accessKey: 'u$r-ok_1' });
  });
});

describe('LEADTRAIL_ASYNC_PORT', () => {
  it('must differ from PORT for a server start, both named; 0 for both is two free ports; other commands take it', () => {
    const says = /^LEADTRAIL_ASYNC_PORT \(--async-port\) must differ from PORT \(--port\) \(both 8080\)/;
    expect(() => checkServeConfig(loadConfig({ LEADTRAIL_ASYNC_PORT: '8080' }))).toThrow(says);
    expect(() => checkServeConfig(loadConfig({}, { port: '8080', asyncPort: '8080' }))).toThrow(says);
    // Read by `migrate` or `account list` from an env file shared with the server: not their concern.
    expect(loadConfig({ LEADTRAIL_ASYNC_PORT: '8080' })).toMatchObject({ port: 8080, asyncPort: 8080 });
    expect(() => checkServeConfig(loadConfig({ PORT: '0', LEADTRAIL_ASYNC_PORT: '0' }))).not.toThrow();
    expect(() => checkServeConfig(loadConfig({ LEADTRAIL_ASYNC_PORT: '8081' }))).not.toThrow();
  });
});

describe('DATABASE_URL', () => {
  it('must be a PostgreSQL URL, named as given and not echoed; --db still wins over one from the environment', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:pw@h/db' })).toThrow(/^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/$/);
    expect(() => loadConfig({}, { databaseUrl: 'mysql://u:pw@h/db' })).toThrow(/^--database-url must start with postgres:\/\/ or postgresql:\/\/$/);
    expect(loadConfig({ DATABASE_URL: 'mysql://u:pw@h/db' }, { dbPath: 'z.db' })).toMatchObject({ databaseUrl: null, dbPath: 'z.db' });
    expect(loadConfig({ DATABASE_URL: 'PostgreSQL://h/db' })).toMatchObject({ databaseUrl: 'PostgreSQL://h/db' });
  });
});

describe('LEADTRAIL_PUBLIC_HOST', () => {
  it.each(['api-in21.example.test', 'leads.example.com:8443', '10.0.0.5:8080', '[::1]:8080', 'localhost', 'example.com.'])('takes a bare host: %s', (host) => {
    expect(loadConfig({ LEADTRAIL_PUBLIC_HOST: host }).publicHost).toBe(host);
  });

  // Each had started, and UserByAccessKey.Get then reported it as the API's host (a fresh-eyes run).
  it.each(['http://x y/', 'https://api.example.com', 'api.example.com/v2', 'a b', 'api.example.com:99999', '-bad.example', ' api.example.com'])('refuses %j, naming the setting', (host) => {
    expect(() => loadConfig({ LEADTRAIL_PUBLIC_HOST: host })).toThrow(ConfigError);
    expect(() => loadConfig({ LEADTRAIL_PUBLIC_HOST: host })).toThrow(/LEADTRAIL_PUBLIC_HOST must be a bare host/);
  });

  it('empty is none: the request\'s own host is reported', () => {
    expect(loadConfig({ LEADTRAIL_PUBLIC_HOST: '' }).publicHost).toBeNull();
  });
});

describe('LEADTRAIL_WEBHOOK_ALLOW', () => {
  const allow = (v: string) => loadConfig({ LEADTRAIL_WEBHOOK_ALLOW: v }).webhookAllow;

  it('`*` alone, like an empty list, allows any host', () => {
    expect(allow('*')).toEqual([]);
    expect(allow(' * ')).toEqual([]);
    expect(hostAllowed('localhost', allow('*'))).toBe(true);
    expect(allow('')).toEqual([]);
  });

  it('takes host names, subdomain rules and addresses', () => {
    expect(allow('Hooks.Example.com, *.example.org, localhost, 127.0.0.1, [::1], ::1')).toEqual(['hooks.example.com', '*.example.org', 'localhost', '127.0.0.1', '[::1]', '::1']);
  });

  it('an address entry allows its URL, however the entry spells the address', () => {
    // A URL's host is `[::1]`, `[::ffff:7f00:1]`, `127.0.0.1`: an entry taken as `[::1]` had never matched it.
    expect(hostAllowed(new URL('http://[::1]:9330/x').hostname, allow('[::1]'))).toBe(true);
    expect(hostAllowed(new URL('http://[::1]:9330/x').hostname, allow('0:0:0:0:0:0:0:1'))).toBe(true);
    expect(hostAllowed(new URL('http://[::ffff:127.0.0.1]/x').hostname, allow('::ffff:127.0.0.1'))).toBe(true);
    expect(hostAllowed(new URL('http://127.0.0.1/x').hostname, allow('127.1'))).toBe(true);
    expect(hostAllowed(new URL('http://[::2]/x').hostname, allow('[::1]'))).toBe(false);
    expect(hostAllowed(new URL('http://127.0.0.2/x').hostname, allow('127.0.0.1,[::1]'))).toBe(false);
  });

  it('a host name written fully qualified (a closing dot) is that host, in the URL or in the list', () => {
    expect(hostAllowed(new URL('http://localhost.:9330/x').hostname, allow('localhost'))).toBe(true);
    expect(hostAllowed(new URL('http://Hooks.Example.com./x').hostname, allow('hooks.example.com'))).toBe(true);
    expect(hostAllowed(new URL('http://a.example.org./x').hostname, allow('*.example.org'))).toBe(true);
    expect(hostAllowed('hooks.example.com', allow('hooks.example.com.'))).toBe(true);
    expect(hostAllowed(new URL('http://localhost.evil.test/x').hostname, allow('localhost'))).toBe(false);
    expect(hostAllowed(new URL('http://example.org./x').hostname, allow('*.example.org'))).toBe(false);
  });

  it.each(['http://hooks.example.com', 'hooks.example.com:8080', '*', 'a b', 'hooks.*.com', '*example.com'].map((bad) => [bad, `localhost,${bad}`]))(
    'refuses an entry that can never match a host: %s',
    (bad, list) => {
      const value = bad === '*' ? list : bad;
      expect(() => allow(value)).toThrow(ConfigError);
      expect(() => allow(value)).toThrow(/LEADTRAIL_WEBHOOK_ALLOW/);
    },
  );

  it('names the flag when the flag was given', () => {
    expect(() => loadConfig({}, { webhookAllow: 'http://x.example' })).toThrow(/--webhook-allow/);
  });
});

describe('LEADTRAIL_PG_WRITE_BATCHES', () => {
  it('set above half of LEADTRAIL_PG_POOL stops the start naming both, rather than being cut down without a word', () => {
    expect(() => loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '6', LEADTRAIL_PG_POOL: '10' })).toThrow(ConfigError);
    expect(() => loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '6', LEADTRAIL_PG_POOL: '10' })).toThrow(/LEADTRAIL_PG_WRITE_BATCHES 6 .*LEADTRAIL_PG_POOL \(--pg-pool\) 10, so at most 5/);
    expect(() => loadConfig({ LEADTRAIL_PG_POOL: '10' }, { pgWriteBatches: '6' })).toThrow(/--pg-write-batches 6/);
    expect(loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '5', LEADTRAIL_PG_POOL: '10' }).pgWriteBatches).toBe(5);
  });

  it('left at its default, it fits a small pool as before', () => {
    expect(loadConfig({ LEADTRAIL_PG_POOL: '2' }).pgWriteBatches).toBe(3);
  });
});

describe('empty, hex and exponent values (found by a fresh-eyes run)', () => {
  it('an empty HOST, LEADTRAIL_DB or LEADTRAIL_REDIS_PREFIX stops the start instead of listening everywhere or opening a temporary database', () => {
    for (const name of ['HOST', 'LEADTRAIL_DB', 'LEADTRAIL_REDIS_PREFIX']) {
      expect(() => loadConfig({ [name]: '' })).toThrow(new ConfigError(`${name} must not be empty (leave it unset for its default)`));
      expect(() => loadConfig({ [name]: '  ' })).toThrow(ConfigError);
    }
    expect(() => loadConfig({}, { host: '' })).toThrow(/^--host must not be empty/);
    expect(() => loadConfig({}, { dbPath: '' })).toThrow(/^--db must not be empty/);
  });

  it('an empty number is no number: PORT= was a random port, LEADTRAIL_ASYNC_BACKLOG= and LEADTRAIL_JOURNAL_MAX_ENTRIES= turned their limit off', () => {
    for (const name of ['PORT', 'LEADTRAIL_ASYNC_BACKLOG', 'LEADTRAIL_JOURNAL_MAX_ENTRIES', 'LEADTRAIL_RETRY_SCALE']) {
      expect(() => loadConfig({ [name]: '' }), name).toThrow(new RegExp(`^${name} must be a (whole|positive) number`));
    }
    // Options whose empty value means "none" keep it.
    expect(loadConfig({ LEADTRAIL_ASYNC_PORT: '', DATABASE_URL: '', LEADTRAIL_METRICS_TOKEN: '' })).toMatchObject({ asyncPort: null, databaseUrl: null, metricsToken: null });
  });

  it('numbers are decimal digits: hex and exponents are refused, spaces around them are not', () => {
    expect(() => loadConfig({ PORT: '0x1F90' })).toThrow('PORT must be a whole number from 0 to 65535, got "0x1F90"');
    expect(() => loadConfig({ PORT: '1e3' })).toThrow(ConfigError);
    expect(() => loadConfig({ LEADTRAIL_RETRY_SCALE: '1e-3' })).toThrow('LEADTRAIL_RETRY_SCALE must be a positive number, got "1e-3"');
    expect(loadConfig({ LEADTRAIL_WORKER_CONCURRENCY: ' 7 ', LEADTRAIL_RETRY_SCALE: '0.001', PORT: '8081' })).toMatchObject({ workerConcurrency: 7, retryScale: 0.001, port: 8081 });
    expect(loadConfig({ LEADTRAIL_RETRY_SCALE: '.5' }).retryScale).toBe(0.5);
  });

  it('LEADTRAIL_ROLE and LEADTRAIL_LOG_LEVEL take any case, as the other word options do', () => {
    expect(loadConfig({ LEADTRAIL_ROLE: 'API', LEADTRAIL_LOG_LEVEL: 'INFO' })).toMatchObject({ role: 'api', logLevel: 'info' });
  });
});

describe('--db against DATABASE_URL (found by a fresh-eyes run)', () => {
  const url = 'postgres://127.0.0.1:5432/test';
  it('--db given as a flag wins over DATABASE_URL from the environment, as a flag wins over its variable', () => {
    expect(loadConfig({ DATABASE_URL: url }, { dbPath: 'data/a.db' })).toMatchObject({ databaseUrl: null, dbPath: 'data/a.db' });
  });
  it('DATABASE_URL still wins over LEADTRAIL_DB, and --database-url over --db', () => {
    expect(loadConfig({ DATABASE_URL: url, LEADTRAIL_DB: 'data/a.db' }).databaseUrl).toBe(url);
    expect(loadConfig({}, { dbPath: 'data/a.db', databaseUrl: url }).databaseUrl).toBe(url);
  });
});

describe('optionLike: names that look like an option', () => {
  it.each([
    ['LEADTRAIL_DATABASE_URL', 'DATABASE_URL'],
    ['LEADTRAIL_PORT', 'PORT'],
    ['LEADTRAIL_HOST', 'HOST'],
    ['LEADTRAIL_REDIS_URL', 'REDIS_URL'],
    ['LEADTRAIL_DB_PATH', 'LEADTRAIL_DB'],
    ['LEADTRAIL_RATELIMIT', 'LEADTRAIL_RATE_LIMIT'],
    ['LEADTRAIL_RATE_LIMT', 'LEADTRAIL_RATE_LIMIT'],
    ['database_url', 'DATABASE_URL'],
  ])('%s → %s', (name, like) => {
    expect(optionLike(name)).toBe(like);
  });
  it.each(['HOME', 'PATH', 'NODE_ENV', 'LEADTRAIL_JOURNAL_MAX_ENTRIES', 'DATABASE_URL'])('%s → none', (name) => {
    expect(optionLike(name)).toBeNull();
  });
});

describe('LEADTRAIL_METRICS_TOKEN', () => {
  it('a token no scraper can send stops the start, naming why: a line break read from a file with it, a space inside', () => {
    // A Kubernetes secret file ends with a line break; Prometheus sends the token without it, and
    // every scrape got 401 with nothing saying why.
    expect(() => loadConfig({ LEADTRAIL_METRICS_TOKEN: 'tok\n' })).toThrow(/LEADTRAIL_METRICS_TOKEN must be printable ASCII without spaces.*ends with a space or line break/);
    expect(() => loadConfig({ LEADTRAIL_METRICS_TOKEN: ' tok' })).toThrow(ConfigError);
    expect(() => loadConfig({ LEADTRAIL_METRICS_TOKEN: 'two words' })).toThrow(/holds a space, a control character or a non-ASCII character/);
    expect(() => loadConfig({ LEADTRAIL_METRICS_TOKEN: 'tökén' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { metricsToken: 'a\tb' })).toThrow(/--metrics-token/);
    expect(loadConfig({ LEADTRAIL_METRICS_TOKEN: 'abc-DEF_123.~+/=' }).metricsToken).toBe('abc-DEF_123.~+/=');
  });
});

describe('LEADTRAIL_TRUST_PROXY', () => {
  const trust = (v: string) => loadConfig({ LEADTRAIL_TRUST_PROXY: v }).trustProxy;

  it('off unless set: unset, empty, false and 0 trust no proxy', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    for (const v of ['', ' ', 'false', 'OFF', 'no', '0', ',']) expect(trust(v), v).toBe(false);
    for (const v of ['true', 'On', 'yes']) expect(trust(v), v).toBe(true);
    // Bare `--trust-proxy` reaches loadConfig as "true".
    expect(loadConfig({}, { trustProxy: 'true' }).trustProxy).toBe(true);
  });

  it('takes addresses, CIDR ranges and proxy-addr\'s names, each of which Fastify\'s proxy-addr compiles', () => {
    const list = trust(' 10.0.0.0/8, 192.168.1.7 ,::1, fd00::/8, ::ffff:10.1.2.3, Loopback,uniquelocal,linklocal,172.16.0.0/32,fe80::1%eth0,fe80::%eth0/10');
    expect(list).toEqual(['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8', '::ffff:10.1.2.3', 'loopback', 'uniquelocal', 'linklocal', '172.16.0.0/32', 'fe80::1%eth0', 'fe80::%eth0/10']);
    // What Fastify does with the list as it builds the server: a list it cannot read throws there.
    const trusts = proxyAddr.compile(list as string[]);
    expect(trusts('10.9.8.7', 0)).toBe(true);
    expect(trusts('127.0.0.5', 0)).toBe(true);
    expect(trusts('203.0.113.1', 0)).toBe(false);
  });

  it.each(['10.0.0.0/33', '::1/129', '10.0.0.0/0', '10.0.0.1/', '10.0.0.300', '01.2.3.4', 'proxy.internal', '[::1]', 'fe80::1%eth0.5', '10.0.0.0/255.0.0.0', '*'])(
    'refuses an entry that is no address, range or name, naming the option and the entry: %s',
    (bad) => {
      expect(() => trust(`10.0.0.1,${bad}`)).toThrow(ConfigError);
      expect(() => trust(`10.0.0.1,${bad}`)).toThrow(`LEADTRAIL_TRUST_PROXY must be true, false, or addresses and CIDR ranges separated by commas (e.g. 10.0.0.0/8,192.168.1.7, or loopback, linklocal, uniquelocal); "${bad}" is none of those`);
    },
  );

  it('refuses a hop count, which Fastify ignores (it cannot tell a proxy from a client writing its own X-Forwarded-For), rather than trusting nothing without a word', () => {
    for (const v of ['1', '2', ' 3 ']) expect(() => trust(v), v).toThrow(/^LEADTRAIL_TRUST_PROXY does not take a number of hops/);
    expect(() => loadConfig({}, { trustProxy: '2' })).toThrow(/^--trust-proxy does not take a number of hops \("2"\)/);
  });
});

describe('a rate limit of no calls', () => {
  it('`0/5s` is refused, naming the setting (it had meant no limit at all); `0` turns the limit off; a key\'s stored `0/5s` is still read as off', () => {
    expect(() => loadConfig({ LEADTRAIL_RATE_LIMIT: '0/5s' })).toThrow(/LEADTRAIL_RATE_LIMIT must allow at least 1 call per window, got "0\/5s"; 0 alone turns the limit off/);
    expect(() => loadConfig({ LEADTRAIL_ASYNC_RATE_LIMIT: '0/1m' })).toThrow(/LEADTRAIL_ASYNC_RATE_LIMIT must allow at least 1 call/);
    expect(loadConfig({ LEADTRAIL_RATE_LIMIT: '0' }).rateLimit).toEqual({ points: 0, seconds: 1 });
    expect(loadConfig({ LEADTRAIL_RATE_LIMIT: '1/5s' }).rateLimit).toEqual({ points: 1, seconds: 5 });
    expect(parseRateLimit('0/5s', 'rate limit', true)).toEqual({ points: 0, seconds: 5 });
  });
});
