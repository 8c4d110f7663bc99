/**
 * Forced-fault rules as stored (migration 0008): one table read by every process on the database,
 * so a rule added through one API process applies to requests any process serves, and the
 * "next N" count is shared. Shapes only; the SQL is in sql/fault-rules.ts, the meaning in
 * src/queue/faults.ts.
 */

export interface StoredFaultRule {
  id: string;
  accountId: string;
  /** `async`: fails attempts of the async worker; `http`: answers (or delays, or drops) API requests. */
  target: 'async' | 'http';
  /** async: the request kind, or '*'. Null for http rules. */
  operation: string | null;
  /** http: the lower-case path, '*' for any, or a prefix ending in '*'. Null for async rules. */
  path: string | null;
  /** Text the request body must contain, or null for any. */
  match: string | null;
  /** http: the status to answer (429, 500, 503), or null (latency only, or drop). */
  status: number | null;
  /** http 429/503: the Retry-After seconds. */
  retryAfter: number | null;
  /** http: milliseconds to wait before going on (or answering the forced status). */
  latencyMs: number | null;
  /** http: close the connection without an answer. */
  drop: boolean;
  /** Uses left; null: no count (a percentage rule that applies until cleared). */
  remaining: number | null;
  /** Chance in percent (0 < p <= 100) that a matching request is hit; null: every one. */
  percent: number | null;
  message: string;
  createdAt: number;
}

export interface FaultRuleRepo {
  insert(rule: StoredFaultRule): Promise<void>;
  /** The account's rules still in force (remaining null or above 0) of one target, oldest first. */
  list(accountId: string, target?: StoredFaultRule['target']): Promise<StoredFaultRule[]>;
  /**
   * Takes one use of a rule, atomically across processes (one conditional UPDATE): true when it was
   * taken, false when another caller took the last use first or the rule is gone. A rule without a
   * count is always taken. A rule whose last use this was is deleted.
   */
  take(accountId: string, id: string): Promise<boolean>;
  /** Deletes the account's rules, or with `id` only that one; returns how many were still in force. */
  clear(accountId: string, id?: string): Promise<number>;
}
