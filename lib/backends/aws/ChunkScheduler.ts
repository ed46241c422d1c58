/** The time an invocation gives its chunks (`performance.now()` milliseconds). */
export interface InvocationWindow {
  /** No chunk of the invocation runs past this: the deadline less a reserve for handing work back. */
  stopAt: number;
  /** From the invocation's start to `stopAt`: the most a chunk can ever get. */
  budgetMs: number;
  /**
   * A chunk estimated longer than the whole budget still gets one try if it starts before this
   * (it has then nearly all of the budget): it may be faster than its estimate, and if it is not,
   * that try shows it can never finish.
   */
  fullTryUntil: number;
}

/** A chunk delivery as the scheduler sees it. */
export interface ScheduledDelivery {
  /**
   * How often the chunk was received, over every copy of its message: deliveries handed back
   * before go first, so that none is handed back for ever.
   */
  readonly priority: number;
  /** Arrival order, among equal receive counts. */
  readonly sequence: number;
  readonly window: InvocationWindow;
}

/** What to do with a waiting chunk now: start it, keep it for a thread expected to free up in time, or hand it back. */
export type ChunkPlan = 'start' | 'wait' | 'return';

/**
 * How long a chunk starting at `at` would hold its thread, or undefined if it must not start
 * then: it would not finish before its invocation's `stopAt` by its estimate. A chunk of a task
 * never measured (no estimate) may start any time before `stopAt`; one estimated longer than the
 * whole budget gets its one try only at the start of an invocation.
 */
function runsFor(at: number, estimateMs: number | undefined, window: InvocationWindow): number | undefined {
  if (at >= window.stopAt) return undefined;
  if (estimateMs === undefined) return 0;
  if (at + estimateMs <= window.stopAt) return estimateMs;
  if (estimateMs > window.budgetMs && at <= window.fullTryUntil) return window.stopAt - at;
  return undefined;
}

/**
 * Plans one invocation's waiting chunks (in priority order) on `threads` threads: each goes to
 * the thread expected to free up first, and is handed back at once if it cannot finish there
 * before the invocation's `stopAt` — by its estimate, or because that thread frees up too late.
 *
 * @example
 * ```ts
 * const window = { stopAt: 2700, budgetMs: 2700, fullTryUntil: 270 };
 * planChunks(0, [], 1, [{ estimateMs: 1600, window }, { estimateMs: 1600, window }]); // ['start', 'return']
 * ```
 */
export function planChunks(
  now: number,
  runningEnds: readonly number[],
  threads: number,
  waiting: ReadonlyArray<{ estimateMs: number | undefined; window: InvocationWindow }>,
): ChunkPlan[] {
  // When each thread is expected to be free; a running chunk past its estimate may end any moment.
  const freeAt = runningEnds.map((end) => Math.max(end, now + Number.EPSILON));
  while (freeAt.length < threads) freeAt.push(now);
  return waiting.map(({ estimateMs, window }) => {
    let thread = 0;
    for (let i = 1; i < freeAt.length; i++) if (freeAt[i]! < freeAt[thread]!) thread = i;
    const at = freeAt[thread]!;
    const runs = runsFor(at, estimateMs, window);
    if (runs === undefined) return 'return';
    freeAt[thread] = at + runs;
    return at <= now ? 'start' : 'wait';
  });
}

/**
 * The worker's chunk scheduler, shared by every invocation of one processor (a Lambda runs one
 * at a time, the local fleet several): at most `threads` chunks run at once; the others wait in
 * priority order (chunks received more often first). Whenever a chunk arrives or a thread frees
 * up, each invocation's waiting chunks are planned with {@link planChunks} as if it had the
 * threads to itself — as a Lambda invocation does — and those that cannot finish in its time are
 * handed back at once, not at the deadline. (Planned against every invocation's chunks, a fleet
 * whose batches outnumber its threads would hand back each new batch at once, to be received
 * again at once.) Then free threads take the first waiting chunks that can still finish in time.
 *
 * @example
 * ```ts
 * const scheduler = new ChunkScheduler<Delivery>(2, (d) => timings.estimate(d.message.task.name, d.message.count), {
 *   start: (d) => void run(d),
 *   giveBack: (d) => handBack(d),
 * });
 * scheduler.add(deliveries);
 * scheduler.finished(delivery); // its thread is free
 * ```
 */
export class ChunkScheduler<D extends ScheduledDelivery> {
  private waiting: D[] = [];
  /** Running deliveries and when they are expected to end (undefined: not estimated). */
  private readonly running = new Map<D, number | undefined>();

  constructor(
    private readonly threads: number,
    private readonly estimate: (delivery: D) => number | undefined,
    private readonly hooks: { start(delivery: D): void; giveBack(delivery: D): void },
  ) {}

  /** Queues deliveries, and starts or hands back what can be decided now. */
  add(deliveries: readonly D[]): void {
    if (deliveries.length === 0) return;
    this.waiting.push(...deliveries);
    this.waiting.sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);
    this.plan();
  }

  /** Takes a delivery out of the waiting list (its invocation ends); false if it was not waiting. */
  remove(delivery: D): boolean {
    const index = this.waiting.indexOf(delivery);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** A running delivery's thread is free again. */
  finished(delivery: D): void {
    if (this.running.delete(delivery)) this.plan();
  }

  private plan(): void {
    const now = performance.now();
    const estimates = new Map(this.waiting.map((delivery) => [delivery, this.estimate(delivery)]));
    const handedBack = new Set<D>();
    for (const [window, waiting] of groupBy(this.waiting, (delivery) => delivery.window)) {
      const runningEnds: number[] = [];
      for (const [delivery, end] of this.running) if (delivery.window === window) runningEnds.push(end ?? now);
      const plans = planChunks(
        now,
        runningEnds,
        this.threads,
        waiting.map((delivery) => ({ estimateMs: estimates.get(delivery), window })),
      );
      plans.forEach((plan, i) => {
        if (plan === 'return') handedBack.add(waiting[i]!);
      });
    }
    const starting: D[] = [];
    for (const delivery of this.waiting) {
      if (handedBack.has(delivery) || this.running.size >= this.threads) continue;
      const estimate = estimates.get(delivery);
      const runs = runsFor(now, estimate, delivery.window);
      if (runs === undefined) handedBack.add(delivery);
      else {
        this.running.set(delivery, estimate === undefined ? undefined : now + runs);
        starting.push(delivery);
      }
    }
    this.waiting = this.waiting.filter((delivery) => !handedBack.has(delivery) && !this.running.has(delivery));
    // Hooks last: they may call back into the scheduler.
    for (const delivery of handedBack) this.hooks.giveBack(delivery);
    for (const delivery of starting) this.hooks.start(delivery);
  }
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
