import type { Deadline } from '../../backend/Deadline.js';
import type { EventEngine } from '../../backend/SyncEngines.js';
import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import { AwsObjectRef } from './AwsObjectRef.js';
import type { EventStore } from './EventStore.js';
import { PollBackoff } from './PollBackoff.js';

const KIND = 'aws.event';

/**
 * An event flag in the DynamoDB table (aws backend), shared by every program and worker of the
 * stack: `set` and `clear` are one write each, `isSet` one consistent read. `wait` reads, then
 * polls with a back-off from 20 ms to 1 s (with jitter) until the flag is set or the deadline
 * passes. Every `set()` also bumps a count of sets, so a waiter woken by a `set` returns true
 * even if a `clear` follows before its next read, as Python's `Event.wait`.
 *
 * @example
 * ```ts
 * const ready = AwsEvent.create(new AwsBackend({ config }));
 * await ready.set();
 * await ready.wait(Deadline.after(1000)); // true
 * ```
 */
export class AwsEvent implements EventEngine {
  readonly backend = 'aws' as const;

  private constructor(private readonly ref: AwsObjectRef<EventStore>) {}

  /** A new event (cleared), of `backend`'s resources. Makes no request. */
  static create(backend: AwsBackend, config?: AwsConfig): AwsEvent {
    return new AwsEvent(AwsObjectRef.create(backend, config));
  }

  /**
   * The event a handle names, bound to this thread's backend for its resources (or to
   * `backend`: another connection to the same resources, as another machine has).
   */
  static fromHandle(state: unknown, backend?: AwsBackend): AwsEvent {
    return new AwsEvent(AwsObjectRef.fromState(KIND, state, backend));
  }

  /** The event's id in the table. */
  get id(): string {
    return this.ref.id;
  }

  handle(): HandleDescriptor {
    return { kind: KIND, state: this.ref.state(KIND) };
  }

  async set(): Promise<void> {
    await (await this.store()).set(this.id);
  }

  async clear(): Promise<void> {
    await (await this.store()).clear(this.id);
  }

  async isSet(): Promise<boolean> {
    return (await (await this.store()).read(this.id)).set;
  }

  async wait(deadline: Deadline): Promise<boolean> {
    const store = await this.store();
    const first = await store.read(this.id);
    if (first.set) return true;
    const backoff = new PollBackoff(deadline);
    while (await backoff.pause()) {
      const now = await store.read(this.id);
      if (now.set || now.sets !== first.sets) return true;
    }
    return false;
  }

  private store(): Promise<EventStore> {
    return this.ref.store(async (session) => new (await import('./EventStore.js')).EventStore(session));
  }
}
