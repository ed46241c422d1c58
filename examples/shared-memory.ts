/**
 * Python's shared-memory example: a process writes a shared double and negates a shared array,
 * and the parent sees both changes.
 *
 *   npx tsx examples/shared-memory.ts   →   3.1415927
 *                                           [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]
 *
 * Python's `Array` is `SharedArray` here (also exported as `Array`, which would shadow the global).
 */
import { Process, SharedArray, Value } from 'fanout';
import { f } from './sharedMemoryTasks.js';

const num = new Value('d', 0.0);
const arr = new SharedArray('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

const p = new Process({ target: f, args: [num, arr] });
p.start();
await p.join();

console.log(await num.get()); // prints "3.1415927"
console.log(`[${(await arr.toArray()).join(', ')}]`); // prints "[0, -1, -2, ..., -9]"
