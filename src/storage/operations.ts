/**
 * Named operations (`Store.operate`): writes that a store may run away from the caller, on a thread
 * that owns the writer connection (SQLite's writer thread). Only plain data crosses to them: the
 * operation's input and result are structured-cloned, and errors travel as `EncodedError`s that the
 * module's `ErrorCodec` makes into their own classes again. Engine-neutral: the layers above name
 * operations and encode their errors here, without knowing where they run.
 */
import type { CallContext, Repos } from './store.js';

/** A named operation, run inside a transaction where the store runs its writes (`Store.operate`): `input` as the caller sent it. */
export type NamedOperation = (tx: Repos, call: CallContext, input: unknown) => Promise<unknown>;

/** An error as plain data. `kind` says how to make it again; `data` holds what its class needs. */
export interface EncodedError {
  kind: string;
  name: string;
  message: string;
  /** Node's and SQLite's error codes (`SQLITE_BUSY`, `ENOSPC`), kept for whoever tests them. */
  code?: string;
  data?: unknown;
}

/** Encodes the errors a module's operations throw and decodes them again; null: not one of its own. */
export interface ErrorCodec {
  encode(e: unknown): EncodedError | null;
  decode(e: EncodedError): Error | null;
}

/**
 * The module a store whose writes run elsewhere loads by URL (SQLite's writer thread, sqlite/writer-thread.ts): the operations it can
 * run by name, and the codec for their errors. The event loop imports the same module for the codec.
 */
export interface OperationsModule {
  threadOperations: Record<string, NamedOperation>;
  errorCodec?: ErrorCodec;
}

/**
 * Rejects `Store.operate` (and a write) whose input could not be sent to the writer thread at all:
 * structured clone refuses it (an array nested thousands deep, which a client can send as JSON).
 * Nothing ran; the caller may run the operation with `transaction` instead, where the input stays
 * on the event loop.
 */
export class UnsendableInput extends Error {
  constructor(readonly reason: unknown) {
    super(`the input could not be sent to the SQLite writer thread: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = 'UnsendableInput';
  }
}

