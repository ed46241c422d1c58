import { appendFileSync } from 'node:fs';
import { task } from 'fanout';

/** Appends `x` and the pid of the process running it to a log, waits `ms`, then doubles `x`. */
export const awsLoggedBy = task('aws.loggedBy', async (log: string, x: number, ms: number) => {
  appendFileSync(log, `${x} ${process.pid}\n`);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  return x * 2;
});
