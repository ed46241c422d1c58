import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import { Deadline } from '../backend/Deadline.js';
import type { EventEngine } from '../backend/SyncEngines.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { checkHandleTarget } from './handleTarget.js';
import { checkTimeout } from './checks.js';

/**
 * A flag shared by every worker, as Python's `multiprocessing.Event`: `wait` resolves once the
 * flag is set. A waiter woken by `set()` resolves true even if `clear()` follows at once.
 *
 * @example
 * ```ts
 * const ready = new Event();
 * const waiting = pool.applyAsync(waitThenWork, [ready]);
 * await ready.set();
 * ```
 */
export class Event {
  /** @internal The backend's event. */
  readonly engine: EventEngine;

  constructor(backend: Backend = defaultBackend()) {
    this.engine = backendPart(backend, 'createEvent', 'Event')();
  }

  /** @internal Wraps a backend event that crossed from another thread. */
  static fromEngine(engine: EventEngine): Event {
    const event = Object.create(Event.prototype) as { engine: EventEngine };
    event.engine = engine;
    return event as Event;
  }

  /** Sets the flag and wakes every waiter. */
  async set(): Promise<void> {
    await this.engine.set();
  }

  /** Clears the flag. */
  async clear(): Promise<void> {
    await this.engine.clear();
  }

  /** Whether the flag is set, as Python's `is_set()`. */
  async isSet(): Promise<boolean> {
    return this.engine.isSet();
  }

  /**
   * Waits until the flag is set, or `timeout` ms pass; resolves with the flag (true unless the
   * wait timed out).
   */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout('Event.wait(timeout)', timeout);
    return this.engine.wait(Deadline.after(timeout));
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('Event', this.engine.backend);
    return this.engine.handle();
  }
}
