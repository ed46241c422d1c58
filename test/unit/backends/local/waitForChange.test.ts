import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../../../lib/backend/Deadline.js';
import { pendingWaits, waitForChange } from '../../../../lib/backends/local/waitForChange.js';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

describe('waitForChange', () => {
  it('returns at once when the value already differs, and after the timeout otherwise', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    await waitForChange(words, 0, 1, Deadline.never);
    await waitForChange(words, 0, 0, Deadline.after(10));
    await waitForChange(words, 0, 0, Deadline.never, 10);
    expect(pendingWaits()).toBe(0);
  });

  it('wakes on notify, and counts pending waits while they last', async () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    const waiting = waitForChange(words, 0, 0, Deadline.never);
    expect(pendingWaits()).toBe(1);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await waiting;
    expect(pendingWaits()).toBe(0);
  });

  it('deadlines: none for undefined, never negative time left, and a negative timeout counts as zero', () => {
    expect(Deadline.after(undefined)).toBe(Deadline.never);
    expect(Deadline.never.remaining()).toBe(Infinity);
    expect(Deadline.never.expired()).toBe(false);
    expect(Deadline.after(-10).remaining()).toBe(0);
    expect(Deadline.after(-10).expired()).toBe(true);
    expect(Deadline.after(-10).timeoutMs).toBe(0);
    expect(Deadline.now().expired()).toBe(true);
    expect(Deadline.after(60_000).expired()).toBe(false);
    expect(Deadline.after(60_000).min(Deadline.after(10)).timeoutMs).toBe(10);
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
