import { describe, expect, it } from 'vitest';
import { runProgram } from '../examples/runExample.js';

describe('pool join after a failed task', () => {
  it('close() then join() resolves after a failed apply, map, imap or unsendable result, with nothing else pending', async () => {
    // Before the fix the program ended with code 13 (an unsettled top-level await) after the
    // first failure: the stopped worker was unreferenced before its exit was seen.
    const run = await runProgram('test/fixtures/programs/joinAfterFailure.ts', 60_000);
    expect(run).toEqual({
      code: 0,
      stdout: [
        'apply: RemoteError',
        'apply: joined',
        'map: RemoteError',
        'map: joined',
        'imap: RemoteError',
        'imap: joined',
        'result that cannot cross: SerializationError',
        'result that cannot cross: joined',
        '',
      ].join('\n'),
      stderr: '',
    });
  }, 90_000);
});
