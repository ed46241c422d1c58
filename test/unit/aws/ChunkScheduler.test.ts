import { describe, expect, it } from 'vitest';
import { ChunkScheduler, planChunks, type InvocationWindow } from '../../../lib/backends/aws/ChunkScheduler.js';
import { TaskTimings } from '../../../lib/backends/aws/TaskTimings.js';

/** An invocation that started at 0 with `budgetMs` for its chunks. */
function window(budgetMs: number): InvocationWindow {
  return { stopAt: budgetMs, budgetMs, fullTryUntil: budgetMs * 0.1 };
}

describe('planChunks', () => {
  it('starts what fits on the free threads, keeps what fits later, and hands back what cannot finish', () => {
    const w = window(2700);
    // One thread, chunks of 1.6 s: the first starts, the second would end at 3.2 s.
    expect(
      planChunks(0, [], 1, [
        { estimateMs: 1600, window: w },
        { estimateMs: 1600, window: w },
      ]),
    ).toEqual(['start', 'return']);
    // Two threads: both start; a third fits after the first 1 s chunk.
    expect(
      planChunks(0, [], 2, [
        { estimateMs: 1000, window: w },
        { estimateMs: 1600, window: w },
        { estimateMs: 1500, window: w },
        { estimateMs: 1500, window: w },
      ]),
    ).toEqual(['start', 'start', 'wait', 'return']);
  });

  it('counts the threads busy with running chunks, and skips a long chunk for a shorter one that fits', () => {
    const w = window(2700);
    expect(
      planChunks(1000, [2000], 1, [
        { estimateMs: 1000, window: w },
        { estimateMs: 500, window: w },
      ]),
    ).toEqual(['return', 'wait']);
  });

  it('starts a chunk of a task never measured whenever a thread is free before the stop time', () => {
    const w = window(2700);
    expect(planChunks(2600, [], 1, [{ estimateMs: undefined, window: w }])).toEqual(['start']);
    expect(planChunks(2700, [], 1, [{ estimateMs: undefined, window: w }])).toEqual(['return']);
  });

  it('gives a chunk estimated longer than the whole budget one try, at the start of an invocation only', () => {
    const w = window(2700);
    expect(planChunks(100, [], 1, [{ estimateMs: 10_000, window: w }])).toEqual(['start']);
    expect(planChunks(1000, [], 1, [{ estimateMs: 10_000, window: w }])).toEqual(['return']);
    // Estimated within the budget but not in the time left: handed back for a fresh invocation.
    expect(planChunks(100, [], 1, [{ estimateMs: 2650, window: w }])).toEqual(['return']);
  });

  it('plans without a deadline as a plain queue', () => {
    const w = { stopAt: Infinity, budgetMs: Infinity, fullTryUntil: Infinity };
    expect(
      planChunks(0, [5], 1, [
        { estimateMs: 1e9, window: w },
        { estimateMs: undefined, window: w },
      ]),
    ).toEqual(['wait', 'wait']);
  });
});

describe('ChunkScheduler', () => {
  it('runs at most `threads` at once, chunks received more often first, and hands back the hopeless at once', () => {
    const started: string[] = [];
    const handedBack: string[] = [];
    const far = { stopAt: Infinity, budgetMs: Infinity, fullTryUntil: Infinity };
    type D = { id: string; priority: number; sequence: number; window: InvocationWindow; estimate?: number };
    const scheduler = new ChunkScheduler<D>(2, (d) => d.estimate, {
      start: (d) => started.push(d.id),
      giveBack: (d) => handedBack.push(d.id),
    });
    const a: D = { id: 'a', priority: 1, sequence: 0, window: far };
    const b: D = { id: 'b', priority: 1, sequence: 1, window: far };
    const c: D = { id: 'c', priority: 3, sequence: 2, window: far };
    const d: D = { id: 'd', priority: 1, sequence: 3, window: { stopAt: 0, budgetMs: 0, fullTryUntil: 0 } };
    scheduler.add([a, b, c, d]);
    expect(started).toEqual(['c', 'a']);
    expect(handedBack).toEqual(['d']);
    expect(scheduler.remove(d)).toBe(false);
    scheduler.finished(c);
    expect(started).toEqual(['c', 'a', 'b']);
  });
});

describe('ChunkScheduler with several invocations (the local fleet)', () => {
  it('plans each invocation as if it had the threads to itself: a batch behind another is not handed back at once', () => {
    const started: string[] = [];
    const handedBack: string[] = [];
    type D = { id: string; priority: number; sequence: number; window: InvocationWindow };
    const scheduler = new ChunkScheduler<D>(1, () => 1000, {
      start: (d) => started.push(d.id),
      giveBack: (d) => handedBack.push(d.id),
    });
    const now = performance.now();
    const first = { stopAt: now + 2500, budgetMs: 2500, fullTryUntil: now + 250 };
    const second = { stopAt: now + 2500, budgetMs: 2500, fullTryUntil: now + 250 };
    scheduler.add([{ id: 'a1', priority: 1, sequence: 0, window: first }]);
    // Alone, the second invocation's two chunks fit its 2.5 s; its third does not.
    scheduler.add([
      { id: 'b1', priority: 1, sequence: 1, window: second },
      { id: 'b2', priority: 1, sequence: 2, window: second },
      { id: 'b3', priority: 1, sequence: 3, window: second },
    ]);
    expect(started).toEqual(['a1']);
    expect(handedBack).toEqual(['b3']);
  });
});

describe('TaskTimings', () => {
  it('estimates from the slowest recent item with a margin, plus the usual hand-off and recording', () => {
    const timings = new TaskTimings();
    expect(timings.estimate('t', 10)).toBeUndefined();
    timings.ran('t', 10, 100, 105); // 10 ms an item, 5 ms hand-off
    timings.ran('t', 10, 200, 202); // 20 ms an item
    timings.recorded(8);
    // 20 ms × 10 × 1.25 + the median hand-off (5 of [5, 2]) + 8 ms recording.
    expect(timings.estimate('t', 10)).toBe(250 + 5 + 8);
    // A chunk stopped unfinished: its items take at least 1 s each.
    timings.stopped('t', 2, 2000);
    expect(timings.estimate('t', 1)).toBe(1250 + 5 + 8);
  });
});
