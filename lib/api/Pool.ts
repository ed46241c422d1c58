import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { ResourceLimits } from 'node:worker_threads';
import type { Backend } from '../backend/Backend.js';
import type { Chunk, ChunkSink, PoolEngine, PoolStats, SpeculationSettings } from '../backend/PoolEngine.js';
import { defaultChunksize, makeChunk, sliceEncoded } from '../backend/chunks.js';
import type { TaskRef } from '../codec/protocol.js';
import { InvalidArgumentError, PoolClosedError, ValueError } from '../errors.js';
import { AsyncResult, settle, type ResultCallbacks, type Settleable } from './AsyncResult.js';
import { ChunkEncoder, type EncodedItems } from './ChunkEncoder.js';
import { PoolCall, type JobLimits } from './PoolCall.js';
import { Job } from './Job.js';
import { Deque } from '../util/Deque.js';
import { TaskSpeeds } from './TaskSpeeds.js';
import { checkFunction, checkInteger, checkOptions, checkResourceLimits, checkSignal, checkTimeout } from './checks.js';
import { taskRef, type Task } from './task.js';
import { defaultBackend } from '../backend/backends.js';

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Number of workers. @default the machine's available parallelism (or `FANOUT_PROCESSES`) */
  processes?: number;
  /** Modules (paths or URLs) every worker imports before running tasks: one, or an array. */
  tasks?: string | URL | Array<string | URL>;
  /** A task each worker runs once, with `initargs`, before its first task. */
  initializer?: Task<never[], unknown>;
  initargs?: unknown[];
  /** Replace a worker after it has run this many tasks (a map chunk counts as one, as in Python). */
  maxTasksPerChild?: number;
  /** Memory limits of each worker thread (local backend). */
  resourceLimits?: ResourceLimits;
  /**
   * Re-run stragglers (aws backend): a chunk out far longer than its task's finished chunks is
   * sent again, and whichever copy finishes first is its result (a chunk is recorded once). The
   * duplicate's cost is recorded (a job's duplicate runs, `pool.stats().speculation`). `true`
   * takes the defaults: after 3× the median, at least 2,000 ms, once half the chunks are done.
   * Tasks must tolerate running twice (they are retried on failures anyway). The local backend
   * ignores it: its threads share one machine.
   */
  speculate?: boolean | SpeculateOptions;
}

/** When a chunk is a straggler, for {@link PoolOptions.speculate}. */
export interface SpeculateOptions {
  /** A chunk out this many times the median time of its task's finished chunks is re-run. @default 3 */
  after?: number;
  /** …once this share of its task's chunks (0 to 1) has finished. @default 0.5 */
  minDone?: number;
  /** …and never before this many ms. @default 2000 */
  minMs?: number;
}

/** Options of one call: a deadline and a way to cancel it. */
export interface CallOptions {
  /** Fail with `TimeoutError` and cancel the call's work after this many ms. */
  timeout?: number;
  /** Cancels the call's queued and running work when aborted. */
  signal?: AbortSignal;
}

/** Options of `map`, `starmap`, `imap` and `imapUnordered`. */
export interface MapOptions extends CallOptions {
  /** Items per message to a worker. @default automatic, as Python's */
  chunksize?: number;
}

/**
 * What `mapAsync` and `starmapAsync` return: an {@link AsyncResult} of the results, and, where
 * the backend records jobs (aws), the {@link Job} that another process can attach to by `job.id`.
 */
export type MapResult<R> = AsyncResult<R[]> & { job?: Job<R> };

/** Options of the `...Async` calls. */
export type AsyncCallOptions<R> = CallOptions & ResultCallbacks<R>;
export type AsyncMapOptions<R> = MapOptions & ResultCallbacks<R>;

const POOL_OPTIONS = [
  'processes',
  'tasks',
  'initializer',
  'initargs',
  'maxTasksPerChild',
  'resourceLimits',
  'speculate',
] as const;
const SPECULATE_OPTIONS = ['after', 'minDone', 'minMs'] as const;
const CALL_OPTIONS = ['timeout', 'signal'] as const;
const MAP_OPTIONS = ['timeout', 'signal', 'chunksize'] as const;
const CALLBACK_OPTIONS = ['callback', 'errorCallback'] as const;

/**
 * How one public call names itself in its errors. Built once per call, not per invocation, so
 * that `map` and `apply` say `pool.map` and `pool.apply` although they share their async forms' code.
 */
interface CallNames {
  /** `pool.map(task, items, options)`: the prefix of an option's name. */
  readonly options: string;
  /** `pool.map(task, items)`: where the task is named. */
  readonly task: string;
  /** `pool.map(task, items): items`, `pool.apply(task, args): args`. */
  readonly input: string;
  readonly chunksize: string;
  /** The options this call takes. */
  readonly allowed: readonly string[];
  /** What a timeout's message calls the work: `map`, `call`. */
  readonly kind: string;
}

function callNames(method: string, input: 'args' | 'items', allowed: readonly string[], kind: string): CallNames {
  const call = `pool.${method}(task, ${input}`;
  return {
    options: `${call}, options)`,
    task: `${call})`,
    input: `${call}): ${input}`,
    chunksize: `${call}, options): chunksize`,
    allowed,
    kind,
  };
}

const APPLY = callNames('apply', 'args', CALL_OPTIONS, 'call');
const APPLY_ASYNC = callNames('applyAsync', 'args', [...CALL_OPTIONS, ...CALLBACK_OPTIONS], 'call');
const MAP = callNames('map', 'items', MAP_OPTIONS, 'map');
const MAP_ASYNC = callNames('mapAsync', 'items', [...MAP_OPTIONS, ...CALLBACK_OPTIONS], 'map');
const STARMAP = callNames('starmap', 'items', MAP_OPTIONS, 'starmap');
const STARMAP_ASYNC = callNames('starmapAsync', 'items', [...MAP_OPTIONS, ...CALLBACK_OPTIONS], 'starmap');
const IMAP = callNames('imap', 'items', MAP_OPTIONS, 'imap');
const IMAP_UNORDERED = callNames('imapUnordered', 'items', MAP_OPTIONS, 'imapUnordered');

/** A message to a worker should carry about this much work, when the task's speed is known. */
const TARGET_CHUNK_MS = 2;
/** Items per message at most, when batching `applyAsync` calls or sizing `imap` chunks. */
const MAX_AUTO_CHUNK = 4096;

/** A task of any arguments: the public signatures have typed them already. */
type AnyTask<R> = Task<never[], R>;

/**
 * A pool of workers, as Python's `multiprocessing.Pool`, on the backend of its context (worker
 * threads by default). Tasks are made with {@link task}; results come back in input order.
 *
 * `await using` (or `Symbol.asyncDispose`) closes the pool and waits for its work, like
 * `concurrent.futures` — unlike Python's `with Pool()`, which terminates it.
 *
 * @example
 * ```ts
 * import { Pool } from 'fanout';
 * import { square } from './tasks.js';
 *
 * await using pool = new Pool({ processes: 4 });
 * await pool.map(square, [1, 2, 3]);          // [1, 4, 9]
 * await pool.applyAsync(square, [10]).get(1000); // 100
 * for await (const y of pool.imap(square, numbers())) console.log(y);
 * ```
 */
export class Pool {
  /** Number of workers. */
  readonly processes: number;
  private readonly engine: PoolEngine;
  private state: 'running' | 'closed' | 'terminated' = 'running';
  private readonly pending = new Map<string, PendingApplies>();
  /** Encodes calls that travel alone (those with a timeout or a signal). */
  private readonly soloEncoder: ChunkEncoder;
  /** The backend this pool runs on: shared objects of other backends cannot be sent to it. */
  private readonly backendName: string;
  private readonly backend: Backend;
  private flushScheduled = false;
  /** `imap` iterators still reading their input: a closed pool keeps its workers for them. */
  private openStreams = 0;
  private readonly speeds = new TaskSpeeds();

  constructor(processesOrOptions?: number | PoolOptions, backend: Backend = defaultBackend()) {
    const options: PoolOptions =
      typeof processesOrOptions === 'number' ? { processes: processesOrOptions } : (processesOrOptions ?? {});
    checkOptions('new Pool(options)', options, POOL_OPTIONS);
    checkInteger('new Pool(options): processes', options.processes, 1);
    checkInteger('new Pool(options): maxTasksPerChild', options.maxTasksPerChild, 1);
    checkResourceLimits('new Pool(options): resourceLimits', options.resourceLimits);
    if (options.initargs !== undefined && !Array.isArray(options.initargs)) {
      throw new InvalidArgumentError('new Pool(options): initargs', options.initargs, 'an array of arguments');
    }
    if (options.initargs !== undefined && options.initializer === undefined) {
      throw new InvalidArgumentError('new Pool(options): initializer', undefined, 'a task when initargs is given');
    }
    const speculate = speculationSettings(options.speculate);
    this.processes = options.processes ?? backend.defaultProcesses();
    this.backendName = backend.name;
    this.backend = backend;
    this.soloEncoder = new ChunkEncoder(true, this.backendName);
    let initializer: ({ task: TaskRef } & EncodedItems) | undefined;
    if (options.initializer !== undefined) {
      const ref = taskRef(options.initializer, 'new Pool(options): initializer');
      const encoder = new ChunkEncoder(true, this.backendName);
      encoder.add(options.initargs ?? [], 'initargs');
      const encoded = encoder.take();
      initializer = { task: ref, ...encoded };
    }
    this.engine = backend.createPoolEngine({
      processes: this.processes,
      taskModules: taskModuleUrls(options.tasks),
      ...(initializer
        ? {
            initializer: {
              task: initializer.task,
              args: initializer.payload,
              attachments: initializer.attachments,
              transfer: initializer.transfer,
            },
          }
        : {}),
      ...(options.maxTasksPerChild !== undefined ? { maxTasksPerChild: options.maxTasksPerChild } : {}),
      ...(speculate ? { speculate } : {}),
      ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
    });
  }

  /**
   * Runs `task(...args)` in a worker and resolves to its result.
   *
   * @example
   * ```ts
   * await pool.apply(square, [10]); // 100
   * ```
   */
  apply<A extends unknown[], R>(task: Task<A, R>, args?: A, options?: CallOptions): Promise<Awaited<R>> {
    try {
      return this.startApply<R>(APPLY, task, args, options).get();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Submits `task(...args)` and returns its {@link AsyncResult} at once. Calls submitted in the
   * same tick travel to the workers together, so many small calls are cheap.
   * Throws `SerializationError` now if an argument cannot be sent.
   *
   * @example
   * ```ts
   * const result = pool.applyAsync(square, [10], { callback: (y) => console.log(y) });
   * await result.get(1000); // 100
   * ```
   */
  applyAsync<A extends unknown[], R>(
    task: Task<A, R>,
    args?: A,
    options?: AsyncCallOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>> {
    return this.startApply<R>(APPLY_ASYNC, task, args, options);
  }

  /**
   * Applies `task` to every item and resolves to the results, in input order.
   *
   * @example
   * ```ts
   * await pool.map(square, [0, 1, 2, 3]); // [0, 1, 4, 9]
   * ```
   */
  map<A, R>(task: Task<[A], R>, items: Iterable<A>, options?: MapOptions): Promise<Array<Awaited<R>>> {
    try {
      return this.startMap(MAP, task as AnyTask<R>, items, false, options).get();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Like {@link map}, returning an {@link AsyncResult}. Throws `SerializationError` at once if
   * an item cannot be sent.
   */
  mapAsync<A, R>(task: Task<[A], R>, items: Iterable<A>, options?: AsyncMapOptions<Array<Awaited<R>>>): MapResult<Awaited<R>> {
    return this.startMap(MAP_ASYNC, task as AnyTask<R>, items, false, options, true);
  }

  /**
   * Like {@link map}, where each item is an argument array: `task(...item)`.
   *
   * @example
   * ```ts
   * await pool.starmap(add, [[1, 2], [3, 4]]); // [3, 7]
   * ```
   */
  starmap<A extends unknown[], R>(task: Task<A, R>, items: Iterable<A>, options?: MapOptions): Promise<Array<Awaited<R>>> {
    try {
      return this.startMap(STARMAP, task as unknown as AnyTask<R>, items, true, options).get();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Like {@link starmap}, returning an {@link AsyncResult}. */
  starmapAsync<A extends unknown[], R>(
    task: Task<A, R>,
    items: Iterable<A>,
    options?: AsyncMapOptions<Array<Awaited<R>>>,
  ): MapResult<Awaited<R>> {
    return this.startMap(STARMAP_ASYNC, task as unknown as AnyTask<R>, items, true, options, true);
  }

  /**
   * Predicts a map of `task` over `items` before running it: runs a small sample (items taken
   * evenly from the input) on this pool, and extrapolates the wall time at this pool's
   * concurrency (on aws, `processes` is the Lambda concurrency) and the cost in AWS requests,
   * GB-seconds and dollars (on the local backend: what the job would cost on aws).
   *
   * @example
   * ```ts
   * const estimate = await pool.estimate(square, items);
   * console.log(estimate.predictedWallMs, estimate.predictedCost.total.point);
   * ```
   */
  async estimate<A extends unknown[], R>(
    task: Task<A, R>,
    items: readonly unknown[],
    options?: import('../report/JobEstimator.js').EstimateOptions,
  ): Promise<import('../report/JobEstimator.js').JobEstimate> {
    // Loaded on first use: the estimator and the cost model are not needed to run work.
    const { estimateJob } = await import('../report/JobEstimator.js');
    return estimateJob(this, task, items, options);
  }

  /**
   * Lazily applies `task` to the items of a (sync or async) iterable, yielding results in input
   * order. Reads ahead only as far as the workers need: a 10-million-item generator is never
   * held in memory, and an unread result stops the reading.
   *
   * @example
   * ```ts
   * for await (const y of pool.imap(square, naturals())) if (y > 100) break;
   * ```
   */
  imap<A, R>(
    task: Task<[A], R>,
    items: Iterable<A> | AsyncIterable<A>,
    options?: MapOptions,
  ): AsyncGenerator<Awaited<R>, void, undefined> {
    return this.startImap(IMAP, task as AnyTask<R>, items, true, options) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /** Like {@link imap}, yielding each result as soon as it is ready, in any order. */
  imapUnordered<A, R>(
    task: Task<[A], R>,
    items: Iterable<A> | AsyncIterable<A>,
    options?: MapOptions,
  ): AsyncGenerator<Awaited<R>, void, undefined> {
    return this.startImap(IMAP_UNORDERED, task as AnyTask<R>, items, false, options) as AsyncGenerator<
      Awaited<R>,
      void,
      undefined
    >;
  }

  /** Accepts no more work; what was submitted still runs. */
  close(): void {
    if (this.state !== 'running') return;
    this.flushApplies();
    this.state = 'closed';
    // As in Python, an imap already running keeps feeding its items; the workers go when it ends.
    if (this.openStreams === 0) this.engine.close();
  }

  /**
   * Stops the workers now. Work not finished fails with `PoolClosedError`.
   *
   * @example
   * ```ts
   * await pool.terminate();
   * ```
   */
  async terminate(): Promise<void> {
    if (this.state === 'terminated') return this.engine.join();
    this.flushApplies();
    this.state = 'terminated';
    await this.engine.terminate(new PoolClosedError('The pool was terminated before this work finished.'));
  }

  /**
   * Waits for the workers to finish and exit. Call {@link close} or {@link terminate} first,
   * as in Python (otherwise `ValueError`).
   */
  async join(): Promise<void> {
    if (this.state === 'running') throw new ValueError('Pool is still running: call close() or terminate() before join().');
    await this.engine.join();
  }

  /** Counters of the work done so far: workers started, chunks, items, busy time. */
  stats(): PoolStats {
    return this.engine.stats();
  }

  /** Closes the pool and waits for its work (`await using pool = new Pool()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.join();
  }

  private checkRunning(): void {
    if (this.state === 'closed') throw new PoolClosedError('The pool is closed: it accepts no new work (create a new Pool).');
    if (this.state === 'terminated')
      throw new PoolClosedError('The pool was terminated: it accepts no new work (create a new Pool).');
  }

  /** `apply` and `applyAsync`: checks the call (errors name `call`), then queues or sends it. */
  private startApply<R>(
    call: CallNames,
    task: unknown,
    args: unknown,
    options: AsyncCallOptions<Awaited<R>> | undefined,
  ): AsyncResult<Awaited<R>> {
    checkOptions(call.options, options, call.allowed);
    const ref = taskRef(task, call.task);
    const callArgs: unknown = args ?? [];
    if (!Array.isArray(callArgs)) {
      throw new InvalidArgumentError(call.input, callArgs, `an array of arguments for task '${ref.name}'`);
    }
    const limits = checkCallOptions(call, options);
    this.checkRunning();
    const result = new AsyncResult<Awaited<R>>(options?.callback || options?.errorCallback ? options : undefined);
    const job = new PoolCall(this.engine, result, limits, call.kind, ref.name);
    if (job.cancellable) {
      // A call that may be cut short travels alone, so that cancelling it touches nothing else.
      this.soloEncoder.add(callArgs, 'the arguments');
      this.submitCalls(ref, this.soloEncoder.take(), [job]);
      return result;
    }
    let group = this.pending.get(ref.name);
    if (!group) {
      group = { ref, encoder: new ChunkEncoder(true, this.backendName), calls: [] };
      this.pending.set(ref.name, group);
    }
    group.encoder.add(callArgs, 'the arguments');
    group.calls.push(job);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushApplies());
    }
    return result;
  }

  /** Sends the `applyAsync` calls gathered in this tick, in batches sized to the task's speed. */
  private flushApplies(): void {
    this.flushScheduled = false;
    // Groups (and their encoders' buffers) are kept for the next tick: no allocation per call.
    for (const group of this.pending.values()) {
      const calls = group.calls;
      if (calls.length === 0) continue;
      group.calls = [];
      const encoded = group.encoder.take();
      const size = this.batchSize(group.ref.name, calls.length);
      if (size >= calls.length) {
        this.submitCalls(group.ref, encoded, calls);
        continue;
      }
      for (let start = 0; start < calls.length; start += size) {
        const end = Math.min(start + size, calls.length);
        this.submitCalls(group.ref, sliceEncoded(encoded, start, end), calls.slice(start, end));
      }
    }
  }

  private batchSize(taskName: string, calls: number): number {
    const spread = Math.ceil(calls / (this.processes * 4));
    const perItemMs = this.speeds.perItemMs(taskName);
    const bySpeed = perItemMs ? Math.max(1, Math.floor(TARGET_CHUNK_MS / perItemMs)) : 256;
    return Math.max(1, Math.min(spread, bySpeed, MAX_AUTO_CHUNK));
  }

  /** Submits one chunk of apply calls; each call's job hears of its own item. */
  private submitCalls(ref: TaskRef, encoded: EncodedItems, calls: PoolCall[]): void {
    if (calls.every((call) => call.done)) return;
    const chunk = makeChunk(ref, true, encoded, calls.length, new CallBatchSink(this.speeds, ref.name, calls));
    // A batch shared by several calls is never cancelled by one of them.
    if (calls.length === 1) calls[0]!.add(chunk);
    this.engine.submit(chunk);
  }

  /** `map`, `mapAsync`, `starmap` and `starmapAsync`; errors name `call`. */
  private startMap<R>(
    call: CallNames,
    task: AnyTask<R>,
    items: Iterable<unknown>,
    spread: boolean,
    options: AsyncMapOptions<Array<Awaited<R>>> | undefined,
    recorded = false,
  ): MapResult<Awaited<R>> {
    checkOptions(call.options, options, call.allowed);
    const ref = taskRef(task, call.task);
    const list = toArray(items, call.input);
    const limits = checkCallOptions(call, options);
    checkInteger(call.chunksize, options?.chunksize, 1);
    this.checkRunning();
    this.flushApplies();
    const count = list.length;
    const chunksize = options?.chunksize ?? defaultChunksize(count, this.processes);
    const results = new Array<Awaited<R>>(count);
    let remaining = count;
    const result: MapResult<Awaited<R>> = new AsyncResult<Array<Awaited<R>>>(
      options?.callback || options?.errorCallback ? options : undefined,
    );
    const job = new PoolCall(this.engine, result, limits, call.kind, ref.name);
    if (count === 0) {
      job.succeed(results);
      return result;
    }
    // The async forms' work is a job of its own where the backend records jobs: another process
    // can attach to it, and it goes on if this one ends.
    const engine = this.engine;
    const jobId = recorded ? engine.openJob?.({ task: ref, total: count, chunksize, spread, source: 'pool' }) : undefined;
    if (jobId !== undefined && engine.jobSent && this.backend.jobs) {
      result.job = new Job<Awaited<R>>(
        jobId,
        this.backend.jobs(),
        () => engine.jobSent!(jobId),
        () => engine.detachJob?.(jobId),
      );
    }
    const onChunkResults = (
      start: number,
      from: number,
      values: unknown[],
      errors: ReadonlyMap<number, Error>,
      busyMs: number,
    ) => {
      if (job.done) return;
      this.speeds.record(ref.name, values.length, busyMs);
      if (errors.size > 0) return job.fail(errors.get(Math.min(...errors.keys()))!);
      for (let i = 0; i < values.length; i++) results[start + from + i] = values[i] as Awaited<R>;
      remaining -= values.length;
      if (remaining === 0) job.succeed(results);
    };
    // Each chunk is sent as soon as it is encoded, so workers start while the rest is encoded.
    // An item that cannot cross still fails the call here, at submit time; chunks already sent
    // run to the end (as in Python) and their results are dropped.
    const encoder = new ChunkEncoder(spread, this.backendName);
    for (let start = 0; start < count; start += chunksize) {
      const end = Math.min(start + chunksize, count);
      try {
        encoder.addAll(list, start, end, start);
      } catch (error) {
        job.fail(error as Error, false);
        throw error;
      }
      const chunk = makeChunk(ref, spread, encoder.take(), end - start, {
        onResults: (from, values, errors, busyMs) => onChunkResults(start, from, values, errors, busyMs),
        onFailed: (_from, _to, error) => job.fail(error),
      });
      chunk.taskCount = 1;
      if (jobId !== undefined) chunk.job = { id: jobId, first: start };
      job.add(chunk);
      this.engine.submit(chunk);
    }
    if (jobId !== undefined) this.engine.sealJob?.(jobId);
    return result;
  }

  private async *startImap<R>(
    call: CallNames,
    task: AnyTask<R>,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    ordered: boolean,
    options: MapOptions | undefined,
  ): AsyncGenerator<unknown, void, undefined> {
    // Checks run on the first next(), as a generator's body does; errors are specific all the same.
    checkOptions(call.options, options, call.allowed);
    const ref = taskRef(task, call.task);
    const source = toIterator(items, call.input);
    const limits = checkCallOptions(call, options);
    checkInteger(call.chunksize, options?.chunksize, 1);
    this.checkRunning();
    this.flushApplies();
    this.openStreams++;
    const window = this.processes * 2 + 2;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const outcome: Settleable = {
      [settle](ok, error) {
        if (ok) return;
        failure = error as Error;
        notify();
      },
    };
    const job = new PoolCall(this.engine, outcome, limits, call.kind, ref.name);
    const outstanding: ImapChunk[] = [];
    const readyValues = new Deque<unknown>();
    const isAsyncSource = Symbol.asyncIterator in (items as object);
    let sourceDone = false;
    /** What the input threw: raised once every result before it has been handed out (Python's rule). */
    let inputError: { error: unknown } | undefined;
    let stopped = false;
    let nextIndex = 0;
    let chunksize = options?.chunksize ?? 1;
    const encoder = new ChunkEncoder(false, this.backendName);

    const submit = (batch: unknown[]): void => {
      const firstIndex = nextIndex;
      nextIndex += batch.length;
      encoder.addAll(batch, 0, batch.length, firstIndex);
      const entry: ImapChunk = {
        values: [],
        received: 0,
        yielded: 0,
        count: batch.length,
        chunk: undefined!,
      };
      entry.chunk = makeChunk(ref, false, encoder.take(), batch.length, {
        onResults: (from, values, errors, busyMs) => {
          if (job.done) return;
          this.speeds.record(ref.name, values.length, busyMs);
          if (ordered) {
            // A failure is raised when the consumer reaches its position, as Python's imap does.
            // A chunk that reports in one part keeps the decoded array as it is (no copy).
            if (from === 0 && values.length === entry.count) entry.values = values;
            else {
              if (entry.values.length === 0) entry.values = new Array<unknown>(entry.count);
              for (let i = 0; i < values.length; i++) entry.values[from + i] = values[i];
            }
            for (const [index, error] of errors) (entry.errors ??= new Map()).set(index, error);
          } else {
            if (errors.size > 0) return job.fail(errors.get(Math.min(...errors.keys()))!);
            for (const value of values) readyValues.push(value);
          }
          entry.received += values.length;
          if (entry.received === entry.count) job.chunkDone(entry.chunk);
          notify();
        },
        onFailed: (_from, _to, error) => job.fail(error),
      });
      entry.chunk.taskCount = 1;
      outstanding.push(entry);
      job.add(entry.chunk);
      this.engine.submit(entry.chunk);
      if (options?.chunksize === undefined) chunksize = this.nextImapChunksize(ref.name, chunksize);
    };

    // The pump reads the input and sends chunks while the window has room. It runs beside the
    // consumer, so that results are handed out while a slow async input is still being read.
    let pumping = false;
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        while (!sourceDone && !failure && !stopped && outstanding.length < window) {
          const batch: unknown[] = [];
          try {
            while (batch.length < chunksize) {
              const next = isAsyncSource ? await source.next() : (source as Iterator<unknown>).next();
              if (next.done) {
                sourceDone = true;
                break;
              }
              batch.push(next.value);
            }
          } catch (error) {
            // The items read before it still run; the consumer raises the error after their results.
            inputError = { error };
            sourceDone = true;
          }
          if (stopped) return;
          if (batch.length > 0) submit(batch);
        }
      } catch (error) {
        // An item that cannot be sent: the consumer raises it at once.
        if (!stopped) job.fail(error as Error);
      } finally {
        pumping = false;
        notify();
      }
    };

    try {
      for (;;) {
        void pump();
        if (failure) throw failure;
        // Hand out what is ready.
        if (ordered) {
          while (outstanding.length > 0) {
            const head = outstanding[0]!;
            while (head.yielded < head.received) {
              const error = head.errors?.get(head.yielded);
              if (error) job.fail(error);
              if (failure) throw failure;
              const value = head.values[head.yielded];
              head.values[head.yielded++] = undefined;
              yield value;
              if (failure) throw failure;
            }
            if (head.yielded < head.count) break;
            outstanding.shift();
            void pump();
          }
        } else {
          while (readyValues.length > 0) {
            yield readyValues.shift();
            if (failure) throw failure;
          }
          for (let i = outstanding.length - 1; i >= 0; i--) {
            if (outstanding[i]!.received === outstanding[i]!.count) outstanding.splice(i, 1);
          }
        }
        if (sourceDone && !pumping && outstanding.length === 0 && readyValues.length === 0) {
          if (inputError) throw inputError.error;
          break;
        }
        if (failure) throw failure;
        if (pumping || outstanding.length > 0) await new Promise<void>((resolve) => (wake = resolve));
      }
      job.succeed(undefined);
    } finally {
      stopped = true;
      job.abandon();
      if (--this.openStreams === 0 && this.state === 'closed') this.engine.close();
      // Close the input; if a read is still pending, do not wait for it (it may never come).
      const closing = source.return?.();
      if (!pumping) await closing;
      else void Promise.resolve(closing).catch(() => undefined);
    }
  }

  /** `imap` chunks start at one item (first results come fast) and grow while tasks are quick. */
  private nextImapChunksize(taskName: string, current: number): number {
    const perItemMs = this.speeds.perItemMs(taskName);
    if (perItemMs === undefined) return Math.min(current * 2, MAX_AUTO_CHUNK);
    const target = perItemMs > 0 ? Math.floor((TARGET_CHUNK_MS * 5) / perItemMs) : MAX_AUTO_CHUNK;
    return Math.max(1, Math.min(current * 2, target, MAX_AUTO_CHUNK));
  }
}

/**
 * Routes the results of a batch of apply calls to each call. A class rather than closures:
 * this runs for every batch, and class methods cost nothing to create.
 */
class CallBatchSink implements ChunkSink {
  constructor(
    private readonly speeds: TaskSpeeds,
    private readonly taskName: string,
    private readonly calls: PoolCall[],
  ) {}

  onResults(from: number, values: unknown[], errors: ReadonlyMap<number, Error>, busyMs: number): void {
    this.speeds.record(this.taskName, values.length, busyMs);
    for (let i = 0; i < values.length; i++) {
      const error = errors.size > 0 ? errors.get(from + i) : undefined;
      if (error) this.calls[from + i]!.fail(error);
      else this.calls[from + i]!.succeed(values[i]);
    }
  }

  onFailed(from: number, to: number, error: Error): void {
    for (let i = from; i < to; i++) this.calls[i]!.fail(error);
  }
}

interface PendingApplies {
  ref: TaskRef;
  encoder: ChunkEncoder;
  calls: PoolCall[];
}

interface ImapChunk {
  chunk: Chunk;
  errors?: Map<number, Error>;
  values: unknown[];
  received: number;
  yielded: number;
  count: number;
}

/** The `speculate` option, checked, with its defaults; undefined when off. */
function speculationSettings(option: boolean | SpeculateOptions | undefined): SpeculationSettings | undefined {
  const where = 'new Pool(options): speculate';
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null || Array.isArray(option)))
    throw new InvalidArgumentError(where, option, 'true, false or { after?, minDone?, minMs? }');
  const given = option === true ? {} : option;
  checkOptions(`${where}`, given, SPECULATE_OPTIONS);
  const { after = 3, minDone = 0.5, minMs = 2000 } = given;
  if (typeof after !== 'number' || !Number.isFinite(after) || after < 1)
    throw new InvalidArgumentError(`${where}: after`, after, 'a number ≥ 1 (times the median chunk time)');
  if (typeof minDone !== 'number' || !(minDone > 0 && minDone <= 1))
    throw new InvalidArgumentError(`${where}: minDone`, minDone, 'a share of the chunks, more than 0 and at most 1');
  checkInteger(`${where}: minMs`, minMs, 0);
  return { after, minDone, minMs };
}

/** Checks a call's options; returns its limits, or undefined when it has none (the common case). */
function checkCallOptions(call: CallNames, options: (CallOptions & ResultCallbacks<never>) | undefined): JobLimits | undefined {
  if (options === undefined) return undefined;
  checkTimeout(`${call.options}: timeout`, options.timeout);
  checkSignal(`${call.options}: signal`, options.signal);
  checkFunction(`${call.options}: callback`, options.callback);
  checkFunction(`${call.options}: errorCallback`, options.errorCallback);
  if (options.timeout === undefined && options.signal === undefined) return undefined;
  return { timeout: options.timeout, signal: options.signal };
}

function toArray(items: unknown, option: string): unknown[] {
  if (Array.isArray(items)) return items;
  if (items !== null && typeof items === 'object' && typeof (items as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Array.from(items as Iterable<unknown>);
  }
  const hint =
    items !== null && typeof items === 'object' && Symbol.asyncIterator in items
      ? ' For async iterables use imap or imapUnordered.'
      : '';
  throw new InvalidArgumentError(option, items, 'an iterable (an array, a Set, a generator...)', hint.trim());
}

function toIterator(items: unknown, option: string): Iterator<unknown> | AsyncIterator<unknown> {
  if (items !== null && typeof items === 'object') {
    const asyncIterator = (items as AsyncIterable<unknown>)[Symbol.asyncIterator];
    if (typeof asyncIterator === 'function') return asyncIterator.call(items);
    const iterator = (items as Iterable<unknown>)[Symbol.iterator];
    if (typeof iterator === 'function') return iterator.call(items);
  }
  throw new InvalidArgumentError(option, items, 'an iterable or async iterable');
}

/** The `tasks` option (one module, or an array of them) as URLs; a bad entry is named by its index. */
function taskModuleUrls(tasks: unknown): string[] {
  if (tasks === undefined) return [];
  if (typeof tasks === 'string' || tasks instanceof URL) return [moduleUrl(tasks, 'new Pool(options): tasks')];
  if (!Array.isArray(tasks)) {
    throw new InvalidArgumentError('new Pool(options): tasks', tasks, 'a module path or URL, or an array of them');
  }
  return tasks.map((module, index) => moduleUrl(module, `new Pool(options): tasks[${index}]`));
}

/** A module path or URL as a file: URL; relative paths are taken from the working directory. */
function moduleUrl(module: unknown, option: string): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') throw new InvalidArgumentError(option, module, 'a module path or URL');
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[A-Za-z]:[\\/]/.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolvePath(module)).href;
}
