/**
 * Running a write operation, wherever it runs (a sync route, the async worker, a bulk row): in one
 * transaction, and once more if it lost a race. Two requests for the same new lead can both miss it
 * (PostgreSQL runs them side by side; a group commit can too); the later insert then hits the unique
 * key and its transaction is void. Run again, it finds the committed lead and updates it. A genuine
 * duplicate (the value belongs to another lead) fails the same way twice, with LeadSquared's message.
 * Two CreateType calls can likewise take the same next free code; run again, the later one takes
 * the next.
 */
import { isMxError } from './errors.js';
import type { Repos, Store } from '../storage/store.js';

/**
 * True for an error a lost race can end with: a duplicate lead value (the check before the insert
 * may have missed a concurrent lead), or an error marked `raced()` where it was caught (a new
 * activity type's code taken by a concurrent CreateType).
 */
export const isLostRace = (e: unknown): boolean => isMxError(e) && (e.type === 'MXDuplicateEntryException' || e.lostRace);

/** Reruns after a `raced()` error: each rerun loses only to a writer that committed meanwhile, so a handful suffice. */
const MAX_RACED_RERUNS = 10;

/**
 * Runs `fn` in a transaction of `store`. After a duplicate lead value it runs once more (the rerun
 * finds the winner's lead, or fails the same way on a genuine duplicate); after an error marked
 * `raced()` up to MAX_RACED_RERUNS more times. The last error is thrown.
 */
export function runWrite<T>(store: Pick<Store, 'transaction'>, fn: (tx: Repos) => Promise<T>): Promise<T> {
  return rerunLostRaces(() => store.transaction(fn));
}

/**
 * Runs `attempt` (one whole transaction: `store.transaction(…)`, or `store.operate(…)` on the
 * writer thread) again after a lost race, as `runWrite` does. The last error is thrown.
 */
export async function rerunLostRaces<T>(attempt: () => Promise<T>): Promise<T> {
  for (let reruns = 0; ; reruns++) {
    try {
      return await attempt();
    } catch (e) {
      const again = isMxError(e) && (e.lostRace ? reruns < MAX_RACED_RERUNS : e.type === 'MXDuplicateEntryException' && reruns < 1);
      if (!again) throw e;
    }
  }
}
