import type { ResourceLimits } from 'node:worker_threads';
import { inheritedThreadBackend, type ThreadBackend } from '../../backend/backends.js';
import type { Chunk, PoolEngine, PoolEngineOptions, PoolStats } from '../../backend/PoolEngine.js';
import { decodeFrame, encodeFrame, type ParentBoundMessage, type ResultsMessage } from '../../codec/protocol.js';
import { ValueDecoder } from '../../codec/ValueDecoder.js';
import { RemoteError, WorkerCrashedError } from '../../errors.js';
import { fromFailureInfo } from '../../runtime/errorInfo.js';
import { reviveHandle } from '../../runtime/handles.js';
import { Deque } from '../../util/Deque.js';
import { receiveFrame, type PostedFrame } from '../../codec/threadTransport.js';
import { failChunk, sliceChunk } from '../../backend/chunks.js';
import { LocalWorker, defaultWorkerScript } from './LocalWorker.js';
import { errorText } from '../../util/errorText.js';

/** The errors of a part in which every item succeeded (the common case): shared, never changed. */
const noErrors: ReadonlyMap<number, Error> = new Map();

/** Chunks sent ahead to a worker, so it never waits for the parent between chunks. */
const CHUNKS_IN_FLIGHT_PER_WORKER = 2;
/** Workers that die before ever becoming ready, in a row, before the pool gives up. */
const MAX_FAILED_STARTS = 3;

/**
 * Runs chunks on worker threads: at most two in flight per worker, crashed workers replaced
 * (the item that was running fails with {@link WorkerCrashedError}, the rest run elsewhere),
 * workers retired after `maxTasksPerChild` tasks, cancelled running chunks stopped by stopping
 * their worker. Idle workers do not keep the process alive.
 *
 * @example
 * ```ts
 * const engine = new LocalPoolEngine({ processes: 2, taskModules: [] });
 * engine.submit(chunk);
 * ```
 */
export class LocalPoolEngine implements PoolEngine {
  readonly processes: number;
  private readonly workers = new Set<LocalWorker>();
  private readonly queue = new Deque<Chunk>();
  private readonly init: Uint8Array;
  private nextWorkerId = 1;
  private closed = false;
  private failedStarts = 0;
  /** How the first of the workers that died before becoming ready (in a row) died. */
  private firstFailedStart: { reason: string; code: number; cause: Error | undefined } | undefined;
  /** Once set, every chunk fails with it: the workers cannot start. */
  private broken: Error | undefined;
  private terminatedWith: Error | undefined;
  private readonly exited = new Set<Promise<unknown>>();
  private readonly statistics: PoolStats = { workersStarted: 0, chunksCompleted: 0, itemsCompleted: 0, busyMs: 0 };

  constructor(
    private readonly options: PoolEngineOptions,
    private readonly workerScript: URL = defaultWorkerScript,
    /** The workers' default backend (an aws worker's threads: the aws backend that sent the work). */
    private readonly threadBackend: ThreadBackend | undefined = inheritedThreadBackend(),
  ) {
    this.processes = options.processes;
    const initializer = options.initializer;
    this.init = encodeFrame(
      {
        type: 'init',
        taskModules: options.taskModules,
        ...(initializer ? { initializer: initializer.task } : {}),
      },
      initializer?.args,
    );
  }

  submit(chunk: Chunk): void {
    if (this.broken) return failChunk(chunk, this.broken);
    if (this.terminatedWith) return failChunk(chunk, this.terminatedWith);
    this.queue.push(chunk);
    this.dispatch();
  }

  cancel(chunk: Chunk, interrupt: boolean): void {
    chunk.control.cancelled = true;
    chunk.control.interrupt ||= interrupt;
    if (!interrupt) return;
    for (const worker of [...this.workers]) {
      // A thread cannot be interrupted mid-task: stop it; its other chunks run elsewhere.
      // (The head may be a slice of `chunk`; slices share its control.)
      if (worker.inFlight[0]?.control.interrupt) this.stopWorker(worker, 'cancelled');
    }
    // A queued chunk is skipped when dequeued; one sent ahead is stopped when it reaches the head.
  }

  close(): void {
    this.closed = true;
    this.retireIdleWorkers();
  }

  async join(): Promise<void> {
    while (this.workers.size > 0 || this.queue.length > 0 || this.exited.size > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }

  async terminate(error: Error): Promise<void> {
    this.closed = true;
    this.terminatedWith ??= error;
    for (const chunk of this.queue.drain()) failChunk(chunk, error);
    for (const worker of [...this.workers]) this.stopWorker(worker, error);
    await Promise.all(this.exited);
  }

  stats(): PoolStats {
    return { ...this.statistics };
  }

  private readonly drainWaiters: Array<() => void> = [];

  private notifyDrain(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Sends queued chunks to workers with room, starting workers as needed. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      const head = this.queue.peek()!;
      if (head.control.cancelled) {
        this.queue.shift();
        continue;
      }
      const worker = this.pickWorker();
      if (!worker) break;
      this.queue.shift();
      const budget = this.options.maxTasksPerChild;
      if (budget !== undefined && head.taskCount > 1 && worker.tasksAssigned + head.taskCount > budget) {
        // Split a batch of calls so that the worker gets no more tasks than it may run.
        const fits = budget - worker.tasksAssigned;
        this.queue.unshift(sliceChunk(head, fits, head.count));
        this.sendTo(worker, sliceChunk(head, 0, fits));
      } else {
        this.sendTo(worker, head);
      }
    }
    if (this.queue.length === 0) this.retireIdleWorkers();
    if (this.workers.size === 0 && this.queue.length === 0) this.notifyDrain();
  }

  private sendTo(worker: LocalWorker, chunk: Chunk): void {
    chunk.sink.onStarted?.(worker.id);
    worker.send(chunk);
    worker.setReferenced(true);
    const budget = this.options.maxTasksPerChild;
    if (budget !== undefined && worker.tasksAssigned >= budget) worker.retiring = true;
  }

  /**
   * The ready worker with the fewest chunks in flight. A chunk is never sent to a worker still
   * starting: below `processes`, workers are started for the queued chunks, and while some start,
   * queued chunks wait for the first worker free (one ready at last, or a busy one done with its
   * chunk). So a cold pool's first chunk runs on the first thread up, not on the slowest, and
   * does not queue behind a busy worker. (Starting workers keep the program alive meanwhile: see
   * {@link LocalWorker}.)
   */
  private pickWorker(): LocalWorker | undefined {
    let best: LocalWorker | undefined;
    let active = 0;
    let starting = 0;
    for (const worker of this.workers) {
      if (worker.stopping) continue;
      if (!worker.retiring) active++;
      if (!worker.ready) {
        starting++;
        continue;
      }
      if (worker.retiring || worker.inFlight.length >= CHUNKS_IN_FLIGHT_PER_WORKER) continue;
      if (!best || worker.inFlight.length < best.inFlight.length) best = worker;
    }
    if (best && best.inFlight.length === 0) return best;
    while (active < this.processes && starting < this.queue.length) {
      if (!this.startWorker()) break;
      active++;
      starting++;
    }
    return starting > 0 ? undefined : best;
  }

  /** A new worker, or undefined if no thread can be made (then, with no worker left, the pool breaks). */
  private startWorker(): LocalWorker | undefined {
    const init = this.init.slice();
    const initializer = this.options.initializer;
    let worker: LocalWorker;
    try {
      worker = new LocalWorker(
        this.nextWorkerId++,
        this.workerScript,
        init,
        initializer?.attachments ?? [],
        this.options.resourceLimits,
        this.threadBackend,
      );
    } catch (error) {
      // `new Worker` throws when the system refuses a thread (EAGAIN: too many threads, or a
      // stack larger than it can give). Other workers may still run the work; with none, fail it.
      if (this.workers.size === 0) {
        const limits = this.options.resourceLimits;
        const hint = limits?.stackSizeMb !== undefined ? ` (resourceLimits.stackSizeMb is ${limits.stackSizeMb})` : '';
        this.breakPool(
          new WorkerCrashedError(`Cannot start a worker thread${hint}: ${errorText(error)}. The pool gave up.`, {
            cause: error,
          }),
        );
      }
      return undefined;
    }
    this.statistics.workersStarted++;
    this.workers.add(worker);
    const thread = worker.thread;
    thread.on('message', (posted: PostedFrame) => {
      // Decoded at once (values are copied out), so the bytes may live in a reused buffer.
      const { bytes, attachments } = receiveFrame(posted, true);
      const { message, payload } = decodeFrame(bytes);
      this.onMessage(worker, message as ParentBoundMessage, payload, attachments);
    });
    thread.on('error', (error) => {
      worker.lastError = error;
    });
    const exited = new Promise<void>((resolve) => {
      thread.once('exit', (code) => {
        this.exited.delete(exited);
        this.onExit(worker, code);
        resolve();
      });
    });
    this.exited.add(exited);
    return worker;
  }

  private onMessage(worker: LocalWorker, message: ParentBoundMessage, payload: Uint8Array, attachments: unknown[]): void {
    switch (message.type) {
      case 'ready':
        // A worker stopped before its 'ready' was read (close() or terminate() while it started)
        // will run nothing: it only has to exit, referenced until then.
        if (worker.stopping) return;
        if (message.error) {
          this.breakPool(fromFailureInfo(message.error, message.error.taskName ?? 'initializer'));
        } else {
          worker.ready = true;
          this.failedStarts = 0;
          this.firstFailedStart = undefined;
          this.dispatch();
          // Ready with nothing to run (the queued work it was started for went to another
          // worker): an idle worker never keeps the program alive. (One that dispatch() retired,
          // in a closed pool, stays referenced until it exits: see LocalWorker.setReferenced.)
          if (worker.inFlight.length === 0) worker.setReferenced(false);
        }
        return;
      case 'results': {
        const chunk = worker.inFlight[0];
        if (!chunk) return;
        this.statistics.busyMs += message.busyMs;
        this.statistics.itemsCompleted += message.count;
        worker.reportedOfHead = message.from + message.count;
        worker.taskResolved(chunk.task.name);
        if (!chunk.control.cancelled) {
          const values = new ValueDecoder(payload, attachments, reviveHandle).readMany(message.count);
          const errors = message.errors.length === 0 ? noErrors : this.itemErrors(chunk, message.errors);
          chunk.sink.onResults(chunk.base + message.from, values, errors, message.busyMs);
        }
        if (message.final) this.finishHead(worker);
        return;
      }
      case 'chunkFailed': {
        const chunk = worker.inFlight[0];
        if (!chunk) return;
        failChunk(chunk, fromFailureInfo(message.error, chunk.task.name));
        this.finishHead(worker);
        return;
      }
    }
  }

  /** Re-creates the errors of a part's failed items, by index within the pool's chunk. */
  private itemErrors(chunk: Chunk, itemErrors: ResultsMessage['errors']): Map<number, Error> {
    const errors = new Map<number, Error>();
    for (const [index, itemError] of itemErrors) {
      const error =
        'remote' in itemError
          ? new RemoteError(itemError.remote, chunk.task.name)
          : fromFailureInfo(itemError.failure, chunk.task.name);
      errors.set(chunk.base + index, error);
    }
    return errors;
  }

  private finishHead(worker: LocalWorker): void {
    worker.shiftHead();
    this.statistics.chunksCompleted++;
    const next = worker.inFlight[0];
    if (next?.control.interrupt) {
      this.stopWorker(worker, 'cancelled');
      return;
    }
    // A worker stopped meanwhile (its job failed) stays referenced until it has exited, as
    // terminate() left it: unreferenced, the program could exit before join() hears of it.
    if (worker.inFlight.length === 0 && !worker.stopping) {
      worker.setReferenced(false);
      if (worker.retiring) this.stopWorker(worker, 'retired');
    }
    this.dispatch();
  }

  /**
   * Stops a worker on purpose. Its unfinished chunks are requeued (from the first item without
   * a result), or failed with `error`.
   */
  private stopWorker(worker: LocalWorker, reason: 'cancelled' | 'retired' | Error): void {
    if (worker.stopping) return;
    worker.stopping = true;
    const reported = worker.reportedOfHead;
    const unfinished = worker.takeInFlight();
    unfinished.forEach((chunk, i) => {
      const rest = i === 0 ? sliceChunk(chunk, reported, chunk.count) : chunk;
      if (reason instanceof Error) failChunk(rest, reason);
      else this.requeue(rest);
    });
    // Its exit is awaited (`join`, `terminate`): until then the thread keeps the program alive, or
    // a program awaiting that would end with code 13 (unsettled top-level await) instead.
    worker.setReferenced(true);
    void worker.thread.terminate();
  }

  /** Puts a chunk back at the front of the queue, unless nobody wants it. */
  private requeue(chunk: Chunk): void {
    if (!chunk.control.cancelled && chunk.count > 0) this.queue.unshift(chunk);
  }

  private onExit(worker: LocalWorker, code: number): void {
    this.workers.delete(worker);
    if (!worker.stopping) this.onCrash(worker, code);
    if (!this.closed || this.queue.length > 0) this.dispatch();
    else if (this.workers.size === 0) this.notifyDrain();
  }

  /**
   * The thread died on its own: the item it was running fails with WorkerCrashedError; every
   * other unfinished item (including ones whose results died with the thread) runs again.
   */
  private onCrash(worker: LocalWorker, code: number): void {
    worker.stopping = true;
    const cause = worker.lastError;
    const reason = describeExit(code, cause);
    if (!worker.ready && !this.broken && this.failedStarts++ === 0) this.firstFailedStart = { reason, code, cause };
    const runningItem = worker.runningItem();
    const reported = worker.reportedOfHead;
    const [running, ...notStarted] = worker.takeInFlight();
    // Requeued in reverse, so that they run again in their original order.
    for (const chunk of notStarted.reverse()) this.requeue(chunk);
    if (running) {
      if (runningItem >= reported) {
        this.requeue(sliceChunk(running, runningItem + 1, running.count));
        const item = running.base + runningItem;
        failChunk(
          sliceChunk(running, runningItem, runningItem + 1),
          new WorkerCrashedError(
            `The worker running task '${running.task.name}' (item ${item} of its chunk) died: ${reason}. The worker was replaced.`,
            { taskName: running.task.name, exitCode: code, cause },
          ),
        );
        this.requeue(sliceChunk(running, reported, runningItem));
      } else {
        // It died before starting the chunk (a timer of an earlier task): run it again.
        this.requeue(sliceChunk(running, reported, running.count));
      }
    }
    if (this.failedStarts >= MAX_FAILED_STARTS && !this.broken) this.breakPool(this.startFailure());
  }

  /**
   * Why the pool gives up starting workers, from the first of them to die: its own error is the
   * cause, and a resource limit that explains it is named as what to change.
   */
  private startFailure(): WorkerCrashedError {
    const { code, cause } = this.firstFailedStart!;
    const reason = this.firstFailedStart!.reason.replace(/\.$/, '');
    const tries = `${this.failedStarts} workers in a row died before they were ready`;
    const limit = limitToBlame(this.options.resourceLimits, cause);
    const message = limit
      ? `resourceLimits.${limit.name} = ${limit.value} is too small for a worker to start: ${tries}; the first: ${reason}. ` +
        `Raise resourceLimits.${limit.name}, or leave it unset. The pool gave up.`
      : `Workers keep dying before they are ready: ${tries}; the first: ${reason}. The pool gave up.`;
    return new WorkerCrashedError(message, { exitCode: code, cause });
  }

  /** The workers cannot start: fail everything, now and from now on. */
  private breakPool(error: Error): void {
    this.broken = error;
    for (const chunk of this.queue.drain()) failChunk(chunk, error);
    for (const worker of [...this.workers]) this.stopWorker(worker, error);
  }

  private retireIdleWorkers(): void {
    if (!this.closed || this.queue.length > 0) return;
    for (const worker of [...this.workers]) {
      if (worker.inFlight.length === 0) this.stopWorker(worker, 'retired');
    }
  }
}

/**
 * The heap limit that explains workers running out of memory before they were ready, if one was
 * set. (Other deaths, a stack overflow included, are not blamed on a limit: any stack overflows
 * under endless recursion.)
 */
function limitToBlame(
  limits: ResourceLimits | undefined,
  cause: Error | undefined,
): { name: 'maxOldGenerationSizeMb' | 'maxYoungGenerationSizeMb'; value: number } | undefined {
  if (!limits || (cause as { code?: string } | undefined)?.code !== 'ERR_WORKER_OUT_OF_MEMORY') return undefined;
  if (limits.maxOldGenerationSizeMb !== undefined) {
    return { name: 'maxOldGenerationSizeMb', value: limits.maxOldGenerationSizeMb };
  }
  if (limits.maxYoungGenerationSizeMb !== undefined) {
    return { name: 'maxYoungGenerationSizeMb', value: limits.maxYoungGenerationSizeMb };
  }
  return undefined;
}

function describeExit(code: number, cause: Error | undefined): string {
  if (cause) {
    const code_ = (cause as { code?: string }).code;
    if (code_ === 'ERR_WORKER_OUT_OF_MEMORY') return `it ran out of memory (${cause.message})`;
    return `uncaught ${cause.name}: ${cause.message}`;
  }
  return `it exited with code ${code}`;
}
