/**
 * A cold local pool: chunks go only to ready workers, so the first chunk runs on the first thread
 * up (the worker Lambda's pool during its init phase too); and the workers started for queued
 * work keep the program alive until they take it, so threads that die starting fail the work
 * with the pool's error instead of letting the program end silently.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Pool } from 'fanout';
import { whichThread } from '../fixtures/slowStart.js';
import { runProgram } from '../examples/runExample.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a cold pool', () => {
  it('runs its first chunks on the first thread ready while another is still starting', async () => {
    // Two threads; whichever imports the task module first blocks its start until released.
    const dir = mkdtempSync(join(tmpdir(), 'fanout-slow-start-'));
    const release = () => writeFileSync(join(dir, 'release'), '');
    process.env.FANOUT_TEST_SLOW_START_DIR = dir;
    cleanups.push(() => {
      delete process.env.FANOUT_TEST_SLOW_START_DIR;
    });
    // Not a timing assertion: without the change, a chunk waits on the blocked thread for ever;
    // releasing it late lets the test fail on what ran where instead of on its timeout.
    const fallback = setTimeout(release, 30_000);
    cleanups.push(() => {
      clearTimeout(fallback);
      release();
    });
    const p = new Pool({ processes: 2, tasks: ['test/fixtures/slowStart.ts'] });
    cleanups.push(() => p.terminate());

    // Three chunks submitted at once, before any thread is up.
    const ids = await p.map(whichThread, [1, 2, 3], { chunksize: 1 });

    // All ran on the one ready thread, while the other had not finished starting. (Before, each
    // chunk went to a thread as it was started, and waited for that very thread's start.)
    expect(existsSync(join(dir, 'release'))).toBe(false);
    expect(existsSync(join(dir, 'claimed'))).toBe(true);
    expect(new Set(ids).size).toBe(1);
    expect(p.stats().workersStarted).toBe(2);
  }, 60_000);

  it('a program whose threads all die at start-up ends with the pool’s error, not silently with code 13', async () => {
    // One thread at a time: each death is a moment when no other thread keeps the program alive.
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-startup-')), 'attempts');
    process.env.FANOUT_TEST_STARTUP_LOG = log;
    cleanups.push(() => {
      delete process.env.FANOUT_TEST_STARTUP_LOG;
    });
    // Its map is all that keeps it alive: workers that held no chunk while they started, and did
    // not keep it alive, let it end at once with code 13 (unsettled top-level await).
    const run = await runProgram('test/fixtures/programs/threadsDieAtStartup.ts', 60_000);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /WorkerCrashedError: Workers keep dying before they are ready: 3 workers in a row died before they were ready; the first: uncaught Error: start-up failure \d+\. The pool gave up\./,
    );
    // The pool really tried: three threads started and died.
    expect(readFileSync(log, 'utf8').length).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
