/**
 * Python's synchronization example: ten processes print, one at a time, holding a shared Lock.
 *
 *   npx tsx examples/lock.ts   →   hello world 0 ... hello world 9 (any order, one whole line each)
 */
import { Lock, Process } from 'fanout';
import { lockedHello } from './processTasks.js';

const lock = new Lock();
for (let num = 0; num < 10; num++) new Process({ target: lockedHello, args: [lock, num] }).start();
// As in Python, no join: the processes are not daemons, so the program waits for them.
