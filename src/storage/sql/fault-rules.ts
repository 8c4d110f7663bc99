import type { FaultRuleRepo, StoredFaultRule } from '../fault-rules.js';
import type { Db } from './schema.js';
import { idKey } from './ids.js';

/** Table `fault_rules` (migration 0008). */
export interface FaultRulesTable {
  id: string;
  account_id: string;
  target: string;
  operation: string | null;
  path: string | null;
  body_match: string | null;
  status: number | null;
  retry_after: number | null;
  latency_ms: number | null;
  drop_connection: number;
  remaining: number | null;
  percent: number | null;
  message: string;
  created_at: number;
}

const toRule = (r: FaultRulesTable): StoredFaultRule => ({
  id: r.id,
  accountId: r.account_id,
  target: r.target as StoredFaultRule['target'],
  operation: r.operation,
  path: r.path,
  match: r.body_match,
  status: r.status === null ? null : Number(r.status),
  retryAfter: r.retry_after === null ? null : Number(r.retry_after),
  latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
  drop: Number(r.drop_connection) === 1,
  remaining: r.remaining === null ? null : Number(r.remaining),
  percent: r.percent === null ? null : Number(r.percent),
  message: r.message,
  createdAt: Number(r.created_at),
});

export function faultRuleRepo(db: Db): FaultRuleRepo {
  return {
    async insert(rule) {
      await db
        .insertInto('fault_rules')
        .values({
          id: rule.id,
          account_id: rule.accountId,
          target: rule.target,
          operation: rule.operation,
          path: rule.path,
          body_match: rule.match,
          status: rule.status,
          retry_after: rule.retryAfter,
          latency_ms: rule.latencyMs,
          drop_connection: rule.drop ? 1 : 0,
          remaining: rule.remaining,
          percent: rule.percent,
          message: rule.message,
          created_at: rule.createdAt,
        })
        .execute();
    },
    async list(accountId, target) {
      let q = db
        .selectFrom('fault_rules')
        .selectAll()
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]));
      if (target) q = q.where('target', '=', target);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return rows.map(toRule);
    },
    async take(accountId, id) {
      const row = await db
        .updateTable('fault_rules')
        .set((eb) => ({ remaining: eb('remaining', '-', 1) }))
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('remaining', '>', 0)
        .returning('remaining')
        .executeTakeFirst();
      if (row) {
        if (Number(row.remaining) <= 0) await db.deleteFrom('fault_rules').where('id', '=', id).where('remaining', '<=', 0).execute();
        return true;
      }
      // A rule without a count is taken as long as it exists.
      const open = await db.selectFrom('fault_rules').select('id').where('account_id', '=', accountId).where('id', '=', id).where('remaining', 'is', null).executeTakeFirst();
      return open !== undefined;
    },
    async clear(accountId, id) {
      let active = db
        .deleteFrom('fault_rules')
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]));
      let spent = db.deleteFrom('fault_rules').where('account_id', '=', accountId);
      if (id !== undefined) {
        // Ids are GUIDs, which clients may send in upper case; ours are stored lower-case.
        active = active.where('id', '=', idKey(id));
        spent = spent.where('id', '=', idKey(id));
      }
      const r = await active.executeTakeFirst();
      await spent.execute();
      return Number(r.numDeletedRows);
    },
  };
}
