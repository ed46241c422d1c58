import { describe, expect, it } from 'vitest';
import { runProgram } from '../examples/runExample.js';

describe('process lifetime', () => {
  it('a program that never closes its pool still exits once its work is done (idle workers do not keep it alive)', async () => {
    // With workers that kept the event loop alive, the program would hang until the timeout.
    const run = await runProgram('test/fixtures/unclosedPool.ts', 60_000);
    expect(run).toEqual({ code: 0, stdout: '[ 1, 4, 9 ]\n', stderr: '' });
  }, 90_000);
});
