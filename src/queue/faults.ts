/**
 * Forced faults for the async worker, a sandbox feature: make the next N attempts of an operation
 * fail with a system error (retried on the schedule) so that integrations can be tested against
 * LeadSquared's retry behaviour. Rules live in this process's memory and are set through the admin
 * API when faults are enabled (`LEADTRAIL_FAULTS`); they reach only a worker running in the same
 * process as the API that received them, and vanish on restart.
 */
import type { AsyncRequest, RequestKind } from '../domain/types.js';

export interface FaultRule {
  id: string;
  accountId: string;
  /** Which operation, or '*' for any. */
  operation: RequestKind | '*';
  /** Only requests whose raw body contains this text (e.g. a lead's email), or null for any. */
  match: string | null;
  /** How many more attempts to fail. */
  remaining: number;
  message: string;
}

export class SystemFault extends Error {}

export interface Faults {
  add(rule: FaultRule): void;
  list(accountId: string): FaultRule[];
  /** Removes the account's rules; returns how many were still active. */
  clear(accountId: string): number;
  /** Throws a SystemFault when a rule matches the request's next attempt. */
  beforeAttempt(r: AsyncRequest): void;
}

export function createFaults(): Faults {
  let rules: FaultRule[] = [];
  const matches = (rule: FaultRule, req: AsyncRequest) =>
    rule.accountId === req.accountId &&
    rule.remaining > 0 &&
    (rule.operation === '*' || rule.operation === req.kind) &&
    (rule.match === null || req.body.includes(rule.match));
  return {
    add: (rule) => void rules.push(rule),
    list: (accountId) => rules.filter((r) => r.accountId === accountId && r.remaining > 0),
    clear(accountId) {
      const active = rules.filter((r) => r.accountId === accountId && r.remaining > 0).length;
      rules = rules.filter((r) => r.accountId !== accountId);
      return active;
    },
    beforeAttempt(req) {
      const rule = rules.find((r) => matches(r, req));
      if (!rule) return;
      rule.remaining -= 1;
      // Spent rules are dropped so the list cannot grow without bound.
      if (rule.remaining === 0) rules = rules.filter((r) => r !== rule);
      throw new SystemFault(rule.message);
    },
  };
}
