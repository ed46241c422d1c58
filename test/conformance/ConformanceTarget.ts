import { afterAll, beforeAll } from 'vitest';
import type { Context } from 'fanout';

/**
 * How a conformance suite gets the context under test: the same suites (Pool, sync, process and
 * queues) run unchanged on every backend, each with its own setup (emulators, a worker fleet).
 */
export interface ConformanceTarget {
  /** The context whose classes are tested. Called once, after `setup`. */
  context: () => Context;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  /**
   * The size a stress test runs at on this target, from its size on the local backend: a lock in
   * a network store takes milliseconds, not nanoseconds, so the same assertions run on fewer
   * operations there. @default the local size
   */
  scale?: (localCount: number) => number;
  /**
   * How long `terminate()` may take to reach a running process on this target: a remote worker
   * reads stop requests by polling. Tests that race a stop against a process's own progress give
   * the process this much more to do. @default 0
   */
  stopLatencyMs?: number;
}

/**
 * Sets the target up before a suite's tests and tears it down after, handing its context to
 * `receive`; returns the target's size for a stress test of `localCount` operations locally.
 *
 * @example
 * ```ts
 * let mp: Context;
 * const n = useTarget(target, (context) => (mp = context));
 * ```
 */
export function useTarget(target: ConformanceTarget, receive: (context: Context) => void): (localCount: number) => number {
  beforeAll(async () => {
    await target.setup?.();
    receive(target.context());
  });
  afterAll(async () => {
    await target.teardown?.();
  });
  return (localCount) => target.scale?.(localCount) ?? localCount;
}
