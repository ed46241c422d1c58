import type { Chunk, PoolEngine } from '../backend/PoolEngine.js';
import { TimeoutError } from '../errors.js';

/**
 * One call's work (an `apply`, a `map`, an `imap`): its chunks, and its end — by success,
 * failure, timeout or abort — after which its remaining chunks are cancelled and timers and
 * listeners released. Written once for every backend.
 *
 * @example
 * ```ts
 * const job = new Job(engine, 'map of square', { timeout: 1000 }, (error) => reject(error));
 * job.add(chunk);
 * job.finish();
 * ```
 */
export class Job {
  private readonly chunks = new Set<Chunk>();
  private timer: NodeJS.Timeout | undefined;
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly engine: PoolEngine,
    description: string,
    limits: { timeout?: number | undefined; signal?: AbortSignal | undefined },
    private readonly onFail: (error: Error) => void,
  ) {
    if (limits.signal) {
      if (limits.signal.aborted) {
        this.ended = true;
        queueMicrotask(() => onFail(limits.signal!.reason as Error));
        return;
      }
      const signal = limits.signal;
      this.signal = signal;
      this.onAbort = () => this.fail(signal.reason as Error);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (limits.timeout !== undefined) {
      const timeout = limits.timeout;
      this.timer = setTimeout(
        () =>
          this.fail(new TimeoutError(`The ${description} did not finish within ${timeout} ms; its work was cancelled.`, timeout)),
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

  /** Tracks a chunk submitted for this job. */
  add(chunk: Chunk): void {
    this.chunks.add(chunk);
  }

  /** The chunks added and not yet done, in the order added. */
  pendingChunks(): Chunk[] {
    return [...this.chunks];
  }

  /** The chunk's results are all in. */
  chunkDone(chunk: Chunk): void {
    this.chunks.delete(chunk);
  }

  /** Ends the job successfully. */
  finish(): void {
    this.end();
  }

  /**
   * Ends the job with an error and reports it once. Its remaining chunks are cancelled; running
   * ones are stopped too unless `interrupt` is false (they finish, their results ignored).
   */
  fail(error: Error, interrupt = true): void {
    if (this.ended) return;
    this.end();
    this.cancelChunks(interrupt);
    this.onFail(error);
  }

  /** Ends the job because nobody wants its results (an iterator left early). */
  abandon(): void {
    if (this.ended) return;
    this.end();
    this.cancelChunks(true);
  }

  private cancelChunks(interrupt: boolean): void {
    for (const chunk of this.chunks) this.engine.cancel(chunk, interrupt);
    this.chunks.clear();
  }

  private end(): void {
    this.ended = true;
    clearTimeout(this.timer);
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
  }
}
