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
import type { RequestKind } from '../domain/types.js';
// Apply steps only: this module must not load the endpoint schemas (operation-apply.ts).
import { APPLY, applyOperation, applyRead, LeaseLost, type OperationInput } from './operation-apply.js';
import { STORE_CALLS, storeCalls, type StoreCallsInput } from '../journal/entry.js';

/** The Ctx an operation runs with on the writer thread: the caller's time, fresh version 7 ids. */
function ctxOf(call: CallContext): Ctx {
  return { now: () => call.now, newId: () => uuidv7(call.now), userId: call.userId };
}

/** What `request.apply` takes: the claimed request, the worker that holds it, and what its operation read of it (operations.ts `readRequest`). */
export interface ApplyInput {
  request: AsyncRequest;
  workerId: string;
  read: unknown;
}

/** The operations with a sync and an async door (one apply step each), by kind: sent with what their read step made (operations.ts `runOperation`). */
const KINDS = Object.keys(APPLY) as RequestKind[];

export const threadOperations: Record<string, NamedOperation> = {
  ...Object.fromEntries(KINDS.map((kind) => [kind, (tx: Repos, call: CallContext, input: unknown) => applyOperation(kind, tx, ctxOf(call), input as OperationInput)])),
  /** The async worker's application of one request whose body and query it read (queue/worker.ts). */
  'request.apply': (tx, call, input) => {
    const { request, workerId, read } = input as ApplyInput;
    return applyRead(tx, ctxOf(call), request, workerId, read);
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
