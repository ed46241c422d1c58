/**
 * How long each task's items take, as measured by the workers: the pool sizes batches of calls
 * and `imap` chunks from it, so that a message carries a few milliseconds of work.
 *
 * @example
 * ```ts
 * speeds.record('square', 1000, 2.5);
 * speeds.perItemMs('square'); // 0.0025
 * ```
 */
export class TaskSpeeds {
  private readonly totals = new Map<string, { items: number; busyMs: number }>();

  record(taskName: string, items: number, busyMs: number): void {
    const total = this.totals.get(taskName);
    if (total) {
      total.items += items;
      total.busyMs += busyMs;
    } else {
      this.totals.set(taskName, { items, busyMs });
    }
  }

  /** Mean milliseconds per item, or undefined before the first measurement. */
  perItemMs(taskName: string): number | undefined {
    const total = this.totals.get(taskName);
    return total && total.items > 0 ? total.busyMs / total.items : undefined;
  }
}
