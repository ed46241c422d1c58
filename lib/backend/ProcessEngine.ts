import type { TransferListItem } from 'node:worker_threads';
import type { TaskRef } from '../codec/protocol.js';

/** Who a process is: what `currentProcess()` answers inside it. */
export interface ProcessIdentity {
  name: string;
  /** A stable identifier of the process (on the local backend, its thread id). */
  pid: number;
  daemon: boolean;
  /** Python's `_identity`: the process's numbers, from its top ancestor down (`[1, 2]` is `Process-1:2`). */
  identity: number[];
}

/** What a backend needs to start a process. */
export interface ProcessSpec {
  target: TaskRef;
  /** The argument array, encoded as one value. */
  args: Uint8Array;
  attachments: unknown[];
  transfer: TransferListItem[];
  name: string;
  daemon: boolean;
  identity: number[];
  /** The process that starts it, as its child will see it in `parentProcess()`. */
  parent: ProcessIdentity;
}

/**
 * A started process on a backend (the SPI behind `Process`).
 *
 * @example
 * ```ts
 * const engine = backend.startProcess!(spec);
 * const code = await engine.exited; // 0
 * ```
 */
export interface ProcessEngine {
  readonly pid: number;
  /** Resolves with the exit code once the process has ended (negative: stopped by terminate/kill, as Python's `-signal`). */
  readonly exited: Promise<number>;
  /** Asks the process to stop (Python: SIGTERM). */
  terminate(): void;
  /** Stops the process (Python: SIGKILL). */
  kill(): void;
}
