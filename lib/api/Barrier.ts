import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import { Deadline } from '../backend/Deadline.js';
import type { BarrierEngine } from '../backend/SyncEngines.js';
import type { TaskRef } from '../codec/protocol.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { InvalidArgumentError, SerializationError } from '../errors.js';
import { TaskRegistry } from '../runtime/TaskRegistry.js';
import { checkOptions, checkTimeout } from './checks.js';
import { checkHandleTarget } from './handleTarget.js';
import { isTask, taskRef } from './task.js';

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /**
   * Run by the last party to arrive, before any party is released. A task made with `task()`
   * works wherever the barrier goes; a plain function only in the thread that made the barrier.
   */
  action?: () => unknown;
  /** Default timeout of `wait`, in ms. @default no limit */
  timeout?: number;
}

/**
 * A barrier for a fixed number of parties, shared by every worker, as Python's
 * `multiprocessing.Barrier`: each `wait` blocks until `parties` waits are pending, then all are
 * released together and the barrier can be used again.
 *
 * `wait` resolves with the party's arrival index (0 for the first to arrive, `parties - 1` for
 * the last). A timeout, `abort()`, `reset()` or a failing action breaks the barrier: pending and
 * later waits reject with `BrokenBarrierError` until `reset()`.
 *
 * @example
 * ```ts
 * const barrier = new Barrier(4);
 * // in each of 4 tasks:
 * const index = await barrier.wait(10_000);
 * ```
 */
export class Barrier {
  /** @internal The backend's barrier. */
  readonly engine: BarrierEngine;
  private readonly action: (() => unknown) | undefined;
  private readonly actionRef: TaskRef | undefined;
  private readonly timeout: number | undefined;

  constructor(parties: number, options?: BarrierOptions, backend: Backend = defaultBackend()) {
    if (typeof parties !== 'number' || !Number.isInteger(parties) || parties < 1 || parties > 0x7fffffff) {
      throw new InvalidArgumentError('new Barrier(parties)', parties, 'a whole number ≥ 1');
    }
    checkOptions('new Barrier(parties, options)', options, ['action', 'timeout']);
    const action = options?.action;
    if (action !== undefined && typeof action !== 'function') {
      throw new InvalidArgumentError(
        'new Barrier(parties, options): action',
        action,
        'a function (a task made by task() to cross to workers)',
      );
    }
    checkTimeout('new Barrier(parties, options): timeout', options?.timeout);
    this.action = action;
    this.actionRef = action && isTask(action) ? taskRef(action, 'new Barrier(parties, options): action') : undefined;
    this.timeout = options?.timeout;
    this.engine = backendPart(backend, 'createBarrier', 'Barrier')(parties);
  }

  /** @internal Wraps a backend barrier that crossed from another thread. */
  static fromEngine(engine: BarrierEngine, state: { action: TaskRef | null; timeout: number | null }): Barrier {
    const barrier = Object.create(Barrier.prototype) as {
      engine: BarrierEngine;
      action: (() => unknown) | undefined;
      actionRef: TaskRef | undefined;
      timeout: number | undefined;
    };
    barrier.engine = engine;
    const ref = state.action ?? undefined;
    barrier.actionRef = ref;
    barrier.action = ref && (async () => (await TaskRegistry.current.resolve(ref)).fn());
    barrier.timeout = state.timeout ?? undefined;
    return barrier as unknown as Barrier;
  }

  /** The number of parties the barrier waits for. */
  get parties(): number {
    return this.engine.parties;
  }

  /**
   * Waits until all parties have called `wait`; resolves with this party's arrival index. Rejects
   * with `BrokenBarrierError` when the barrier is or becomes broken, and breaks it when `timeout`
   * (default: the barrier's) passes first.
   */
  async wait(timeout?: number): Promise<number> {
    checkTimeout('Barrier.wait(timeout)', timeout);
    return this.engine.wait(Deadline.after(timeout ?? this.timeout), this.action);
  }

  /**
   * Returns the barrier to its empty state. Parties waiting now reject with `BrokenBarrierError`.
   */
  async reset(): Promise<void> {
    await this.engine.reset();
  }

  /** Breaks the barrier: pending and future waits reject with `BrokenBarrierError` until `reset()`. */
  async abort(): Promise<void> {
    await this.engine.abort();
  }

  /** The number of parties waiting now, as Python's `n_waiting`. */
  async nWaiting(): Promise<number> {
    return this.engine.nWaiting();
  }

  /** Whether the barrier is broken, as Python's `broken`. */
  async broken(): Promise<boolean> {
    return this.engine.broken();
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('Barrier', this.engine.backend);
    if (this.action !== undefined && this.actionRef === undefined) {
      throw new SerializationError(
        'a Barrier',
        'its action is a plain function, which cannot cross to a worker. Define the action with task(name, fn) in a module of its own.',
      );
    }
    const described = this.engine.handle();
    return { ...described, state: { engine: described.state, action: this.actionRef ?? null, timeout: this.timeout ?? null } };
  }
}
