import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { Deadline } from '../backend/Deadline.js';
import type { QueueEngine } from '../backend/QueueEngine.js';
import type { Handle, HandleDescriptor } from '../codec/ValueEncoder.js';
import { toHandle } from '../codec/tags.js';
import { Empty, Full, InvalidArgumentError, NotSupportedError, ValueError } from '../errors.js';
import { checkOptions, checkTimeout } from './checks.js';
import { checkHandleTarget } from './handleTarget.js';
import { decodeItem, encodeItem } from './itemCodec.js';

/** Options of {@link Queue.put} and {@link Queue.get}. */
export interface QueueWaitOptions {
  /** Wait for room (put) or an item (get). @default true */
  block?: boolean;
  /** With `block`, wait at most this many ms, then throw `Full` / `Empty`. @default no limit */
  timeout?: number;
}

const WAIT_OPTIONS = ['block', 'timeout'] as const;
const DONE = Promise.resolve();

/**
 * A FIFO queue shared by processes, pool workers and the main thread, as Python's
 * `multiprocessing.Queue`. Items are copied in with fanout's codec (what a task may take, a queue
 * may carry). Pass the queue itself to a `Process` or a pool task as an argument: it works there.
 *
 * `maxsize` > 0 bounds the queue: `put` waits for room. Everything that may wait is async and never
 * blocks the event loop; `putNowait` / `getNowait` throw `Full` / `Empty` at once.
 *
 * @example
 * ```ts
 * import { Process, Queue } from 'fanout';
 * import { f } from './tasks.js'; // f = task('f', async (q: Queue) => q.put([42, null, 'hello']))
 *
 * const q = new Queue();
 * const p = new Process({ target: f, args: [q] });
 * p.start();
 * console.log(await q.get()); // [ 42, null, 'hello' ]
 * await p.join();
 * ```
 */
export class Queue<T = unknown> implements Handle {
  /** Whether queues of this class count unfinished tasks (see `JoinableQueue`). */
  protected static readonly joinable: boolean = false;
  protected engine!: QueueEngine;
  private closed = false;

  constructor(maxsize = 0, backend: Backend = defaultBackend()) {
    const joinable = (new.target as typeof Queue).joinable;
    const where = `new ${joinable ? 'JoinableQueue' : 'Queue'}(maxsize)`;
    if (typeof maxsize !== 'number' || !Number.isInteger(maxsize)) {
      throw new InvalidArgumentError(`${where}: maxsize`, maxsize, 'a whole number (0 or less: no limit)');
    }
    if (!backend.createQueue) throw new NotSupportedError(`The '${backend.name}' backend has no queues.`);
    this.engine = backend.createQueue({ maxsize: Math.max(0, maxsize), joinable });
  }

  /**
   * A queue over an existing engine: how a queue is re-bound on the other side of a boundary
   * (used by the backends' handle kinds, not by programs).
   *
   * @example
   * ```ts
   * registerHandleKind('local.queue', (state, attachments) => Queue.fromEngine(LocalQueueEngine.fromHandle(state, attachments)));
   * ```
   */
  static fromEngine<T>(this: abstract new (...args: never[]) => Queue<T>, engine: QueueEngine): Queue<T> {
    const queue = Object.create(this.prototype as object) as Queue<T>;
    queue.engine = engine;
    queue.closed = false;
    return queue;
  }

  /** The most items the queue holds (0: no limit). */
  get maxsize(): number {
    return this.engine.maxsize;
  }

  /**
   * Puts an item at the end. On a full bounded queue, waits for room (at most `timeout` ms) or,
   * with `block: false`, throws `Full` at once.
   *
   * @example
   * ```ts
   * await q.put({ job: 1 });
   * await q.put({ job: 2 }, { timeout: 1000 }); // Full if still no room after 1 s
   * ```
   */
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    // Not an async function: an item that goes straight in costs no promise but the one returned.
    let deadline: Deadline;
    let done: boolean | Promise<boolean>;
    try {
      deadline = this.checkWait('queue.put(item, options)', options);
      done = this.engine.put(encodeItem(item, 'the item'), deadline);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (done === true) return DONE;
    if (done === false) return Promise.reject(this.fullError(options));
    return done.then((ok) => {
      if (!ok) throw this.fullError(options);
    });
  }

  private fullError(options: QueueWaitOptions | undefined): Full {
    return new Full(
      options?.block === false
        ? `The queue is full (maxsize ${this.maxsize}).`
        : `The queue stayed full (maxsize ${this.maxsize}) for the ${String(Math.max(0, options?.timeout ?? 0))} ms timeout.`,
    );
  }

  /**
   * Takes the oldest item. On an empty queue, waits for one (at most `timeout` ms) or, with
   * `block: false`, throws `Empty` at once. A waiting get cannot be called off, and takes the next
   * item whenever it comes: to stop waiting, give it a `timeout` (do not race it and drop it).
   *
   * @example
   * ```ts
   * const item = await q.get();
   * const next = await q.get({ timeout: 100 }); // Empty if nothing came within 100 ms
   * ```
   */
  get(options?: QueueWaitOptions): Promise<T> {
    let got: Uint8Array | undefined | Promise<Uint8Array | undefined>;
    try {
      got = this.engine.get(this.checkWait('queue.get(options)', options));
      if (got instanceof Uint8Array) return Promise.resolve(decodeItem(got) as T);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (got === undefined) return Promise.reject(this.emptyError(options));
    return got.then((bytes) => {
      if (bytes === undefined) throw this.emptyError(options);
      return decodeItem(bytes) as T;
    });
  }

  private emptyError(options: QueueWaitOptions | undefined): Empty {
    return new Empty(
      options?.block === false
        ? 'The queue is empty.'
        : `Nothing arrived in the queue within the ${String(Math.max(0, options?.timeout ?? 0))} ms timeout.`,
    );
  }

  /**
   * `put(item, { block: false })`: throws `Full` if there is no room.
   *
   * @example
   * ```ts
   * await q.putNowait(1);
   * ```
   */
  putNowait(item: T): Promise<void> {
    return this.put(item, { block: false });
  }

  /**
   * `get({ block: false })`: throws `Empty` if there is no item.
   *
   * @example
   * ```ts
   * const item = await q.getNowait();
   * ```
   */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /**
   * The number of items in the queue now (other processes may change it at any moment).
   *
   * @example
   * ```ts
   * await q.qsize(); // 3
   * ```
   */
  qsize(): Promise<number> {
    return this.engine.size();
  }

  /**
   * Whether the queue is empty now.
   *
   * @example
   * ```ts
   * while (!(await q.empty())) await q.get();
   * ```
   */
  async empty(): Promise<boolean> {
    return (await this.engine.size()) === 0;
  }

  /**
   * Whether a bounded queue is full now (never, without `maxsize`).
   *
   * @example
   * ```ts
   * if (await q.full()) console.log('producers will wait');
   * ```
   */
  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.engine.size()) >= this.maxsize;
  }

  /**
   * This object will put and get no more (Python: "no more data will be put on this queue by the
   * current process"). Other holders of the queue, in this thread or others, are not affected.
   *
   * @example
   * ```ts
   * q.close();
   * await q.put(1); // throws ValueError
   * ```
   */
  close(): void {
    this.closed = true;
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget(this.flavor() === 'joinable' ? 'JoinableQueue' : 'Queue', this.engine.backendName);
    const handle = this.engine.handle();
    return { ...handle, state: { ...handle.state, flavor: this.flavor() } };
  }

  /** How the receiving side re-creates this object: `queue`, `joinable` or `simple`. */
  protected flavor(): string {
    return 'queue';
  }

  /** The deadline of a put or get: `block: false` ignores the timeout (Python's rule), a negative one counts as zero. */
  protected checkWait(where: string, options: QueueWaitOptions | undefined): Deadline {
    if (this.closed) throw new ValueError('The queue is closed: close() was called on this object.');
    if (options === undefined) return Deadline.never;
    checkOptions(where, options, WAIT_OPTIONS);
    const block = options.block ?? true;
    if (typeof block !== 'boolean') throw new InvalidArgumentError(`${where}: block`, block, 'true or false');
    checkTimeout(`${where}: timeout`, options.timeout);
    return block ? Deadline.after(options.timeout) : Deadline.now();
  }
}
