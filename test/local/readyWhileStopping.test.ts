/**
 * A worker told to stop before the parent heard it say 'ready' keeps the program alive until it
 * has exited. The sequence (no load needed): the threads post 'ready' while the program's thread is
 * busy, the program stops the pool (terminate(), or close() once its work was cancelled), and only
 * then does the parent read the 'ready' messages. The 'ready' handler unreferenced a worker that
 * was ready with nothing to run, stopping or not, so the program, awaiting the exit of threads
 * that were still stopping, ended with code 13 (unsettled top-level await). Under load the same
 * happens by chance: the package bench's cold-start program (terminate() right after its first
 * map, while its second thread was starting) and joinAfterFailure.ts (close(); join() after its
 * failed imap ran both chunks on one thread while the other was starting). Here a pool
 * initializer tells the program when its threads have posted 'ready', so no load is needed.
 */
import { describe, expect, it } from 'vitest';
import { runProgram } from '../examples/runExample.js';

const program = 'test/fixtures/programs/readyWhileStopping.ts';

describe('a worker stopped before its ready message was read', () => {
  it('terminate() while the threads have posted ready: the program ends normally, not with code 13', async () => {
    const run = await runProgram(program, 60_000, { FANOUT_TEST_STOP: 'terminate' });
    expect(run).toEqual({ code: 0, stdout: 'map: PoolClosedError\nterminate: joined\n', stderr: '' });
  }, 90_000);

  it('close(); join() with cancelled work while the threads have posted ready: join() resolves, not code 13', async () => {
    const run = await runProgram(program, 60_000, { FANOUT_TEST_STOP: 'close' });
    expect(run).toEqual({ code: 0, stdout: 'map: AbortError\nclose: joined\n', stderr: '' });
  }, 90_000);
});
