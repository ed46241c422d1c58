import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import type { Deadline } from './Deadline.js';

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
 * await engine.put(bytes, Deadline.never);
 * ```
 */
export interface QueueEngine {
  /** The backend that owns the queue, for the cross-backend check. */
  readonly backendName: string;
  readonly maxsize: number;
  readonly joinable: boolean;
  /**
   * Appends an item: true once done, false if there was no room by `deadline` (`Deadline.now()`:
   * do not wait). Answers directly (not a promise) when it did not have to wait, which spares the
   * hot path two promise hops.
   */
  put(item: Uint8Array, deadline: Deadline): boolean | Promise<boolean>;
  /** Takes the oldest item, or `undefined` if none came by `deadline`; directly when it did not have to wait. */
  get(deadline: Deadline): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Items in the queue now. */
  size(): Promise<number>;
  /** Marks a task done; resolves false (changing nothing) if no task is unfinished. */
  taskDone(): Promise<boolean>;
  /** Resolves once every item put so far has been marked done. */
  join(): Promise<void>;
  /** How the queue crosses to another thread or machine (see `Handle`). */
  handle(): Omit<HandleDescriptor, 'state'> & { state: Record<string, unknown> };
}
