/**
 * Local-backend behaviour that has no equivalent on other backends: worker threads that die,
 * memory limits, worker recycling and module loading in threads.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, Pool, TaskModuleError, UnknownTaskError, WorkerCrashedError, InitializerError, type Task } from 'fanout';
import { exhaustMemory, exitWorker, squareOrExit, throwInTimer } from '../fixtures/crashTasks.js';
import { failingInitializer, square, whichWorker, sleep } from '../fixtures/tasks.js';
import { mainThreadOnly } from '../fixtures/workerOnlyMissing.js';
import { brokenModuleTask } from '../fixtures/brokenInWorker.js';

const pools: Pool[] = [];
function pool(options: ConstructorParameters<typeof Pool>[0]): Pool {
  const created = new Pool(options);
  pools.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.terminate()));
});

describe('a worker that dies mid-task', () => {
  it('process.exit fails the task with WorkerCrashedError naming it, and the pool goes on', async () => {
    const p = pool(2);
    const error = (await p.apply(exitWorker, [3]).catch((e: unknown) => e)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.code).toBe('ERR_WORKER_CRASHED');
    expect(error.taskName).toBe('exitWorker');
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/exited with code 3/);
    expect(await p.map(square, [1, 2, 3])).toEqual([1, 4, 9]);
  });

  it('an uncaught error in a timer fails the running task', async () => {
    const p = pool(1);
    const error = (await p.apply(throwInTimer).catch((e: unknown) => e)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain('thrown from a timer');
    expect(await p.apply(square, [4])).toBe(16);
  });

  it('running out of memory (resourceLimits) fails the task and replaces the worker', async () => {
    const p = pool({ processes: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
    const error = (await p.apply(exhaustMemory).catch((e: unknown) => e)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toMatch(/out of memory/);
    expect(await p.apply(square, [5])).toBe(25);
    expect(p.stats().workersStarted).toBe(2);
  });

  it('other calls batched with the crashing one still get their results', async () => {
    const p = pool(1);
    const before = [1, 2, 3].map((x) => p.applyAsync(square, [x]));
    const crash = p.applyAsync(exitWorker, [1]);
    const after = [4, 5, 6].map((x) => p.applyAsync(square, [x]));
    await expect(crash.get()).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await Promise.all([...before, ...after].map((r) => r.get()))).toEqual([1, 4, 9, 16, 25, 36]);
  });

  it('calls after the crashing one in the same batch run on the replacement worker', async () => {
    const p = pool(1);
    const inputs = Array.from({ length: 40 }, (_, i) => (i === 17 ? -1 : i));
    const results = inputs.map((x) => p.applyAsync(squareOrExit, [x]));
    const settled = await Promise.allSettled(results.map((r) => r.get()));
    expect(settled[17]).toMatchObject({ status: 'rejected', reason: expect.any(WorkerCrashedError) });
    expect((settled[17] as PromiseRejectedResult).reason.message).toMatch(/item \d+ of its chunk/);
    const values = settled.filter((_, i) => i !== 17).map((s) => (s as PromiseFulfilledResult<number>).value);
    expect(values).toEqual(inputs.filter((x) => x >= 0).map((x) => x * x));
  });

  it('a crash inside a map fails the map and leaves no stuck work', async () => {
    const p = pool(2);
    await expect(p.map(exitWorker as unknown as Task<[number], never>, [0, 0, 0])).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await p.map(square, [7])).toEqual([49]);
  });
});

describe('workers that die before they are ready', () => {
  it('a heap limit too small to start a worker is named as the cause', async () => {
    // Node 20 cannot start even an empty worker in 3 MB (it raises anything under 2 MB to 2).
    const p = pool({ processes: 1, resourceLimits: { maxOldGenerationSizeMb: 3 } });
    const error = (await p.apply(square, [2]).catch((e: unknown) => e)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toMatch(
      /^resourceLimits\.maxOldGenerationSizeMb = 3 is too small for a worker to start: 3 workers in a row died before they were ready; the first: it ran out of memory \(.+\)\. Raise resourceLimits\.maxOldGenerationSizeMb, or leave it unset\./,
    );
    expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    expect(error.message).toContain((error.cause as Error).message);
    // The pool stays broken with the same error rather than retrying for ever.
    await expect(p.apply(square, [3])).rejects.toBe(error);
  });

  it("the pool's error carries the first worker's own error, as cause and in its message", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-startup-')), 'attempts');
    process.env.FANOUT_TEST_STARTUP_LOG = log;
    try {
      const p = pool({ processes: 1, tasks: ['test/fixtures/dyingAtStartup.ts'] });
      const error = (await p.apply(square, [2]).catch((e: unknown) => e)) as WorkerCrashedError;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error.cause as Error).message).toBe('start-up failure 1');
      expect(error.message).toBe(
        'Workers keep dying before they are ready: 3 workers in a row died before they were ready; ' +
          'the first: uncaught Error: start-up failure 1. The pool gave up.',
      );
      expect(p.stats().workersStarted).toBe(3);
    } finally {
      delete process.env.FANOUT_TEST_STARTUP_LOG;
    }
  });
});

describe('a signal aborted while the work runs', () => {
  it('fails a map with AbortError carrying the reason, stops its workers, and the pool goes on', async () => {
    const p = pool(2);
    const controller = new AbortController();
    const running = p.map(sleep, [5000, 5000, 5000], { signal: controller.signal, chunksize: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reason = new Error('stop now');
    controller.abort(reason);
    const error = (await running.catch((e: unknown) => e)) as AbortError;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ code: 'ERR_ABORTED', name: 'AbortError', cause: reason });
    expect(error.message).toBe("The map of task 'sleep' was aborted (stop now); its work was cancelled.");
    expect(await p.apply(square, [6])).toBe(36);
  });

  it('ends an imapUnordered with AbortError', async () => {
    const p = pool(1);
    const controller = new AbortController();
    const seen: number[] = [];
    const error = await (async () => {
      for await (const value of p.imapUnordered(square, [1, 2, 3, 4, 5, 6], { signal: controller.signal, chunksize: 1 })) {
        seen.push(value);
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).message).toMatch(/^The imapUnordered of task 'square' was aborted/);
    expect(seen.length).toBeGreaterThanOrEqual(1);
  });
});

describe('worker lifecycle', () => {
  it('maxTasksPerChild replaces a worker after that many tasks', async () => {
    const p = pool({ processes: 1, maxTasksPerChild: 2 });
    const ids = await Promise.all(Array.from({ length: 6 }, () => p.apply(whichWorker)));
    expect(new Set(ids).size).toBe(3);
    expect(p.stats().workersStarted).toBe(3);
  });

  it('maxTasksPerChild counts a map chunk as one task, as Python does', async () => {
    const p = pool({ processes: 1, maxTasksPerChild: 1 });
    const ids = await p.map(whichWorker as unknown as Task<[number], number>, [1, 2, 3, 4], { chunksize: 2 });
    expect(new Set(ids).size).toBe(2);
  });

  it('a cancelled running task stops its worker (the thread is really freed)', async () => {
    const p = pool(1);
    // A started worker (a chunk waits in the pool, not on a worker, while its worker starts).
    expect(await p.apply(square, [2])).toBe(4);
    await expect(p.apply(sleep, [10_000], { timeout: 20 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    // The single worker is free again at once: the next call is not stuck behind the sleep.
    expect(await p.apply(square, [6], { timeout: 5000 })).toBe(36);
    expect(p.stats().workersStarted).toBe(2);
  });

  it('a failing initializer fails the work with InitializerError instead of hanging', async () => {
    const p = pool({ processes: 2, initializer: failingInitializer });
    const error = (await p.apply(square, [2]).catch((e: unknown) => e)) as InitializerError;
    expect(error).toBeInstanceOf(InitializerError);
    expect(error.message).toContain("'failingInitializer'");
    expect(String((error.cause as Error).message)).toContain('initializer exploded');
    await expect(p.apply(square, [2])).rejects.toBeInstanceOf(InitializerError);
  });
});

describe('finding tasks in a worker', () => {
  it('the tasks option preloads modules by path', async () => {
    const p = pool({ processes: 1, tasks: ['test/fixtures/preloaded.ts'] });
    const { preloadedTask } = await import('../fixtures/preloaded.js');
    expect(await p.apply(preloadedTask, [5])).toBe(15);
  });

  it('a preload module that cannot be imported fails the work, naming the module', async () => {
    const p = pool({ processes: 1, tasks: ['test/fixtures/does-not-exist.ts'] });
    const error = (await p.apply(square, [1]).catch((e: unknown) => e)) as TaskModuleError;
    expect(error).toBeInstanceOf(TaskModuleError);
    expect(error.module).toMatch(/does-not-exist\.ts$/);
  });

  it('a task whose module fails to load in the worker gives TaskModuleError naming module and task', async () => {
    const p = pool(1);
    const error = (await p.apply(brokenModuleTask).catch((e: unknown) => e)) as TaskModuleError;
    expect(error).toBeInstanceOf(TaskModuleError);
    expect(error.message).toContain("task 'brokenModuleTask'");
    expect(error.message).toContain('brokenInWorker.ts');
    expect(error.message).toContain('this module cannot load in a worker');
  });

  it('a task its module does not define in the worker gives UnknownTaskError naming the known ones', async () => {
    const p = pool(1);
    const error = (await p.apply(mainThreadOnly!).catch((e: unknown) => e)) as UnknownTaskError;
    expect(error).toBeInstanceOf(UnknownTaskError);
    expect(error.taskName).toBe('mainThreadOnly');
    expect(error.message).toContain("Unknown task 'mainThreadOnly'");
    expect(error.message).toContain('workerOnlyMissing.ts');
  });
});
