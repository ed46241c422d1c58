import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { ThreadBackend } from '../../backend/backends.js';
import type { Chunk } from '../../backend/PoolEngine.js';
import { encodeFrameForThread, type RunMessage, type TaskRef } from '../../codec/protocol.js';
import { postFrame } from '../../codec/threadTransport.js';
import { threadExecArgv, threadScript } from '../../runtime/threadScripts.js';
import { RUNNING_CHUNK, RUNNING_ITEM, createWorkerSignals, wakeWorker } from '../../runtime/workerSignals.js';

/** The script a local worker thread runs (see {@link threadScript}). */
export const defaultWorkerScript = threadScript('worker');

/**
 * One worker thread of a local pool and the chunks sent to it, oldest (the running one) first.
 * The thread runs chunks strictly in the order they were sent.
 *
 * @example
 * ```ts
 * const worker = new LocalWorker(1, script, init, [], undefined);
 * worker.send(chunk);
 * ```
 */
export class LocalWorker {
  readonly thread: Worker;
  /** Chunks sent and not finished, in the order sent; the first is running. */
  readonly inFlight: Chunk[] = [];
  /** The number each in-flight chunk was sent under (same order as `inFlight`). */
  readonly inFlightNumbers: number[] = [];
  /**
   * Shared words (see workerSignals.ts): the thread writes which item it is running (read after
   * it died, they name the item), and the parent wakes the thread when it idles.
   */
  readonly signals = createWorkerSignals();
  /** Items of the running chunk whose results came back. */
  reportedOfHead = 0;
  /** Tasks sent to this worker, counted as for `maxTasksPerChild`. */
  tasksAssigned = 0;
  /** No more chunks go to a retiring worker; it stops once its chunks are done. */
  retiring = false;
  /** Set once the thread has exited or is being stopped on purpose. */
  stopping = false;
  ready = false;
  /** The last uncaught error the thread reported, to explain its exit. */
  lastError: Error | undefined;
  /** Whether the thread keeps the process alive: while it starts, and while it has work. */
  private referenced = true;

  constructor(
    readonly id: number,
    script: URL,
    init: Uint8Array,
    initAttachments: unknown[],
    resourceLimits: ResourceLimits | undefined,
    threadBackend: ThreadBackend | undefined,
  ) {
    this.thread = new Worker(script, {
      execArgv: threadExecArgv(),
      // `fanoutWorker` lets a script that is also something else (a Lambda bundle) know its role.
      workerData: {
        fanoutWorker: true,
        fanoutScript: script.href,
        init,
        attachments: initAttachments,
        signals: this.signals,
        threadBackend,
      },
      resourceLimits,
      // Workers print to the parent's streams, as Python's pool workers share the terminal.
      stdout: false,
      stderr: false,
    });
    // Referenced from the start: a worker is started for queued work, which waits for it to be
    // ready (chunks go only to ready workers), so until then it must keep the program alive; or
    // a program awaiting its first map would end (exit code 13, unsettled top-level await) while
    // its threads start, or die starting, before the pool could fail the map. The pool unrefs it
    // once it is ready with nothing to run.
  }

  /** Posts a chunk to the thread. */
  send(chunk: Chunk): void {
    const number = this.nextChunkNumber++;
    const message: RunMessage = {
      type: 'run',
      chunk: number,
      task: this.knownTasks.get(chunk.task.name) ?? chunk.task,
      count: chunk.count,
      spread: chunk.spread,
    };
    postFrame(this.thread, encodeFrameForThread(message, chunk.payload), chunk.attachments, chunk.transfer);
    wakeWorker(this.signals);
    this.inFlight.push(chunk);
    this.inFlightNumbers.push(number);
    this.tasksAssigned += chunk.taskCount;
  }

  /** Forgets the running chunk (its results are all in). */
  shiftHead(): void {
    this.inFlight.shift();
    this.inFlightNumbers.shift();
    this.reportedOfHead = 0;
  }

  /** Takes every in-flight chunk away (the thread is gone or going). */
  takeInFlight(): Chunk[] {
    this.inFlightNumbers.length = 0;
    return this.inFlight.splice(0);
  }

  /**
   * The index of the item of the running chunk that the thread had started last, or -1 if it
   * had not started that chunk.
   */
  runningItem(): number {
    return this.inFlight.length > 0 && this.signals[RUNNING_CHUNK] === this.inFlightNumbers[0] ? this.signals[RUNNING_ITEM]! : -1;
  }

  private nextChunkNumber = 0;
  /**
   * Tasks this thread has resolved (it reported results for them), by name: their module need
   * not travel again, which keeps small messages small.
   */
  private readonly knownTasks = new Map<string, TaskRef>();

  /** Notes that the thread has resolved a task. */
  taskResolved(name: string): void {
    if (!this.knownTasks.has(name)) this.knownTasks.set(name, { name });
  }

  /**
   * Keeps the process alive while this worker has work, and lets it exit when idle. A stopping
   * worker stays referenced whatever is asked: its exit is awaited (`join`, `terminate`), and
   * news of it that comes after the stop (a 'ready' it posted before it was told to stop) must
   * not let the program end (exit code 13, unsettled top-level await) before that exit is seen.
   */
  setReferenced(referenced: boolean): void {
    if (!referenced && this.stopping) return;
    if (referenced === this.referenced) return;
    this.referenced = referenced;
    if (referenced) this.thread.ref();
    else this.thread.unref();
  }
}
