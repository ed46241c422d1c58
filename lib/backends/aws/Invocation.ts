import type { SQSRecord } from 'aws-lambda';
import type { JobChunkMessage } from '../../codec/protocol.js';
import type { InvocationWindow, ScheduledDelivery } from './ChunkScheduler.js';

/**
 * Time kept at the end of an invocation to stop its chunks, finish recording, hand work back
 * and answer: 10% of it, 500 ms to 3 s (a few requests, at emulator speed too).
 */
const RESERVE_SHARE = 0.1;
const MIN_RESERVE_MS = 500;
const MAX_RESERVE_MS = 3000;
/** Of the reserve, the share recordings in flight at the stop time may still take. */
const RECORDING_SHARE = 0.7;
/** A chunk started before this share of the budget has passed had, in effect, the whole invocation. */
const FULL_TRY_SHARE = 0.1;

/** The part of a Lambda context the worker reads. */
export interface DeadlineContext {
  getRemainingTimeInMillis?: () => number;
}

/** One received chunk message on its way through the worker. */
export interface Delivery extends ScheduledDelivery {
  readonly record: SQSRecord;
  readonly message: JobChunkMessage;
  readonly payload: Uint8Array;
  readonly invocation: Invocation;
  /** SQS's receive count of this message (a fresh copy starts again at 1). */
  readonly receiveCount: number;
  state: 'waiting' | 'running' | 'recording' | 'settled';
  /** When its chunk started (after its payload was fetched: `performance.now()`). */
  startedAt?: number;
  /** Stops its running chunk (its thread); set while the chunk runs. */
  abandon?: (() => void) | undefined;
  /** The invocation's deadline has passed: do not start, stop if running. */
  stopping: boolean;
  /** Resolves to whether the message is done with (to be deleted), or handed back for redelivery. */
  readonly done: Promise<boolean>;
  /** Settles `done`, once: later calls are ignored. */
  settle(done: boolean | Promise<boolean>): void;
}

/**
 * One invocation of the handler: the time it has, read from the Lambda context when it starts
 * (`getRemainingTimeInMillis`, which counts down in real time), and its timers: at `stopAt`
 * (the deadline less a reserve) its chunks are stopped and handed back; 70% into the reserve it
 * stops waiting for recordings still in flight. Without a context (or a context
 * without a clock) it has all the time in the world.
 *
 * @example
 * ```ts
 * const invocation = new Invocation(context);
 * invocation.watch(() => stopChunks(), () => giveUp());
 * // ... later
 * invocation.end();
 * ```
 */
export class Invocation {
  readonly startedAt = performance.now();
  /** When Lambda would end the invocation (Infinity without a clock). */
  readonly deadlineAt: number;
  readonly window: InvocationWindow;
  readonly deliveries: Delivery[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(context?: DeadlineContext) {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
    const remainingMs = Number.isFinite(remaining) && remaining >= 0 ? remaining : Infinity;
    this.deadlineAt = this.startedAt + remainingMs;
    const reserve = Number.isFinite(remainingMs)
      ? Math.min(MAX_RESERVE_MS, Math.max(MIN_RESERVE_MS, remainingMs * RESERVE_SHARE))
      : 0;
    const stopAt = this.deadlineAt - reserve;
    const budgetMs = Math.max(0, stopAt - this.startedAt);
    this.window = { stopAt, budgetMs, fullTryUntil: this.startedAt + budgetMs * FULL_TRY_SHARE };
  }

  /** The time kept after `stopAt`, in milliseconds. */
  get reserveMs(): number {
    return this.deadlineAt - this.window.stopAt;
  }

  /**
   * Calls `onStop` at `stopAt`, and `onGiveUp` when recordings still in flight must be given up
   * (70% into the reserve: the rest is for handing their messages back and answering).
   */
  watch(onStop: () => void, onGiveUp: () => void): void {
    if (!Number.isFinite(this.deadlineAt)) return;
    const now = performance.now();
    this.timers.push(setTimeout(onStop, Math.max(0, this.window.stopAt - now)));
    this.timers.push(setTimeout(onGiveUp, Math.max(0, this.window.stopAt + this.reserveMs * RECORDING_SHARE - now)));
  }

  /** Clears the timers (the invocation answered). */
  end(): void {
    for (const timer of this.timers.splice(0)) clearTimeout(timer);
  }
}
