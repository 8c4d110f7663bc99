/**
 * Forced faults, a sandbox feature (`LEADTRAIL_FAULTS`) for testing how an integration copes with
 * LeadSquared's failures, set through `/_leadtrail/faults` (src/http/admin.ts):
 *
 * - **async** rules (`operation`): the next attempts of an async operation fail with a system error
 *   and are retried on the schedule, as LeadSquared retries them;
 * - **http** rules (`path`): requests to any API path are answered with a forced status (429 with
 *   Retry-After, 500 MXSystemException, 503), delayed, or have their connection dropped
 *   (src/http/faults.ts).
 *
 * Each applies to the next N matching calls, or to a percentage of them, optionally only to bodies
 * containing some text. Rules are stored in the database (migration 0008): every API and worker
 * process on it sees them, and a use is taken by one conditional UPDATE, so "the next N" holds
 * across processes.
 */
import type { AsyncRequest } from '../domain/types.js';
import type { StoredFaultRule } from '../storage/fault-rules.js';
import type { Store } from '../storage/store.js';
import { pathKey } from '../schemas/endpoint.js';

export type FaultRule = StoredFaultRule;

export class SystemFault extends Error {
  override name = 'SystemFault';
}

export interface Faults {
  add(rule: FaultRule): Promise<void>;
  /** The account's rules still in force, oldest first. */
  list(accountId: string): Promise<FaultRule[]>;
  /** Removes the account's rules (or with `id` that one); returns how many were still in force. */
  clear(accountId: string, id?: string): Promise<number>;
  /** Rejects with a SystemFault when an async rule takes the request's next attempt. */
  beforeAttempt(r: AsyncRequest): Promise<void>;
  /**
   * The http rule that takes this request (one use of it is counted), or null. `path` is the
   * request's path (any case, no query); `text` is its body, or its query string when it has none.
   */
  forRequest(accountId: string, path: string, text: string): Promise<FaultRule | null>;
}

/** A rule's or a request's path as routes match it (schemas/endpoint.ts pathKey: any case, unreserved escapes decoded, no query, no trailing or doubled slashes). */
export const normalizeFaultPath = pathKey;

/** `*` any path; `prefix*` any path starting so; otherwise the path itself (normalized). */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  const p = normalizeFaultPath(path);
  if (pattern.endsWith('*')) return p.startsWith(pattern.slice(0, -1));
  return p === pattern;
}

/** `random` returns [0, 1), as Math.random (tests pass their own). */
export function createFaults(store: Store, random: () => number = Math.random): Faults {
  /** The first rule (oldest first) that matches, passes its percentage and has a use left to take. */
  async function take(accountId: string, candidates: FaultRule[]): Promise<FaultRule | null> {
    for (const rule of candidates) {
      if (rule.percent !== null && random() * 100 >= rule.percent) continue;
      if (await store.faultRules.take(accountId, rule.id)) return rule;
      // Another process took its last use meanwhile: the next rule may still apply.
    }
    return null;
  }
  return {
    add: (rule) => store.faultRules.insert(rule),
    list: (accountId) => store.faultRules.list(accountId),
    clear: (accountId, id) => store.faultRules.clear(accountId, id),
    async beforeAttempt(req) {
      const rules = await store.faultRules.list(req.accountId, 'async');
      const matching = rules.filter((r) => (r.operation === '*' || r.operation === req.kind) && (r.match === null || req.body.includes(r.match)));
      if (matching.length === 0) return;
      const rule = await take(req.accountId, matching);
      if (rule) throw new SystemFault(rule.message);
    },
    async forRequest(accountId, path, text) {
      const rules = await store.faultRules.list(accountId, 'http');
      const matching = rules.filter((r) => r.path !== null && pathMatches(r.path, path) && (r.match === null || text.includes(r.match)));
      return matching.length === 0 ? null : take(accountId, matching);
    },
  };
}
