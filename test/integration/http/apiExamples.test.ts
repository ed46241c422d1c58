import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsBackend } from '../../../lib/backends/aws/AwsBackend.js';
import type { FunctionUrlAdapter } from '../../../lib/http/FunctionUrlAdapter.js';
import { runCli } from '../../cli/runCli.js';
import { JobServiceDouble } from '../../fixtures/JobServiceDouble.js';
import { provisionForTest, startFleet, type TestFleet } from '../awsHarness.js';
import { API_CREDENTIALS, API_REGION, startJobsApiDouble, startRealJobsApi } from './jobsApiDouble.js';

// Registers the tasks in this process, which submits the jobs (as the API's bundle does).
import '../../fixtures/tasks.js';

const TASKS = fileURLToPath(new URL('../../fixtures/tasks.ts', import.meta.url));
const example = (name: string) => fileURLToPath(new URL(`../../../examples/api/${name}`, import.meta.url));
const ITEMS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const SQUARES = ITEMS.map((x) => x * x);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string }) | null;
        resolve({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, stdout, stderr });
      },
    );
  });
}

/** Fails (never skips) when the machine lacks what the Python example needs, saying what to install. */
async function requirePythonWithBotocore(): Promise<void> {
  const check = await run('python3', ['-c', 'import botocore; print(botocore.__version__)'], {});
  if (check.code !== 0) {
    throw new Error(
      'The Python example needs python3 with botocore, and this machine lacks them ' +
        `(python3 -c "import botocore" ended with ${String(check.code)}: ${check.stderr.trim() || 'python3 not found'}). ` +
        'Install them: apt-get install python3-botocore (or pip install botocore).',
    );
  }
}

describe('the API examples (curl, Python, TypeScript) against a test-double API (the issue routes over a JobService double, signed behind FunctionUrlAdapter)', () => {
  const jobs = new JobServiceDouble();
  let adapter: FunctionUrlAdapter;
  let env: Record<string, string>;
  let clock: NodeJS.Timeout;

  beforeAll(async () => {
    adapter = await startJobsApiDouble(jobs);
    env = {
      FANOUT_API_URL: adapter.url,
      AWS_ACCESS_KEY_ID: API_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: API_CREDENTIALS.secretAccessKey,
      AWS_REGION: API_REGION,
    };
    // A running fleet, as the double plays it: each tick, every job whose results someone reads
    // gets one chunk further (so a job the examples cancel at once never finishes first).
    clock = setInterval(() => {
      const read = new Set(jobs.calls.filter((call) => call.startsWith('results ')).map((call) => call.slice(8)));
      for (const jobId of read) jobs.finishChunks(jobId, 1);
    }, 40);
  });
  afterAll(async () => {
    clearInterval(clock);
    await adapter?.stop();
  });

  it('curl.sh submits, reads the status, pages the results in input order and cancels, signed by curl --aws-sigv4', async () => {
    const result = await run('bash', [example('curl.sh'), 'square', JSON.stringify(ITEMS)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    const [submitted, status, ...rest] = lines;
    const { jobId, total } = JSON.parse(submitted!.replace(/^submitted /, '')) as { jobId: string; total: number };
    expect(total).toBe(10);
    expect(JSON.parse(status!.replace(/^status /, ''))).toMatchObject({ jobId, task: 'square', total: 10 });
    const pages = rest
      .filter((line) => line.startsWith('page '))
      .map((line) => JSON.parse(line.slice(5)) as { results: number[] });
    expect(pages.length).toBeGreaterThanOrEqual(3); // four results a page at most
    expect(pages.flatMap((page) => page.results)).toEqual(SQUARES);
    const cancelled = JSON.parse(lines.at(-1)!.replace(/^cancelled /, '')) as { jobId: string; status: string };
    expect(cancelled).toEqual({ jobId: expect.not.stringMatching(jobId), status: 'cancelled' });
    expect((await jobs.status(cancelled.jobId)).status).toBe('cancelled');
  });

  it('curl.sh stops with the API error when the request is refused', async () => {
    const result = await run('bash', [example('curl.sh'), 'noSuchTask', '[1]'], env);
    expect(result.code).toBe(22); // curl's code for an HTTP error answer
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^curl\.sh: http:\/\/127\.0\.0\.1:\d+\/jobs failed \(curl exit 22\): \{"error":\{"code":"ERR_UNKNOWN_TASK"/m,
    );
    const unsigned = await run('bash', [example('curl.sh')], { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(unsigned.code).toBe(22);
    expect(unsigned.stderr).toContain('"code":"ERR_BAD_SIGNATURE"');
  });

  it('python3 and botocore are installed (the Python example needs them: Debian package python3-botocore)', async () => {
    await requirePythonWithBotocore();
  });

  it('client.py submits, reads the status, pages the results in input order and cancels, signed by botocore', async () => {
    await requirePythonWithBotocore();
    const result = await run('python3', [example('client.py'), 'failOdd', JSON.stringify(ITEMS)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [submitted, status, results, cancelled] = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
    const jobId = submitted!.submitted!.jobId as string;
    expect(submitted).toEqual({ submitted: { jobId: expect.stringMatching(/^[0-9a-z]{26}$/), total: 10 } });
    expect(status!.status).toMatchObject({ jobId, task: 'failOdd', total: 10 });
    expect(results).toEqual({
      results: ITEMS.map((x) => (x % 2 === 1 ? null : x)),
      errors: ITEMS.filter((x) => x % 2 === 1).map((x) => ({ index: x - 1, name: 'RangeError', message: `odd: ${x}` })),
    });
    expect(cancelled).toEqual({ cancelled: { jobId: expect.any(String), status: 'cancelled' } });
    expect((await jobs.status(cancelled!.cancelled!.jobId as string)).status).toBe('cancelled');
  });

  it('client.py says what the API refused, and exits 1', async () => {
    await requirePythonWithBotocore();
    const result = await run('python3', [example('client.py'), 'noSuchTask'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^client\.py: the API refused: 400 ERR_UNKNOWN_TASK: Unknown task 'noSuchTask'/);
  });

  it('client.ts (FanoutClient) submits, waits for the results, pages them and cancels', { timeout: 120_000 }, async () => {
    const result = await runCli(['run', 'examples/api/client.ts', '--', 'square', JSON.stringify(ITEMS)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { submitted: { jobId: expect.stringMatching(/^[0-9a-z]{26}$/), total: 10 } },
      { status: expect.objectContaining({ task: 'square', total: 10 }) },
      { results: SQUARES },
      { pages: 3 },
      { cancelled: { jobId: expect.any(String), status: 'cancelled' } },
    ]);
  });
});

describe('the API examples against the real jobs API (the api handler over AwsJobService) on the emulators with a worker fleet, signed behind FunctionUrlAdapter', () => {
  let backend: AwsBackend;
  let fleet: TestFleet;
  let adapter: FunctionUrlAdapter;
  let env: Record<string, string>;

  beforeAll(async () => {
    const config = await provisionForTest('api-examples');
    backend = new AwsBackend({ config });
    adapter = await startRealJobsApi(backend);
    env = {
      FANOUT_API_URL: adapter.url,
      AWS_ACCESS_KEY_ID: API_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: API_CREDENTIALS.secretAccessKey,
      AWS_REGION: API_REGION,
    };
    fleet = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    await fleet.ready;
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await adapter?.stop();
    await backend?.close();
  });

  it('curl.sh reads every result in input order', async () => {
    const result = await run('bash', [example('curl.sh'), 'square', JSON.stringify(ITEMS)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const pages = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('page '))
      .map((line) => JSON.parse(line.slice(5)) as { results: number[] });
    expect(pages.flatMap((page) => page.results)).toEqual(SQUARES);
    // It cancels the job after reading every result: a finished job keeps its outcome.
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^cancelled \{"jobId":"[0-9a-z]{26}","status":"succeeded"\}$/);
  });

  it('client.ts (FanoutClient) reads every result in input order, in pages too', { timeout: 120_000 }, async () => {
    const result = await runCli(['run', 'examples/api/client.ts', '--', 'square', JSON.stringify(ITEMS)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[2]).toEqual({ results: SQUARES });
    expect(lines[4]).toEqual({ cancelled: { jobId: expect.stringMatching(/^[0-9a-z]{26}$/), status: 'cancelled' } });
  });

  it('client.py reads every result in input order, with the failed items', async () => {
    await requirePythonWithBotocore();
    const items = [1, -2, 3, -4, 5];
    const result = await run('python3', [example('client.py'), 'failIfNegative', JSON.stringify(items)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[2]).toEqual({
      results: [1, null, 3, null, 5],
      errors: [
        { index: 1, name: 'ValidationError', message: 'negative input -2' },
        { index: 3, name: 'ValidationError', message: 'negative input -4' },
      ],
    });
    // It cancels a second job at once; the fleet may finish it first, and a finished job keeps its
    // outcome (its items fail as the first job's do).
    expect(lines[3]).toEqual({
      cancelled: { jobId: expect.stringMatching(/^[0-9a-z]{26}$/), status: expect.stringMatching(/^(cancelled|failed)$/) },
    });
  });
});
