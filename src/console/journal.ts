/**
 * The request journal as the console reads it: `store.journal` (storage/sql/journal.ts), listed
 * and read per account. Recording, retention and the `/_leadtrail/journal` API live with the
 * journal itself (http/journal-hook.ts, journal/).
 */
import type { JournalEntry, JournalFilter, Store } from '../storage/store.js';

export type ConsoleJournalEntry = JournalEntry;
export type ConsoleJournalFilter = JournalFilter;

export interface JournalReader {
  /** Newest first; with `afterSeq`, oldest first. */
  list(accountId: string, filter: JournalFilter): Promise<JournalEntry[]>;
  get(accountId: string, id: string): Promise<JournalEntry | null>;
}

/** The store's journal. */
export function journalOf(store: Store): JournalReader {
  return store.journal;
}
