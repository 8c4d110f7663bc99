/**
 * A journal entry built from a call as it was made (issue 15): what the HTTP hook hands over once a
 * call is answered (`JournalCall`: the URL, the key values, the bodies as sent) becomes the entry
 * that is stored (`buildEntry`), with every secret masked and the bodies capped. The hook does none
 * of this work: the recorder does it at the flush, for the whole batch (recorder.ts).
 *
 * Bodies lie as UTF-8 in one buffer of shared memory per batch (`BodyPacker`), packed as they are
 * recorded, and SQLite's writer thread reads them in place; a body that masking changes at the flush
 * goes to the store as text. (A body over the cap is masked and cut as it is recorded: recorder.ts.)
 */
import type { JournalBodyRef, NewJournalEntry } from '../storage/store.js';
import { cap, maskLiterals, redactBody, redactQuery, secretValues, storable } from './redact.js';

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

/** The body buffer's size to start with, and what it shrinks back to after a batch of large bodies. */
export const BYTES_START = 256 << 10;

/** `size` bytes of shared memory: read in place by the thread the batch is sent to (structured clone shares it). */
export const sharedBytes = (size: number): Buffer => Buffer.from(new SharedArrayBuffer(size));

/** Texts packed back to back as UTF-8 into one growing buffer of shared memory: `bytes[0, used)`. */
export class BodyPacker {
  used = 0;
  constructor(public bytes: Buffer = sharedBytes(BYTES_START)) {}

  /** `text` appended as UTF-8; where it lies. */
  pack(text: string): JournalBodyRef {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, so the write is never cut; counted
    // exactly only when that bound does not fit (a large body would otherwise take three times its room).
    let room = this.used + text.length * 3;
    if (room > this.bytes.length) room = this.used + Buffer.byteLength(text);
    if (room > this.bytes.length) {
      const grown = sharedBytes(Math.max(room, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    const start = this.used;
    this.used += this.bytes.write(text, start, 'utf8');
    return [start, this.used - start];
  }

  /** The bytes packed so far, in place (no copy): valid until the next `pack`, which may move them. */
  view(): Uint8Array {
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.used);
  }
}

/** The text a reference names in `bytes`. Throws RangeError for a reference outside them. */
function unpack(bytes: Buffer, used: number, ref: JournalBodyRef): string {
  const [offset, length] = ref;
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > used) {
    throw new RangeError(`journal body [${offset}, ${length}] is outside the batch's ${used} bytes`);
  }
  return bytes.toString('utf8', offset, offset + length);
}

/** An id as a link: ids come from what the caller sent, so they are cut to a sane length and made storable. */
const link = (v: string | null): string | null => (v ? storable(v.slice(0, 200)) : null);

/**
 * What the journal keeps of a body's `text`: masked whole (the call's `secrets` and secret-named
 * properties), made storable, then cut to `maxBodyBytes` UTF-8 bytes. Masking first: cutting
 * first let a long secret-named value, or a copy of a key split by the cut, slip into what is kept
 * once masking had shortened the text before it. Applied twice, it gives what it gave once.
 */
export function keptBody(text: string, secrets: string[], maxBodyBytes: number): string {
  // Made storable before the cut: NUL becomes U+FFFD, three bytes, which after the cut could take
  // the text past the cap (found by a fresh-eyes run).
  const masked = storable(redactBody(text, secrets));
  // Its first maxBodyBytes UTF-16 units hold at least maxBodyBytes bytes, so cutting to them first
  // changes nothing but cap's work.
  return cap(masked.length > maxBodyBytes ? masked.slice(0, maxBodyBytes) : masked, maxBodyBytes).text;
}

/**
 * The entry to store for `call`, whose bodies lie in `packed`. Nothing of the call's keys is kept:
 * the query is redacted, and the key values are masked wherever else they appear (redact.ts). A
 * body is masked whole, then cut to `maxBodyBytes` (keptBody; the entry keeps its full size). A
 * body that masking, the cut and the NUL rule leave as it is stays a reference into `packed`; one
 * they change is given as text. Throws RangeError when a body reference is outside `packed`.
 */
export function buildEntry(call: JournalCall, packed: BodyPacker, maxBodyBytes: number): NewJournalEntry {
  const secrets = secretValues(call.keys);
  const body = (ref: JournalBodyRef | null, size: number | null, final: boolean): [JournalBodyRef | string | null, number | null] => {
    if (ref === null) return [null, size || null];
    const whole = size ?? ref[1];
    if (maxBodyBytes === 0) return [null, whole];
    if (final) return [ref, whole];
    const text = unpack(packed.bytes, packed.used, ref);
    const kept = keptBody(text, secrets, maxBodyBytes);
    // Changed text goes as text, not packed again: packed again, it grew the batch's buffer past
    // what is kept between flushes, and the buffers given up at every flush took the peak RSS to
    // 800 MB under `Retrieve` load (docs/performance.md, twenty-third session).
    return [kept === text ? ref : kept, whole];
  };
  const final = call.final ?? 0;
  const [requestBody, requestSize] = body(call.requestBody, call.requestSize, (final & 1) !== 0);
  const [responseBody, responseSize] = body(call.responseBody, call.responseSize, (final & 2) !== 0);
  const qi = call.url.indexOf('?');
  return {
    id: call.id,
    accountId: call.accountId,
    at: call.at,
    method: call.method,
    path: storable(maskLiterals(qi < 0 ? call.url : call.url.slice(0, qi), secrets)),
    query: qi < 0 ? '' : storable(redactQuery(call.url.slice(qi + 1), secrets)),
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
