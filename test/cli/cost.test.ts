import { Command } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobService, JobStatus } from '../../lib/backend/JobService.js';
import { JobNotFoundError } from '../../lib/errors.js';
import type { CommandContext } from '../../lib/cli/CommandContext.js';
import { addJobsCostCommand } from '../../lib/cli/costCommands.js';
import { main } from '../../lib/cli/main.js';
import type { ChunkRunRecord } from '../../lib/report/ChunkTimeline.js';
import { repoRoot } from './runCli.js';

function buffers() {
  let out = '';
  let err = '';
  return {
    output: {
      stdout: { write: (text: string) => ((out += text), true) },
      stderr: { write: (text: string) => ((err += text), true) },
    },
    out: () => out,
    err: () => err,
  };
}

function itemsFile(items: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fanout-estimate-')), 'items.json');
  writeFileSync(path, typeof items === 'string' ? items : JSON.stringify(items));
  return path;
}

describe('fanout estimate (in process, local backend)', () => {
  const base = ['estimate', '--tasks', 'test/fixtures/tasks.ts', '--backend', 'local', '--processes', '2'];

  it('prints the estimate as JSON: chunks as pool.map chunks, positive finite predictions', async () => {
    const io = buffers();
    const file = itemsFile(Array.from({ length: 200 }, (_, i) => i));
    const code = await main([...base, '--task', 'square', '--items', file, '--sample', '8', '--json'], io.output, {
      cwd: repoRoot,
    });
    expect({ code, err: io.err() }).toEqual({ code: 0, err: '' });
    const estimate = JSON.parse(io.out()) as Record<string, unknown> & { predictedCost: { total: { point: number } } };
    expect(estimate).toMatchObject({ backend: 'local', items: 200, chunksize: 25, chunks: 8, sampleItems: 8 });
    expect(estimate.predictedWallMs).toBeGreaterThan(0);
    expect(Number.isFinite(estimate.predictedWallMs)).toBe(true);
    expect(estimate.predictedCost.total.point).toBeGreaterThan(0);
  }, 60_000);

  it('prints a summary as text', async () => {
    const io = buffers();
    const file = itemsFile([1, 2, 3, 4]);
    const code = await main([...base, '--task', 'square', '--items', file], io.output, { cwd: repoRoot });
    expect(code).toBe(0);
    expect(io.out()).toMatch(/^Estimate for task 'square' on the local backend: 4 items, 4 chunks of 1\n/);
    expect(io.out()).toMatch(/wall time: [0-9.]+ s/);
    expect(io.out()).toMatch(/cost: \$[0-9.e-]+ .*GB-s at 1769 MB \(what it would cost on aws\)/);
  }, 60_000);

  it('refuses an unknown task, a bad items file and missing options with exit 2 and a message naming them', async () => {
    const cases: Array<{ args: string[]; message: RegExp }> = [
      { args: [...base, '--task', 'nope', '--items', itemsFile([1])], message: /no task 'nope' is exported .* 'square'/ },
      { args: [...base, '--task', 'square', '--items', itemsFile('{not json')], message: /is not JSON/ },
      { args: [...base, '--task', 'square', '--items', itemsFile({ a: 1 })], message: /non-empty JSON array/ },
      { args: [...base, '--task', 'square', '--items', '/no/such/file.json'], message: /cannot be read/ },
      { args: [...base, '--items', itemsFile([1])], message: /--task <name> is required/ },
      { args: [...base, '--task', 'square'], message: /--items <file.json> is required/ },
      { args: [...base, '--task', 'square', '--items', itemsFile([1]), '--memory', '64'], message: /--memory/ },
    ];
    for (const { args, message } of cases) {
      const io = buffers();
      const code = await main(args, io.output, { cwd: repoRoot });
      expect({ args, code, err: io.err() }).toMatchObject({ code: 2, err: expect.stringMatching(message) });
    }
  }, 60_000);
});

describe('fanout jobs cost (with a test double of JobService)', () => {
  const status: JobStatus = {
    jobId: '01jcostcli0000000000000000',
    task: 'square',
    status: 'succeeded',
    total: 2,
    done: 2,
    failed: 0,
    chunks: 2,
    chunksDone: 2,
    chunksize: 1,
    starmap: false,
    source: 'api',
    createdAt: '2026-12-02T06:00:00.000Z',
  };
  const runs: ChunkRunRecord[] = [
    {
      chunk: 0,
      worker: 'env-1',
      thread: 0,
      startMs: 0,
      endMs: 1000,
      attempts: 1,
      coldStart: true,
      taskMs: 990,
      items: 1,
      status: 'ok',
    },
    {
      chunk: 1,
      worker: 'env-1',
      thread: 0,
      startMs: 1000,
      endMs: 2000,
      attempts: 1,
      coldStart: false,
      taskMs: 990,
      items: 1,
      status: 'ok',
    },
  ];
  const double = {
    status: async (id: string) => {
      if (id !== status.jobId) throw new JobNotFoundError(id, 'the test double');
      return status;
    },
    chunkRuns: async () => runs,
  } as unknown as JobService;

  async function run(args: string[]) {
    const io = buffers();
    const context: CommandContext = { output: io.output, services: {}, cwd: repoRoot, passthrough: [], exitCode: 0 };
    const program = new Command('fanout').exitOverride();
    const jobs = program.command('jobs');
    addJobsCostCommand(jobs, context, { jobs: async () => double });
    await program.parseAsync(['jobs', 'cost', ...args], { from: 'user' });
    return { code: context.exitCode, out: io.out(), err: io.err() };
  }

  it('prints the cost table of the job', async () => {
    const { code, out } = await run([status.jobId, '--memory', '2048']);
    expect(code).toBe(0);
    expect(out).toMatch(
      /^Job 01jcostcli0000000000000000 \(task 'square'\): succeeded, 2 items in 2 chunks; 1 worker environment\(s\) of 2,048 MB/,
    );
    expect(out).toMatch(/Lambda\s+Compute \(ms billed\)\s+workers\s+counted/);
  });

  it('prints the report as JSON: 2 s of chunks at 2 GB is 4 GB-s at least', async () => {
    const { code, out } = await run([status.jobId, '--memory', '2048', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { lambda: { gbSeconds: { low: number } }; total: { point: number } };
    expect(report.lambda.gbSeconds.low).toBeCloseTo(4, 10);
    expect(report.total.point).toBeGreaterThan(4 * 0.0000133334);
  });

  it('an unknown job: exit 1 and the service’s message', async () => {
    const { code, err } = await run(['01jnosuchjob00000000000000']);
    expect(code).toBe(1);
    expect(err).toMatch(/^fanout jobs cost: No job '01jnosuchjob00000000000000'/);
  });
});
