/**
 * An operations module for the SQLite writer thread (src/storage/sqlite/writer-thread.ts): `echo`
 * answers with its input, and `unsendable` with a value structured clone refuses (a function), as
 * an operation with a bug might. Plain JavaScript: the thread loads it by URL, without TypeScript.
 */
export const threadOperations = {
  echo: async (_tx, _call, input) => input,
  unsendable: async () => ({ answer: () => 1 }),
};
