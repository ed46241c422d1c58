import { Job } from './Job.js';
import { availableParallelism } from 'node:os';
import type { Backend, BackendName } from '../backend/Backend.js';
import { backendNamed, defaultBackend } from '../backend/backends.js';
import { Pool, type PoolOptions } from './Pool.js';
import { Barrier, type BarrierOptions } from './Barrier.js';
import { BoundedSemaphore } from './BoundedSemaphore.js';
import { Condition } from './Condition.js';
import { Event } from './Event.js';
import { Lock } from './Lock.js';
import { RLock } from './RLock.js';
import { Semaphore } from './Semaphore.js';
import { SharedArray } from './SharedArray.js';
import type { SharedOptions, ValueOptions } from './synchronized.js';
import type { ElementOf, Typecode } from './typecodes.js';
import { Value } from './Value.js';
import { Process, activeChildren, currentProcess, parentProcess, type ProcessInfo, type ProcessOptions } from './Process.js';
import { Queue } from './Queue.js';
import { JoinableQueue } from './JoinableQueue.js';
import { SimpleQueue } from './SimpleQueue.js';
import { Pipe } from './Pipe.js';
import type { Connection } from './Connection.js';

/**
 * A set of fanout's classes bound to one backend, as Python's `multiprocessing.get_context()`.
 * Programs written against a context run unchanged on any backend.
 *
 * @example
 * ```ts
 * const mp = getContext('local');
 * await using pool = new mp.Pool(4);
 * ```
 */
export class Context {
  /** `Pool` bound to this context's backend. */
  readonly Pool: new (processesOrOptions?: number | PoolOptions) => Pool;
  /** `Lock` bound to this context's backend. */
  readonly Lock: new () => Lock;
  /** `RLock` bound to this context's backend. */
  readonly RLock: new () => RLock;
  /** `Semaphore` bound to this context's backend. */
  readonly Semaphore: new (value?: number) => Semaphore;
  /** `BoundedSemaphore` bound to this context's backend. */
  readonly BoundedSemaphore: new (value?: number) => BoundedSemaphore;
  /** `Event` bound to this context's backend. */
  readonly Event: new () => Event;
  /** `Condition` bound to this context's backend. */
  readonly Condition: new (lock?: Lock | RLock) => Condition;
  /** `Barrier` bound to this context's backend. */
  readonly Barrier: new (parties: number, options?: BarrierOptions) => Barrier;
  /** `Value` bound to this context's backend. */
  readonly Value: new <T extends Typecode>(typecode: T, init?: ElementOf<T>, options?: ValueOptions) => Value<T>;
  /** `SharedArray` bound to this context's backend (also as `Array`, Python's name). */
  readonly SharedArray: new <T extends Typecode>(
    typecode: T,
    sizeOrItems: number | Iterable<ElementOf<T>>,
    options?: SharedOptions,
  ) => SharedArray<T>;
  /** Python's name for {@link SharedArray}: `new mp.Array('i', 10)`. */
  readonly Array: new <T extends Typecode>(
    typecode: T,
    sizeOrItems: number | Iterable<ElementOf<T>>,
    options?: SharedOptions,
  ) => SharedArray<T>;

  /** `Process` bound to this context's backend. */
  readonly Process: new <A extends unknown[]>(options: ProcessOptions<A>) => Process<A>;
  /** `Queue` bound to this context's backend. */
  readonly Queue: new <T = unknown>(maxsize?: number) => Queue<T>;
  /** `JoinableQueue` bound to this context's backend. */
  readonly JoinableQueue: new <T = unknown>(maxsize?: number) => JoinableQueue<T>;
  /** `SimpleQueue` bound to this context's backend. */
  readonly SimpleQueue: new <T = unknown>() => SimpleQueue<T>;

  /**
   * The job with this id on this context's backend (see {@link Job.attach}).
   *
   * @example
   * ```ts
   * const results = await getContext('aws').job<number>(jobId).get();
   * ```
   */
  job<R = unknown>(id: string): Job<R> {
    return Job.attach<R>(id, this.backend);
  }

  constructor(readonly backend: Backend) {
    this.Pool = class extends Pool {
      constructor(processesOrOptions?: number | PoolOptions) {
        super(processesOrOptions, backend);
      }
    };
    this.Lock = class extends Lock {
      constructor() {
        super(backend);
      }
    };
    this.Process = class<A extends unknown[]> extends Process<A> {
      constructor(options: ProcessOptions<A>) {
        super(options, backend);
      }
    };
    this.Queue = class<T> extends Queue<T> {
      constructor(maxsize?: number) {
        super(maxsize, backend);
      }
    };
    this.JoinableQueue = class<T> extends JoinableQueue<T> {
      constructor(maxsize?: number) {
        super(maxsize, backend);
      }
    };
    this.SimpleQueue = class<T> extends SimpleQueue<T> {
      constructor() {
        super(backend);
      }
    };
    this.RLock = class extends RLock {
      constructor() {
        super(backend);
      }
    };
    this.Semaphore = class extends Semaphore {
      constructor(value?: number) {
        super(value, backend);
      }
    };
    this.BoundedSemaphore = class extends BoundedSemaphore {
      constructor(value?: number) {
        super(value, backend);
      }
    };
    this.Event = class extends Event {
      constructor() {
        super(backend);
      }
    };
    this.Condition = class extends Condition {
      constructor(lock?: Lock | RLock) {
        super(lock, backend);
      }
    };
    this.Barrier = class extends Barrier {
      constructor(parties: number, options?: BarrierOptions) {
        super(parties, options, backend);
      }
    };
    this.Value = class<T extends Typecode> extends Value<T> {
      constructor(typecode: T, init?: ElementOf<T>, options?: ValueOptions) {
        super(typecode, init, options, backend);
      }
    };
    this.SharedArray = class<T extends Typecode> extends SharedArray<T> {
      constructor(typecode: T, sizeOrItems: number | Iterable<ElementOf<T>>, options?: SharedOptions) {
        super(typecode, sizeOrItems, options, backend);
      }
    };
    this.Array = this.SharedArray;
  }

  /** A pipe on this context's backend, as `Pipe(duplex)`. */
  Pipe<T = unknown>(duplex = true): [Connection<T>, Connection<T>] {
    return Pipe<T>(duplex, this.backend);
  }

  /** As `currentProcess()`. */
  currentProcess(): ProcessInfo {
    return currentProcess();
  }

  /** As `parentProcess()`. */
  parentProcess(): ProcessInfo | null {
    return parentProcess();
  }

  /** As `activeChildren()`. */
  activeChildren(): Array<Process<never[]>> {
    return activeChildren();
  }

  /**
   * Resolves once the backend can make shared objects without waiting: on the aws backend with
   * only `FANOUT_STACK` set, it reads the stack's outputs (locks, values and queues need their
   * table at once); on the local backend, at once.
   *
   * @example
   * ```ts
   * const mp = getContext('aws');
   * await mp.ready();
   * const lock = new mp.Lock();
   * ```
   */
  async ready(): Promise<void> {
    await this.backend.ready?.();
  }

  /** The backend's name: `'local'` or `'aws'`. */
  get name(): BackendName {
    return this.backend.name;
  }

  /** Number of CPUs of this machine, as Python's `cpu_count()`. */
  cpuCount(): number {
    return availableParallelism();
  }
}

const contexts = new Map<Backend, Context>();

/**
 * The context of a backend: `'local'` (worker threads) or `'aws'`. Without a name, the backend
 * named by the `FANOUT_BACKEND` environment variable (default `'local'`).
 *
 * @example
 * ```ts
 * const mp = getContext(process.env.CI ? 'local' : 'aws');
 * const results = await new mp.Pool().map(square, xs);
 * ```
 */
export function getContext(name?: BackendName): Context {
  const backend = name === undefined ? defaultBackend() : backendNamed(name, 'getContext(name)');
  let context = contexts.get(backend);
  if (!context) {
    context = new Context(backend);
    contexts.set(backend, context);
  }
  return context;
}
