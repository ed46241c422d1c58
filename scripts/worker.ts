/**
 * A local worker fleet for the aws backend, as `fanout worker` runs it but invoking the worker
 * Lambda's middy handler itself: polls the task queue until SIGINT or SIGTERM.
 *
 *   npx tsx scripts/worker.ts [--threads N] [--concurrency N] [--visibility-timeout S] [--tasks module ...]
 *
 * Configuration comes from the environment, as for a client (`npm run emulator` prints it).
 */
import { handler } from '../functions/worker/handler.js';
import { WORKER_FLEET_USAGE, parseWorkerFleetArgs, runWorkerFleet } from '../lib/backends/aws/WorkerFleet.js';

const { options, help } = parseWorkerFleetArgs(process.argv.slice(2));
if (help) {
  console.log(WORKER_FLEET_USAGE);
} else {
  const summary = await runWorkerFleet({ ...options, handler });
  options.log?.(JSON.stringify(summary));
}
