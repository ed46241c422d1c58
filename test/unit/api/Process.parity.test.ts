/**
 * Python parity of Process: a process ends once its target has returned and its event loop has
 * drained (Node's analogue of a Python process waiting for its non-daemon threads), and
 * `process.exit(n)` still ends it at once.
 */
import { describe, expect, it } from 'vitest';
import { Empty, Process, ProcessError, Queue, ValueError } from 'fanout';
import { noop, sleeps } from '../../fixtures/processTasks.js';
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

describe('close()', () => {
  it('raises ValueError while the process runs; afterwards the object refuses everything with ValueError', async () => {
    const p = new Process({ target: sleeps, args: [60_000], name: 'sleeper' });
    p.start();
    expect(() => p.close()).toThrow(ValueError);
    expect(() => p.close()).toThrow(/still running/);
    expect(p.isAlive()).toBe(true);
    p.terminate();
    await p.join();
    p.close();
    p.close();
    expect(() => p.isAlive()).toThrow(ValueError);
    await expect(p.join()).rejects.toThrow(ValueError);
    expect(() => p.terminate()).toThrow(ValueError);
    expect(() => p.kill()).toThrow(ValueError);
    expect(() => p.start()).toThrow(/is closed/);
    expect(() => p.exitCode).toThrow(ValueError);
    expect(() => p.pid).toThrow(ValueError);
    expect(p.name).toBe('sleeper');
    expect(String(p)).toBe("<Process name='sleeper' closed>");
  });

  it('a process that never started can be closed, and then not started', () => {
    const p = new Process({ target: noop });
    p.close();
    expect(() => p.start()).toThrow(ValueError);
    expect(() => p.start()).not.toThrow(ProcessError);
  });

  it('after a process that ended by itself', async () => {
    const p = new Process({ target: noop });
    p.start();
    await p.join();
    expect(p.exitCode).toBe(0);
    p.close();
    expect(() => p.exitCode).toThrow(/is closed/);
  });
});
