/**
 * ReadTurnOptions, apart from read-turns.ts: `start()`'s options (src/main.ts, exported from the
 * package root) name it, and read-turns.ts's declarations name better-sqlite3's types, which come
 * from a devDependency (@types/better-sqlite3). A project that installs leadtrail and type-checks
 * without `skipLibCheck` then needs no such package (test/cli/packed-types.test.ts).
 */

/** How long a shared read transaction may serve, and the clock and scheduler it uses (tests set them). */
export interface ReadTurnOptions {
  /** A statement never joins a read transaction begun longer ago than this, in ms (default 1). */
  maxAgeMs?: number;
  /** Milliseconds, monotonic (default `performance.now`). */
  now?: () => number;
  /** Runs the scheduled end (default `setImmediate`: the event loop's next check phase). */
  schedule?: (end: () => void) => void;
  /**
   * The clock a store's close() settle counts by, in ms (default `performance.now`; settleSince).
   * Apart from `now`, so that a test that freezes the turns' clock still closes its stores.
   */
  settleNow?: () => number;
}
