import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pool } from '../api/Pool.js';
import { isTask, type Task } from '../api/task.js';
import type { BackendName } from '../backend/Backend.js';
import type { JobService } from '../backend/JobService.js';
import type { CommandContext } from './CommandContext.js';
import { collect, oneOf, singleValue, wholeNumber } from './optionParsers.js';
import { quietAwsSdk } from './quietAwsSdk.js';
import { refusePassthrough } from './refusePassthrough.js';
import { reportFailure } from './reportFailure.js';
import { taskModulePaths } from './taskModules.js';
import { UsageError } from './UsageError.js';

/** What `fanout jobs cost` and `fanout estimate` reach outside themselves; tests replace them. */
export interface CostCommandServices {
  /** The jobs of the configured stack. @default the aws backend's, configured from the environment */
  jobs?: () => Promise<JobService>;
  /** A pool for the estimate's sample. @default `new (getContext(backend).Pool)(processes)` */
  pool?: (backend: BackendName | undefined, processes: number | undefined) => Promise<Pool>;
}

/** The Fanout construct's default worker memory. */
const DEFAULT_MEMORY_MB = 1769;
const MEMORY_RANGE = [128, 10_240] as const;

/**
 * Adds `cost <jobId> [--memory MB] [--json]` to the `fanout jobs` command group: the job's cost
 * report ({@link JobCost}) from its status and chunk records, as a table or JSON.
 *
 * @example
 * ```ts
 * const jobs = program.command('jobs');
 * addJobsCostCommand(jobs, context);
 * ```
 */
export function addJobsCostCommand(jobs: Command, context: CommandContext, services: CostCommandServices = {}): void {
  jobs
    .command('cost')
    .summary('What a job cost: requests by service and kind, Lambda GB-seconds, dollars.')
    .description(
      'Reads the job’s status and chunk records and reckons its cost at the us-east-1 prices ' +
        '(Lambda on arm64): the workers’ requests modelled from the chunk protocol, the Lambda time ' +
        'bounded by the chunk records, each figure as best (low–high). The submitter’s result reads ' +
        'are not known here (they happen in its own process).',
    )
    .argument('<jobId>', 'the job’s id')
    .addOption(memoryOption())
    .option('--json', 'the report as JSON')
    .action(async (jobId: string, options: { memory?: number; json?: boolean }) => {
      refusePassthrough(context, 'jobs cost');
      quietAwsSdk();
      try {
        const service = await (services.jobs ?? awsJobs)();
        const [status, chunkRuns, duplicates] = await Promise.all([
          service.status(jobId),
          service.chunkRuns(jobId),
          service.duplicateRuns?.(jobId) ?? [],
        ]);
        const duplicateRuns = duplicates.map((run) => ({ ...run, status: 'ok' as const }));
        const { JobCost } = await import('../report/JobCost.js');
        const cost = JobCost.fromRuns({
          status,
          chunkRuns,
          duplicateRuns,
          memoryMb: options.memory ?? memoryFromEnvironment(),
        });
        context.output.stdout.write(options.json ? `${JSON.stringify(cost.toJSON(), null, 2)}\n` : cost.toText());
      } catch (error) {
        reportFailure(context, 'jobs cost', error);
      }
    });
}

interface EstimateArguments {
  tasks?: string[];
  task?: string;
  items?: string;
  processes?: number;
  chunksize?: number;
  sample?: number;
  memory?: number;
  backend?: BackendName;
  starmap?: boolean;
  json?: boolean;
}

/**
 * Adds `fanout estimate --tasks MODULE --task NAME --items FILE.json [--processes N]`: runs a
 * small sample of the items through a pool ({@link estimateJob}) and prints the predicted wall
 * time and cost of the whole job.
 *
 * @example
 * ```ts
 * addEstimateCommand(program, context);
 * ```
 */
export function addEstimateCommand(program: Command, context: CommandContext, services: CostCommandServices = {}): void {
  program
    .command('estimate')
    .summary('Predict a job’s wall time and cost from a small sample run.')
    .description(
      'Runs a sample of the items (1% of them, 32 at least, taken evenly) through a pool on the ' +
        'backend (FANOUT_BACKEND, or --backend), measures the task time per item, a chunk’s ' +
        'overhead and round trip, and predicts the whole job’s wall time at the pool’s concurrency ' +
        '(on aws --processes is the Lambda concurrency) and its cost in requests, GB-seconds and dollars.',
    )
    .addOption(
      new Option('--tasks <module...>', 'task modules to import (they define the task)').argParser(collect('a task module path')),
    )
    .addOption(new Option('--task <name>', 'the task’s registered name').argParser(singleValue('a task name', (v) => v)))
    .addOption(
      new Option('--items <file.json>', 'a JSON file holding the array of items').argParser(singleValue('a file path', (v) => v)),
    )
    .addOption(new Option('-p, --processes <N>', 'the pool’s processes (default: the backend’s)').argParser(wholeNumber(1)))
    .addOption(new Option('--chunksize <N>', 'the job’s chunksize (default: as pool.map chooses)').argParser(wholeNumber(1)))
    .addOption(new Option('--sample <N>', 'items the sample runs (default: 1%, 32 at least)').argParser(wholeNumber(1)))
    .addOption(memoryOption())
    .addOption(
      new Option('-b, --backend <local|aws>', 'the backend (default: FANOUT_BACKEND, else local)').argParser(
        oneOf(['local', 'aws']),
      ),
    )
    .option('--starmap', 'each item is an argument array')
    .option('--json', 'the estimate as JSON')
    .action(async (options: EstimateArguments) => {
      refusePassthrough(context, 'estimate');
      try {
        if (!options.task)
          throw new UsageError('the option --task <name> is required.', { command: 'estimate', option: '--task' });
        if (!options.items)
          throw new UsageError('the option --items <file.json> is required.', { command: 'estimate', option: '--items' });
        const modules = taskModulePaths(options.tasks ?? [], 'estimate', context.cwd);
        const items = readItems(resolve(context.cwd, options.items), options.items);
        const task = await findTask(modules, options.task);
        quietAwsSdk();
        const pool = await (services.pool ?? defaultPool)(options.backend, options.processes);
        try {
          const { estimateJob } = await import('../report/JobEstimator.js');
          const estimate = await estimateJob(pool, task, items, {
            ...(options.chunksize !== undefined ? { chunksize: options.chunksize } : {}),
            ...(options.sample !== undefined ? { sampleItems: options.sample } : {}),
            ...(options.starmap ? { starmap: true } : {}),
            memoryMb: options.memory ?? memoryFromEnvironment(),
          });
          context.output.stdout.write(
            options.json ? `${JSON.stringify(estimate, null, 2)}\n` : describeEstimate(estimate, options.task),
          );
        } finally {
          await pool.terminate();
        }
      } catch (error) {
        if (error instanceof UsageError) throw error;
        reportFailure(context, 'estimate', error);
      }
    });
}

function memoryOption(): Option {
  return new Option(
    '--memory <MB>',
    `the worker Lambda’s memory, ${MEMORY_RANGE[0]}-${MEMORY_RANGE[1]} MB (default: FANOUT_WORKER_MEMORY_MB, else ${DEFAULT_MEMORY_MB})`,
  ).argParser(wholeNumber(...MEMORY_RANGE));
}

function memoryFromEnvironment(): number {
  const value = Number(process.env.FANOUT_WORKER_MEMORY_MB);
  return Number.isFinite(value) && value >= MEMORY_RANGE[0] && value <= MEMORY_RANGE[1] ? value : DEFAULT_MEMORY_MB;
}

/** The aws backend's jobs, the backend configured from the environment (loaded only now). */
async function awsJobs(): Promise<JobService> {
  const { AwsBackend } = await import('../backends/aws/AwsBackend.js');
  return new AwsBackend().jobs();
}

async function defaultPool(backend: BackendName | undefined, processes: number | undefined): Promise<Pool> {
  const { getContext } = await import('../api/Context.js');
  const context = getContext(backend);
  return new context.Pool(processes);
}

function readItems(path: string, given: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`the items file '${given}' cannot be read (looked for ${path}).`, {
      command: 'estimate',
      option: '--items',
      value: given,
    });
  }
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the items file '${given}' is not JSON: ${(error as Error).message}`, {
      command: 'estimate',
      option: '--items',
      value: given,
    });
  }
  if (!Array.isArray(items) || items.length === 0) {
    throw new UsageError(`the items file '${given}' must hold a non-empty JSON array of items.`, {
      command: 'estimate',
      option: '--items',
      value: given,
    });
  }
  return items;
}

/** The task handle named `name` among the exports of the task modules. */
async function findTask(modules: string[], name: string): Promise<Task<unknown[], unknown>> {
  const found: string[] = [];
  for (const module of modules) {
    const exports = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (!isTask(value)) continue;
      if (value.taskName === name) return value as unknown as Task<unknown[], unknown>;
      found.push(value.taskName);
    }
  }
  throw new UsageError(
    `no task '${name}' is exported by the task modules given to --tasks` +
      (found.length > 0 ? `; they export: ${found.map((n) => `'${n}'`).join(', ')}.` : ' (none given, or they export no task).'),
    { command: 'estimate', option: '--task', value: name },
  );
}

function describeEstimate(estimate: import('../report/JobEstimator.js').JobEstimate, task: string): string {
  const cost = estimate.predictedCost;
  const money = (value: number) => (value >= 0.01 ? `$${value.toFixed(4)}` : `$${value.toPrecision(3)}`);
  const lines = [
    `Estimate for task '${task}' on the ${estimate.backend} backend: ${estimate.items.toLocaleString('en-US')} items, ` +
      `${estimate.messages.toLocaleString('en-US')} chunks of ${estimate.chunksize}`,
    `  sample: ${estimate.sampleItems} items in ${estimate.sampleChunks} chunks, ${Math.round(estimate.sampleWallMs)} ms; ` +
      `${estimate.perItemMs.toFixed(3)} ms an item (+${estimate.itemOverheadMs.toFixed(4)} ms overhead), ${estimate.perChunkMs.toFixed(1)} ms a chunk, ${estimate.latencyMs.toFixed(1)} ms round trip`,
    `  wall time: ${(estimate.predictedWallMs / 1000).toFixed(2)} s (${estimate.waves} rounds of chunks on ${estimate.lanes} lanes)`,
    `  cost: ${money(cost.total.point)} (${money(cost.total.low)}–${money(cost.total.high)}): ` +
      (['SQS', 'DynamoDB', 'S3', 'Lambda'] as const).map((s) => `${s} ${money(cost.byService[s].point)}`).join(', ') +
      `; ${cost.lambda.gbSeconds.point.toFixed(2)} GB-s at ${cost.memoryMb} MB` +
      (estimate.backend === 'local' ? ' (what it would cost on aws)' : ''),
  ];
  return `${lines.join('\n')}\n`;
}
