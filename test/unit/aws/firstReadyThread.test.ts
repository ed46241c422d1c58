import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Chunk } from '../../../lib/backend/PoolEngine.js';
import { ChunkEncoder } from '../../../lib/api/ChunkEncoder.js';
import { LocalPoolEngine } from '../../../lib/backends/local/LocalPoolEngine.js';

const taskModule = new URL('../../fixtures/slowStart.ts', import.meta.url).href;

/** A one-call chunk of `slowStart.whichThread` that resolves to the id of the thread it ran on. */
function whichThread(): { chunk: Chunk; ranOn: Promise<number> } {
  const encoder = new ChunkEncoder(true, 'local');
  encoder.add([], 'the arguments');
  let resolve!: (id: number) => void;
  let reject!: (error: Error) => void;
  const ranOn = new Promise<number>((ok, fail) => ((resolve = ok), (reject = fail)));
  const chunk: Chunk = {
    task: { name: 'slowStart.whichThread', module: taskModule },
    spread: true,
    count: 1,
    ...encoder.take(),
    base: 0,
    taskCount: 1,
    sink: {
      onResults: (_from, values, errors) => (errors.size > 0 ? reject([...errors.values()][0]!) : resolve(values[0] as number)),
      onFailed: (_from, _to, error) => reject(error),
    },
    control: { cancelled: false, interrupt: false },
  };
  return { chunk, ranOn };
}

let release: (() => void) | undefined;
afterEach(() => release?.());

describe('a cold pool (the worker Lambda in its init phase)', () => {
  it('runs its first chunks on the first thread ready while another is still starting', async () => {
    // Two threads; whichever imports the task module first blocks its start until released.
    const dir = mkdtempSync(join(tmpdir(), 'fanout-slow-start-'));
    release = () => writeFileSync(join(dir, 'release'), '');
    process.env.FANOUT_TEST_SLOW_START_DIR = dir;
    const engine = new LocalPoolEngine({ processes: 2, taskModules: [taskModule] });
    try {
      // As the processor's warm-up and first chunks: submitted together, before any thread is up.
      const chunks = [whichThread(), whichThread(), whichThread()];
      for (const { chunk } of chunks) engine.submit(chunk);
      // All three finish on the ready thread while the other has not finished starting. (Before,
      // a chunk went to a thread as it was started, and waited for that very thread's start.)
      const ids = await Promise.all(chunks.map(({ ranOn }) => ranOn));
      expect(new Set(ids).size).toBe(1);
      expect(existsSync(join(dir, 'claimed'))).toBe(true);
      expect(existsSync(join(dir, 'release'))).toBe(false);
      expect(engine.stats().workersStarted).toBe(2);
    } finally {
      delete process.env.FANOUT_TEST_SLOW_START_DIR;
      release();
      engine.close();
      await engine.join();
    }
  }, 30_000);
});
