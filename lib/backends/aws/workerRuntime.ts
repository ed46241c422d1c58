/**
 * The worker's process-wide state: one {@link ChunkProcessor}, created on first use from the
 * environment (in a Lambda: the variables the stack sets) or from what the worker fleet passes,
 * and reused by every invocation, as a Lambda reuses its container.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { availableParallelism } from 'node:os';
import { AwsConfigError } from '../../errors.js';
import { AwsClients } from './AwsClients.js';
import { resolveAwsConfig, type AwsConfig } from './AwsConfig.js';
import { ChunkProcessor, threadsForMemory, type ChunkProcessorStats } from './ChunkProcessor.js';
import type { DeadlineContext } from './Invocation.js';
import type { RequestCounter } from './RequestCounter.js';
import type { WorkerTelemetryOptions } from './WorkerTelemetry.js';

/** How the worker runtime of this process is set up. */
export interface WorkerRuntimeOptions {
  /** Where the resources are. @default read from the environment on first use ({@link resolveAwsConfig}) */
  config?: AwsConfig;
  /** Worker threads. @default from `FANOUT_WORKER_MEMORY_MB` in a Lambda, else the machine's parallelism */
  threads?: number;
  /** The worker threads' script. @default the local backend's */
  workerScript?: URL;
  /** Find tasks by name only (a Lambda bundle). @default false */
  tasksByName?: boolean;
  /** Counts the worker's AWS requests (the fleet shares its own). */
  counter?: RequestCounter;
  /**
   * JSON log lines (one per chunk) and EMF metrics (one blob per invocation) on stdout, through
   * Powertools ({@link WorkerTelemetry}, loaded only here); `false` for neither (the processor's
   * notes then go to stderr as plain lines). @default on, with metrics
   */
  telemetry?: WorkerTelemetryOptions | false;
}

/**
 * A worker fleet passes its own processor in the context of each invocation (under this key),
 * so that fleets in one process, each on its own resources, never share one.
 */
export const FLEET_PROCESSOR = Symbol.for('fanout.fleetProcessor');

let options: WorkerRuntimeOptions = {};
let processor: Promise<{ processor: ChunkProcessor; clients: AwsClients }> | undefined;

/**
 * Sets up this process's worker runtime; a processor made under other options is closed.
 *
 * @example
 * ```ts
 * configureWorkerRuntime({ workerScript: new URL(import.meta.url), tasksByName: true });
 * ```
 */
export function configureWorkerRuntime(next: WorkerRuntimeOptions): void {
  const merged = { ...options, ...next };
  const changed = (Object.keys(merged) as Array<keyof WorkerRuntimeOptions>).some((key) => merged[key] !== options[key]);
  options = merged;
  if (changed && processor) {
    const previous = processor;
    processor = undefined;
    void previous.then(
      async ({ processor: old, clients }) => {
        await old.close();
        clients.destroy();
      },
      () => {},
    );
  }
}

/**
 * Processes an SQS batch of chunk messages: the body of the worker Lambda's handler, and what
 * the worker fleet invokes (with its own processor in `context`, see {@link FLEET_PROCESSOR}).
 * The batch is planned against `context.getRemainingTimeInMillis()`: what cannot finish in time
 * is handed back at once (see {@link ChunkProcessor}).
 *
 * @example
 * ```ts
 * export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event, context) => processSqsEvent(event, context));
 * ```
 */
export async function processSqsEvent(event: SQSEvent, context?: object): Promise<SQSBatchResponse> {
  // The processor plans the batch against the context's remaining time (getRemainingTimeInMillis).
  const deadline = context as DeadlineContext | undefined;
  const fleetProcessor = (context as { [FLEET_PROCESSOR]?: ChunkProcessor } | undefined)?.[FLEET_PROCESSOR];
  if (fleetProcessor) return fleetProcessor.handleEvent(event, deadline);
  processor ??= createProcessor();
  const current = processor;
  try {
    return await (await current).processor.handleEvent(event, deadline);
  } catch (error) {
    // A configuration error fails every invocation alike; let the next one try again.
    if (error instanceof AwsConfigError && processor === current) processor = undefined;
    throw error;
  }
}

/**
 * Starts the worker threads now rather than on the first batch (see {@link ChunkProcessor.warmUp}).
 *
 * @example
 * ```ts
 * await warmUpWorkerRuntime(); // before polling
 * ```
 */
export async function warmUpWorkerRuntime(): Promise<void> {
  processor ??= createProcessor();
  await (await processor).processor.warmUp();
}

/** What the worker runtime of this process has done (undefined before its first batch). */
export async function workerRuntimeStats(): Promise<ChunkProcessorStats | undefined> {
  if (!processor) return undefined;
  return (await processor).processor.stats();
}

/** Lets the worker threads go (the fleet calls this when it stops). */
export async function closeWorkerRuntime(): Promise<void> {
  const current = processor;
  processor = undefined;
  if (!current) return;
  const { processor: old, clients } = await current;
  await old.close();
  clients.destroy();
}

async function createProcessor(): Promise<{ processor: ChunkProcessor; clients: AwsClients }> {
  const config = options.config ?? (await resolveAwsConfig());
  const clients = new AwsClients(config, options.counter);
  const telemetry =
    options.telemetry === false ? undefined : new (await import('./WorkerTelemetry.js')).WorkerTelemetry(options.telemetry);
  const processor = new ChunkProcessor({
    clients,
    ...(telemetry ? { telemetry } : {}),
    threads: options.threads ?? defaultThreads(),
    ...(options.workerScript ? { workerScript: options.workerScript } : {}),
    ...(options.tasksByName ? { tasksByName: true } : {}),
  });
  return { processor, clients };
}

function defaultThreads(): number {
  const memory = process.env.FANOUT_WORKER_MEMORY_MB ?? process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  if (memory !== undefined && memory !== '') {
    const megabytes = Number(memory);
    if (!Number.isFinite(megabytes) || megabytes <= 0) {
      throw new AwsConfigError(`FANOUT_WORKER_MEMORY_MB must be a positive number of megabytes; got '${memory}'.`, []);
    }
    return threadsForMemory(megabytes);
  }
  return availableParallelism();
}
