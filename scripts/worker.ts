/**
 * `npm run worker`: `fanout worker`, but invoking the worker Lambda's middy handler itself (as
 * deployed) instead of the worker runtime under it. Polls the task queue until SIGINT or SIGTERM.
 *
 *   npm run worker -- [--threads N] [--concurrency N] [--visibility-timeout S] [--tasks module ...]
 *
 * Configuration comes from the environment, as for a client (`npx fanout emulator` prints it).
 */
import { handler } from '../functions/worker/handler.js';
import { main } from '../lib/cli/main.js';

process.exitCode = await main(['worker', ...process.argv.slice(2)], process, { workerHandler: handler });
