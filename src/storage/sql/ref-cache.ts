/**
 * Reference data kept in the process (issue 11): credentials, lead field definitions, activity
 * types and each account's enabled webhooks are read by nearly every request (authentication,
 * every activity write, the webhook outbox) and change rarely.
 *
 * Invalidation works across processes: migration 0010 keeps one row, `ref_version(token)`, that a
 * trigger on `credentials`, `lead_fields` and `activity_types` (and, since 0011, on changes to
 * which webhooks are enabled for which events: not on a delivery's failure count) sets to a new, never-repeated value
 * in the same transaction as any change to them, whoever makes it (this server, another API process,
 * the CLI, a hand-written UPDATE). Before answering from the cache, a lookup reads the token (one
 * tiny statement) and drops the whole cache when it differs from the one the cache was filled under.
 * So a key revoked or re-limited with the CLI while the server runs takes effect on the next request,
 * as it did when every request read the table.
 *
 * Where the token is read:
 * - outside a transaction: on the pool (PostgreSQL) for every lookup, lookups that ask together
 *   sharing one read begun after all of them asked (`coalescedReads`); on SQLite's reader connection
 *   (a raw prepared statement) only after this process's writer committed or another process did
 *   (sqlite/sqlite-store.ts, `readerToken`), and otherwise the token read last;
 * - inside a write transaction: on the transaction's own connection, so that it sees its own
 *   uncommitted changes (which carry their own token). It is read once per batch of the write
 *   pipeline (on PostgreSQL in the round trip of the batch's BEGIN, `primeToken`; on SQLite by its
 *   first lookup), and read again after any write that may touch reference data (and by the next
 *   caller after such a write, which may be rolled back with its caller). Once per batch is enough
 *   because every caller's request was already in progress when its batch began: a change another
 *   process commits meanwhile is concurrent with all of them. Callers that arrive later and join a
 *   running batch (PostgreSQL) make it read the token again (`forgetToken`). On PostgreSQL this
 *   saves a round trip per caller. The pipeline calls `beginCaller` before each caller's function.
 *
 * Values are cached under the token read BEFORE them, and only if the cache still holds that token:
 * a value read concurrently with a change is either newer than its token (dropped at the next
 * lookup) or never stored.
 */
import { CompiledQuery } from 'kysely';
import type { Credential } from '../../domain/types.js';
import { READ_METHODS, type Repos } from '../store.js';
import type { Db } from './schema.js';

/** Repos whose writes never touch reference data (credentials, lead fields, activity types, enabled webhooks). */
const NO_REF_WRITES = new Set(['leads', 'activities', 'requests', 'journal', 'faultRules']);

/** Writes of otherwise reference-data repos that never touch reference data (the webhook outbox and its deliveries). */
const NO_REF_METHODS = new Set(['webhooks.enqueue', 'webhooks.claim', 'webhooks.release', 'webhooks.dropStale', 'webhooks.releaseAll', 'webhooks.purge', 'webhooks.resend', 'webhooks.dueNow', 'webhooks.clearEvents', 'webhooks.lockAll', 'webhooks.dropOrphaned']);

/** Past this many entries (an attacker trying unknown keys, thousands of accounts) the cache starts over. */
const MAX_ENTRIES = 20_000;

/** One process's cached reference data, shared by the store's reader repos and every transaction's. */
export class RefCache {
  private token: string | null = null;
  private readonly entries = new Map<string, unknown>();
  /** Lookups answered from the cache and read from the database (tests, measurements). */
  readonly stats = { hits: 0, misses: 0, flushes: 0 };

  get<T>(token: string, key: string): T | undefined {
    if (token !== this.token) {
      if (this.token !== null) this.stats.flushes += 1;
      this.token = token;
      this.entries.clear();
      return undefined;
    }
    return this.entries.get(key) as T | undefined;
  }

  set(token: string, key: string, value: unknown): void {
    if (token !== this.token) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, value);
  }
}

/** Where one set of repos reads the current token. */
export type TokenReader = () => string | Promise<string>;

const TOKEN_SQL = 'select token from ref_version where id = 1';

/** The token read through Kysely on `db` (PostgreSQL; SQLite passes a raw statement instead). */
export function kyselyToken(db: Db): () => Promise<string> {
  const q = CompiledQuery.raw(TOKEN_SQL, []);
  return async () => {
    const r = await db.executeQuery<{ token: string | number }>(q);
    return String(r.rows[0]?.token ?? '');
  };
}

/**
 * `read` shared by callers that ask together, without ever answering one from a read that began
 * before it asked: a caller that finds a read in flight waits for it to end and shares the next read
 * with every caller that asked meanwhile. So a key revoked elsewhere is still refused by every request
 * that arrives after the revocation committed, while concurrent requests take one statement in all
 * rather than one each (PostgreSQL: a round trip on the pool per keyed request).
 */
export function coalescedReads(read: () => Promise<string>): () => Promise<string> {
  /** The read in flight, if any. */
  let current: Promise<string> | null = null;
  /** The read that starts when `current` ends, shared by the callers that asked meanwhile. */
  let queued: Promise<string> | null = null;
  const start = (): Promise<string> => {
    const p = read();
    current = p;
    const done = () => {
      if (current === p) current = null;
    };
    p.then(done, done);
    return p;
  };
  const settled = () => undefined;
  return () => {
    if (!current) return start();
    if (!queued) {
      queued = current.then(settled, settled).then(() => {
        queued = null;
        return start();
      });
    }
    return queued;
  };
}

/** A raw SQL statement that reads the token, for adapters that can run it without Kysely. */
export const REF_TOKEN_SQL = TOKEN_SQL;

export interface CachedRepos extends Repos {
  /** Forget the token read for the previous caller (pipeline sessions only). */
  beginCaller?(): void;
  /**
   * The token, read by the batch's own session in the round trip of its BEGIN (PostgreSQL): taken
   * as the batch's token read, unless one was already made (pipeline sessions only).
   */
  primeToken?(token: string): void;
  /** Read the token again at the next lookup: callers that arrived after the batch began joined it (pipeline sessions only). */
  forgetToken?(): void;
}

/**
 * `repos` with credential, lead field and activity type reads answered from `cache`. `memo`: read
 * the token once per caller and keep it until a write (inside a write-pipeline session); otherwise
 * on every lookup.
 */
export function cachedRepos(repos: Repos, cache: RefCache, readToken: TokenReader, memo: boolean): CachedRepos {
  let memoToken: Promise<string> | null = null;
  // A reference-data write happened since the token was read (it may yet be rolled back with its
  // caller, taking its token with it): the next caller reads the token again.
  let refWritten = false;
  const token = (): Promise<string> => {
    if (!memo) return Promise.resolve(readToken());
    if (!memoToken) {
      const p = Promise.resolve(readToken());
      memoToken = p;
      // A failed read (connection lost) must not stay remembered.
      p.catch(() => {
        if (memoToken === p) memoToken = null;
      });
    }
    return memoToken;
  };
  const cached = async <T>(key: string, load: () => Promise<T>, keep: (v: T) => boolean = () => true): Promise<T> => {
    const t = await token();
    const hit = cache.get<T>(t, key);
    if (hit !== undefined) {
      cache.stats.hits += 1;
      return hit;
    }
    cache.stats.misses += 1;
    const v = await load();
    if (keep(v)) cache.set(t, key, v);
    return v;
  };

  // A write through the repos that hold reference data (or through a repo this file does not know)
  // may change it, and so the token this caller sees: read it again after.
  const out: Record<string, unknown> = {};
  for (const [name, repo] of Object.entries(repos)) {
    if (typeof repo !== 'object' || repo === null || !memo || NO_REF_WRITES.has(name)) {
      out[name] = repo;
      continue;
    }
    const wrapped: Record<string, unknown> = {};
    for (const [method, impl] of Object.entries(repo as Record<string, unknown>)) {
      wrapped[method] =
        typeof impl === 'function' && !READ_METHODS.has(method) && !NO_REF_METHODS.has(`${name}.${method}`)
          ? (...args: unknown[]) => {
              memoToken = null;
              refWritten = true;
              return (impl as (...a: unknown[]) => Promise<unknown>)(...args).finally(() => {
                memoToken = null;
              });
            }
          : impl;
    }
    out[name] = wrapped;
  }
  const r = out as unknown as Repos;
  const { accounts, leadFields, activityTypes, webhooks } = r;
  // Lists are handed out as cached, frozen: their readers only read (the types say so), and a copy
  // for every caller was garbage on the writer thread's hot path (issue 11).
  const enabledHooks = (accountId: string) => cached(`w\u0000${accountId}`, async () => Object.freeze(await webhooks.enabledHooks(accountId)));
  return {
    ...r,
    ...(memo
      ? {
          leads: {
            ...r.leads,
            // A lock on reference data (a key starting `ref:`) may have waited for a transaction that
            // changed it: read the token again, so that what is read next is not an older cached copy.
            lockKeys: async (accountId: string, keys: string[]) => {
              const mayHaveWaited = await r.leads.lockKeys(accountId, keys);
              if (mayHaveWaited && keys.some((k) => k.startsWith('ref:'))) memoToken = null;
              return mayHaveWaited;
            },
          },
        }
      : {}),
    accounts: {
      ...accounts,
      // Unknown keys are not remembered: nothing to gain, and they would fill the cache.
      findCredential: (kind, lookup) => cached<Credential | null>(`c\u0000${kind}\u0000${lookup}`, () => accounts.findCredential(kind, lookup), (c) => c !== null),
    },
    leadFields: {
      ...leadFields,
      list: (accountId) => cached(`f\u0000${accountId}`, async () => Object.freeze(await leadFields.list(accountId))),
    },
    activityTypes: {
      ...activityTypes,
      get: (accountId, code) => cached(`t\u0000${accountId}\u0000${code}`, () => activityTypes.get(accountId, code)),
      list: async (accountId) => [...(await cached(`T\u0000${accountId}`, () => activityTypes.list(accountId)))],
    },
    webhooks: {
      ...webhooks,
      enabledHooks,
      enqueue: (events, hooksOf) => webhooks.enqueue(events, hooksOf ?? enabledHooks),
    },
    ...(memo
      ? {
          beginCaller: () => {
            if (!refWritten) return;
            refWritten = false;
            memoToken = null;
          },
          primeToken: (t: string) => {
            if (!memoToken && !refWritten) memoToken = Promise.resolve(t);
          },
          forgetToken: () => {
            memoToken = null;
          },
        }
      : {}),
  };
}
