import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Chunk, PoolEngineOptions } from '../../backend/PoolEngine.js';
import { encodeFrame, type ItemError, type JobChunkMessage, type JobSetup, type TaskRef } from '../../codec/protocol.js';
import { ValueEncoder } from '../../codec/ValueEncoder.js';
import { RemoteError, SerializationError, WorkerCrashedError } from '../../errors.js';
import { toFailureInfo } from '../../runtime/errorInfo.js';
import { warmUpTask } from '../../runtime/warmUpTask.js';
import { LocalPoolEngine } from '../local/LocalPoolEngine.js';
import { defaultWorkerScript } from '../local/LocalWorker.js';
import type { AwsClients } from './AwsClients.js';
import { INLINE_RESULT_BYTES, decodeChunkBody, resultsKey } from './chunkMessages.js';
import { PayloadStore } from './PayloadStore.js';
import { ResultTable, type ChunkRecord } from './ResultTable.js';

/** Options of {@link ChunkProcessor}. */
export interface ChunkProcessorOptions {
  clients: AwsClients;
  /** Worker threads that run tasks (in a Lambda: one per vCPU, see {@link threadsForMemory}). */
  threads: number;
  /** The script of those threads. @default the local backend's worker script */
  workerScript?: URL;
  /**
   * Find tasks by name only (a Lambda bundle registers its tasks when it loads; the client's
   * module paths mean nothing there). @default false: import a task's module when its name is unknown
   */
  tasksByName?: boolean;
}

/** What the processor has done, for the fleet's stats and the bench. */
export interface ChunkProcessorStats {
  /** Chunks run and recorded by this processor. */
  chunksRecorded: number;
  /** Chunks skipped: already recorded (a duplicate delivery) or cancelled. */
  chunksSkipped: number;
  /** Chunks handed back for redelivery (a worker thread crashed, or a request failed). */
  chunksRetried: number;
  /** Milliseconds worker threads spent running tasks. */
  busyMs: number;
}

/** How running one chunk ended. */
type Outcome = { kind: 'recorded' } | { kind: 'retry'; error: unknown };

/** Thread pools kept at once, one per distinct pool setup (task modules, initializer). */
const MAX_ENGINES = 4;

/**
 * The worker side of the aws backend, shared by the Lambda handler and the local worker fleet:
 * decodes an SQS batch, skips chunks already recorded or cancelled, runs the others on worker
 * threads (a local pool engine, reused across invocations), records each chunk's results once
 * with a conditional put (results too big for an item go to S3), and reports the records to be
 * redelivered: those whose worker thread crashed, or whose requests failed. A task that throws
 * is a result, not a retry.
 *
 * @example
 * ```ts
 * const processor = new ChunkProcessor({ clients: new AwsClients(config), threads: 2 });
 * const { batchItemFailures } = await processor.handleEvent(sqsEvent);
 * ```
 */
export class ChunkProcessor {
  private readonly table: ResultTable;
  private readonly payloads: PayloadStore;
  private readonly engines = new Map<string, LocalPoolEngine>();
  private readonly statistics: ChunkProcessorStats = { chunksRecorded: 0, chunksSkipped: 0, chunksRetried: 0, busyMs: 0 };

  constructor(private readonly options: ChunkProcessorOptions) {
    this.table = new ResultTable(options.clients.dynamodb, options.clients.config.table);
    this.payloads = new PayloadStore(options.clients.s3, options.clients.config.bucket);
  }

  /** Processes one SQS batch; the records returned in `batchItemFailures` are to be redelivered. */
  async handleEvent(event: SQSEvent): Promise<SQSBatchResponse> {
    const failures: Array<{ itemIdentifier: string }> = [];
    const decoded: Array<{ record: SQSRecord; message: JobChunkMessage; payload: Uint8Array }> = [];
    for (const record of event.Records) {
      try {
        decoded.push({ record, ...decodeChunkBody(record.body) });
      } catch (error) {
        // Not a fanout chunk: no run to report it to. Redelivery takes it to the dead-letter queue.
        console.error(`fanout worker: message ${record.messageId} is not a fanout chunk: ${describe(error)}`);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    if (decoded.length === 0) return { batchItemFailures: failures };
    let settled: Set<string>;
    let cancelledRuns: Set<string>;
    try {
      ({ settled, cancelledRuns } = await this.table.findSettled(
        decoded.map(({ message }) => ({ run: message.job, chunk: message.chunk })),
      ));
    } catch (error) {
      console.error(`fanout worker: could not read the state of ${decoded.length} chunks: ${describe(error)}`);
      this.statistics.chunksRetried += decoded.length;
      return { batchItemFailures: [...failures, ...decoded.map(({ record }) => ({ itemIdentifier: record.messageId }))] };
    }
    const outcomes = await Promise.all(
      decoded.map(async ({ record, message, payload }): Promise<Outcome | undefined> => {
        if (cancelledRuns.has(message.job) || settled.has(`${message.job}|${message.chunk}`)) {
          this.statistics.chunksSkipped++;
          return undefined;
        }
        try {
          return await this.runAndRecord(record, message, payload);
        } catch (error) {
          return { kind: 'retry', error };
        }
      }),
    );
    outcomes.forEach((outcome, index) => {
      if (outcome?.kind !== 'retry') return;
      const { record, message } = decoded[index]!;
      console.error(
        `fanout worker: chunk ${message.chunk} of run ${message.job} (task '${message.task.name}', receive ` +
          `${record.attributes.ApproximateReceiveCount}) will be redelivered: ${describe(outcome.error)}`,
      );
      this.statistics.chunksRetried++;
      failures.push({ itemIdentifier: record.messageId });
    });
    return { batchItemFailures: failures };
  }

  /**
   * Starts the worker threads of pools without special setup now, so that the first chunk does
   * not wait for them (a Lambda's init phase, a fleet's start-up). Resolves when they are ready.
   */
  async warmUp(): Promise<void> {
    const engine = this.engineFor(setupKey(undefined), undefined);
    const ref = this.taskRef({ name: warmUpTask.taskName, ...(warmUpTask.module ? { module: warmUpTask.module } : {}) });
    const payload = new ValueEncoder();
    payload.write(0, 'warm-up');
    const bytes = payload.finish();
    const message: JobChunkMessage = {
      type: 'jobChunk',
      job: 'warm-up',
      chunk: 0,
      task: ref,
      count: 1,
      spread: false,
      expiresAt: 0,
    };
    // One chunk per thread, submitted together: the engine starts a thread for each.
    await Promise.all(Array.from({ length: this.options.threads }, () => runChunk(engine, ref, message, bytes)));
  }

  /** Counters of the work done so far. */
  stats(): ChunkProcessorStats {
    return { ...this.statistics };
  }

  /** Lets the worker threads go once their chunks are done. */
  async close(): Promise<void> {
    const engines = [...this.engines.values()];
    this.engines.clear();
    for (const engine of engines) engine.close();
    await Promise.all(engines.map((engine) => engine.join()));
  }

  private async runAndRecord(record: SQSRecord, message: JobChunkMessage, inlinePayload: Uint8Array): Promise<Outcome> {
    const payload = message.payloadKey ? await this.payloads.get(message.payloadKey) : inlinePayload;
    const task = this.taskRef(message.task);
    const engineKey = setupKey(message.setup);
    const engine = this.engineFor(engineKey, message.setup);
    const ran = await runChunk(engine, task, message, payload);
    if (ran.kind === 'crashed') {
      // The thread died (it exited, or ran out of memory): let SQS redeliver the chunk, up to
      // the queue's maxReceiveCount, then to the dead-letter queue. Start afresh next time.
      this.retireEngine(engineKey, engine);
      return { kind: 'retry', error: ran.error };
    }
    this.statistics.busyMs += ran.busyMs;
    let result: ChunkRecord = { chunk: message.chunk, status: ran.kind === 'results' ? 'ok' : 'failed' };
    if (ran.frame.length > INLINE_RESULT_BYTES) {
      // A key per attempt: a duplicate delivery's object never replaces the recorded one's.
      const key = resultsKey(message.job, message.chunk, `${record.messageId}-${randomUUID()}`);
      await this.payloads.put(key, ran.frame);
      result = { ...result, frameKey: key };
    } else {
      result = { ...result, frame: ran.frame };
    }
    const written = await this.table.putResult(message.job, result, message.expiresAt);
    if (written) this.statistics.chunksRecorded++;
    else this.statistics.chunksSkipped++;
    return { kind: 'recorded' };
  }

  private taskRef(task: TaskRef): TaskRef {
    return this.options.tasksByName ? { name: task.name } : task;
  }

  private engineFor(key: string, setup: JobSetup | undefined): LocalPoolEngine {
    let engine = this.engines.get(key);
    if (engine) {
      // Most recently used last.
      this.engines.delete(key);
      this.engines.set(key, engine);
      return engine;
    }
    const options: PoolEngineOptions = {
      processes: this.options.threads,
      taskModules: this.options.tasksByName ? [] : (setup?.taskModules ?? []),
    };
    if (setup?.initializer) {
      options.initializer = {
        task: this.taskRef(setup.initializer),
        args: setup.initArgs ?? new Uint8Array(),
        attachments: [],
        transfer: [],
      };
    }
    if (setup?.maxTasksPerChild !== undefined) options.maxTasksPerChild = setup.maxTasksPerChild;
    engine = new LocalPoolEngine(options, this.options.workerScript ?? defaultWorkerScript);
    this.engines.set(key, engine);
    if (this.engines.size > MAX_ENGINES) {
      const [oldestKey, oldest] = this.engines.entries().next().value as [string, LocalPoolEngine];
      this.retireEngine(oldestKey, oldest);
    }
    return engine;
  }

  private retireEngine(key: string, engine: LocalPoolEngine): void {
    if (this.engines.get(key) === engine) this.engines.delete(key);
    engine.close();
  }
}

/** Threads for a Lambda of `memoryMb`: about one vCPU per 1,769 MB, at least 1, at most 6. */
export function threadsForMemory(memoryMb: number): number {
  return Math.max(1, Math.min(6, Math.round(memoryMb / 1769)));
}

type Ran = { kind: 'results' | 'failed'; frame: Uint8Array; busyMs: number } | { kind: 'crashed'; error: Error };

/** Runs a chunk on the engine and encodes its results as one frame (or its failure). */
function runChunk(engine: LocalPoolEngine, task: TaskRef, message: JobChunkMessage, payload: Uint8Array): Promise<Ran> {
  return new Promise<Ran>((resolve) => {
    const values = new Array<unknown>(message.count);
    const errors = new Map<number, Error>();
    let received = 0;
    let busyMs = 0;
    const chunk: Chunk = {
      task,
      spread: message.spread,
      count: message.count,
      payload,
      // The engine splits a chunk only to honour maxTasksPerChild with taskCount > 1, or to
      // resume a cancelled one: neither happens here (taskCount is 1, nothing is cancelled).
      boundaries: Uint32Array.of(0, payload.length),
      attachments: [],
      transfer: [],
      base: 0,
      taskCount: 1,
      control: { cancelled: false, interrupt: false },
      sink: {
        onResults(from, partValues, partErrors, partBusyMs) {
          for (let i = 0; i < partValues.length; i++) values[from + i] = partValues[i];
          for (const [index, error] of partErrors) errors.set(index, error);
          received += partValues.length;
          busyMs += partBusyMs;
          if (received === message.count)
            resolve({ kind: 'results', frame: encodeResults(message, values, errors, busyMs), busyMs });
        },
        onFailed(_from, _to, error) {
          if (error instanceof WorkerCrashedError) return resolve({ kind: 'crashed', error });
          const frame = encodeFrame({ type: 'chunkFailed', chunk: message.chunk, error: toFailureInfo(error) });
          resolve({ kind: 'failed', frame, busyMs });
        },
      },
    };
    engine.submit(chunk);
  });
}

function encodeResults(message: JobChunkMessage, values: unknown[], errors: Map<number, Error>, busyMs: number): Uint8Array {
  const encoder = new ValueEncoder();
  const itemErrors: Array<[number, ItemError]> = [];
  for (let index = 0; index < values.length; index++) {
    const error = errors.get(index);
    if (error) {
      itemErrors.push([index, toItemError(error)]);
      encoder.write(undefined, '');
      continue;
    }
    try {
      encoder.write(values[index], `the result of task '${message.task.name}' for item ${index}`);
    } catch (thrown) {
      if (!(thrown instanceof SerializationError)) throw thrown;
      itemErrors.push([index, { failure: toFailureInfo(thrown) }]);
      encoder.write(undefined, '');
    }
  }
  const { attachments } = encoder.takeAttachments();
  if (attachments.length > 0) {
    // Shared memory and ports cannot cross the network: say so rather than send a broken value.
    const failure = toFailureInfo(
      new SerializationError(
        `the results of task '${message.task.name}'`,
        'they hold objects bound to one machine (shared memory, ports), which cannot cross the network',
      ),
    );
    return encodeFrame({ type: 'chunkFailed', chunk: message.chunk, error: failure });
  }
  return encodeFrame(
    { type: 'results', chunk: message.chunk, from: 0, count: values.length, errors: itemErrors, final: true, busyMs },
    encoder.finish(),
  );
}

function toItemError(error: Error): ItemError {
  if (error instanceof RemoteError) {
    return {
      remote: {
        name: error.remoteName,
        message: error.remoteMessage,
        stack: error.remoteStack,
        properties: error.remoteProperties,
      },
    };
  }
  return { failure: toFailureInfo(error) };
}

function setupKey(setup: JobSetup | undefined): string {
  if (!setup) return '';
  return JSON.stringify([
    setup.taskModules,
    setup.initializer?.name ?? null,
    setup.initializer?.module ?? null,
    setup.initArgs ? Buffer.from(setup.initArgs).toString('base64') : null,
    setup.maxTasksPerChild ?? null,
  ]);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
