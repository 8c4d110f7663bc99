/**
 * The operations module of the SQLite writer thread (storage/sqlite/writer-thread.ts loads it by
 * URL; `LEADTRAIL_SQLITE_WRITER=thread`): the operations of operations.ts and the async worker's
 * application of a request, runnable by name from plain data, and the codec that carries their `MxError`s across the thread boundary as the same
 * class, with their LeadSquared type, status, headers and lost-race mark.
 */
import { uuidv7, type Ctx } from '../domain/context.js';
import { MxError, type MxType } from '../domain/errors.js';
import type { CallContext, Repos } from '../storage/store.js';
import type { EncodedError, ErrorCodec, NamedOperation } from '../storage/operations.js';
import type { AsyncRequest } from '../domain/types.js';
import { applyRequest, LeaseLost, OPERATIONS, type OperationInput } from './operations.js';
import { STORE_CALLS, storeCalls, type StoreCallsInput } from '../journal/entry.js';

/** The Ctx an operation runs with on the writer thread: the caller's time, fresh version 7 ids. */
function ctxOf(call: CallContext): Ctx {
  return { now: () => call.now, newId: () => uuidv7(call.now), userId: call.userId };
}

/** What `request.apply` takes: the claimed request, the worker that holds it, and what its operation read of it (operations.ts `readRequest`), if read. */
export interface ApplyInput {
  request: AsyncRequest;
  workerId: string;
  read?: unknown;
}

export const threadOperations: Record<string, NamedOperation> = {
  ...Object.fromEntries(Object.entries(OPERATIONS).map(([kind, op]) => [kind, (tx: Repos, call: CallContext, input: unknown) => op(tx, ctxOf(call), input as OperationInput)])),
  /** The async worker's application of one request (queue/worker.ts). */
  'request.apply': (tx, call, input) => {
    const { request, workerId, read } = input as ApplyInput;
    return applyRequest(tx, ctxOf(call), request, workerId, read);
  },
  /** A batch of the request journal's calls, built into entries and stored here (journal/recorder.ts). */
  [STORE_CALLS]: (tx, _call, input) => storeCalls(tx.journal, input as StoreCallsInput),
};

interface MxData {
  status: number;
  headers: Record<string, string>;
  lostRace: boolean;
}

export const errorCodec: ErrorCodec = {
  encode(e: unknown): EncodedError | null {
    if (e instanceof LeaseLost) return { kind: 'LeaseLost', name: e.name, message: e.message };
    if (!(e instanceof MxError)) return null;
    const data: MxData = { status: e.status, headers: e.headers, lostRace: e.lostRace };
    return { kind: 'MxError', name: e.type, message: e.message, data };
  },
  decode(d: EncodedError): Error | null {
    if (d.kind === 'LeaseLost') return new LeaseLost();
    if (d.kind !== 'MxError') return null;
    const data = d.data as MxData;
    const e = new MxError(d.name as MxType, d.message, data.status, data.headers);
    e.lostRace = data.lostRace;
    return e;
  },
};
