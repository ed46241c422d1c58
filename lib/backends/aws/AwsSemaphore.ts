import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../../backend/Deadline.js';
import type { SemaphoreEngine } from '../../backend/SyncEngines.js';
import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import { SemaphoreLeaseLostError, ValueError } from '../../errors.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import { heartbeatInterval, leaseMs } from './leaseSettings.js';
import type { HolderRecord, SemaphoreSnapshot, SemaphoreStore } from './SemaphoreStore.js';

/** Options of {@link AwsSemaphore.create}. */
export interface AwsSemaphoreOptions {
  /** How long a holder's permits survive without a heartbeat. @default `FANOUT_LEASE_MS`, else 10,000 */
  leaseMs?: number;
}

/** The state of an `aws.semaphore` handle. */
export interface AwsSemaphoreState {
  id: string;
  config: AwsConfig;
  /** The value before the first write (the item is created by its first write). */
  init: number;
  maxValue: number | null;
  leaseMs: number;
}

/** The largest value a semaphore holds, as Python's `SEM_VALUE_MAX` on Linux. */
const VALUE_MAX = 0x7fffffff;
/** Back-off of a waiting acquire: 20 ms doubling to 1 s, each pause jittered to 50–100 %. */
const FIRST_PAUSE_MS = 20;
const LONGEST_PAUSE_MS = 1_000;

/** This copy's current holder generation: the permits it holds under one lease record. */
interface Generation {
  readonly id: string;
  held: number;
}

/** A holder of someone else's, as this copy has watched it on its own clock. */
interface Sighting extends HolderRecord {
  since: number;
}

/**
 * A Semaphore or BoundedSemaphore on the aws backend: one DynamoDB item holding the free count,
 * and a lease per holder so that the permits of a holder that crashed come back.
 *
 * - `acquire` is one conditional UpdateItem: the count drops by one if it is above zero, and the
 *   holder's record (`n_<holder>` permits, `r_<holder>` lease) is updated in the same request.
 * - While a copy holds permits it renews its lease every third of a lease (a timer that never
 *   keeps the process alive). A waiter that finds no permit watches the holders' leases and,
 *   once one has shown the same record version for a whole lease on the waiter's own monotonic
 *   clock (no clock is compared across machines, as AWS's lock client does), takes that holder's
 *   permits back with one conditional UpdateItem that also deletes its record.
 * - `release` is one conditional UpdateItem. Permits this copy holds are released from its
 *   lease; any beyond them are plain increments, as Python allows a semaphore to be released by
 *   anyone. A BoundedSemaphore refuses (ValueError, nothing added) a release past its bound.
 *   A release of permits whose lease was taken over raises SemaphoreLeaseLostError and adds
 *   nothing (they were given back already).
 *
 * The item is created by its first write, so making a semaphore costs no request.
 *
 * @example
 * ```ts
 * const slots = AwsSemaphore.create(backend, config, 3, undefined);
 * if (await slots.acquire(Deadline.after(1000))) await slots.release(1);
 * ```
 */
export class AwsSemaphore implements SemaphoreEngine {
  readonly backend = 'aws' as const;
  readonly maxValue: number | undefined;
  /** Heartbeats that failed with an error other than a takeover (retried at the next beat). */
  heartbeatErrors = 0;
  private storePromise: Promise<SemaphoreStore> | undefined;
  private generation: Generation | undefined;
  /** Permits this copy held whose lease was taken over, not yet released. */
  private lost = 0;
  private acquiring = 0;
  private releasing = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly sightings = new Map<string, Sighting>();

  private constructor(
    private readonly awsBackend: AwsBackend,
    private readonly state: AwsSemaphoreState,
  ) {
    this.maxValue = state.maxValue ?? undefined;
  }

  /** A new semaphore of `value` permits (bounded at `maxValue` when given). No request. */
  static create(
    backend: AwsBackend,
    config: AwsConfig,
    value: number,
    maxValue: number | undefined,
    options: AwsSemaphoreOptions = {},
  ): AwsSemaphore {
    return new AwsSemaphore(backend, {
      id: randomUUID(),
      config,
      init: value,
      maxValue: maxValue ?? null,
      leaseMs: leaseMs(options.leaseMs),
    });
  }

  /** Re-binds a handle's state to this thread's backend for its resources (a copy holding nothing). */
  static fromHandle(state: AwsSemaphoreState): AwsSemaphore {
    return new AwsSemaphore(AwsBackend.forConfig(state.config), state);
  }

  handle(): HandleDescriptor {
    return { kind: 'aws.semaphore', state: this.state };
  }

  /** One try; it may also take back the permits of a holder this copy already watched expire. */
  async tryAcquire(): Promise<boolean> {
    return this.attempt();
  }

  async acquire(deadline: Deadline): Promise<boolean> {
    let pause = FIRST_PAUSE_MS;
    for (;;) {
      if (await this.attempt()) return true;
      const left = deadline.remaining();
      if (left === 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, pause * (0.5 + Math.random() / 2))));
      pause = Math.min(LONGEST_PAUSE_MS, pause * 2);
    }
  }

  async release(n: number): Promise<void> {
    const generation = this.generation;
    const own = Math.min(n, generation?.held ?? 0);
    const gone = Math.min(n - own, this.lost);
    if (gone > 0) {
      this.lost -= gone;
      throw this.leaseLost(gone);
    }
    const limit = this.maxValue ?? VALUE_MAX;
    // The last permit of a generation deletes its record; a later acquire starts a new one.
    const removeHolder = generation !== undefined && own > 0 && own === generation.held && this.acquiring === 0;
    if (generation && own > 0) {
      generation.held -= own;
      if (removeHolder) this.detach(generation);
    }
    const store = await this.store();
    this.releasing++;
    let outcome;
    try {
      outcome = await store.release({
        n,
        limit,
        init: this.state.init,
        holder: own > 0 ? generation!.id : undefined,
        own,
        removeHolder,
      });
    } catch (error) {
      if (generation && own > 0) this.restore(generation, own);
      throw error;
    } finally {
      this.releasing--;
    }
    if (outcome.done) return;
    const snapshot = outcome.snapshot ?? (await store.read());
    const record = generation ? snapshot.holders.get(generation.id) : undefined;
    if (generation && own > 0 && (record === undefined || record.count < own)) {
      // Taken over: those permits are back already; the rest of this generation is lost too.
      if (this.generation === generation) {
        this.lost += generation.held;
        this.detach(generation);
      }
      throw this.leaseLost(own);
    }
    if (generation && own > 0) this.restore(generation, own);
    const value = snapshot.value ?? this.state.init;
    throw new ValueError(
      this.maxValue === undefined
        ? `Semaphore value would exceed ${limit}, the largest a semaphore can hold.`
        : `semaphore or lock released too many times: this BoundedSemaphore's value is ${value} and its bound ${limit}.`,
    );
  }

  async getValue(): Promise<number> {
    const snapshot = await (await this.store()).read();
    return snapshot.value ?? this.state.init;
  }

  /** One conditional acquire; when refused, watches the holders and takes back expired ones. */
  private async attempt(): Promise<boolean> {
    const store = await this.store();
    for (;;) {
      let generation = this.generation;
      if (!generation) {
        generation = { id: randomUUID().replaceAll('-', ''), held: 0 };
        this.generation = generation;
      }
      const leaseMustExist = generation.held > 0;
      this.acquiring++;
      let outcome;
      try {
        outcome = await store.acquire({ holder: generation.id, lease: this.newLease(), init: this.state.init, leaseMustExist });
      } finally {
        this.acquiring--;
      }
      if (outcome.done) {
        if (this.generation === undefined) this.generation = generation;
        if (this.generation !== generation) {
          // Another generation started while this request flew (this one was taken over): give
          // the permit back under the record it was taken for, and try again.
          await store.release({
            n: 1,
            limit: VALUE_MAX,
            init: this.state.init,
            holder: generation.id,
            own: 1,
            removeHolder: true,
          });
          continue;
        }
        generation.held++;
        this.startHeartbeat();
        return true;
      }
      const snapshot = outcome.snapshot ?? (await store.read());
      if (leaseMustExist && !snapshot.holders.has(generation.id)) {
        if (this.releasing > 0) return false;
        // This copy's lease was taken over: its permits are lost; try again as a new holder.
        if (this.generation === generation) {
          this.lost += generation.held;
          this.detach(generation);
        }
        continue;
      }
      // Refused when the count was zero, which it is not any more: the caller tries again.
      if ((snapshot.value ?? this.state.init) > 0) return false;
      if (!(await this.takeBackExpired(store, snapshot))) return false;
    }
  }

  /**
   * Records what this copy sees of the other holders; takes back the permits of those seen with
   * the same lease record for a whole lease. True if any came back.
   */
  private async takeBackExpired(store: SemaphoreStore, snapshot: SemaphoreSnapshot): Promise<boolean> {
    const now = performance.now();
    let tookBack = false;
    for (const holder of this.sightings.keys()) if (!snapshot.holders.has(holder)) this.sightings.delete(holder);
    for (const [holder, record] of snapshot.holders) {
      if (holder === this.generation?.id) continue;
      const seen = this.sightings.get(holder);
      if (!seen || seen.lease !== record.lease || seen.count !== record.count) {
        this.sightings.set(holder, { ...record, since: now });
        continue;
      }
      const lease = Number(record.lease.split(':')[1]) || this.state.leaseMs;
      if (now - seen.since < lease) continue;
      const value = snapshot.value ?? this.state.init;
      const add = this.maxValue === undefined ? record.count : Math.max(0, Math.min(record.count, this.maxValue - value));
      if (await store.reclaim(holder, record, add, this.maxValue === undefined ? undefined : value)) {
        tookBack ||= add > 0;
      }
      this.sightings.delete(holder);
    }
    return tookBack;
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.beat(), heartbeatInterval(this.state.leaseMs));
    // A held permit never keeps the process alive (nor a Lambda's invocation).
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    const generation = this.generation;
    if (!generation || (generation.held === 0 && this.acquiring === 0)) {
      this.stopHeartbeat();
      return;
    }
    try {
      const renewed = await (await this.store()).renew(generation.id, this.newLease());
      // A release in flight may have deleted the record; only a takeover loses the permits.
      if (!renewed && this.generation === generation && generation.held > 0 && this.releasing === 0) {
        this.lost += generation.held;
        this.detach(generation);
      }
    } catch {
      this.heartbeatErrors++;
    }
  }

  private detach(generation: Generation): void {
    generation.held = 0;
    if (this.generation === generation) this.generation = undefined;
    if (!this.generation) this.stopHeartbeat();
  }

  private restore(generation: Generation, own: number): void {
    if (this.generation === undefined) this.generation = generation;
    if (this.generation === generation) {
      generation.held += own;
      this.startHeartbeat();
    }
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** A new lease record: a random version and the lease length waiters must wait it out for. */
  private newLease(): string {
    return `${randomUUID().slice(0, 8)}:${this.state.leaseMs}`;
  }

  private leaseLost(permits: number): SemaphoreLeaseLostError {
    return new SemaphoreLeaseLostError(
      `${this.maxValue === undefined ? 'Semaphore' : 'BoundedSemaphore'}.release(): ${permits} permit(s) of this holder went ` +
        `unrenewed for a whole lease (${this.state.leaseMs} ms) and were taken back by a waiter; nothing was added.`,
      { permits, leaseMs: this.state.leaseMs },
    );
  }

  private store(): Promise<SemaphoreStore> {
    this.storePromise ??= Promise.all([this.awsBackend.session(), import('./SemaphoreStore.js')]).then(
      ([session, module]) => new module.SemaphoreStore(session, this.state.id),
    );
    return this.storePromise;
  }
}
