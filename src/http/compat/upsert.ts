/**
 * Lead upserts (find-or-create by a unique key) run in a transaction, and once more if they lost a
 * race. On PostgreSQL two requests for the same new lead can both miss it; the later insert then
 * hits the unique key and its transaction is void. Run again, it finds the committed lead and
 * updates it. A genuine duplicate (the value belongs to another lead) fails the same way twice.
 */
import { isMxError } from '../../domain/errors.js';
import type { Services } from '../../services.js';
import type { Repos } from '../../storage/store.js';

export async function upsertTransaction<T>(s: Services, fn: (tx: Repos) => Promise<T>): Promise<T> {
  try {
    return await s.store.transaction(fn);
  } catch (e) {
    if (isMxError(e) && e.type === 'MXDuplicateEntryException') return s.store.transaction(fn);
    throw e;
  }
}
