/**
 * Python's shared-memory example: a worker writes a shared double and negates a shared array,
 * and the parent sees both changes.
 *
 *   npx tsx examples/shared-memory.ts   →   3.1415927
 *                                           [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]
 *
 * The slides run `f` in a `Process`; this version runs it as a Pool task, which shares the
 * Value and the Array the same way (they cross to the worker as handles to the same memory).
 * Python's `Array` is `SharedArray` here (also exported as `Array`, which would shadow the global).
 */
import { Pool, SharedArray, Value } from 'fanout';
import { f } from './sharedMemoryTasks.js';

const num = new Value('d', 0.0);
const arr = new SharedArray('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

await using pool = new Pool(1);
await pool.apply(f, [num, arr]);

console.log(await num.get()); // prints "3.1415927"
console.log(`[${(await arr.toArray()).join(', ')}]`); // prints "[0, -1, -2, ..., -9]"
