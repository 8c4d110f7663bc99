/**
 * leadtrail's own writer-thread operations (built, dist/wire/thread-operations.js) plus `crash`
 * (writer-crash-ops.mjs): a server started with this module serves as usual until a test calls
 * `crash`, which kills its writer thread. Plain JavaScript: the thread loads it by URL.
 */
import { threadOperations as own } from '../../dist/wire/thread-operations.js';
import { threadOperations as crashing } from './writer-crash-ops.mjs';

export const threadOperations = { ...own, ...crashing };
