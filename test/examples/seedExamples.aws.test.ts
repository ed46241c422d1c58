/**
 * Every seed example run as a user would, with FANOUT_BACKEND=aws: each on fresh emulated
 * resources, served by a worker fleet in this test process (pool chunks and Process targets run
 * on its threads). The assertions are the local tests' (test/examples/*.test.ts), except where
 * aws differs by design:
 * - a Process target's console output goes to its worker's stdout (a Lambda's logs), not to the
 *   program's: process-hello, lock and daemon assert it on the fleet's stdout (captured here) and
 *   an empty program stdout;
 * - a daemon is stopped when the program ends by a stop request the program writes as its event
 *   loop empties (the worker then ends the target's thread): daemon and jobs assert that every
 *   process the program left running had been asked to stop when it exited.
 * Each test also checks that the program really used aws (object kinds in the table, messages the
 * fleet received): the outputs alone would be the same on the local backend.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { ProcessStore } from '../../lib/backends/aws/ProcessStore.js';
import { OBJECT_PREFIX, objectPartition } from '../../lib/backends/aws/tableKeys.js';
import { provisionForTest, startFleet } from '../integration/awsHarness.js';
import { runProgram, type ProgramRun } from './runExample.js';

const LONG = 180_000;

/** How an example ran on the aws backend. */
interface AwsRun extends ProgramRun {
  /**
   * What the fleet's threads wrote to this (the test's) process's stdout while the program ran:
   * a Process target's console output goes to its worker's stdout (a Lambda's logs), not to the
   * program's. Captured by spying on `process.stdout.write`, which Node's worker threads pipe into.
   */
  workerStdout: string;
  /** Processes still running when the program had ended that nobody had asked to stop. */
  stillRunning: number;
  /** Processes that had been asked to stop (`terminate()`, or a daemon at its starter's exit) when the program ended. */
  askedToStop: number;
  /** The kinds of shared objects with items in the table (`obj#<kind>#<id>`): proof that the program ran on aws. */
  kinds: string[];
  /** Messages the fleet received (pool chunks and processes). */
  messagesReceived: number;
}

/**
 * Runs an example with FANOUT_BACKEND=aws on fresh emulated resources, served by a worker fleet
 * in this process. Targets still running, unasked, once the program has ended are then asked to
 * stop, as `terminate()` would, so that the fleet can stop.
 */
async function runOnAws(path: string, env: Record<string, string> = {}): Promise<AwsRun> {
  const config = await provisionForTest('seed');
  const fleet = startFleet(config);
  let workerStdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    workerStdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  let stopped = false;
  try {
    await fleet.ready;
    const run = await runProgram(path, 150_000, { ...configEnvironment(config), ...env });
    const { running, askedToStop, kinds } = await readObjects(config);
    await stopProcesses(config, running);
    const summary = await fleet.stop();
    stopped = true;
    return {
      ...run,
      workerStdout,
      stillRunning: running.length,
      askedToStop,
      kinds,
      messagesReceived: summary.messagesReceived,
    };
  } finally {
    if (!stopped) await fleet.stop();
    spy.mockRestore();
  }
}

/**
 * The ids of the processes whose record says `started` with no stop request, how many records
 * have a stop request, and the kinds of objects in the table.
 */
async function readObjects(config: AwsConfig): Promise<{ running: string[]; askedToStop: number; kinds: string[] }> {
  const clients = new AwsClients(config);
  try {
    const processes = objectPartition('process', '');
    const running: string[] = [];
    let askedToStop = 0;
    const kinds = new Set<string>();
    let next: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.dynamodb.send(new ScanCommand({ TableName: config.table, ExclusiveStartKey: next }));
      for (const item of page.Items ?? []) {
        const pk = item.pk?.S ?? '';
        if (pk.startsWith(OBJECT_PREFIX)) kinds.add(pk.slice(OBJECT_PREFIX.length).split('#', 1)[0]!);
        if (!pk.startsWith(processes)) continue;
        if (item.stop?.N !== undefined) askedToStop++;
        else if (item.st?.S === 'started') running.push(pk.slice(processes.length));
      }
      next = page.LastEvaluatedKey;
    } while (next);
    return { running, askedToStop, kinds: [...kinds].sort() };
  } finally {
    clients.destroy();
  }
}

/** Asks each process to stop (signal 15, as `terminate()` does). */
async function stopProcesses(config: AwsConfig, ids: string[]): Promise<void> {
  const clients = new AwsClients(config);
  try {
    const store = new ProcessStore(clients.dynamodb, config.table);
    for (const id of ids) await store.requestStop(id, 15, Math.floor(Date.now() / 1000) + 3600);
  } finally {
    clients.destroy();
  }
}

describe('seed examples with FANOUT_BACKEND=aws (emulators; a worker fleet in the test process runs tasks and targets)', () => {
  it(
    "process-hello: f('bob') prints hello bob on its worker's stdout (captured from the fleet), nothing on the program's",
    async () => {
      const run = await runOnAws('examples/process-hello.ts');
      expect(run).toMatchObject({ code: 0, stdout: '', stderr: '', workerStdout: 'hello bob\n', stillRunning: 0 });
      // Ran on aws: the process's record in the table, its message taken by the fleet.
      expect(run.kinds).toEqual(['process']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(1);
    },
    LONG,
  );

  it(
    "queue: prints [ 42, null, 'hello' ]",
    async () => {
      const run = await runOnAws('examples/queue.ts');
      expect(run).toMatchObject({ code: 0, stdout: "[ 42, null, 'hello' ]\n", stderr: '', stillRunning: 0 });
      expect(run.kinds).toEqual(['process', 'queue']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(1);
    },
    LONG,
  );

  it(
    "pipe: prints [ 42, null, 'hello' ]",
    async () => {
      const run = await runOnAws('examples/pipe.ts');
      expect(run).toMatchObject({ code: 0, stdout: "[ 42, null, 'hello' ]\n", stderr: '', stillRunning: 0 });
      expect(run.kinds).toEqual(['channel', 'process']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(1);
    },
    LONG,
  );

  it(
    "lock: ten processes each print one whole line while holding the lock (on the workers' stdout, captured from the fleet); the program waits for them without join",
    async () => {
      const run = await runOnAws('examples/lock.ts');
      expect(run).toMatchObject({ code: 0, stdout: '', stderr: '', stillRunning: 0 });
      const lines = run.workerStdout.trimEnd().split('\n');
      expect(lines.sort()).toEqual(Array.from({ length: 10 }, (_, num) => `hello world ${num}`).sort());
      expect(run.kinds).toEqual(['lock', 'process']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(10);
    },
    LONG,
  );

  it(
    'empty-full: non-blocking and timed calls throw Full and Empty',
    async () => {
      const run = await runOnAws('examples/empty-full.ts');
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
      // No process: the queue's items are in the table, and the fleet got nothing.
      expect(run.kinds).toEqual(['queue']);
      expect(run.messagesReceived).toBe(0);
    },
    LONG,
  );

  it(
    'shared-memory: a process sets num to 3.1415927 and negates the array; the parent prints both',
    async () => {
      const run = await runOnAws('examples/shared-memory.ts');
      expect(run).toMatchObject({
        code: 0,
        stdout: '3.1415927\n[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]\n',
        stderr: '',
        stillRunning: 0,
      });
      expect(run.kinds).toEqual(['array', 'lock', 'process', 'value']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(1);
    },
    LONG,
  );

  it(
    "process-pooling: prints the slide's 100 and the squares",
    async () => {
      const run = await runOnAws('examples/process-pooling.ts');
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const [first, ...rest] = run.stdout.trim().split('\n');
      expect(first).toBe('100');
      expect(rest.join(' ').match(/\d+/g)?.map(Number)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
      // Ran on aws: the fleet took the pool's chunks (apply, applyAsync, and the map's).
      expect(run.messagesReceived).toBeGreaterThanOrEqual(3);
    },
    LONG,
  );

  it(
    'worker-queue: completes every job, then join returns',
    async () => {
      const run = await runOnAws('examples/worker-queue.ts');
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const lines = run.stdout.trim().split('\n');
      expect(lines).toHaveLength(21);
      const expected = Array.from({ length: 20 }, (_, k) => `job ${k + 1}: ${k + 1} ** 32 = ${BigInt(k + 1) ** 32n}`);
      expect(lines.slice(0, 20).sort()).toEqual(expected.sort());
      expect(lines[20]).toBe('all 20 jobs done (join returned with 0 unfinished)');
      expect(run.messagesReceived).toBeGreaterThanOrEqual(20);
    },
    LONG,
  );

  it(
    'main-job: counts the primes below 1,000,000 on the aws backend and checks them',
    async () => {
      const run = await runOnAws('examples/main-job.ts', { FANOUT_PRIMES_LIMIT: '1000000' });
      expect(run.code).toBe(0);
      const out = run.stdout;
      expect(out).toContain('Primes below 1,000,000: fanout main job on the aws backend');
      expect(out).toMatch(/primes found {2}78,498\n/);
      expect(out).toMatch(/check {9}equals the known π\(1,000,000\) = 78,498\n/);
      expect(out).toMatch(/sample check {2}8 ranges recounted on the main thread: all equal the workers' counts\n/);
      expect(out).toMatch(/items {9}64 ranges of 15,625 numbers\n/);
      expect(out).toMatch(/chunks {8}64\n/);
      expect(out).toMatch(/workers {7}remote \(Lambda or a fanout worker fleet\); chunked for \d+\n/);
      expect(run.stderr).not.toContain('\r');
      expect(run.stderr.trim().split('\n').at(-1)).toMatch(
        /^primes < 1,000,000 \[=+\] 64\/64 {2}100\.0% {2}[\d.]+ ranges\/s {2}ETA 0:00$/,
      );
      expect(run.messagesReceived).toBeGreaterThanOrEqual(64);
    },
    LONG,
  );

  it(
    "jobs: a bounded JoinableQueue(5) feeds three workers; join waits for every taskDone; the program's end asks its three daemon workers on the fleet to stop",
    async () => {
      const run = await runOnAws('examples/jobs.ts');
      expect(run).toMatchObject({ code: 0, stderr: '', stillRunning: 0, askedToStop: 3 });
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe('all 20 jobs done');
      const done = lines.slice(0, -1).map((line) => {
        const match = /^Process-[123] did job (\d+): \1 \*\* 2 = (\d+)$/.exec(line);
        expect(match, line).not.toBeNull();
        expect(Number(match![2])).toBe(Number(match![1]) ** 2);
        return Number(match![1]);
      });
      expect(done).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(run.kinds).toEqual(['process', 'queue']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(3);
    },
    LONG,
  );

  it(
    "daemon: the program ends while its daemon process still runs, and its end asks the daemon on the fleet to stop; the non-daemon's hello is on its worker's stdout (captured from the fleet)",
    async () => {
      const run = await runOnAws('examples/daemon.ts');
      expect(run).toMatchObject({ code: 0, stderr: '', stillRunning: 0, askedToStop: 1 });
      expect(run.stdout).toBe(
        [
          'first tick: Process-1 (daemon: true) tick 1',
          'worker exit code: 0; daemon still alive: true',
          'main is done: the program exits now and stops the daemon',
          '',
        ].join('\n'),
      );
      expect(run.workerStdout).toBe('hello from a non-daemon process\n');
      expect(run.kinds).toEqual(['process', 'queue']);
      expect(run.messagesReceived).toBeGreaterThanOrEqual(2);
    },
    LONG,
  );
});
