/**
 * Python's bounded jobs queue: `jobs = Queue(5)`; `put` blocks while five jobs wait; workers mark
 * each job done with `taskDone()`; `join()` waits until every job is done.
 *
 *   npx tsx examples/jobs.ts
 */
import { JoinableQueue, Process, Queue } from 'fanout';
import { jobWorker } from './processTasks.js';

const jobs = new JoinableQueue<number>(5);
const results = new Queue<string>();
for (let i = 0; i < 3; i++) new Process({ target: jobWorker, args: [jobs, results], daemon: true }).start();

for (let job = 1; job <= 20; job++) await jobs.put(job); // waits while 5 jobs are queued
await jobs.join(); // every job was taken and marked done

const lines: string[] = [];
while (!(await results.empty())) lines.push(await results.get());
const jobNumber = (line: string) => Number(/did job (\d+)/.exec(line)?.[1]);
for (const line of lines.sort((a, b) => jobNumber(a) - jobNumber(b))) console.log(line);
console.log(`all ${lines.length} jobs done`);
