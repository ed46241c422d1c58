import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('seed example: shared memory', () => {
  it('a process sets num to 3.1415927 and negates the array; the parent prints both', async () => {
    const run = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      execFile(
        `${root}node_modules/.bin/tsx`,
        ['examples/shared-memory.ts'],
        { cwd: root, timeout: 90_000, env: { ...process.env, FANOUT_BACKEND: '' } },
        (error, stdout, stderr) =>
          resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : null) : 0 }),
      );
    });
    expect(run).toEqual({ code: 0, stdout: '3.1415927\n[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]\n', stderr: '' });
  }, 120_000);
});
