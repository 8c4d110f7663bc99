/**
 * The request journal as the console reads it. The journal itself (recording, retention, the
 * `/_leadtrail/journal` API) lives in its own module and repo (`store.journal`); the console only
 * lists and reads entries, through this shape, and shows a notice when the store has no journal.
 */
import type { Store } from '../storage/store.js';

export interface ConsoleJournalEntry {
  id: string;
  seq: number;
  accountId: string;
  /** When the request arrived (epoch ms). */
  at: number;
  method: string;
  path: string;
  /** Query string as sent, without `?`, keys and secrets already replaced by `***`. */
  query: string;
  status: number;
  latencyMs: number;
  requestBody: string | null;
  responseBody: string | null;
  leadId: string | null;
  activityId: string | null;
  requestId: string | null;
}

export interface ConsoleJournalFilter {
  path?: string;
  status?: number;
  leadId?: string;
  from?: number;
  to?: number;
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

export interface JournalReader {
  /** Newest first; with `afterSeq`, oldest first. */
  list(accountId: string, filter: ConsoleJournalFilter): Promise<ConsoleJournalEntry[]>;
  get(accountId: string, id: string): Promise<ConsoleJournalEntry | null>;
}

/** The store's journal, or null on a build without one. */
export function journalOf(store: Store): JournalReader | null {
  const j = (store as unknown as { journal?: JournalReader }).journal;
  return j && typeof j.list === 'function' ? j : null;
}
