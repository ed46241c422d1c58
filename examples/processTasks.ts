/**
 * The tasks of the process, queue and pipe examples. Tasks live in a module of their own: a
 * process imports this module to find its target (the entry script is never run again).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { currentProcess, task, type Connection, type JoinableQueue, type Lock, type Queue } from 'fanout';

/** Process hello: `f('bob')` prints `hello bob`. */
export const f = task('examples.f', (name: string) => {
  console.log('hello', name);
});

/** The Queue example: the child puts a list on the queue. */
export const putList = task('examples.putList', async (q: Queue) => {
  await q.put([42, null, 'hello']);
});

/** The Pipe example: the child sends a list through its end of the pipe, then closes it. */
export const sendList = task('examples.sendList', async (conn: Connection) => {
  await conn.send([42, null, 'hello']);
  conn.close();
});

/**
 * Daemon example: works for ever, one tick every `ms`, telling the parent about its first tick;
 * only the end of the program stops it.
 */
export const ticker = task('examples.ticker', async (ms: number, ticks: Queue<string>) => {
  for (let tick = 1; ; tick++) {
    const line = `${currentProcess().name} (daemon: ${currentProcess().daemon}) tick ${tick}`;
    if (tick === 1) await ticks.put(line);
    await sleep(ms);
  }
});

/** Bounded jobs queue example: takes jobs for ever, reports each result, marks each done. */
export const jobWorker = task('examples.jobWorker', async (jobs: JoinableQueue<number>, results: Queue<string>) => {
  for (;;) {
    const job = await jobs.get();
    await sleep(5);
    await results.put(`${currentProcess().name} did job ${job}: ${job} ** 2 = ${job ** 2}`);
    await jobs.taskDone();
  }
});

/**
 * The Lock example (examples/lock.ts): prints while holding the lock, so that the ten
 * processes' lines never interleave.
 */
export const lockedHello = task('examples.lockedHello', async (lock: Lock, num: number) => {
  await lock.acquire();
  try {
    console.log('hello world', num);
  } finally {
    await lock.release();
  }
});
