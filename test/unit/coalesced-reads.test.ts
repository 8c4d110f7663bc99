/**
 * Token reads shared by callers that ask together (src/storage/sql/ref-cache.ts, coalescedReads):
 * never an answer from a read that began before the caller asked, so a key revoked elsewhere is
 * refused by every request that arrives after the revocation committed.
 */
import { describe, expect, it } from 'vitest';
import { coalescedReads } from '../../src/storage/sql/ref-cache.js';

/** A read whose answer is the database's version when it began, finished by hand. */
function database() {
  let version = 1;
  const inFlight: { began: number; finish: () => void }[] = [];
  const read = () =>
    new Promise<string>((resolve) => {
      const began = version;
      inFlight.push({ began, finish: () => resolve(String(began)) });
    });
  return {
    read,
    inFlight,
    commit: () => (version += 1),
    finishAll: async () => {
      for (const r of inFlight.splice(0)) r.finish();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

describe('coalesced token reads', () => {
  it('callers asking while a read is in flight share the next one, which begins after them', async () => {
    const db = database();
    const token = coalescedReads(db.read);
    const first = token();
    expect(db.inFlight).toHaveLength(1);
    db.commit(); // a key revoked elsewhere, after the first read began
    const later = [token(), token(), token()];
    // They wait: the read in flight began before the change.
    expect(db.inFlight).toHaveLength(1);
    await db.finishAll();
    expect(await first).toBe('1');
    // One read for all three, begun after they asked: it sees the change.
    expect(db.inFlight).toHaveLength(1);
    await db.finishAll();
    expect(await Promise.all(later)).toEqual(['2', '2', '2']);
  });

  it('a caller with no read in flight reads at once; a failed read fails its callers only', async () => {
    let fail = true;
    const token = coalescedReads(() => (fail ? Promise.reject(new Error('connection lost')) : Promise.resolve('7')));
    await expect(token()).rejects.toThrow('connection lost');
    fail = false;
    expect(await token()).toBe('7');
    expect(await Promise.all([token(), token()])).toEqual(['7', '7']);
  });
});
