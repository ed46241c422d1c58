import type { Chunk, PoolEngine } from '../backend/PoolEngine.js';
import { AbortError, TimeoutError, describeValue } from '../errors.js';
import { settle, type Settleable } from './AsyncResult.js';

/** How a job may be cut short. */
export interface JobLimits {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * One call's work (an `apply`, a `map`, an `imap`): its chunks, and its end — by success,
 * failure, timeout or abort — after which its remaining chunks are cancelled, timers and
 * listeners released, and its outcome settled once. Written once for every backend.
 *
 * @example
 * ```ts
 * const job = new PoolCall(engine, result, { timeout: 1000 }, 'map', 'square');
 * job.add(chunk);
 * job.succeed(values);
 * ```
 */
export class PoolCall {
  private chunks: Set<Chunk> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;
  private ended = false;

  /** `kind` and `taskName` name the call in a timeout's message (`map of task 'square'`). */
  constructor(
    private readonly engine: PoolEngine,
    private readonly outcome: Settleable,
    limits: JobLimits | undefined,
    kind: string,
    taskName: string,
  ) {
    if (!limits) return;
    const signal = limits.signal;
    if (signal) {
      if (signal.aborted) {
        this.ended = true;
        queueMicrotask(() => outcome[settle](false, abortError(kind, taskName, signal.reason)));
        return;
      }
      this.signal = signal;
      this.onAbort = () => this.fail(abortError(kind, taskName, signal.reason));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    const timeout = limits.timeout;
    if (timeout !== undefined) {
      this.timer = setTimeout(
        () =>
          this.fail(
            new TimeoutError(
              `The ${kind} of task '${taskName}' did not finish within ${timeout} ms; its work was cancelled.`,
              timeout,
            ),
          ),
        timeout,
      );
    }
  }

  /** True once the job has succeeded, failed, timed out or been aborted. */
  get done(): boolean {
    return this.ended;
  }

  /** Whether the job's work can be cut short (it has a timeout or a signal). */
  get cancellable(): boolean {
    return this.timer !== undefined || this.signal !== undefined;
  }

  /** Tracks a chunk submitted for this job, to cancel it if the job ends early. */
  add(chunk: Chunk): void {
    (this.chunks ??= new Set()).add(chunk);
  }

  /** The chunk's results are all in. */
  chunkDone(chunk: Chunk): void {
    this.chunks?.delete(chunk);
  }

  /** Ends the job successfully with `value`. */
  succeed(value: unknown): void {
    if (this.ended) return;
    this.end();
    this.outcome[settle](true, value);
  }

  /**
   * Ends the job with an error and reports it once. Its remaining chunks are cancelled; running
   * ones are stopped too unless `interrupt` is false (they finish, their results ignored).
   */
  fail(error: Error, interrupt = true): void {
    if (this.ended) return;
    this.end();
    this.cancelChunks(interrupt);
    this.outcome[settle](false, error);
  }

  /** Ends the job because nobody wants its results (an iterator left early). */
  abandon(): void {
    if (this.ended) return;
    this.end();
    this.cancelChunks(true);
  }

  private cancelChunks(interrupt: boolean): void {
    if (!this.chunks) return;
    for (const chunk of this.chunks) this.engine.cancel(chunk, interrupt);
    this.chunks = undefined;
  }

  private end(): void {
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/** The error of a job whose signal was aborted: fanout's own, with the signal's reason as cause. */
function abortError(kind: string, taskName: string, reason: unknown): AbortError {
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : describeValue(reason);
  return new AbortError(`The ${kind} of task '${taskName}' was aborted (${why}); its work was cancelled.`, reason);
}
