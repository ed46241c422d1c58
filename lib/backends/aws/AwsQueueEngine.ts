import { randomBytes } from 'node:crypto';
import { Deadline } from '../../backend/Deadline.js';
import type { QueueEngine, QueueEngineOptions } from '../../backend/QueueEngine.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import { PollBackoff } from './PollBackoff.js';
import type { QueueStore } from './QueueStore.js';

/** The handle kind of an aws queue (`Queue`, `JoinableQueue`, `SimpleQueue`). */
export const AWS_QUEUE_KIND = 'aws.queue';

/** What an aws queue's handle carries: enough to reach the same items from any machine. */
export interface AwsQueueState {
  id: string;
  /** The resources of the queue's backend (`null` if they were not known yet when it was sent). */
  config: AwsConfig | null;
  maxsize: number;
  joinable: boolean;
}

/** A fresh id: 16 random bytes, URL-safe. */
export function randomId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * A queue on the aws backend: its items are DynamoDB items of the run table, in one partition
 * per queue, sorted by `time#producer#sequence` (see {@link QueueStore}). A put is one `PutItem`
 * (no counter to bump); a get claims the oldest item with one conditional `UpdateItem` (found by
 * a head query that serves several gets) and deletes claimed items in batches. Bounded and
 * joinable queues add one counter update per put, and bounded ones one per get.
 *
 * Why DynamoDB rather than an SQS queue per fanout queue: no queue to create at run time (and no
 * IAM right to do so, nor anyone to delete it later: TTL removes these items), `maxsize` and
 * `qsize` need a counter SQS does not have, and a get is one request where SQS needs a receive and
 * a delete (see docs/aws.md for the measurements).
 *
 * Puts of one engine are made one after the other, and so are its gets, so that one producer's
 * items keep their order and a consumer sees each producer's items in order.
 *
 * @example
 * ```ts
 * const engine = AwsQueueEngine.create(new AwsBackend({ config }), { maxsize: 0, joinable: false });
 * await engine.put(bytes, Deadline.never);
 * await engine.get(Deadline.after(1000)); // bytes
 * ```
 */
export class AwsQueueEngine implements QueueEngine {
  readonly backendName = 'aws';
  /** This engine's name as a producer, consumer and counter updater. */
  private readonly actor = randomId(6);
  private config: AwsConfig | null = null;
  private opened: Promise<QueueStore> | undefined;
  private putting: Promise<unknown> = Promise.resolve();
  private getting: Promise<unknown> = Promise.resolve();
  private finishing: Promise<unknown> = Promise.resolve();
  private itemSeq = 0;
  private lastMs = 0;
  private reserveSeq = 0;
  private releaseSeq = 0;
  private doneSeq = 0;

  private constructor(
    private readonly backend: AwsBackend,
    readonly id: string,
    readonly maxsize: number,
    readonly joinable: boolean,
  ) {
    // Known at once when the backend made it (its handle must name its resources right away).
    this.config = backend.resourcesIfKnown ?? null;
    backend.resources().then(
      (config) => (this.config = config),
      () => {},
    );
  }

  static create(backend: AwsBackend, options: QueueEngineOptions): AwsQueueEngine {
    return new AwsQueueEngine(backend, randomId(), options.maxsize, options.joinable);
  }

  /**
   * Re-binds a queue from its handle, on this machine: through the backend of the handle's
   * resources (`AwsBackend.forConfig`), or `backend` when given (tests simulating machines).
   */
  static fromHandle(state: AwsQueueState, backend?: AwsBackend): AwsQueueEngine {
    backend ??= AwsBackend.forHandle(state.config);
    return new AwsQueueEngine(backend, state.id, state.maxsize, state.joinable);
  }

  handle(): { kind: string; state: Record<string, unknown> } {
    const state: AwsQueueState = { id: this.id, config: this.config, maxsize: this.maxsize, joinable: this.joinable };
    return { kind: AWS_QUEUE_KIND, state: { ...state } };
  }

  private store(): Promise<QueueStore> {
    this.opened ??= Promise.all([this.backend.session(), import('./QueueStore.js')]).then(([session, { QueueStore }]) => {
      this.config = session.config;
      return new QueueStore(session, 'queue', this.id);
    });
    return this.opened;
  }

  /** Appends an item: true once done, false if a bounded queue had no room by `deadline`. */
  put(item: Uint8Array, deadline: Deadline): Promise<boolean> {
    const done = this.putting.then(() => this.putNow(item, deadline));
    this.putting = done.catch(() => {});
    return done;
  }

  private async putNow(item: Uint8Array, deadline: Deadline): Promise<boolean> {
    const store = await this.store();
    if (this.maxsize > 0 || this.joinable) {
      const seq = ++this.reserveSeq;
      const add = { ...(this.maxsize > 0 ? { n: 1 } : {}), ...(this.joinable ? { u: 1 } : {}) };
      const limit = this.maxsize > 0 ? { attribute: 'n' as const, below: this.maxsize } : undefined;
      const backoff = new PollBackoff();
      while (!(await store.updateCounters(`p_${this.actor}`, seq, add, limit))) {
        if (!(await backoff.pause(deadline))) return false;
      }
    }
    // Strictly increasing for this producer, and roughly in time order across producers.
    this.lastMs = Math.max(Date.now(), this.lastMs);
    const part = `${String(this.lastMs).padStart(13, '0')}#${this.actor}#${String(++this.itemSeq).padStart(10, '0')}`;
    await store.putItem(part, item);
    return true;
  }

  /** Takes the oldest item it can claim, or `undefined` if none came by `deadline`. */
  get(deadline: Deadline): Promise<Uint8Array | undefined> {
    const taken = this.getting.then(() => this.getNow(deadline));
    this.getting = taken.catch(() => {});
    return taken;
  }

  private async getNow(deadline: Deadline): Promise<Uint8Array | undefined> {
    const store = await this.store();
    const backoff = new PollBackoff();
    for (;;) {
      const { item } = await store.take(this.actor);
      if (item) {
        if (this.maxsize > 0) await store.updateCounters(`g_${this.actor}`, ++this.releaseSeq, { n: -1 });
        return item;
      }
      if (!(await backoff.pause(deadline))) return undefined;
    }
  }

  /** Unclaimed items now (approximate while others put and get, as Python's `qsize`). */
  async size(): Promise<number> {
    return (await this.store()).count();
  }

  /** Marks a task done; false (changing nothing) if no task is unfinished. */
  taskDone(): Promise<boolean> {
    const done = this.finishing.then(async () => {
      const store = await this.store();
      return store.updateCounters(`d_${this.actor}`, ++this.doneSeq, { u: -1 }, { attribute: 'u', above: 0 });
    });
    this.finishing = done.catch(() => {});
    return done;
  }

  /** Resolves once every item put so far has been marked done (looks with back-off, ≤ 1 s apart). */
  async join(): Promise<void> {
    const store = await this.store();
    const backoff = new PollBackoff();
    while ((await store.meta()).unfinished > 0) await backoff.pause(Deadline.never);
  }

  /** Deletes the claimed items whose batched delete is still pending (tests and shutdown). */
  async flush(): Promise<void> {
    await (await this.store()).flushAll();
  }
}
