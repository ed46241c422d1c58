import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/runCli.js';

// Each example runs through the real CLI, as `npm start` and the README do.
describe('examples, run with bin/fanout.mjs', { timeout: 180_000 }, () => {
  it("process-pooling.ts prints the slide's 100 and the squares", async () => {
    const run = await runCli(['run', 'examples/process-pooling.ts']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [first, ...rest] = run.stdout.trim().split('\n');
    expect(first).toBe('100');
    // console.log's layout of an array: compare the numbers.
    expect(rest.join(' ').match(/\d+/g)?.map(Number)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  });

  it('worker-queue.ts completes every job, then join returns', async () => {
    const run = await runCli(['run', 'examples/worker-queue.ts']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(21);
    const jobs = lines.slice(0, 20).sort();
    const expected = Array.from({ length: 20 }, (_, k) => `job ${k + 1}: ${k + 1} ** 32 = ${BigInt(k + 1) ** 32n}`).sort();
    expect(jobs).toEqual(expected);
    expect(lines[20]).toBe('all 20 jobs done (join returned with 0 unfinished)');
  });

  it('main-job.ts counts the primes below a small limit, checks them, and prints the summary and progress', async () => {
    const run = await runCli(['run', 'examples/main-job.ts', '--processes', '2'], { FANOUT_PRIMES_LIMIT: '1000000' });
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain('Primes below 1,000,000: fanout main job on the local backend');
    expect(out).toMatch(/primes found {2}78,498\n/);
    expect(out).toMatch(/check {9}equals the known π\(1,000,000\) = 78,498\n/);
    expect(out).toMatch(/sample check {2}8 ranges recounted on the main thread: all equal the workers' counts\n/);
    expect(out).toMatch(/items {9}64 ranges of 15,625 numbers\n/);
    expect(out).toMatch(/chunks {8}64\n/);
    expect(out).toMatch(/workers {7}2 threads \(2 started\)\n/);
    expect(out).toMatch(/wall time {5}\d+\.\d\d s/);
    expect(out).toMatch(/speedup {7}\d+\.\d\d× over one thread \(estimated/);
    expect(out).toMatch(/parallelism {3}\d+\.\d\d \(measured/);
    // stderr is not a terminal here: whole progress lines, the last one complete.
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(
      /^primes < 1,000,000 \[=+\] 64\/64 {2}100\.0% {2}[\d.]+ ranges\/s {2}ETA 0:00$/,
    );
  });

  it('main-job.ts checks a limit with no known count by recounting samples, on the processes asked for', async () => {
    const run = await runCli(['run', 'examples/main-job.ts', '-p', '1'], { FANOUT_PRIMES_LIMIT: '123457' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/primes found {2}11,601\n/);
    expect(run.stdout).toContain('no known value of π(123,457) to compare with');
    expect(run.stdout).toContain("all equal the workers' counts");
    expect(run.stdout).toMatch(/workers {7}1 thread \(1 started\)/);
  });

  it('main-job.ts refuses a bad FANOUT_PRIMES_LIMIT, naming it and what is allowed', async () => {
    const run = await runCli(['run', 'examples/main-job.ts'], { FANOUT_PRIMES_LIMIT: 'lots' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /the FANOUT_PRIMES_LIMIT environment variable must be a whole number from 10 to 1e\+13 .*; got 'lots' \(string\)/,
    );
  });
});
