// Cold start of a plain-node program on the compiled package: from process start to the first
// result of `map` (or, with the argument `apply`, of `apply`) on a pool of 2 workers. Prints
// { ms } where ms is performance.now() when the result is in: ms since the process's time origin.
//
//   node coldStart.mjs map|apply
import { Pool } from 'fanout';
import { addOne } from './tasks.mjs';

const pool = new Pool(2);
const result = process.argv[2] === 'apply' ? [await pool.apply(addOne, [1])] : await pool.map(addOne, [1, 2]);
const ms = performance.now();
if (result.join() !== (process.argv[2] === 'apply' ? '2' : '2,3')) throw new Error(`coldStart.mjs: wrong result ${result}`);
console.log(JSON.stringify({ ms }));
await pool.terminate();
