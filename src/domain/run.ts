/**
 * Running a write operation, wherever it runs (a sync route, the async worker, a bulk row): in one
 * transaction, and once more if it lost a race. Two requests for the same new lead can both miss it
 * (PostgreSQL runs them side by side; a group commit can too); the later insert then hits the unique
 * key and its transaction is void. Run again, it finds the committed lead and updates it. A genuine
 * duplicate (the value belongs to another lead) fails the same way twice, with LeadSquared's message.
 */
import { isMxError } from './errors.js';
import type { Repos, Store } from '../storage/store.js';

/** True for the error a lost race for a unique lead value ends with. */
export const isLostRace = (e: unknown): boolean => isMxError(e) && e.type === 'MXDuplicateEntryException';

/** Runs `fn` in a transaction of `store`; on MXDuplicateEntryException, once more in a new one. */
export async function runWrite<T>(store: Pick<Store, 'transaction'>, fn: (tx: Repos) => Promise<T>): Promise<T> {
  try {
    return await store.transaction(fn);
  } catch (e) {
    if (isLostRace(e)) return store.transaction(fn);
    throw e;
  }
}
