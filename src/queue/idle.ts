/**
 * The pause a polling worker takes when it has nothing to do (src/queue/worker.ts,
 * src/webhooks/worker.ts): `sleep(ms)` resolves after `ms` milliseconds, or at once when `poke()`
 * is called (new work committed in this process, or a PostgreSQL NOTIFY from another). A poke while
 * not sleeping does nothing: the worker is busy and will look again before it sleeps.
 */
export function idlePause(): { sleep(ms: number): Promise<void>; poke(): void } {
  let wake: (() => void) | null = null;
  return {
    poke: () => wake?.(),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      }).finally(() => {
        wake = null;
      }),
  };
}
