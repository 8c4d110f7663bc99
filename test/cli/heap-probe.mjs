// The allocation pattern of test/cli/heap-growth.test.ts: many short-lived objects and a window of
// longer-lived ones that get promoted, as requests in flight are. `peakOldSpace()` runs it and gives
// the old generation's peak size in bytes. Preloaded into a `leadtrail serve` process (node
// --import), it runs the pattern on SIGUSR2 on the server's event loop and prints the peak to stderr
// as `heap-probe old-space-peak=N`.
import v8 from 'node:v8';

/** Peak size of the old generation (bytes) while allocating 12 million objects, 300,000 of them alive at a time. */
export function peakOldSpace() {
  const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
  const N = 300_000;
  const ring = new Array(N);
  let peak = 0;
  for (let i = 0; i < 1.2e7; i++) {
    ring[i % N] = { a: i, b: 'x' + i };
    if (i % 50_000 === 0) peak = Math.max(peak, old());
  }
  return peak;
}

process.on('SIGUSR2', () => process.stderr.write(`heap-probe old-space-peak=${peakOldSpace()}\n`));
