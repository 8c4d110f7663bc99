import { randomUUID } from 'node:crypto';

/** Time and id generation, injected so that tests can pin them. */
export interface Ctx {
  now(): number;
  newId(): string;
  /**
   * The user acting: the one whose keys made the call (as `UserByAccessKey.Get` reports it). New
   * leads are owned and created by them, updates are made by them. Absent for the system itself.
   */
  userId?: string | null;
}

/** `ctx` acting as `userId` (one call or one async request). */
export function actingAs(ctx: Ctx, userId: string | null): Ctx {
  return { now: () => ctx.now(), newId: () => ctx.newId(), userId };
}

/**
 * A version 7 UUID (RFC 9562): `tttttttt-tttt-7rrr-vrrr-rrrrrrrrrrrr`, the first 48 bits the time
 * `now` in ms since the epoch, then the version (7), the variant and 74 random bits. Rows made one
 * after another get ids that sort together, so each index on an id grows at its end: with random
 * (version 4) ids every new activity and journal entry changed a page of its own in its id index,
 * and a sync Create wrote 97 WAL pages per commit instead of 55. Still a GUID in LeadSquared's format.
 *
 * Built on node:crypto's randomUUID (its entropy is pooled: about 0.1 µs a call); the `uuid`
 * package's v7 took 5–6 µs a call here, several times per request.
 */
export function uuidv7(now: number = Date.now()): string {
  const r = randomUUID();
  // The 48 bits of `now` as two 24-bit halves, each a small integer: a double's toString(16) walks
  // its digits with fmod, several microseconds a call (callgrind, docs/performance.md).
  if (now >= 0 && now < 2 ** 48 && Number.isInteger(now)) {
    const hi = Math.floor(now / 0x1000000);
    const lo = now - hi * 0x1000000;
    return `${HEX[hi >>> 16]}${HEX[(hi >>> 8) & 255]}${HEX[hi & 255]}${HEX[lo >>> 16]}-${HEX[(lo >>> 8) & 255]}${HEX[lo & 255]}-7${r.slice(15)}`;
  }
  const t = now.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(15)}`;
}

/** Each byte as two lower-case hex digits. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export const systemCtx: Ctx = { now: () => Date.now(), newId: () => uuidv7() };
