/**
 * A local worker fleet for the aws backend (what `fanout worker` runs): polls the task queue
 * and invokes the worker Lambda's handler, until SIGINT or SIGTERM.
 *
 *   npx tsx scripts/worker.ts [--threads N] [--concurrency N] [--visibility-timeout S] [--tasks module ...]
 *
 * Configuration comes from the environment, as for a client (`npm run emulator` prints it).
 */
import { parseArgs } from 'node:util';
import { handler } from '../functions/worker/handler.js';
import { runWorkerFleet } from '../lib/backends/aws/WorkerFleet.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string' },
    concurrency: { type: 'string' },
    'batch-size': { type: 'string' },
    'wait-time': { type: 'string' },
    'visibility-timeout': { type: 'string' },
    tasks: { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
  },
});

const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
const summary = await runWorkerFleet({
  handler,
  threads: number(values.threads),
  concurrency: number(values.concurrency),
  batchSize: number(values['batch-size']),
  waitTimeSeconds: number(values['wait-time']),
  visibilityTimeout: number(values['visibility-timeout']),
  tasks: values.tasks ?? [],
  handleSignals: true,
  log: values.quiet ? undefined : (line) => console.error(line),
});
if (!values.quiet) console.error(JSON.stringify(summary));
