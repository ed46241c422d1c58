import type { Deadline } from '../../backend/Deadline.js';
import type { BarrierEngine } from '../../backend/SyncEngines.js';
import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import { BrokenBarrierError, ProtocolError } from '../../errors.js';
import type { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import { AwsObjectRef, type AwsObjectState } from './AwsObjectRef.js';
import type { BarrierState, BarrierStore } from './BarrierStore.js';
import { PollBackoff } from './PollBackoff.js';

const KIND = 'aws.barrier';

/** The handle state of an aws barrier. */
export interface AwsBarrierState extends AwsObjectState {
  parties: number;
}

/**
 * A barrier in the DynamoDB table (aws backend), shared by every program and worker of the
 * stack, with Python's `threading.Barrier` semantics. One item holds the generation, the count
 * of arrivals and a broken flag. An arrival is one conditional UpdateItem (`ADD` to the count,
 * refused when the barrier is broken or full) whose new count gives the arrival index; the last
 * party runs the action and bumps the generation, which releases the others: they poll the item
 * with a back-off from 20 ms to 1 s. A wait whose deadline passes breaks the generation for all,
 * with a write conditioned on that generation, so that it cannot break a later round.
 *
 * @example
 * ```ts
 * const barrier = AwsBarrier.create(new AwsBackend({ config }), 2);
 * const index = await barrier.wait(Deadline.after(10_000), undefined); // 0 or 1
 * ```
 */
export class AwsBarrier implements BarrierEngine {
  readonly backend = 'aws' as const;

  private constructor(
    private readonly ref: AwsObjectRef<BarrierStore>,
    readonly parties: number,
  ) {}

  /** A new barrier for `parties` parties (checked by the public class), of `backend`'s resources. Makes no request. */
  static create(backend: AwsBackend, parties: number, config?: AwsConfig): AwsBarrier {
    return new AwsBarrier(AwsObjectRef.create(backend, config), parties);
  }

  /**
   * The barrier a handle names, bound to this thread's backend for its resources (or to
   * `backend`: another connection to the same resources, as another machine has).
   */
  static fromHandle(state: unknown, backend?: AwsBackend): AwsBarrier {
    const parties = (state as Partial<AwsBarrierState> | null)?.parties;
    if (typeof parties !== 'number' || !Number.isInteger(parties) || parties < 1) {
      throw new ProtocolError(`An '${KIND}' handle arrived without its number of parties (state: ${JSON.stringify(state)}).`);
    }
    return new AwsBarrier(AwsObjectRef.fromState(KIND, state, backend), parties);
  }

  /** The barrier's id in the table. */
  get id(): string {
    return this.ref.id;
  }

  handle(): HandleDescriptor {
    const state: AwsBarrierState = { ...this.ref.state(KIND), parties: this.parties };
    return { kind: KIND, state };
  }

  async wait(deadline: Deadline, action: (() => unknown) | undefined): Promise<number> {
    const store = await this.store();
    const backoff = new PollBackoff(deadline);
    const arrival = await this.arrive(store, backoff);
    const index = arrival.count - 1;
    if (arrival.count === this.parties) {
      await this.releaseParties(store, arrival.generation, action);
      return index;
    }
    for (;;) {
      const outcome = this.outcome(await store.read(this.id), arrival.generation);
      if (outcome === 'released') return index;
      if (outcome === 'broken')
        throw new BrokenBarrierError('The barrier was broken (aborted, reset, or a party timed out) while waiting.');
      if (!(await backoff.pause())) break;
    }
    if (await store.breakGeneration(this.id, arrival.generation)) throw this.timedOut();
    // The generation ended as the deadline passed: released just in time, or broken by someone else.
    if (this.outcome(await store.read(this.id), arrival.generation) === 'released') return index;
    throw new BrokenBarrierError('The barrier was broken (aborted, reset, or a party timed out) while waiting.');
  }

  async reset(): Promise<void> {
    const store = await this.store();
    for (;;) {
      const state = await store.read(this.id);
      // An empty, unbroken barrier is already what a reset makes it.
      if (!state || (state.count === 0 && !state.broken)) return;
      if (await store.reset(this.id, state.generation)) return;
    }
  }

  async abort(): Promise<void> {
    await (await this.store()).abort(this.id);
  }

  async nWaiting(): Promise<number> {
    const state = await (await this.store()).read(this.id);
    return !state || state.broken ? 0 : state.count;
  }

  async broken(): Promise<boolean> {
    return (await (await this.store()).read(this.id))?.broken === true;
  }

  /**
   * Counts this party in; while the round is full (its last party is releasing it) waits for the
   * next one. A broken barrier refuses at once; a deadline that passes breaks the barrier.
   */
  private async arrive(store: BarrierStore, backoff: PollBackoff): Promise<{ generation: number; count: number }> {
    for (;;) {
      const arrival = await store.arrive(this.id, this.parties);
      if (arrival) return arrival;
      const state = await store.read(this.id);
      if (state?.broken) throw new BrokenBarrierError('The barrier is broken: call reset() before using it again.');
      // Released between the refusal and the read: the next round has room now.
      if (state && state.count < this.parties) continue;
      if (!(await backoff.pause())) {
        if (state) await store.breakGeneration(this.id, state.generation);
        throw new BrokenBarrierError(
          `The barrier timed out waiting for its previous round of ${this.parties} parties to be released, and is now broken.`,
        );
      }
    }
  }

  /** The last party: runs the action, then releases the generation; a failing action breaks it. */
  private async releaseParties(store: BarrierStore, generation: number, action: (() => unknown) | undefined): Promise<void> {
    try {
      if (action) await action();
    } catch (error) {
      await store.breakGeneration(this.id, generation);
      throw error;
    }
    if (!(await store.release(this.id, generation, this.parties))) {
      throw new BrokenBarrierError(
        'The barrier was broken (aborted, reset, or a party timed out) before its last party could release it.',
      );
    }
  }

  /** How `generation` stands in `state`: still waiting, released, or broken (or reset). */
  private outcome(state: BarrierState | undefined, generation: number): 'waiting' | 'released' | 'broken' {
    if (!state) return 'broken';
    if (state.generation === generation) return state.broken ? 'broken' : 'waiting';
    // Ended: by a reset if its marker says so (markers reach back BarrierStore's RESET_MEMORY generations).
    return state.resets.has(generation) ? 'broken' : 'released';
  }

  private timedOut(): BrokenBarrierError {
    return new BrokenBarrierError(`The barrier timed out waiting for all ${this.parties} parties, and is now broken.`);
  }

  private store(): Promise<BarrierStore> {
    return this.ref.store(async (session) => new (await import('./BarrierStore.js')).BarrierStore(session));
  }
}
