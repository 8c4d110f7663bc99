/**
 * An operations module for the SQLite writer thread (src/storage/sqlite/writer-thread.ts) whose one
 * operation, `crash`, answers and then throws outside any promise: the thread dies of an uncaught
 * exception, as it would of a bug. Plain JavaScript: the thread loads it by URL, without TypeScript.
 */
export const threadOperations = {
  crash: async () => {
    setImmediate(() => {
      throw new Error('boom: the writer thread crashed');
    });
    return 'answered';
  },
};
