/**
 * Python's Queue example: the child puts a list on a queue the parent reads.
 *
 *   npx tsx examples/queue.ts   →   [ 42, null, 'hello' ]
 */
import { Process, Queue } from 'fanout';
import { putList } from './processTasks.js';

const q = new Queue();
const p = new Process({ target: putList, args: [q] });
p.start();
console.log(await q.get()); // prints "[ 42, null, 'hello' ]"
await p.join();
