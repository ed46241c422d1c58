import { describe, expect, it } from 'vitest';
import { runProgram } from './runExample.js';

const LONG = 120_000;

describe('seed examples: processes, queues and pipes', () => {
  it(
    "process-hello: f('bob') prints hello bob",
    async () => {
      const run = await runProgram('examples/process-hello.ts');
      expect(run).toMatchObject({ code: 0, stdout: 'hello bob\n', stderr: '' });
    },
    LONG,
  );

  it(
    "queue: prints [ 42, null, 'hello' ]",
    async () => {
      const run = await runProgram('examples/queue.ts');
      expect(run).toMatchObject({ code: 0, stdout: "[ 42, null, 'hello' ]\n", stderr: '' });
    },
    LONG,
  );

  it(
    "pipe: prints [ 42, null, 'hello' ]",
    async () => {
      const run = await runProgram('examples/pipe.ts');
      expect(run).toMatchObject({ code: 0, stdout: "[ 42, null, 'hello' ]\n", stderr: '' });
    },
    LONG,
  );

  it(
    'daemon: the program ends while its daemon process still runs',
    async () => {
      const run = await runProgram('examples/daemon.ts');
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('first tick: Process-1 (daemon: true) tick 1\n');
      expect(run.stdout).toContain('hello from a non-daemon process\n');
      expect(run.stdout).toContain('worker exit code: 0; daemon still alive: true\n');
      expect(run.stdout.trimEnd().endsWith('main is done: the program exits now and stops the daemon')).toBe(true);
    },
    LONG,
  );

  it(
    'jobs: a bounded JoinableQueue(5) feeds three workers; join waits for every taskDone',
    async () => {
      const run = await runProgram('examples/jobs.ts');
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe('all 20 jobs done');
      const done = lines.slice(0, -1).map((line) => {
        const match = /^Process-[123] did job (\d+): \1 \*\* 2 = (\d+)$/.exec(line);
        expect(match, line).not.toBeNull();
        expect(Number(match![2])).toBe(Number(match![1]) ** 2);
        return Number(match![1]);
      });
      expect(done).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    },
    LONG,
  );

  it(
    'empty-full: non-blocking and timed calls throw Full and Empty',
    async () => {
      const run = await runProgram('examples/empty-full.ts');
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toBe(
        [
          'put(block: false) on a full queue: Full (ERR_FULL)',
          'putNowait on a full queue: Full',
          'put(timeout: 50) on a full queue: Full',
          'got job 1',
          'got job 2',
          'get(block: false) on an empty queue: Empty (ERR_EMPTY)',
          'get(timeout: 50) on an empty queue: Empty',
          '',
        ].join('\n'),
      );
    },
    LONG,
  );
});
