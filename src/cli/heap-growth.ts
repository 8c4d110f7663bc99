/**
 * How far V8 lets the server's heaps grow between full garbage collections (issue 11: peak RSS
 * under 250 MB).
 *
 * V8 sets each heap's next full-collection limit at what the last collection kept times a growing
 * factor. It chooses the factor from how fast the program allocates against how fast it collects,
 * between 1.1 and a maximum that depends on the heap's size limit: 4 for the event loop's heap on a
 * machine with gigabytes of memory, and 4 whenever it has no measurements yet (a process just
 * started). After one such step the event loop's heap, which keeps about 25–30 MB alive under load,
 * let garbage pile up to 100 MB before its next full collection: 135 MB of heap and 305 MB RSS in a
 * `Retrieve` round that otherwise ran at 200–220 MB (docs/performance.md, twenty-fourth session).
 * Once V8 has measured a while, its limits sat 10–20 MB above the live size (full collections at
 * 37–47 MB, 27–32 kept), so the step comes and goes with timing (4 of 13 servers measured rose
 * to 265–308 MB). It was one cause of the bench's peaks over 250 MB; the other, RSS that rose
 * under `retrieve-1m` and stayed in the C heap, was the journal's body buffers (now pooled chunks:
 * journal/entry.ts).
 *
 * A fixed factor of 1.3 (`--heap-growing-percent=30`: the maximum V8 itself allows a heap whose size
 * limit is at its smallest) rules the step out; with V8's minimum distance between limits, it gives
 * limits close to those V8 chose under steady load.
 *
 * The flag is process-wide: it applies to the event loop's heap and to every worker thread's (the
 * SQLite writer's, the checkpointer's). V8 reads it each time it sets a limit
 * (`MemoryController::GrowingFactor`), so setting it at run time works; Node keeps V8's flags
 * writable for `v8.setFlagsFromString`.
 */
import v8 from 'node:v8';

/** V8's flag, as `node --heap-growing-percent=N` also sets it: the factor is 1 + N/100. */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Sets `--heap-growing-percent=HEAP_GROWING_PERCENT` for this process, unless node was started with
 * a `--heap-growing-percent` of its own (in `execArgv`, `node --heap-growing-percent=0 …` restores
 * V8's own choice): that one is kept. Returns the flag set, or null when it was left alone. Call it
 * once, before the server starts; it is for the `serve` command only, not for applications that
 * embed leadtrail, whose process is theirs to tune.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): string | null {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return null;
  const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  v8.setFlagsFromString(flag);
  return flag;
}
