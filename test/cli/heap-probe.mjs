// Preloaded into a `leadtrail serve` process by test/cli/heap-growth.test.ts (node --import): on
// SIGUSR2 it runs an allocation pattern on the server's event loop (many short-lived objects, a
// window of longer-lived ones that get promoted, as requests in flight are) and prints the old
// generation's peak size in bytes to stderr as `heap-probe old-space-peak=N`.
import v8 from 'node:v8';

process.on('SIGUSR2', () => {
  const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
  const N = 300_000;
  const ring = new Array(N);
  let peak = 0;
  for (let i = 0; i < 1.2e7; i++) {
    ring[i % N] = { a: i, b: 'x' + i };
    if (i % 50_000 === 0) peak = Math.max(peak, old());
  }
  process.stderr.write(`heap-probe old-space-peak=${peak}\n`);
});
