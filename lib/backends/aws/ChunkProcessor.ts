import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { ThreadBackend } from '../../backend/backends.js';
import type { Chunk, PoolEngineOptions } from '../../backend/PoolEngine.js';
import { encodeFrame, type ItemError, type JobChunkMessage, type JobSetup, type TaskRef } from '../../codec/protocol.js';
import { ValueEncoder } from '../../codec/ValueEncoder.js';
import { RemoteError, SerializationError, WorkerCrashedError } from '../../errors.js';
import { toFailureInfo } from '../../runtime/errorInfo.js';
import { warmUpTask } from '../../runtime/warmUpTask.js';
import { LocalPoolEngine } from '../local/LocalPoolEngine.js';
import { defaultProcessScript } from '../local/LocalProcess.js';
import { defaultWorkerScript } from '../local/LocalWorker.js';
import type { AwsClients } from './AwsClients.js';
import { ChunkScheduler } from './ChunkScheduler.js';
import { INLINE_RESULT_BYTES, RECEIVES_ATTRIBUTE, decodeChunkBody, isProcessBody, resultsKey } from './chunkMessages.js';
import { Heartbeat } from './Heartbeat.js';
import { Invocation, type DeadlineContext, type Delivery } from './Invocation.js';
import { MessageReleaser } from './MessageReleaser.js';
import { PayloadStore } from './PayloadStore.js';
import { ProcessRunner } from './ProcessRunner.js';
import { ProcessStore } from './ProcessStore.js';
import { ResultTable, type ChunkRecord, type ChunkRun } from './ResultTable.js';
import { TaskQueue, type QueueSettings } from './TaskQueue.js';
import { TaskTimings } from './TaskTimings.js';
import type { ChunkOutcome, ChunkReport, InvocationTelemetry, WorkerTelemetry } from './WorkerTelemetry.js';
import { errorText } from '../../util/errorText.js';

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
  /**
   * Modules (file: URLs) every thread imports, besides a run's own: a fleet's `--tasks`, for
   * chunks whose task names no module (a job submitted over the HTTP API).
   */
  taskModules?: string[];
  /** Where the processor's notes go (crashes, redeliveries). @default console.error, or the telemetry's logger */
  log?: (line: string) => void;
  /**
   * A JSON log line per chunk and EMF metrics per invocation ({@link WorkerTelemetry}; the
   * worker runtime loads it with a dynamic import). @default none
   */
  telemetry?: WorkerTelemetry;
}

/** What the processor has done, for the fleet's stats and the bench. */
export interface ChunkProcessorStats {
  /** Chunks run and recorded by this processor. */
  chunksRecorded: number;
  /** Chunks skipped: already recorded (a duplicate delivery) or cancelled. */
  chunksSkipped: number;
  /** Chunks released for redelivery after a back-off: their worker thread crashed, or a request failed. */
  chunksRetried: number;
  /** Chunks handed back unharmed because their invocation's time ran out (not started, or stopped). */
  chunksReturned: number;
  /** Of those, chunks that were running and were stopped (their thread ended) at the deadline. */
  chunksStopped: number;
  /** Chunks handed back as a fresh copy of their message, so that their receive count starts again. */
  chunksReplaced: number;
  /** Chunks recorded as failed because they cannot finish within one invocation. */
  chunksTooLong: number;
  /** Chunks recorded as failed because they crashed their worker on every delivery the queue allows. */
  chunksDead: number;
  /** Visibility extensions sent by heartbeats (one per message per beat). */
  visibilityExtensions: number;
  /** Milliseconds worker threads spent running tasks. */
  busyMs: number;
}

/** Thread pools kept at once, one per distinct pool setup (task modules, initializer). */
const MAX_ENGINES = 4;
/**
 * A chunk handed back for the deadline is charged a receive by SQS. When fewer than this many
 * receives would be left before the dead-letter queue, it is replaced by a fresh copy instead.
 */
const KEEP_RECEIVES = 3;
/** Deliveries a crashing chunk gets when the queue has no redrive policy to say. */
const DEFAULT_MAX_DELIVERIES = 5;
/** A chunk stopped after running this share of its invocation's budget can never finish. */
const TOO_LONG_SHARE = 0.9;
/** Seconds before a chunk whose requests failed is delivered again. */
const RETRY_BACKOFF_SECONDS = 1;

/**
 * The worker side of the aws backend, shared by the Lambda handler and the local worker fleet.
 * For each SQS batch it decodes the chunks, skips those already recorded or cancelled, and runs
 * the others on worker threads (a local pool engine per pool setup, reused across invocations),
 * recording each chunk's results once with a conditional put (results too big for an item go to
 * S3). A task that throws is a result, not a retry.
 *
 * **Deadlines.** It plans against the invocation's remaining time (`getRemainingTimeInMillis`):
 * chunks go to at most `threads` threads, those received more often first, and a chunk that
 * cannot finish before the invocation's stop time — the deadline less a reserve of 10% (500 ms
 * to 3 s) — by its estimate ({@link TaskTimings}: the task's slowest recent item × its items,
 * measured on this worker) is not started but handed back at once: a batch item failure whose
 * message is made visible again at once (ChangeMessageVisibility 0, ten to a request). At the
 * stop time, chunks still running are stopped (their thread ends; nothing of a chunk is written
 * before all its results are in, and that write is a conditional put) and handed back alike.
 * A chunk's clock starts on a running thread with its task loaded (a thread start or a module
 * import is not its time); stopped after running 90% of the whole budget, it can never finish:
 * it is recorded as `tooLong` and the caller's call fails with `ChunkTooLongError`, after that
 * one attempt. middy's own early timeout is off: this stop time always comes first.
 *
 * **Receive counts.** SQS counts every receive, so a chunk handed back for the deadline is
 * charged one; a healthy chunk must not march to the dead-letter queue that way. When fewer than
 * three receives would remain before the queue's `maxReceiveCount`, the chunk is handed back as a
 * fresh copy of its message instead (SendMessageBatch: its receive count starts again; the copy
 * notes the receives so far, to keep its priority) and the received one is deleted. So a chunk
 * reaches the dead-letter queue only by failing for real: crashing, or losing its worker (a
 * killed environment, a throttled invocation) on at least three deliveries in a row.
 *
 * **Failures.** A worker thread that dies (it exited, or ran out of memory) releases its chunk at
 * once with a short back-off (visibility 1, 2, 4, 8 s). Its crashes are counted in the table
 * (the receive count also counts hand-backs, and a copy starts it again); at `maxReceiveCount`
 * crashes the chunk is recorded as `dead` with the crash's reason, and the caller's call fails
 * with `WorkerCrashedError` within seconds rather than after visibility timeouts. Messages that
 * wait or run longer than half the queue's visibility timeout are kept hidden by a
 * {@link Heartbeat}, so that nothing is delivered twice while it runs.
 *
 * @example
 * ```ts
 * const processor = new ChunkProcessor({ clients: new AwsClients(config), threads: 2 });
 * const { batchItemFailures } = await processor.handleEvent(sqsEvent, lambdaContext);
 * ```
 */
export class ChunkProcessor {
  private readonly table: ResultTable;
  private readonly payloads: PayloadStore;
  private readonly queue: TaskQueue;
  private readonly releaser: MessageReleaser;
  /** Runs the batch's `Process` messages (see `AwsProcess`). */
  private readonly processes: ProcessRunner;
  private readonly threadBackend: ThreadBackend;
  /** Names this worker in its chunks' records: the Lambda environment's log stream, or a fresh id. */
  private readonly workerId = process.env.AWS_LAMBDA_LOG_STREAM_NAME || `worker-${randomUUID().slice(0, 8)}`;
  /** The threads (by number, per engine) that have run a chunk: the others start cold. */
  private readonly warmThreads = new WeakMap<LocalPoolEngine, Set<number>>();
  private readonly timings = new TaskTimings();
  private readonly scheduler: ChunkScheduler<Delivery>;
  private readonly engines = new Map<string, LocalPoolEngine>();
  private readonly log: (line: string) => void;
  private readonly telemetryOf = new WeakMap<Invocation, InvocationTelemetry>();
  private settings: Promise<QueueSettings | undefined> | undefined;
  private sequence = 0;
  private readonly statistics: ChunkProcessorStats = {
    chunksRecorded: 0,
    chunksSkipped: 0,
    chunksRetried: 0,
    chunksReturned: 0,
    chunksStopped: 0,
    chunksReplaced: 0,
    chunksTooLong: 0,
    chunksDead: 0,
    visibilityExtensions: 0,
    busyMs: 0,
  };

  constructor(private readonly options: ChunkProcessorOptions) {
    const { clients } = options;
    // What a task or target makes with `new Queue()` or `new Process()` lives with the work's resources.
    this.threadBackend = { name: 'aws', state: clients.config };
    const telemetry = options.telemetry;
    this.log = options.log ?? (telemetry ? (line) => telemetry.note(line) : (line) => console.error(line));
    this.table = new ResultTable(clients.dynamodb, clients.config.table);
    this.payloads = new PayloadStore(clients.s3, clients.config.bucket);
    this.queue = new TaskQueue(clients.sqs, clients.config.queueUrl, clients.config.deadLetterQueueUrl);
    this.releaser = new MessageReleaser(this.queue, this.log);
    this.processes = new ProcessRunner({
      store: new ProcessStore(clients.dynamodb, clients.config.table),
      payloads: this.payloads,
      releaser: this.releaser,
      // A Lambda bundle is its own threads' script, for both roles.
      script: options.workerScript ?? defaultProcessScript,
      tasksByName: options.tasksByName ?? false,
      visibilityTimeoutSeconds: async () => (await this.queueSettings())?.visibilityTimeoutSeconds,
      log: this.log,
      threadBackend: this.threadBackend,
    });
    this.scheduler = new ChunkScheduler<Delivery>(
      options.threads,
      (delivery) => this.timings.estimate(delivery.message.task.name, delivery.message.count),
      {
        start: (delivery) => void this.run(delivery),
        giveBack: (delivery) => this.handBack(delivery),
      },
    );
  }

  /**
   * Processes one SQS batch within the time `context` says is left; the records returned in
   * `batchItemFailures` are to be redelivered (their visibility is already set).
   */
  async handleEvent(event: SQSEvent, context?: DeadlineContext): Promise<SQSBatchResponse> {
    const invocation = new Invocation(context);
    const telemetry = this.options.telemetry?.invocation(context as { awsRequestId?: string } | undefined);
    if (!telemetry) return this.process(event, invocation);
    this.telemetryOf.set(invocation, telemetry);
    try {
      return await this.process(event, invocation);
    } finally {
      telemetry.flush();
    }
  }

  /** Process messages go to the {@link ProcessRunner}, chunks to the rest of the processor, side by side. */
  private async process(event: SQSEvent, invocation: Invocation): Promise<SQSBatchResponse> {
    const processes = event.Records.filter((record) => isProcessBody(record.body));
    if (processes.length === 0) return this.processChunks(event, invocation);
    const chunks = event.Records.filter((record) => !isProcessBody(record.body));
    const [response, done] = await Promise.all([
      this.processChunks({ Records: chunks }, invocation),
      Promise.all(processes.map((record) => this.processes.handle(record, invocation))),
    ]);
    const failures = [...response.batchItemFailures];
    processes.forEach((record, index) => {
      if (!done[index]) failures.push({ itemIdentifier: record.messageId });
    });
    return { batchItemFailures: failures };
  }

  private async processChunks(event: SQSEvent, invocation: Invocation): Promise<SQSBatchResponse> {
    const failures: Array<{ itemIdentifier: string }> = [];
    const decoded: Array<{ record: SQSRecord; message: JobChunkMessage; payload: Uint8Array }> = [];
    for (const record of event.Records) {
      try {
        decoded.push({ record, ...decodeChunkBody(record.body) });
      } catch (error) {
        // Not a fanout chunk: no run to report it to. Redelivery takes it to the dead-letter queue.
        this.log(`fanout worker: message ${record.messageId} is not a fanout chunk: ${errorText(error)}`);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    if (decoded.length === 0) return { batchItemFailures: failures };
    const settings = this.queueSettings();
    let settled: Set<string>;
    let cancelledRuns: Set<string>;
    let cancelledJobs: Set<string>;
    try {
      ({ settled, cancelledRuns, cancelledJobs } = await this.table.findSettled(
        decoded.map(({ message }) => ({ run: message.job, chunk: message.chunk, jobId: message.jobId })),
      ));
    } catch (error) {
      this.log(`fanout worker: could not read the state of ${decoded.length} chunks: ${errorText(error)}`);
      this.statistics.chunksRetried += decoded.length;
      await Promise.all(decoded.map(({ record }) => this.releaser.setVisibility(record.receiptHandle, RETRY_BACKOFF_SECONDS)));
      return { batchItemFailures: [...failures, ...decoded.map(({ record }) => ({ itemIdentifier: record.messageId }))] };
    }
    const cancellations: Array<Promise<void>> = [];
    for (const { record, message, payload } of decoded) {
      if (settled.has(`${message.job}|${message.chunk}`)) this.statistics.chunksSkipped++;
      else if (message.jobId !== undefined && cancelledJobs.has(message.jobId)) {
        // Recorded, unlike a cancelled run's chunks: a pool may still wait for this job (someone
        // else cancelled it), and reading the record is how it learns.
        this.statistics.chunksSkipped++;
        cancellations.push(
          this.write(message, { chunk: message.chunk, status: 'cancelled' }).catch((error: unknown) => {
            this.log(
              `fanout worker: could not record chunk ${message.chunk} of cancelled job ${message.jobId}: ${errorText(error)}`,
            );
          }),
        );
      } else if (cancelledRuns.has(message.job)) this.statistics.chunksSkipped++;
      else invocation.deliveries.push(this.delivery(invocation, record, message, payload));
    }
    await Promise.all(cancellations);
    const deliveries = invocation.deliveries;
    if (deliveries.length === 0) return { batchItemFailures: failures };
    const heartbeat = new Heartbeat(this.releaser, (await settings)?.visibilityTimeoutSeconds, invocation.startedAt, () =>
      deliveries.filter((delivery) => delivery.state !== 'settled').map((delivery) => delivery.record.receiptHandle),
    );
    invocation.watch(
      () => this.stop(invocation),
      () => {
        // Recordings still in flight: hand their messages back (if a put lands later, it is the only one).
        for (const delivery of deliveries) if (delivery.state !== 'settled') this.handBack(delivery);
      },
    );
    this.scheduler.add(deliveries);
    const done = await Promise.all(deliveries.map((delivery) => delivery.done));
    heartbeat.stop();
    invocation.end();
    this.statistics.visibilityExtensions += heartbeat.extensions;
    deliveries.forEach((delivery, index) => {
      if (!done[index]) failures.push({ itemIdentifier: delivery.record.messageId });
    });
    return { batchItemFailures: failures };
  }

  /**
   * Starts the worker threads of pools without special setup now, so that the first chunk does
   * not wait for them (a Lambda's init phase, a fleet's start-up). Resolves when they are ready.
   */
  async warmUp(): Promise<void> {
    const engine = this.engineFor(setupKey(undefined), undefined);
    // One chunk per thread, submitted together: the engine starts a thread for each.
    await Promise.all(Array.from({ length: this.options.threads }, () => this.warmThread(engine)));
  }

  /** Runs the trivial warm-up task on the engine: on a thread it starts if none is idle. */
  private async warmThread(engine: LocalPoolEngine): Promise<void> {
    const ref = this.taskRef({ name: warmUpTask.taskName, ...(warmUpTask.module ? { module: warmUpTask.module } : {}) });
    const payload = new ValueEncoder();
    payload.write(0, 'warm-up');
    const message: JobChunkMessage = {
      type: 'jobChunk',
      job: 'warm-up',
      chunk: 0,
      task: ref,
      count: 1,
      spread: false,
      expiresAt: 0,
    };
    await startChunk(engine, ref, message, payload.finish()).result;
  }

  /** Counters of the work done so far. */
  stats(): ChunkProcessorStats {
    return { ...this.statistics };
  }

  /** Lets the worker threads go once their chunks are done. */
  async close(): Promise<void> {
    this.processes.close();
    const engines = [...this.engines.values()];
    this.engines.clear();
    for (const engine of engines) engine.close();
    await Promise.all(engines.map((engine) => engine.join()));
  }

  private delivery(invocation: Invocation, record: SQSRecord, message: JobChunkMessage, payload: Uint8Array): Delivery {
    let resolve!: (done: boolean | Promise<boolean>) => void;
    const done = new Promise<boolean>((settle) => (resolve = settle));
    const received = Number(record.attributes.ApproximateReceiveCount);
    const receiveCount = Number.isInteger(received) && received > 0 ? received : 1;
    const before = Number(record.messageAttributes?.[RECEIVES_ATTRIBUTE]?.stringValue ?? 0);
    const delivery: Delivery = {
      record,
      message,
      payload,
      invocation,
      window: invocation.window,
      receiveCount,
      priority: receiveCount + (Number.isInteger(before) && before > 0 ? before : 0),
      sequence: this.sequence++,
      state: 'waiting',
      stopping: false,
      done,
      settle(result) {
        if (delivery.state === 'settled') return;
        delivery.state = 'settled';
        resolve(result);
      },
    };
    return delivery;
  }

  /** The invocation's stop time: nothing of it starts any more, and what runs is stopped. */
  private stop(invocation: Invocation): void {
    for (const delivery of invocation.deliveries) {
      delivery.stopping = true;
      if (delivery.state === 'waiting' && this.scheduler.remove(delivery)) this.handBack(delivery);
      else if (delivery.state === 'running') delivery.abandon?.();
    }
  }

  /** Runs a delivery's chunk on a thread the scheduler gave it, and records its end. */
  private async run(delivery: Delivery): Promise<void> {
    const { message } = delivery;
    delivery.state = 'running';
    let threadFree = false;
    const freeThread = () => {
      if (threadFree) return;
      threadFree = true;
      this.scheduler.finished(delivery);
    };
    try {
      const payload = message.payloadKey ? await this.payloads.get(message.payloadKey) : delivery.payload;
      if (delivery.stopping || delivery.state !== 'running') {
        freeThread();
        return this.handBack(delivery);
      }
      const task = this.taskRef(message.task);
      const engineKey = setupKey(message.setup);
      const engine = this.engineFor(engineKey, message.setup);
      // The chunk's clock starts on a running thread that has its task loaded: the chunk's task
      // runs first on no items, which starts a thread if none is idle (the first chunk of a setup,
      // or after a crash or a stop) and imports the task's module if needed. So that one-time
      // cost is never taken for the chunk's own time, nor judged too long. On an idle thread
      // with the task loaded it is one round trip of well under a millisecond.
      await startChunk(engine, task, { ...message, count: 0 }, new Uint8Array(0), 0).result;
      if (delivery.stopping || delivery.state !== 'running') {
        freeThread();
        return this.handBack(delivery);
      }
      const startedAt = performance.now();
      const startedAtEpoch = Date.now();
      delivery.startedAt = startedAt;
      const running = startChunk(engine, task, message, payload);
      delivery.abandon = running.abandon;
      const ran = await running.result;
      delivery.abandon = undefined;
      freeThread();
      const ranMs = performance.now() - startedAt;
      if (ran.kind === 'stopped') return await this.afterStop(delivery, ranMs);
      if (ran.kind === 'crashed') {
        // Start afresh for the next chunks of this setup.
        this.retireEngine(engineKey, engine);
        return await this.afterCrash(delivery, ran.error);
      }
      this.timings.ran(message.task.name, message.count, ran.busyMs, ranMs);
      this.statistics.busyMs += ran.busyMs;
      if (delivery.state !== 'running') return;
      delivery.state = 'recording';
      const recordingFrom = performance.now();
      const thread = running.thread() ?? 0;
      await this.record(delivery, ran, {
        worker: this.workerId,
        thread,
        startMs: startedAtEpoch,
        endMs: Date.now(),
        attempts: delivery.receiveCount,
        coldStart: this.firstOnThread(engine, thread),
        taskMs: ran.busyMs,
        items: message.count,
        ...(message.copy ? { copy: true } : {}),
      });
      this.timings.recorded(performance.now() - recordingFrom);
      this.report(delivery, ran.kind === 'results' ? 'ok' : 'failed', {
        durationMs: ranMs,
        taskMs: ran.busyMs,
        taskErrors: ran.kind === 'results' ? ran.errors : message.count,
      });
      delivery.settle(true);
    } catch (error) {
      freeThread();
      this.retry(delivery, error);
    }
  }

  /**
   * Whether this is the first chunk `engine`'s thread `thread` ran: its thread started (and
   * loaded the task) in the wait before it, and its code ran cold.
   */
  private firstOnThread(engine: LocalPoolEngine, thread: number): boolean {
    let warm = this.warmThreads.get(engine);
    if (!warm) this.warmThreads.set(engine, (warm = new Set()));
    if (warm.has(thread)) return false;
    warm.add(thread);
    return true;
  }

  /** Writes a chunk's results (or its failure) once; a duplicate delivery's write is refused and skipped. */
  private async record(delivery: Delivery, ran: Exclude<Ran, { kind: 'crashed' | 'stopped' }>, run: ChunkRun): Promise<void> {
    const { message, record } = delivery;
    let result: ChunkRecord = {
      chunk: message.chunk,
      status: ran.kind === 'results' ? 'ok' : 'failed',
      run,
      ...(ran.kind === 'results' ? { itemErrors: ran.errors } : {}),
    };
    if (ran.frame.length > INLINE_RESULT_BYTES) {
      // A key per attempt: a duplicate delivery's object never replaces the recorded one's.
      const key = resultsKey(message.job, message.chunk, `${record.messageId}-${randomUUID()}`);
      await this.payloads.put(key, ran.frame);
      result = { ...result, frameKey: key };
    } else {
      result = { ...result, frame: ran.frame };
    }
    await this.write(message, result);
  }

  private async write(message: JobChunkMessage, result: ChunkRecord): Promise<void> {
    if (message.item !== undefined) {
      // A job's chunk says which of the job's items it holds, so that its results and failures
      // can be read without the pool that sent it.
      const failed = result.status === 'ok' ? (result.itemErrors ?? 0) : result.status === 'cancelled' ? 0 : message.count;
      result = { ...result, item: message.item, items: message.count, itemErrors: failed };
    }
    const written = await this.table.putResult(message.job, result, message.expiresAt);
    if (written) this.statistics.chunksRecorded++;
    else this.statistics.chunksSkipped++;
    // A run that lost the race to another copy of its chunk (a straggler's re-run) was paid for
    // all the same: say what it cost, beside the record it lost to.
    if (!written && result.run && result.status !== 'cancelled') {
      await this.table.putDuplicate(message.job, message.chunk, result.run, message.expiresAt).catch((error: unknown) => {
        this.log(`fanout worker: could not record the duplicate run of chunk ${message.chunk}: ${errorText(error)}`);
      });
    }
  }

  /** A chunk was stopped at its invocation's stop time: hand it back, or fail it if it can never finish. */
  private async afterStop(delivery: Delivery, ranMs: number): Promise<void> {
    const { message, window } = delivery;
    this.statistics.chunksStopped++;
    this.timings.stopped(message.task.name, message.count, ranMs);
    if (ranMs < TOO_LONG_SHARE * window.budgetMs || delivery.state !== 'running') return this.handBack(delivery);
    delivery.state = 'recording';
    const reason =
      `Chunk ${message.chunk} of task '${message.task.name}' (${message.count} item${message.count === 1 ? '' : 's'}) ran ` +
      `${formatMs(ranMs)} on a worker without finishing, and an invocation of the worker function gives a chunk at most ` +
      `${formatMs(window.budgetMs)} (its timeout of ${formatMs(window.budgetMs + delivery.invocation.reserveMs)} less ` +
      `${formatMs(delivery.invocation.reserveMs)} kept to hand work back): it can never finish there, so it was not retried. ` +
      "Use a smaller chunksize, or raise the worker function's timeout (the Fanout construct's workerTimeout, at most 15 minutes).";
    this.log(`fanout worker: ${reason}`);
    await this.write(message, { chunk: message.chunk, status: 'tooLong', reason, ranMs, timeoutMs: window.budgetMs });
    this.statistics.chunksTooLong++;
    this.report(delivery, 'tooLong', { durationMs: ranMs });
    delivery.settle(true);
  }

  /**
   * A chunk's worker thread died: release it after a back-off, or, once it has crashed as often
   * as the queue allows deliveries (its crashes are counted in the table: SQS's receive count
   * also counts deliveries handed back unharmed, and a fresh copy starts it again), record it as
   * dead with the crash's reason.
   */
  private async afterCrash(delivery: Delivery, error: Error): Promise<void> {
    const { message, record, receiveCount } = delivery;
    const maxReceiveCount = (await this.queueSettings())?.maxReceiveCount;
    const limit = maxReceiveCount ?? DEFAULT_MAX_DELIVERIES;
    // If the count cannot be written, the receive count is the best there is.
    const crashes = await this.table.countCrash(message.job, message.chunk, message.expiresAt).catch(() => receiveCount);
    if (delivery.state !== 'running') return;
    if (crashes < limit && receiveCount < (maxReceiveCount ?? Infinity)) {
      const backoff = Math.min(8, 2 ** (crashes - 1));
      this.log(
        `fanout worker: chunk ${message.chunk} of run ${message.job} (task '${message.task.name}') crashed its worker ` +
          `(crash ${crashes} of ${limit}); delivered again in ${backoff} s: ${errorText(error)}`,
      );
      this.statistics.chunksRetried++;
      this.report(delivery, 'crash');
      delivery.settle(this.releaser.setVisibility(record.receiptHandle, backoff).then(() => false));
      return;
    }
    delivery.state = 'recording';
    const reason =
      `Chunk ${message.chunk} of task '${message.task.name}' crashed its worker on ${crashes} deliveries, the most the task ` +
      `queue allows before its dead-letter queue (maxReceiveCount ${limit}), and is not retried again. Last crash: ` +
      `${error.message} Look for a task that exits the process, exhausts memory, or throws from a timer.`;
    this.log(`fanout worker: ${reason}`);
    await this.write(message, { chunk: message.chunk, status: 'dead', reason });
    this.statistics.chunksDead++;
    this.report(delivery, 'dead');
    delivery.settle(true);
  }

  /** A request failed: release the chunk after a short back-off, for another try. */
  private retry(delivery: Delivery, error: unknown): void {
    if (delivery.state === 'settled') return;
    const { message, record } = delivery;
    this.log(
      `fanout worker: chunk ${message.chunk} of run ${message.job} (task '${message.task.name}', receive ` +
        `${delivery.receiveCount}) will be redelivered: ${errorText(error)}`,
    );
    this.statistics.chunksRetried++;
    this.report(delivery, 'retried');
    delivery.settle(this.releaser.setVisibility(record.receiptHandle, RETRY_BACKOFF_SECONDS).then(() => false));
  }

  /** The chunk's log line and metrics, if there is telemetry. */
  private report(
    delivery: Delivery,
    outcome: ChunkOutcome,
    ran: Partial<Pick<ChunkReport, 'durationMs' | 'taskMs' | 'taskErrors'>> = {},
  ): void {
    const telemetry = this.telemetryOf.get(delivery.invocation);
    if (!telemetry) return;
    const { message } = delivery;
    const durationMs = ran.durationMs ?? (delivery.startedAt !== undefined ? performance.now() - delivery.startedAt : 0);
    telemetry.chunk({
      run: message.job,
      chunk: message.chunk,
      task: message.task.name,
      attempt: delivery.receiveCount,
      items: message.count,
      outcome,
      ...ran,
      durationMs,
    });
  }

  /**
   * Hands a chunk back unharmed (its invocation's time ran out): visible again at once, or, when
   * its receive count nears the queue's limit, replaced by a fresh copy of its message.
   */
  private handBack(delivery: Delivery): void {
    if (delivery.state === 'settled') return;
    this.statistics.chunksReturned++;
    this.report(delivery, 'handedBack');
    delivery.settle(this.returnMessage(delivery));
  }

  private async returnMessage(delivery: Delivery): Promise<boolean> {
    const { record, message, receiveCount } = delivery;
    const limit = (await this.queueSettings())?.maxReceiveCount;
    if (limit !== undefined && limit - receiveCount < KEEP_RECEIVES) {
      if (await this.releaser.sendCopy(record.body, message, delivery.priority)) {
        this.statistics.chunksReplaced++;
        return true; // The received message is deleted as done; its copy takes its place.
      }
    }
    await this.releaser.setVisibility(record.receiptHandle, 0);
    return false;
  }

  /** The queue's settings, read once (a failed read is tried again by the next invocation). */
  private queueSettings(): Promise<QueueSettings | undefined> {
    if (!this.settings) {
      const reading = this.queue.readSettings().catch((error: unknown) => {
        this.log(`fanout worker: could not read the task queue's settings: ${errorText(error)}`);
        if (this.settings === reading) this.settings = undefined;
        return undefined;
      });
      this.settings = reading;
    }
    return this.settings;
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
      taskModules: this.options.tasksByName
        ? []
        : [...new Set([...(this.options.taskModules ?? []), ...(setup?.taskModules ?? [])])],
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
    engine = new LocalPoolEngine(options, this.options.workerScript ?? defaultWorkerScript, this.threadBackend);
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

type Ran =
  | { kind: 'results'; frame: Uint8Array; busyMs: number; errors: number }
  | { kind: 'failed'; frame: Uint8Array; busyMs: number }
  | { kind: 'crashed'; error: Error }
  | { kind: 'stopped' };

/**
 * Runs a chunk on the engine and encodes its results as one frame (or its failure). `abandon()`
 * stops it (its thread ends; the engine starts another for the next chunk) and resolves the
 * result as `stopped`: nothing it computed is kept.
 */
function startChunk(
  engine: LocalPoolEngine,
  task: TaskRef,
  message: JobChunkMessage,
  payload: Uint8Array,
  /** What the chunk counts as for `maxTasksPerChild` (0 for a chunk of no items, which runs no task). */
  taskCount = 1,
): { result: Promise<Ran>; abandon(): void; thread(): number | undefined } {
  let settle!: (ran: Ran) => void;
  let thread: number | undefined;
  let settled = false;
  const result = new Promise<Ran>((resolve) => {
    settle = (ran) => {
      if (settled) return;
      settled = true;
      resolve(ran);
    };
  });
  const values = new Array<unknown>(message.count);
  const errors = new Map<number, Error>();
  let received = 0;
  let busyMs = 0;
  const chunk: Chunk = {
    task,
    spread: message.spread,
    count: message.count,
    payload,
    // The engine splits a chunk only to honour maxTasksPerChild with taskCount > 1, to resume a
    // cancelled one, or to run the rest of one whose thread crashed (which is stopped here).
    boundaries: Uint32Array.of(0, payload.length),
    attachments: [],
    transfer: [],
    base: 0,
    taskCount,
    control: { cancelled: false, interrupt: false },
    sink: {
      onStarted(number) {
        thread = number;
      },
      onResults(from, partValues, partErrors, partBusyMs) {
        for (let i = 0; i < partValues.length; i++) values[from + i] = partValues[i];
        for (const [index, error] of partErrors) errors.set(index, error);
        received += partValues.length;
        busyMs += partBusyMs;
        if (received === message.count)
          settle({ kind: 'results', frame: encodeResults(message, values, errors, busyMs), busyMs, errors: errors.size });
      },
      onFailed(_from, _to, error) {
        if (error instanceof WorkerCrashedError) {
          // The engine would run the chunk's other items on a new thread: the chunk is redelivered whole.
          engine.cancel(chunk, true);
          return settle({ kind: 'crashed', error });
        }
        const frame = encodeFrame({ type: 'chunkFailed', chunk: message.chunk, error: toFailureInfo(error) });
        settle({ kind: 'failed', frame, busyMs });
      },
    },
  };
  engine.submit(chunk);
  return {
    result,
    abandon() {
      if (settled) return;
      engine.cancel(chunk, true);
      settle({ kind: 'stopped' });
    },
    thread: () => thread,
  };
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

function formatMs(ms: number): string {
  return `${Math.round(ms).toLocaleString('en-US')} ms`;
}
