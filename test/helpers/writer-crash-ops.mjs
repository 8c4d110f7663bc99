/**
 * An operations module for the SQLite writer thread (src/storage/sqlite/writer-thread.ts) whose one
 * operation, `crash`, never answers and throws outside any promise: the thread dies of an uncaught
 * exception, as it would of a bug, with the operation still in flight. (An operation that answered
 * first would race its answer against the death: Node delivers the two on different ports.)
 * Plain JavaScript: the thread loads it by URL, without TypeScript.
 */
export const threadOperations = {
  crash: () => {
    setImmediate(() => {
      throw new Error('boom: the writer thread crashed');
    });
    return new Promise(() => {});
  },
};
