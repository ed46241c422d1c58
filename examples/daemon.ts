/**
 * Python's daemon threads, as processes: the program ends when its non-daemon processes are done;
 * a daemon still running then is stopped abruptly (it never keeps the program alive).
 *
 *   npx tsx examples/daemon.ts
 */
import { Process, Queue } from 'fanout';
import { f, ticker } from './processTasks.js';

const ticks = new Queue<string>();
const daemon = new Process({ target: ticker, args: [20, ticks], daemon: true });
daemon.start(); // ticks for ever

const worker = new Process({ target: f, args: ['from a non-daemon process'] });
worker.start();

console.log('first tick:', await ticks.get());
await worker.join();
console.log(`worker exit code: ${worker.exitCode}; daemon still alive: ${daemon.isAlive()}`);
console.log('main is done: the program exits now and stops the daemon');
