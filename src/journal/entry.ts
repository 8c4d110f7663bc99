/**
 * A journal entry built from a call as it was made (issue 15): what the HTTP hook hands over once a
 * call is answered (`JournalCall`: the URL, the key values, the bodies as sent) becomes the entry
 * that is stored (`buildEntry`), with every secret masked and the bodies capped. The hook does none
 * of this work: the recorder does it at the flush, for the whole batch (recorder.ts).
 *
 * Bodies lie as UTF-8 in chunks of shared memory (`BodyPacker`, `ChunkPool`), packed as they are
 * recorded, and SQLite's writer thread reads them in place; a body that masking changes at the flush
 * goes to the store as text. (A body over the cap is masked and cut as it is recorded: recorder.ts.)
 */
import { bodyBytes, type JournalBodyRef, type JournalRepo, type NewJournalEntry } from '../storage/store.js';
import { cap, maskedValues, maskLiterals, maskRepeats, maskSemicolonParameters, redactBody, redactQuery, secretValues, storable } from './redact.js';

/** A call to record, as made: nothing in it is masked yet (but bodies over the cap: `final`). */
export interface JournalCall {
  /** The call's request id: the entry's id. */
  id: string;
  accountId: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
  method: string;
  /** The URL as sent: path and query. */
  url: string;
  /** The call's key values, from its query and headers: masked wherever they appear. */
  keys: string[];
  /** The request body as sent (decoded text, UTF-8 in the batch's bytes); null when none or not kept. */
  requestBody: JournalBodyRef | null;
  /** The request body's size in bytes as sent; null: the size of `requestBody`, or none. */
  requestSize: number | null;
  responseBody: JournalBodyRef | null;
  /** The answer's size in bytes; null: the size of `responseBody`, or none. */
  responseSize: number | null;
  /**
   * Bodies already as the entry keeps them (masked and cut when recorded: over the cap), which the
   * flush leaves as they are: 1 the request's, 2 the answer's. Optional: none.
   */
  final?: number;
  status: number;
  latencyMs: number;
  /** What the call touched (links.ts), as found: cut to a sane length when built. */
  leadId: string | null;
  activityId: string | null;
  requestId: string | null;
}

/** One chunk of body memory: what a batch's bodies are packed into, a chunk at a time. */
export const CHUNK_BYTES = 1 << 20;
/** Chunks kept for the next batches once their batch is written (the rest are left to the collector). */
export const POOL_CHUNKS = 16;

/**
 * Chunks of shared memory (SharedArrayBuffer, CHUNK_BYTES each), given back once their batch is
 * written and taken again by a later one: a steady load allocates none. The thread a batch is sent
 * to reads them in place (structured clone shares them).
 *
 * Before, each batch packed into one buffer that doubled as bodies came in while a flush waited
 * for the writer (to 8 MB under `Retrieve` load) and was replaced by a small one after its flush:
 * 85 buffers and 220 MB of them in 30 s, each malloc'ed, copied and freed only once both threads had
 * collected it, and the event loop's C heap kept 30–40 MB of them (docs/performance.md).
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Chunks allocated so far (for tests and diagnostics). */
  allocated = 0;

  /** A chunk of CHUNK_BYTES: one given back, or a new one. */
  take(): Buffer {
    const c = this.free.pop();
    if (c) return c;
    this.allocated += 1;
    return Buffer.from(new SharedArrayBuffer(CHUNK_BYTES));
  }

  /** Gives `chunks` back for reuse: only chunks of CHUNK_BYTES, at most POOL_CHUNKS kept. */
  give(chunks: readonly Buffer[]): void {
    for (const c of chunks) if (c.length === CHUNK_BYTES && this.free.length < POOL_CHUNKS) this.free.push(c);
  }
}

/**
 * Texts packed as UTF-8 into chunks of shared memory taken from a pool, back to back within a
 * chunk; a text that does not fit in what is left of the chunk starts a new one, and a text larger
 * than a chunk gets a buffer of its own, of its size. Where a text lies is a JournalBodyRef:
 * [chunk, offset, length].
 */
export class BodyPacker {
  /** Bytes packed, over all chunks. */
  used = 0;
  private readonly chunks: Buffer[] = [];
  /** Bytes used in each chunk. */
  private readonly fill: number[] = [];
  /** The chunk being filled: its index in `chunks`, or -1. */
  private open = -1;
  constructor(private readonly pool: ChunkPool) {}

  /** `text` appended as UTF-8; where it lies. */
  pack(text: string): JournalBodyRef {
    const i = this.roomFor(text);
    const start = this.fill[i];
    const written = this.chunks[i].write(text, start, 'utf8');
    this.fill[i] = start + written;
    this.used += written;
    return [i, start, written];
  }

  /** The index of a chunk with room for `text`'s UTF-8. */
  private roomFor(text: string): number {
    const o = this.open;
    if (o >= 0) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: when that fits, no need to count.
      const left = CHUNK_BYTES - this.fill[o];
      if (text.length * 3 <= left || Buffer.byteLength(text) <= left) return o;
    }
    const size = text.length * 3 <= CHUNK_BYTES ? 0 : Buffer.byteLength(text);
    if (size > CHUNK_BYTES) {
      // Larger than a chunk (a body cap over 1 MB): a buffer of its own, not pooled, and the open chunk stays open.
      this.chunks.push(Buffer.from(new SharedArrayBuffer(size)));
      this.fill.push(0);
      return this.chunks.length - 1;
    }
    this.chunks.push(this.pool.take());
    this.fill.push(0);
    return (this.open = this.chunks.length - 1);
  }

  /** The chunks' packed bytes, in place (no copy), indexed as the references made by `pack`. */
  views(): Uint8Array[] {
    return this.chunks.map((c, i) => new Uint8Array(c.buffer, c.byteOffset, this.fill[i]));
  }

  /** The chunks go back to the pool: only once nothing reads the batch's bodies any more. */
  release(): void {
    this.pool.give(this.chunks);
    this.chunks.length = 0;
    this.fill.length = 0;
    this.open = -1;
    this.used = 0;
  }
}

/** An id as a link: ids come from what the caller sent, so they are cut to a sane length and made storable. */
const link = (v: string | null): string | null => (v ? storable(v.slice(0, 200)) : null);

/**
 * What the journal keeps of a body's `text`: masked whole (the call's `secrets` and secret-named
 * properties), made storable, then cut to `maxBodyBytes` UTF-8 bytes. Masking first: cutting
 * first let a long secret-named value, or a copy of a key split by the cut, slip into what is kept
 * once masking had shortened the text before it. Applied twice, it gives what it gave once.
 * `taken` and `repeats` are redactBody's: it receives the values masked by name; `repeats`, values
 * masked elsewhere in the entry, are masked here too where they stand whole.
 */
export function keptBody(text: string, secrets: string[], maxBodyBytes: number, taken?: string[], repeats?: readonly string[]): string {
  // Made storable before the cut: NUL becomes U+FFFD, three bytes, which after the cut could take
  // the text past the cap (found by a fresh-eyes run).
  const masked = storable(redactBody(text, secrets, taken, repeats));
  // Its first maxBodyBytes UTF-16 units hold at least maxBodyBytes bytes, so cutting to them first
  // changes nothing but cap's work.
  return cap(masked.length > maxBodyBytes ? masked.slice(0, maxBodyBytes) : masked, maxBodyBytes).text;
}

/**
 * The entry to store for `call`, whose bodies lie in `chunks` (BodyPacker.views). Nothing of the call's keys is kept:
 * the query is redacted, and the key values are masked wherever else they appear (redact.ts). A
 * body is masked whole, then cut to `maxBodyBytes` (keptBody; the entry keeps its full size). A
 * body that masking, the cut and the NUL rule leave as it is stays a reference into `chunks`; one
 * they change is given as text. Throws RangeError when a body reference is outside `chunks`.
 */
export function buildEntry(call: JournalCall, chunks: readonly Uint8Array[], maxBodyBytes: number): NewJournalEntry {
  const secrets = secretValues(call.keys);
  // Values the request body's masking took out: masked in the answer, path and query too where they
  // stand whole (an error that quotes a masked value must not give it back).
  const masked: string[] = [];
  let repeats: string[] = [];
  const body = (ref: JournalBodyRef | null, size: number | null, final: boolean): [JournalBodyRef | string | null, number | null] => {
    if (ref === null) return [null, size || null];
    const whole = size ?? ref[2];
    if (maxBodyBytes === 0) return [null, whole];
    if (final) return [ref, whole];
    const text = bodyBytes(chunks, ref).toString('utf8');
    const kept = keptBody(text, secrets, maxBodyBytes, masked, repeats);
    // Changed text goes as text, not packed again: packed again, it grew the batch's buffer past
    // what is kept between flushes, and the buffers given up at every flush took the peak RSS to
    // 800 MB under `Retrieve` load (docs/performance.md, twenty-third session).
    return [kept === text ? ref : kept, whole];
  };
  const final = call.final ?? 0;
  const [requestBody, requestSize] = body(call.requestBody, call.requestSize, (final & 1) !== 0);
  if (masked.length > 0) repeats = maskedValues(masked);
  const [responseBody, responseSize] = body(call.responseBody, call.responseSize, (final & 2) !== 0);
  const qi = call.url.indexOf('?');
  return {
    id: call.id,
    accountId: call.accountId,
    at: call.at,
    method: call.method,
    path: storable(maskRepeats(maskSemicolonParameters(maskLiterals(qi < 0 ? call.url : call.url.slice(0, qi), secrets), 'path'), repeats)),
    query: qi < 0 ? '' : storable(maskRepeats(redactQuery(call.url.slice(qi + 1), secrets), repeats)),
    status: call.status,
    latencyMs: call.latencyMs,
    requestBody,
    requestSize,
    responseBody,
    responseSize,
    leadId: link(call.leadId),
    activityId: link(call.activityId),
    requestId: link(call.requestId),
  };
}

/** The name `storeCalls` runs under on SQLite's writer thread (wire/thread-operations.ts; `Store.operate`). */
export const STORE_CALLS = 'journal.store';

/** What `storeCalls` takes: a batch of calls as recorded, the chunks their bodies lie in, the body cap. */
export interface StoreCallsInput {
  calls: JournalCall[];
  chunks: readonly Uint8Array[];
  /** Bytes of each body kept (LEADTRAIL_JOURNAL_MAX_BODY_BYTES); 0 keeps none. */
  maxBodyBytes: number;
}

/** What `storeCalls` did: the ids of calls whose entry could not be built (not stored), each with why. */
export interface StoreCallsResult {
  unbuilt: { id: string; error: string }[];
}

/**
 * Builds the entries of `input.calls` (`buildEntry`) and stores them with one `insertMany`, in the
 * caller's transaction. On SQLite the recorder has its writer thread run this (`Store.operate`,
 * named STORE_CALLS): the masking then runs on that thread, which a read leaves mostly idle, instead
 * of on the event loop, which reads keep busy (docs/performance.md, twenty-ninth session). A call
 * whose entry cannot be built (a body reference outside `chunks`: a fault in the packing) is left
 * out and reported; the others are stored. Safe to run again (the write pipeline may): building is
 * pure, and the insert is the transaction's.
 */
export async function storeCalls(journal: Pick<JournalRepo, 'insertMany'>, input: StoreCallsInput): Promise<StoreCallsResult> {
  const entries: NewJournalEntry[] = [];
  const unbuilt: StoreCallsResult['unbuilt'] = [];
  for (const c of input.calls) {
    try {
      entries.push(buildEntry(c, input.chunks, input.maxBodyBytes));
    } catch (err) {
      unbuilt.push({ id: c.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  if (entries.length > 0) await journal.insertMany(entries, input.chunks);
  return { unbuilt };
}
