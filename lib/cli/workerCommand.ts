import { Option, type Command } from 'commander';
import { pathToFileURL } from 'node:url';
import type { WorkerFleetOptions } from '../backends/aws/WorkerFleet.js';
import { WORKER_FLEET_LIMITS } from '../backends/aws/workerFleetLimits.js';
import type { CommandContext } from './CommandContext.js';
import { collect, wholeNumber } from './optionParsers.js';
import { quietAwsSdk } from './quietAwsSdk.js';
import { refusePassthrough } from './refusePassthrough.js';
import { reportFailure } from './reportFailure.js';
import { taskModulePaths } from './taskModules.js';

interface WorkerArguments {
  threads?: number;
  concurrency?: number;
  batchSize?: number;
  waitTime?: number;
  visibilityTimeout?: number;
  timeout?: number;
  tasks?: string[];
  quiet?: boolean;
}

/**
 * Adds `fanout worker [options]`: the aws backend's worker fleet on this machine
 * (`runWorkerFleet`), until Ctrl-C.
 *
 * @example
 * ```ts
 * addWorkerCommand(program, context);
 * ```
 */
export function addWorkerCommand(program: Command, context: CommandContext): void {
  const limits = WORKER_FLEET_LIMITS;
  const range = (name: keyof typeof limits) => `${limits[name][0]}-${limits[name][1]}`;
  program
    .command('worker')
    .summary('Run aws-backend workers on this machine, polling the task queue as Lambda does.')
    .description(
      'Polls the task queue like Lambda’s SQS event source (long polls, batches, partial batch ' +
        'failures) and runs the chunks on worker threads, with the same handler as the worker ' +
        'Lambda. Configuration comes from the environment: FANOUT_STACK (a deployed stack), or ' +
        'FANOUT_QUEUE_URL, FANOUT_TABLE, FANOUT_BUCKET, AWS_REGION and the endpoints, which ' +
        '`npx fanout emulator` prints. Stops on Ctrl-C after the current polls (a second Ctrl-C ' +
        'stops at once).',
    )
    .addOption(
      new Option(
        '--threads <N>',
        `worker threads running tasks, ${range('threads')} (default: the machine’s parallelism)`,
      ).argParser(wholeNumber(...limits.threads)),
    )
    .addOption(
      new Option('--concurrency <N>', `batches processed at once, ${range('concurrency')} (default: 2 × threads)`).argParser(
        wholeNumber(...limits.concurrency),
      ),
    )
    .addOption(
      new Option('--batch-size <N>', `messages per batch, ${range('batchSize')} (default: 10)`).argParser(
        wholeNumber(...limits.batchSize),
      ),
    )
    .addOption(
      new Option('--wait-time <seconds>', `long-poll wait, ${range('waitTimeSeconds')} (default: 20)`).argParser(
        wholeNumber(...limits.waitTimeSeconds),
      ),
    )
    .addOption(
      new Option(
        '--visibility-timeout <seconds>',
        `visibility timeout of received messages, ${range('visibilityTimeout')} (default: the queue’s)`,
      ).argParser(wholeNumber(...limits.visibilityTimeout)),
    )
    .addOption(
      new Option(
        '--timeout <seconds>',
        `function timeout each batch's deadline counts down from, as in the worker Lambda, ${range('timeout')} ` +
          '(default: 300, the stack’s)',
      ).argParser(wholeNumber(...limits.timeout)),
    )
    .addOption(
      new Option('--tasks <module...>', 'task modules to import before polling, so that a bad one fails now').argParser(
        collect('a task module path'),
      ),
    )
    .option('--quiet', 'no progress lines')
    .action(async (options: WorkerArguments) => {
      refusePassthrough(context, 'worker');
      const tasks = taskModulePaths(options.tasks ?? [], 'worker', context.cwd).map((path) => pathToFileURL(path).href);
      const log = options.quiet ? undefined : (line: string) => context.output.stderr.write(`${line}\n`);
      const fleetOptions: WorkerFleetOptions = {
        tasks,
        handleSignals: true,
        ...(log ? { log } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
        ...(options.waitTime !== undefined ? { waitTimeSeconds: options.waitTime } : {}),
        ...(options.visibilityTimeout !== undefined ? { visibilityTimeout: options.visibilityTimeout } : {}),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...(context.services.workerHandler ? { handler: context.services.workerHandler } : {}),
        ...(context.services.signal ? { signal: context.services.signal } : {}),
      };
      quietAwsSdk();
      try {
        // Loaded only now, so that `fanout run` and `fanout --help` never load the AWS SDK.
        const { runWorkerFleet } = await import('../backends/aws/WorkerFleet.js');
        const summary = await runWorkerFleet(fleetOptions);
        log?.(
          `fanout worker: ${summary.messagesReceived} messages, ${summary.invocations} batches, ` +
            `${summary.messagesFailed} handed back for redelivery, ${summary.requests.total} AWS requests`,
        );
      } catch (error) {
        reportFailure(context, 'worker', error);
      }
    });
}
