/**
 * Forced faults for the async worker, a sandbox feature: make the next N attempts of an operation
 * fail with a system error (retried) so that integrations can be tested against LeadSquared's retry
 * behaviour. Rules live in this process and are set through the admin API when faults are enabled.
 */
import type { AsyncRequest, RequestKind } from '../domain/types.js';

export interface FaultRule {
  id: string;
  accountId: string;
  /** Which operation, or '*' for any. */
  operation: RequestKind | '*';
  /** How many more attempts to fail. */
  remaining: number;
  message: string;
}

export class SystemFault extends Error {}

export interface Faults {
  add(rule: FaultRule): void;
  list(accountId: string): FaultRule[];
  clear(accountId: string): void;
  /** Throws a SystemFault when a rule matches the request's next attempt. */
  beforeAttempt(r: AsyncRequest): void;
}

export function createFaults(): Faults {
  const rules: FaultRule[] = [];
  return {
    add: (rule) => void rules.push(rule),
    list: (accountId) => rules.filter((r) => r.accountId === accountId && r.remaining > 0),
    clear(accountId) {
      for (let i = rules.length - 1; i >= 0; i--) if (rules[i].accountId === accountId) rules.splice(i, 1);
    },
    beforeAttempt(req) {
      const rule = rules.find((r) => r.accountId === req.accountId && r.remaining > 0 && (r.operation === '*' || r.operation === req.kind));
      if (!rule) return;
      rule.remaining -= 1;
      throw new SystemFault(rule.message);
    },
  };
}
