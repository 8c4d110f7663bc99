/**
 * stdout as the destination of JSON log lines, so that logging never stops the server nor its stop.
 *
 * pino's default destination (an asynchronous SonicBoom on fd 1) held every line stdout had not
 * taken in memory without bound, ended the process at the first write that failed otherwise than
 * with EPIPE (a full disk under `> file`: the error is re-emitted with no listener), and at exit
 * wrote what it held synchronously, retrying every 100 ms without end while the write failed:
 * `leadtrail serve` piped into a reader that had stopped reading (a stalled log shipper) finished
 * its stop after SIGTERM and then hung in that loop, its event loop blocked (seen with strace),
 * until a second SIGTERM killed it. sonic-boom's `flushSync` retries every error that is not
 * EAGAIN the same way, with no bound at all.
 *
 * So: at most STDOUT_BUFFER_MAX waits (further lines are dropped and counted), a failed write is
 * not an error of the process (what waits is dropped and counted), and at exit this module writes
 * out what waits itself, for EXIT_FLUSH_MS at most, before pino's own exit hook runs, and leaves
 * that hook nothing to do.
 */
import fs from 'node:fs';
import { pino, type DestinationStream } from 'pino';

/** Longest a process's exit waits for stdout to take the log lines still waiting (ms); the rest is dropped. */
export const EXIT_FLUSH_MS = 2_000;
/**
 * Bytes of log lines held while stdout takes them more slowly than they come (UTF-8, as sonic-boom
 * counts them); a line past it is dropped. Unbounded, a stalled reader grew the heap by the size of
 * the log (67 MB after 4,000 debug-level calls with long URLs).
 */
export const STDOUT_BUFFER_MAX = 16 * 1024 * 1024;

let droppedLines = 0;
/** Log lines this process dropped, STDOUT_BUFFER_MAX of them waiting or their write failed (a count since start). */
export function droppedLogLines(): number {
  return droppedLines;
}

let destination: ReturnType<typeof pino.destination> | null = null;

/**
 * What sonic-boom 4 (utf8 mode, pino's default) has not written yet: not its public API, so read only
 * through `state`, which checks the shape first (the exit test in test/cli/stdout-log.test.ts fails
 * if it no longer matches). `_writingBuf` is the chunk being written: sent to the thread pool,
 * waiting 100 ms to be tried again after EAGAIN, or left by another error (until the error listener
 * below drops it); a string, or a Buffer of what a partial write left.
 */
interface SonicBoomState {
  _bufs: string[];
  _writingBuf: string | Buffer;
  _writing: boolean;
  _len: number;
}

function state(dest: object): SonicBoomState | null {
  const d = dest as Partial<Record<keyof SonicBoomState, unknown>>;
  const ok =
    Array.isArray(d._bufs) &&
    d._bufs.every((b) => typeof b === 'string') &&
    (typeof d._writingBuf === 'string' || Buffer.isBuffer(d._writingBuf)) &&
    typeof d._writing === 'boolean' &&
    typeof d._len === 'number';
  return ok ? (dest as unknown as SonicBoomState) : null;
}

/** Newlines (log lines) in what is waiting. */
function linesIn(s: SonicBoomState): number {
  let n = 0;
  for (const chunk of [s._writingBuf, ...s._bufs]) for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) n += 1;
  return n;
}

/**
 * The process's one JSON destination on stdout, made at first use and shared by every logger of the
 * process (embedded servers, tests), so that one exit hook covers them all.
 */
export function stdoutDestination(): DestinationStream {
  if (destination) return destination;
  // Node makes a pipe or socket on fd 1 non-blocking as it opens process.stdout: a reader that takes
  // nothing then makes a write fail with EAGAIN, instead of holding a thread of the pool (and the
  // exit's writes below) for as long as it stalls. (A terminal stays blocking.)
  void process.stdout;
  // Whether the chunk being written waits to be tried again after EAGAIN (not in the thread pool).
  let waitingAfterEagain = false;
  const dest = pino.destination({
    dest: 1,
    sync: false,
    maxLength: STDOUT_BUFFER_MAX,
    retryEAGAIN: () => {
      waitingAfterEagain = true;
      return true;
    },
  });
  dest.on('write', () => {
    waitingAfterEagain = false;
  });
  dest.on('drop', () => {
    droppedLines += 1;
  });
  // A write that failed otherwise than with EAGAIN: the reader has gone (EPIPE), the disk is full
  // (ENOSPC). Not the process's error (pino re-emitted it with no listener, which ended the
  // process). What was waiting is dropped and counted, so the next line is written afresh: kept,
  // the failed chunk was tried again with each line and, the buffer full, every line was dropped
  // without a write, for good, also once the disk had room again.
  dest.on('error', (e: NodeJS.ErrnoException) => {
    // The reader has gone for good: pino's own listener, before this one, has made `write` a no-op
    // (pino.destination's EPIPE filter), so that from here every line vanished uncounted. Each is
    // counted instead (pino writes one line a call).
    if (e.code === 'EPIPE') {
      dest.write = () => {
        droppedLines += 1;
        return true;
      };
    }
    const s = state(dest);
    if (!s || s._writing) return;
    droppedLines += linesIn(s);
    s._bufs.length = 0;
    s._writingBuf = '';
    s._len = 0;
  });
  // Before pino's hook, registered on the process's `exit` with `on` when the destination was made.
  process.prependListener('exit', () => {
    const s = state(dest);
    if (s) writeOut(s, waitingAfterEagain, Date.now() + EXIT_FLUSH_MS);
    dest.destroy();
  });
  destination = dest;
  return dest;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes what waits to fd 1, synchronously, until `until` (epoch ms) at most; gives up at the first
 * error that is not EAGAIN/EBUSY. The chunk being written is written too when it waits after EAGAIN
 * (`retrying`; if its retry had just been sent to the thread pool, it may come out twice) or after
 * another error; not when it is in the thread pool, where it may have reached stdout already (as
 * sonic-boom's own `flushSync`, which also skipped it after EAGAIN: up to 16 KB of lines lost).
 */
function writeOut(s: SonicBoomState, retrying: boolean, until: number): void {
  const chunks = [...(!s._writing || retrying ? [s._writingBuf] : []), ...s._bufs];
  for (const chunk of chunks) {
    let rest = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(fs.writeSync(1, rest));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'EAGAIN' && code !== 'EBUSY') || Date.now() >= until) return;
        Atomics.wait(pause, 0, 0, 10);
      }
    }
  }
}
