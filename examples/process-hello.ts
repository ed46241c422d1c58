/**
 * Python's "simple start": run `f('bob')` in a process of its own.
 *
 *   npx tsx examples/process-hello.ts   →   hello bob
 */
import { Process } from 'fanout';
import { f } from './processTasks.js';

const p = new Process({ target: f, args: ['bob'] });
p.start();
await p.join();
