/**
 * An operations module for the SQLite writer thread (src/storage/sqlite/writer-thread.ts): `echo`
 * answers with its input, and `unsendable` with a value structured clone refuses (a function), as
 * an operation with a bug might. `activity.create` answers with the input it was sent under the
 * sync `Create`'s name: what the sync door (wire/operations.ts `runOperation`) sends the thread.
 * Plain JavaScript: the thread loads it by URL, without TypeScript.
 */
export const threadOperations = {
  echo: async (_tx, _call, input) => input,
  'activity.create': async (_tx, _call, input) => input,
  unsendable: async () => ({ answer: () => 1 }),
};
