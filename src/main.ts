/**
 * Process entry: open the store (migrating it), make the first account on an empty database, start
 * the API and/or the worker by role, and shut down gracefully. The only file that knows every piece.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, OPTIONS, checkServeConfig, settingName, type Config } from './config.js';
import { accountForApiKey, authenticate, createAccount } from './domain/accounts.js';
import { rekeyStaleAccounts } from './domain/leads.js';
import { systemCtx, type Ctx } from './domain/context.js';
import { buildApp } from './http/server.js';
import { ownPages } from './http/pages.js';
import { closeUnused, stopListening, watchConnections } from './http/stop.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { createEnqueuer } from './queue/enqueuer.js';
import { ASYNC_MAX_HOLD_MS, createPacer } from './queue/pacer.js';
import { createFaults, type Faults } from './queue/faults.js';
import { createWorker, type Worker } from './queue/worker.js';
import { createWebhookWorker } from './webhooks/worker.js';
import { memoryLimiter, type Limiter } from './ratelimit/limiter.js';
import type { Services } from './services.js';
import { openStore } from './storage/open-store.js';
import type { ReadTurnOptions } from './storage/sqlite/read-turn-options.js';
import { errorCodec } from './wire/thread-operations.js';
import type { Store } from './storage/store.js';

/** A started leadtrail, as {@link start} returns it. */
export interface Running {
  /** Base URL of the main port, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Base URL of `LEADTRAIL_ASYNC_PORT`, when one is set (and the role serves the API). */
  asyncUrl: string | null;
  /** The store, config, logger and the rest the server runs on (internal; may change). */
  services: Services;
  /** The async worker of this process, or null for `--role api` / `--no-worker`. */
  worker: Worker | null;
  /**
   * Stops gracefully: stops listening, keeps recently used connections open for
   * `LEADTRAIL_STOP_GRACE_MS` to answer their next call 503 with `Connection: close`, lets requests
   * in flight finish, drains accepts, stops the worker, closes the store.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  ctx?: Ctx;
  log?: Logger;
  /**
   * Where to announce the first account's keys (default: stderr). The server is not ready (503)
   * until this returns, or until the promise it returns settles.
   */
  announce?: (text: string) => unknown;
  /**
   * Called once if the store fails for good (Store.failed: SQLite's writer thread died, or a WAL
   * sync failed), after the error is logged. `leadtrail serve` stops the process with exit code 1
   * so that its supervisor restarts it; nothing acknowledged is lost by that.
   */
  onStoreFailed?: (err: Error) => void;
  /**
   * The SQLite writer thread's operations module (default: leadtrail's own, wire/thread-operations).
   * For tests that need a thread which misbehaves.
   */
  writerOperations?: URL;
  /**
   * The longest an async accept waits for this process's worker before it is answered anyway, in ms
   * (default ASYNC_MAX_HOLD_MS, src/queue/pacer.ts). For tests whose bounds must not depend on how
   * fast a loaded machine runs the worker.
   */
  asyncMaxHoldMs?: number;
  /**
   * SQLite's reader's shared read transactions (src/storage/sqlite/read-turns.ts): their age bound,
   * clock and scheduler. For tests that freeze them to show what ends one.
   */
  sqliteReadTurns?: ReadTurnOptions;
}

async function makeLimiter(config: Config, log: Logger, now: () => number): Promise<Limiter> {
  // A worker-only process serves no rate-limited route, so it needs no Redis.
  if (!config.redisUrl || config.role === 'worker') return memoryLimiter();
  const { redisLimiter } = await import('./ratelimit/redis.js');
  const limiter = await redisLimiter(config.redisUrl, config.redisPrefix, log, { now });
  log.info('sync rate limit shared through Redis');
  return limiter;
}

/**
 * Creates the first account on an empty database and prints its keys once. On a database that has
 * accounts already, keys given in the configuration do nothing: a warning says so when the
 * database does not hold them (else a user who sets them later gets 401 and no clue why).
 */
async function ensureFirstAccount(store: Store, ctx: Ctx, config: Config, log: Logger, announce: (t: string) => unknown): Promise<void> {
  // Several processes may start together on an empty PostgreSQL: only the first creates the account.
  // Without a limit, as the start-up re-key before it: its lock may be held by another process's
  // re-key of a large account for longer than the statement timeout.
  const made = await store.exclusive(async (tx) => {
    if ((await tx.accounts.count()) > 0) return null;
    return createAccount(tx, ctx, { name: 'default', accessKey: config.accessKey, secretKey: config.secretKey, apiKey: config.apiKey });
  }, { timeoutMs: Infinity });
  if (!made) {
    // Named as both the variable and the flag: either may have set it (`LEADTRAIL_ACCESS_KEY (--access-key)`).
    const setting = (key: 'accessKey' | 'secretKey' | 'apiKey') => {
      const o = OPTIONS.find((x) => x.key === key);
      return o ? `${o.env} (${o.flag})` : key;
    };
    const unknown: string[] = [];
    if (config.accessKey && config.secretKey) {
      const known = await authenticate(store, config.accessKey, config.secretKey).then(() => true, () => false);
      if (!known) unknown.push(`${setting('accessKey')} / ${setting('secretKey')}`);
    } else if (config.accessKey) {
      // Alone, an access key is checked for what it can be: a key this database holds.
      if (!(await store.accounts.findCredential('access', config.accessKey))) unknown.push(setting('accessKey'));
    } else if (config.secretKey) {
      // A secret key without its access key names nothing here.
      unknown.push(setting('secretKey'));
    }
    if (config.apiKey && !(await accountForApiKey(store, config.apiKey))) unknown.push(setting('apiKey'));
    if (unknown.length > 0) {
      log.warn(
        { settings: unknown },
        'the configured keys are not keys of this database: they only make the first account of an empty one. Create keys with `leadtrail keys create`',
      );
    }
    return;
  }
  // Every key is printed. Generated ones are seen only here; configured ones (a setting or its
  // flag) are marked so, since the user already has them.
  const mark = (given: string | null | undefined) => (given ? '  (configured)' : '');
  const generated = !config.accessKey || !config.secretKey || !config.apiKey;
  const configured = config.accessKey || config.secretKey || config.apiKey;
  await announce(
    [
      !generated
        ? 'leadtrail: created the first account with the configured keys:'
        : configured
          ? 'leadtrail: created the first account. The keys not marked (configured) were generated and are shown only once:'
          : 'leadtrail: created the first account. These keys are shown only once:',
      `  account id:  ${made.account.id}`,
      `  access key:  ${made.keys.accessKey}${mark(config.accessKey)}`,
      `  secret key:  ${made.keys.secretKey}${mark(config.secretKey)}`,
      `  x-api-key:   ${made.apiKey}${mark(config.apiKey)}`,
      '',
    ].join('\n'),
  );
}

/**
 * Starts leadtrail: opens (and migrates) the store, binds the port(s), makes the first account on
 * an empty database (announcing its keys), then serves by role. Resolves once the server is ready:
 * `/health` answers 200 and the keys work. If anything fails, it releases what it opened and rejects.
 */
export async function start(config: Readonly<Config>, opts: StartOptions = {}): Promise<Running> {
  checkServeConfig(config);
  const log = opts.log ?? createLogger(config.logLevel, undefined, config.logFormat);
  const ctx = opts.ctx ?? systemCtx;
  const metrics = createMetrics({ now: () => ctx.now() });
  // A SQLite file is served by one process (storage/sqlite/owner-lock.ts): taken before anything is
  // opened, so that a second server stops at once, having changed nothing; released once the store is closed.
  const owner = config.databaseUrl ? null : (await import('./storage/sqlite/owner-lock.js')).takeOwnerLock(config.dbPath);
  const opened = await openStore(config, { url: opts.writerOperations ?? new URL('./wire/thread-operations.js', import.meta.url), errorCodec }, { readTurns: opts.sqliteReadTurns }).catch((e: unknown) => {
    owner?.release();
    throw e;
  });
  if (owner) {
    const closeStore = opened.close.bind(opened);
    opened.close = () => closeStore().finally(() => owner.release());
  }
  // Timed and watched for /metrics (commit latency, worker attempts and outcomes); behaves the same.
  const store = metrics.observeStore(opened);
  const runsWorker = config.role !== 'api' && config.worker;
  // Redis first: a process that cannot start must not have created (and announced) an account.
  const limiter = await makeLimiter(config, log, () => ctx.now()).catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  // Accepts wait while this process's worker is behind (src/queue/pacer.ts); without a worker here, never.
  const pacer = runsWorker ? createPacer({ limit: config.asyncBacklog, maxHoldMs: opts.asyncMaxHoldMs ?? ASYNC_MAX_HOLD_MS }) : undefined;
  metrics.readFrom(store, { role: config.role }, pacer);
  const enqueuer = createEnqueuer(store, pacer);
  const faults: Faults = createFaults(store);
  const services: Services = { config, store, ctx, limiter, log, enqueuer, faults, metrics, ready: false, stopping: false, storeFailed: null };
  void store.failed?.then((err) => {
    services.storeFailed = err;
    log.error({ err }, 'the store has failed and cannot recover in this process: every call fails until leadtrail restarts');
    opts.onStoreFailed?.(err);
  });

  // A worker-only process still answers the health paths and /metrics on PORT (orchestrators probe,
  // and Prometheus scrapes, every process), and nothing else: the API belongs to the api processes.
  const onlyHealth = { routes: (r: { path: string }) => /^\/(health(\/.*)?|metrics)$/i.test(r.path) };
  const apps: FastifyInstance[] = [buildApp(services, config.role === 'worker' ? onlyHealth : { pages: ownPages(services) })];
  if (config.asyncPort !== null && config.role !== 'worker') apps.push(buildApp(services));
  // Which connections a client may be about to reuse, for a stop that must not close one under it.
  const watches = apps.map((app) => watchConnections(app.server));
  let url: string;
  let asyncUrl: string | null = null;
  try {
    // Bind the ports before making the first account: a start that cannot listen (port taken, bad
    // host) must not print keys that later starts, finding the account, would never show again.
    url = await listenOn(apps[0], config.port, settingName('PORT'), config.host);
    if (apps[1]) asyncUrl = await listenOn(apps[1], config.asyncPort!, settingName('LEADTRAIL_ASYNC_PORT'), config.host);
    // Leads keyed by an older rule (phone numbers before migration 0003) are re-keyed once, before
    // the API serves (it answers 503 "starting" meanwhile).
    const rekeyed = await rekeyStaleAccounts(store);
    if (rekeyed > 0) log.info({ accounts: rekeyed }, 're-keyed leads by the current lookup rules');
    await ensureFirstAccount(store, ctx, config, log, opts.announce ?? ((t) => process.stderr.write(t)));
    if (store.engine === 'sqlite' && runsWorker) {
      // One process owns a SQLite file: anything still "running" was cut off by a crash or kill.
      const released = await store.requests.releaseAll();
      if (released > 0) log.warn({ released }, 'requeued requests interrupted by the last stop');
      const freed = await store.webhooks.releaseAll();
      if (freed > 0) log.warn({ freed }, 'webhook deliveries interrupted by the last stop will be sent again');
    }
    // From here on the keys work: /health answers 200 and the API serves (503 until now).
    services.ready = true;
  } catch (e) {
    await Promise.all(apps.map((app) => app.close()));
    await limiter.close();
    await store.close();
    throw e;
  }

  const worker = runsWorker ? createWorker({ store, ctx, config, log, enqueuer, pacer, faults: config.faults ? faults : undefined }) : null;
  worker?.start();
  // Webhook deliveries run beside the async worker, in the same processes (issue 14).
  const webhookWorker = runsWorker ? createWebhookWorker({ store, ctx, config, log }) : null;
  webhookWorker?.start();
  log.info({ url, asyncUrl, role: config.role, worker: Boolean(worker), store: store.engine, ...(store.engine === 'sqlite' ? { writer: store.operate ? 'thread' : 'loop' } : {}) }, 'leadtrail listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    asyncUrl,
    services,
    worker,
    close() {
      closing ??= (async () => {
        // From here every call is answered 503 with `Connection: close` (or, in flight, answered
        // with it), so Node closes each connection once its answer is out.
        services.stopping = true;
        // New connections are refused; connections that answered within the grace stay open for
        // it, so that the call a busy client sends next on one gets that 503 rather than a reset
        // (src/http/stop.ts). Ends early once none is left; never waits on an idle server.
        await stopListening(watches, config.stopGraceMs);
        // A keep-alive connection that was busy when closing began, and answered without the close,
        // stays open once idle until the keep-alive timeout (72 s in Fastify) and holds up the exit
        // past most orchestrators' grace period; close each connection as soon as it is idle.
        // A connection that never sent a byte is not idle to Node and is never timed out: closed here.
        const sweepOnce = () => {
          for (const app of apps) app.server.closeIdleConnections();
          closeUnused(watches);
        };
        const sweep = setInterval(sweepOnce, 50);
        sweepOnce();
        try {
          await Promise.all(apps.map((app) => app.close()));
        } finally {
          clearInterval(sweep);
        }
        await enqueuer.drain();
        await worker?.stop();
        await webhookWorker?.stop();
        await limiter.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** Errors of listen(2) and of resolving the host that a setting causes, and which one. */
const LISTEN_ERRORS: Record<string, 'host' | 'port'> = {
  EADDRINUSE: 'port',
  EACCES: 'port',
  EADDRNOTAVAIL: 'host',
  ENOTFOUND: 'host',
  EAI_AGAIN: 'host',
  EAI_FAIL: 'host',
  EAI_NONAME: 'host',
};

/**
 * `app.listen` on `host`:`port` ⇒ its URL. A port taken or not allowed, or a host that does not
 * resolve to an address of this machine, is a ConfigError naming the setting (`portName` or HOST),
 * as the README promises for invalid values (the CLI exits 2); anything else is thrown as it came.
 */
async function listenOn(app: FastifyInstance, port: number, portName: string, host: string): Promise<string> {
  try {
    return await app.listen({ port, host });
  } catch (e) {
    const which = LISTEN_ERRORS[(e as NodeJS.ErrnoException).code ?? ''];
    if (!which) throw e;
    const what =
      which === 'port'
        ? `${portName} ${port} cannot be used on ${host}`
        : (e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL'
          ? `${settingName('HOST')} "${host}" is not an address of this machine`
          : `${settingName('HOST')} "${host}" does not resolve to an address`;
    throw new ConfigError(`${what} (${(e as Error).message})`);
  }
}
