import { describe, expect, it } from 'vitest';
import { WorkerCrashedError } from 'fanout';
import type { Chunk } from '../../../../lib/backend/PoolEngine.js';
import { ChunkEncoder } from '../../../../lib/api/ChunkEncoder.js';
import { LocalPoolEngine } from '../../../../lib/backends/local/LocalPoolEngine.js';

/** A one-call chunk of task `square` whose failure is recorded in `failures`. */
function chunk(failures: Error[]): Chunk {
  const encoder = new ChunkEncoder(true, 'local');
  encoder.add([2], 'the arguments');
  return {
    task: { name: 'square' },
    spread: true,
    count: 1,
    ...encoder.take(),
    base: 0,
    taskCount: 1,
    sink: {
      onResults: () => failures.push(new Error('the chunk was not expected to run')),
      onFailed: (_from, _to, error) => failures.push(error),
    },
    control: { cancelled: false, interrupt: false },
  };
}

describe('LocalPoolEngine', () => {
  it('fails the work with WorkerCrashedError, instead of throwing, when no worker thread can be made', async () => {
    // `new Worker` throws synchronously for a script it cannot run (here a non-file URL), as it
    // does when the system refuses a thread (EAGAIN); submit() must not throw into the caller.
    const engine = new LocalPoolEngine({ processes: 2, taskModules: [] }, new URL('http://127.0.0.1:9/worker.mjs'));
    const failures: Error[] = [];
    expect(() => engine.submit(chunk(failures))).not.toThrow();
    expect(failures).toHaveLength(1);
    const error = failures[0] as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toMatch(
      /^Cannot start a worker thread: TypeError: The URL must be of scheme file\. The pool gave up\.$/,
    );
    expect((error.cause as { code?: string }).code).toBe('ERR_INVALID_URL_SCHEME');
    // Later work fails the same way at once, and the engine still joins.
    engine.submit(chunk(failures));
    expect(failures[1]).toBe(error);
    engine.close();
    await engine.join();
  });
});
