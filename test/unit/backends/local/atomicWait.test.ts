import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deadlineOf, pendingWaits, remaining, waitForChange } from '../../../../lib/backends/local/atomicWait.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

describe('atomicWait', () => {
  it('returns at once when the value already differs, and after the timeout otherwise', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    await waitForChange(words, 0, 1, Infinity);
    await waitForChange(words, 0, 0, 10);
    expect(pendingWaits()).toBe(0);
  });

  it('wakes on notify, and counts pending waits while they last', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    const waiting = waitForChange(words, 0, 0, Infinity);
    expect(pendingWaits()).toBe(1);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await waiting;
    expect(pendingWaits()).toBe(0);
  });

  it('deadlines: none for undefined, and never negative time left', () => {
    expect(deadlineOf(undefined)).toBe(Infinity);
    expect(remaining(Infinity)).toBe(Infinity);
    expect(remaining(performance.now() - 10)).toBe(0);
  });

  it('keeps a program alive while it waits (a pending waitAsync alone would not)', async () => {
    const output = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      execFile(
        `${root}node_modules/.bin/tsx`,
        ['test/fixtures/waitInChild.ts'],
        { cwd: root, timeout: 90_000, env: { ...process.env, FANOUT_BACKEND: '' } },
        (error, stdout) => resolve({ stdout, code: error ? (typeof error.code === 'number' ? error.code : null) : 0 }),
      );
    });
    expect(output).toEqual({ stdout: '{"waited":false,"acquired":false}\n', code: 0 });
  }, 120_000);
});
