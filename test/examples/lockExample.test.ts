import { describe, expect, it } from 'vitest';
import { runProgram } from './runExample.js';

describe('seed example: Lock', () => {
  it('lock: ten processes each print one whole line while holding the lock', async () => {
    const run = await runProgram('examples/lock.ts');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.sort()).toEqual(Array.from({ length: 10 }, (_, num) => `hello world ${num}`).sort());
  }, 120_000);
});
