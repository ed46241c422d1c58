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
}
