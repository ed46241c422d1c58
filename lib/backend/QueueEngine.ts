import type { HandleDescriptor } from '../codec/ValueEncoder.js';

/** How a blocking call waits: not at all (`block: false`), until a deadline, or for ever. */
export interface WaitOptions {
  block: boolean;
  /** Milliseconds; `undefined`: no limit. Ignored when `block` is false. */
  timeout: number | undefined;
}

/** What a backend needs to make a queue. */
export interface QueueEngineOptions {
  /** Items the queue holds at most; 0: no limit. */
  maxsize: number;
  /** Count puts as unfinished tasks (`JoinableQueue`). */
  joinable: boolean;
}

/**
 * One queue's storage on a backend (the SPI behind `Queue`, `JoinableQueue` and `SimpleQueue`).
 * It carries encoded items; encoding, argument checks and errors live in the public classes.
 *
 * @example
 * ```ts
 * const engine = backend.createQueue!({ maxsize: 0, joinable: false });
 * await engine.put(bytes, { block: true, timeout: undefined });
 * ```
 */
export interface QueueEngine {
  /** The backend that owns the queue, for the cross-backend check. */
  readonly backendName: string;
  readonly maxsize: number;
  readonly joinable: boolean;
  /**
   * Appends an item: true once done, false if there was no room in time. Answers directly (not a
   * promise) when it did not have to wait, which spares the hot path two promise hops.
   */
  put(item: Uint8Array, wait: WaitOptions): boolean | Promise<boolean>;
  /** Takes the oldest item, or `undefined` if none came in time; directly when it did not have to wait. */
  get(wait: WaitOptions): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Items in the queue now. */
  size(): Promise<number>;
  /** Marks a task done; resolves false (changing nothing) if no task is unfinished. */
  taskDone(): Promise<boolean>;
  /** Resolves once every item put so far has been marked done. */
  join(): Promise<void>;
  /** How the queue crosses to another thread (see `Handle`). */
  handle(): Omit<HandleDescriptor, 'state'> & { state: Record<string, unknown> };
}
