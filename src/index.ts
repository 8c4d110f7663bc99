/**
 * leadtrail as a library: what `import … from 'leadtrail'` gives (package.json `main`). It is the
 * same server `leadtrail serve` runs, started from your own code, for example in a test suite:
 *
 * ```ts
 * import { startLeadtrail } from 'leadtrail';
 *
 * const lt = await startLeadtrail(); // free port, temporary SQLite database, generated keys
 * // … point your LeadSquared client at lt.baseUrl with lt.keys …
 * await lt.close(); // also removes the temporary database
 * ```
 *
 * or, with every option in hand:
 *
 * ```ts
 * import { loadConfig, start } from 'leadtrail';
 *
 * const server = await start(loadConfig({ PORT: '0', LEADTRAIL_DB: '/tmp/lsq.db', LEADTRAIL_ACCESS_KEY: 'ak', LEADTRAIL_SECRET_KEY: 'sk' }));
 * // … point your LeadSquared client at server.url …
 * await server.close();
 * ```
 *
 * Everything else under dist/ is internal and may change between versions.
 */

/**
 * Builds a validated, frozen {@link Config} from environment variables (`process.env` by default)
 * and flag values (keyed by `Config` key, as raw strings), over the defaults. Throws
 * {@link ConfigError}, naming the option, for an invalid value. The options are the table in the
 * README's Configuration section.
 */
export { loadConfig, ConfigError } from './config.js';
/** Every leadtrail option, resolved: what {@link loadConfig} returns and {@link start} takes. */
export type { Config, LogFormat, RateLimitSpec, Role } from './config.js';

/**
 * Starts leadtrail: opens (and migrates) the store, binds the port(s), makes the first account on
 * an empty database, then runs the API and/or the async worker as `config.role` says. Resolves once
 * the server is ready (its `/health` answers 200 and its keys work) with a {@link Running}; call its
 * `close()` to stop gracefully. Rejects, having released everything, if it cannot start.
 */
export { start } from './main.js';
/** A started server (its URLs and `close()`), and the options {@link start} takes. */
export type { Running, StartOptions } from './main.js';

/**
 * The shortest way in, for a test suite: starts leadtrail on a free port over a temporary SQLite
 * database (or the `dbPath`/`databaseUrl` given), with the keys given or generated, and resolves to
 * `{ baseUrl, keys: { accessKey, secretKey, apiKey }, close() }`. `close()` stops it and removes
 * the temporary files it made.
 */
export { startLeadtrail } from './embed.js';
export type { Leadtrail, LeadtrailKeys, StartLeadtrailOptions } from './embed.js';
export type { SeedFile, SeedResult } from './cli/seed-file.js';
