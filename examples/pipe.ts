/**
 * Python's Pipe example: the child sends a list through its end of a pipe.
 *
 *   npx tsx examples/pipe.ts   →   [ 42, null, 'hello' ]
 */
import { Pipe, Process } from 'fanout';
import { sendList } from './processTasks.js';

const [parentConn, childConn] = Pipe();
const p = new Process({ target: sendList, args: [childConn] });
p.start();
console.log(await parentConn.recv()); // prints "[ 42, null, 'hello' ]"
await p.join();
