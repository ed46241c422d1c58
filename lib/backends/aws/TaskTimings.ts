import { median } from '../../util/median.js';

/** Samples kept per task (and for the overheads): recent enough to follow a change of speed. */
const SAMPLES = 8;
/** Estimates are this much above the slowest recent item: item times vary. */
const SAFETY = 1.25;

/**
 * How fast tasks run on this worker, measured per task name, for planning chunks against an
 * invocation's deadline: a chunk's estimate is the slowest of the task's recent per-item times
 * (with a margin) times its item count, plus the usual cost of handing a chunk to a thread and of
 * recording its results. The slowest recent item rather than an average: starting a chunk that
 * cannot finish costs a stopped thread and a redelivery, returning one that could have costs
 * only a redelivery. A chunk stopped unfinished leaves a lower bound, which counts as a sample.
 *
 * @example
 * ```ts
 * const timings = new TaskTimings();
 * timings.ran('square', 100, 50, 53); // 100 items: 50 ms in the task, 53 ms on the thread
 * timings.estimate('square', 200);     // ≈ 125 ms (+ overheads); undefined for a task never seen
 * ```
 */
export class TaskTimings {
  private readonly perItem = new Map<string, number[]>();
  private readonly handOff: number[] = [];
  private readonly recording: number[] = [];

  /** A chunk of `count` items ran: `busyMs` inside the task, `wallMs` from hand-off to results. */
  ran(task: string, count: number, busyMs: number, wallMs: number): void {
    push(this.samplesOf(task), busyMs / Math.max(1, count));
    push(this.handOff, Math.max(0, wallMs - busyMs));
  }

  /** A chunk of `count` items was stopped unfinished after `elapsedMs`: its items take at least that. */
  stopped(task: string, count: number, elapsedMs: number): void {
    push(this.samplesOf(task), elapsedMs / Math.max(1, count));
  }

  /** Recording a chunk's results took `ms`. */
  recorded(ms: number): void {
    push(this.recording, ms);
  }

  /** Milliseconds a chunk of `count` items of `task` needs, results recorded; undefined if the task was never measured. */
  estimate(task: string, count: number): number | undefined {
    const samples = this.perItem.get(task);
    if (!samples) return undefined;
    return Math.max(...samples) * count * SAFETY + median(this.handOff) + median(this.recording);
  }

  private samplesOf(task: string): number[] {
    let samples = this.perItem.get(task);
    if (!samples) {
      samples = [];
      this.perItem.set(task, samples);
    }
    return samples;
  }
}

function push(samples: number[], value: number): void {
  samples.push(value);
  if (samples.length > SAMPLES) samples.shift();
}
