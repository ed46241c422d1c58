import { Deadline } from '../backend/Deadline.js';
import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import type { QueueEngine } from '../backend/QueueEngine.js';
import type { Handle, HandleDescriptor } from '../codec/ValueEncoder.js';
import { toHandle } from '../codec/tags.js';
import { NotSupportedError, ValueError } from '../errors.js';
import { checkHandleTarget } from './handleTarget.js';
import { decodeItem, encodeItem } from './itemCodec.js';

/**
 * A plain unbounded FIFO queue, as Python's `multiprocessing.SimpleQueue`: `put`, `get`, `empty`
 * and `close`, no sizes or timeouts. Shared like a {@link Queue}.
 *
 * @example
 * ```ts
 * const q = new SimpleQueue<string>();
 * await q.put('hello');
 * await q.get(); // 'hello'
 * ```
 */
export class SimpleQueue<T = unknown> implements Handle {
  private engine!: QueueEngine;
  private closed = false;

  constructor(backend: Backend = defaultBackend()) {
    if (!backend.createQueue) throw new NotSupportedError(`The '${backend.name}' backend has no queues.`);
    this.engine = backend.createQueue({ maxsize: 0, joinable: false });
  }

  /**
   * A queue over an existing engine: how a queue is re-bound on the other side of a boundary
   * (used by the backends' handle kinds, not by programs).
   *
   * @example
   * ```ts
   * SimpleQueue.fromEngine(LocalQueueEngine.fromHandle(state, attachments));
   * ```
   */
  static fromEngine<T>(engine: QueueEngine): SimpleQueue<T> {
    const queue = Object.create(SimpleQueue.prototype as object) as SimpleQueue<T>;
    queue.engine = engine;
    queue.closed = false;
    return queue;
  }

  /**
   * Puts an item at the end.
   *
   * @example
   * ```ts
   * await q.put({ id: 1 });
   * ```
   */
  async put(item: T): Promise<void> {
    this.checkOpen();
    // An unbounded queue always takes the item (true), at once or after a wait.
    await this.engine.put(encodeItem(item, 'the item'), Deadline.never);
  }

  /**
   * Takes the oldest item, waiting for one if the queue is empty.
   *
   * @example
   * ```ts
   * const item = await q.get();
   * ```
   */
  async get(): Promise<T> {
    this.checkOpen();
    const bytes = await this.engine.get(Deadline.never);
    return decodeItem(bytes!) as T;
  }

  /**
   * Whether the queue is empty now.
   *
   * @example
   * ```ts
   * await q.empty(); // true
   * ```
   */
  async empty(): Promise<boolean> {
    this.checkOpen();
    return (await this.engine.size()) === 0;
  }

  /**
   * This object will put and get no more; other holders of the queue are not affected.
   *
   * @example
   * ```ts
   * q.close();
   * ```
   */
  close(): void {
    this.closed = true;
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('SimpleQueue', this.engine.backendName);
    const handle = this.engine.handle();
    return { ...handle, state: { ...handle.state, flavor: 'simple' } };
  }

  private checkOpen(): void {
    if (this.closed) throw new ValueError('The queue is closed: close() was called on this object.');
  }
}
