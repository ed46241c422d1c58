/**
 * Python parity of Process: a process ends once its target has returned and its event loop has
 * drained (Node's analogue of a Python process waiting for its non-daemon threads), and
 * `process.exit(n)` still ends it at once.
 */
import { describe, expect, it } from 'vitest';
import { Empty, Process, Queue } from 'fanout';
import { exitsLeavingTimer, leavesPromiseChain, leavesTimer, throwsLeavingTimer } from '../../fixtures/parityTasks.js';

async function run(process: Process<never[]>): Promise<number | null> {
  process.start();
  await process.join();
  return process.exitCode;
}

describe('a process ends when its target has returned and its event loop has drained', () => {
  it('a timer the target left running keeps the process alive until it has fired; exitCode 0', async () => {
    const out = new Queue<string>();
    const p = new Process({ target: leavesTimer, args: [out, 200] });
    expect(await run(p as never)).toBe(0);
    expect(await out.getNowait()).toBe('timer fired');
  });

  it('pending promise work the target left keeps the process alive until it ends; exitCode 0', async () => {
    const out = new Queue<number>();
    const p = new Process({ target: leavesPromiseChain, args: [out, 20] });
    expect(await run(p as never)).toBe(0);
    expect(await out.getNowait()).toBe(20);
  });

  it('a target that throws: its timer still fires, and exitCode is 1', async () => {
    const out = new Queue<string>();
    const p = new Process({ target: throwsLeavingTimer, args: [out, 100] });
    expect(await run(p as never)).toBe(1);
    expect(await out.getNowait()).toBe('timer fired');
  });

  it('a target that calls process.exit(n) ends at once with n, its pending timer never fires', async () => {
    const out = new Queue<string>();
    const p = new Process({ target: exitsLeavingTimer, args: [out, 4] });
    expect(await run(p as never)).toBe(4);
    await expect(out.getNowait()).rejects.toBeInstanceOf(Empty);
  });
});
