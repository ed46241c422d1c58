import { mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliOutput } from '../../lib/cli/main.js';
import { JobServiceDouble } from '../fixtures/JobServiceDouble.js';
import { runCli } from './runCli.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'fanout-jobs-cli-')));

function output(): CliOutput & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

/** Runs `fanout jobs ...argv` in this process over `jobs`. */
async function jobsCli(jobs: JobServiceDouble, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = output();
  const code = await main(['jobs', ...argv], io, { cwd: dir, jobs: () => jobs });
  return { code, out: io.out(), err: io.err() };
}

describe('fanout jobs, over a JobService test double (in process, until the aws job service lands)', () => {
  it('lists jobs newest first as a table, or as JSON, and says how to read on', async () => {
    const jobs = new JobServiceDouble();
    const a = await jobs.submit({ task: 'square', items: [1, 2, 3] });
    const b = await jobs.submit({ task: 'failOdd', items: [1, 2] });
    jobs.finishChunks(b.jobId);
    const table = await jobsCli(jobs, ['list']);
    expect(table.code).toBe(0);
    expect(table.out.split('\n')).toEqual([
      expect.stringMatching(/^JOB +TASK +STATUS +DONE +FAILED +CREATED$/),
      expect.stringMatching(new RegExp(`^${b.jobId} +failOdd +failed +2/2 +1 +2026-12-02T06:00:02\\.000Z$`)),
      expect.stringMatching(new RegExp(`^${a.jobId} +square +queued +0/3 +0 +2026-12-02T06:00:01\\.000Z$`)),
      '',
    ]);
    const paged = await jobsCli(jobs, ['list', '--limit', '1']);
    expect(paged.out.split('\n').length).toBe(3);
    expect(paged.err).toBe('more: fanout jobs list --next l1\n');
    const json = await jobsCli(jobs, ['list', '--json', '--next', 'l1']);
    expect(JSON.parse(json.out)).toEqual({ jobs: [expect.objectContaining({ jobId: a.jobId, task: 'square', total: 3 })] });
  });

  it('shows a status as text or JSON', async () => {
    const jobs = new JobServiceDouble();
    const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3, 4, 5] });
    jobs.finishChunks(jobId, 1);
    const text = await jobsCli(jobs, ['status', jobId]);
    expect(text).toMatchObject({ code: 0, err: '' });
    expect(text.out).toBe(
      [
        `job       ${jobId}`,
        'task      square',
        'status    running',
        'items     2/5 done, 0 failed',
        'chunks    1/3 done (chunksize 2)',
        'source    api',
        'created   2026-12-02T06:00:01.000Z',
        '',
      ].join('\n'),
    );
    const json = await jobsCli(jobs, ['status', jobId, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ jobId, status: 'running', done: 2, total: 5, chunks: 3 });
  });

  it('prints results as JSON lines in input order, or one document, with the values JSON lacks written out', async () => {
    const jobs = new JobServiceDouble();
    jobs.reverse = true;
    const failing = await jobs.submit({ task: 'failOdd', items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], chunksize: 3 });
    jobs.finishChunks(failing.jobId);
    const lines = await jobsCli(jobs, ['results', failing.jobId]);
    expect(lines).toMatchObject({ code: 0, err: '' });
    const parsed = lines.out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number });
    expect(parsed.map((line) => line.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(parsed.slice(0, 2)).toEqual([
      { index: 0, value: 0 },
      { index: 1, error: { name: 'RangeError', message: 'odd: 1' } },
    ]);
    const document = await jobsCli(jobs, ['results', failing.jobId, '--json']);
    expect(JSON.parse(document.out)).toEqual({
      jobId: failing.jobId,
      complete: true,
      results: [0, null, 2, null, 4, null, 6, null, 8, null],
      errors: [1, 3, 5, 7, 9].map((index) => ({ index, name: 'RangeError', message: `odd: ${index}` })),
    });

    const rich = await jobs.submit({ task: 'rich', items: [0, 1, 2, 3] });
    jobs.finishChunks(rich.jobId);
    const values = await jobsCli(jobs, ['results', rich.jobId, '--json']);
    expect(JSON.parse(values.out).results).toEqual([null, '1180591620717411303424', [['a', 1]], '2026-01-01T00:00:00.000Z']);
  });

  it("prints a running job's finished prefix and says so, or waits for every result with --wait", async () => {
    const jobs = new JobServiceDouble();
    const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3, 4, 5, 6], chunksize: 2 });
    jobs.finishChunks(jobId, 1);
    const partial = await jobsCli(jobs, ['results', jobId]);
    expect(partial.code).toBe(0);
    expect(partial.out).toBe('{"index":0,"value":1}\n{"index":1,"value":4}\n');
    expect(partial.err).toBe(
      `fanout jobs results: job ${jobId} is running: 2 of 6 items done; the results printed are those up to the first unfinished chunk (--wait waits for all).\n`,
    );
    jobs.finishPerStatusRead = 1;
    const all = await jobsCli(jobs, ['results', jobId, '--wait', '--json']);
    expect(all).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(all.out)).toEqual({ jobId, complete: true, results: [1, 4, 9, 16, 25, 36], errors: [] });
  });

  it('cancels a job, and says when it had already ended', async () => {
    const jobs = new JobServiceDouble();
    const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3, 4] });
    jobs.finishChunks(jobId, 1);
    expect(await jobsCli(jobs, ['cancel', jobId])).toEqual({
      code: 0,
      out: `job ${jobId} cancelled (2 of 4 items had finished)\n`,
      err: '',
    });
    expect((await jobs.status(jobId)).status).toBe('cancelled');
    const done = await jobs.submit({ task: 'square', items: [1] });
    jobs.finishChunks(done.jobId);
    expect((await jobsCli(jobs, ['cancel', done.jobId])).out).toBe(`job ${done.jobId} had already ended: succeeded\n`);
  });

  it('watches a job to its end with a progress bar: exit 0 when it succeeded, 1 when it failed, 3 when cancelled', async () => {
    const jobs = new JobServiceDouble();
    jobs.finishPerStatusRead = 1;
    const good = await jobs.submit({ task: 'square', items: [1, 2, 3, 4, 5, 6], chunksize: 2 });
    const watched = await jobsCli(jobs, ['watch', good.jobId]);
    expect(watched.code).toBe(0);
    expect(watched.out).toBe(`job ${good.jobId} succeeded: 6 of 6 items succeeded, 0 failed\n`);
    // Not a terminal: the bar's final line, once.
    expect(watched.err).toMatch(new RegExp(`^square ${good.jobId} \\[=+\\] 6/6 +100\\.0%`));
    expect(watched.err.trimEnd().split('\n')).toHaveLength(1);
    // One status read per chunk (each read finishes one, here), and none after the end.
    expect(jobs.calls.filter((call) => call === `status ${good.jobId}`)).toHaveLength(3);

    const bad = await jobs.submit({ task: 'failOdd', items: [1, 2], chunksize: 1 });
    const failed = await jobsCli(jobs, ['watch', bad.jobId]);
    expect(failed).toMatchObject({ code: 1, out: `job ${bad.jobId} failed: 1 of 2 items succeeded, 1 failed\n` });

    jobs.finishPerStatusRead = 0;
    const stopped = await jobs.submit({ task: 'square', items: [1, 2] });
    await jobs.cancel(stopped.jobId);
    const cancelled = await jobsCli(jobs, ['watch', stopped.jobId]);
    expect(cancelled).toMatchObject({ code: 3, out: `job ${stopped.jobId} cancelled: 0 of 2 items succeeded, 0 failed\n` });
  });

  it('writes the chunk timeline as HTML, or SVG (by --format or the .svg name)', async () => {
    const jobs = new JobServiceDouble();
    const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3, 4, 5], chunksize: 2 });
    jobs.finishChunks(jobId);
    const html = await jobsCli(jobs, ['timeline', jobId, '--out', 'job.html']);
    expect(html).toMatchObject({ code: 0, err: '' });
    expect(html.out).toBe(`wrote ${join(dir, 'job.html')}: html timeline of 3 of 3 chunks of job ${jobId}\n`);
    const page = readFileSync(join(dir, 'job.html'), 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/i);
    expect(page).toContain(jobId);
    expect(page.match(/data-chunk="/g)?.length).toBeGreaterThanOrEqual(3);

    await jobsCli(jobs, ['timeline', jobId, '-o', 'job.svg']);
    expect(readFileSync(join(dir, 'job.svg'), 'utf8')).toMatch(/^<\?xml [^\n]*\n<svg /);
    await jobsCli(jobs, ['timeline', jobId, '-o', 'drawing.out', '--format', 'svg']);
    expect(readFileSync(join(dir, 'drawing.out'), 'utf8')).toMatch(/^<\?xml [^\n]*\n<svg /);
  });

  it('has the cost command in the group, over the same service (fanout jobs cost)', async () => {
    const jobs = new JobServiceDouble();
    const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3, 4] });
    jobs.finishChunks(jobId);
    const cost = await jobsCli(jobs, ['cost', jobId, '--json']);
    expect(cost).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(cost.out)).toMatchObject({ total: { point: expect.any(Number) } });
    expect(jobs.calls).toContain(`chunkRuns ${jobId}`);
  });

  it('says clearly that an id is unknown: one line, exit 1, no stack', async () => {
    const jobs = new JobServiceDouble();
    for (const command of ['status', 'results', 'cancel', 'watch']) {
      const run = await jobsCli(jobs, [command, '01jd0000000000000000000404']);
      expect(run.code).toBe(1);
      expect(run.out).toBe('');
      expect(run.err).toBe(
        `fanout jobs ${command}: No job '01jd0000000000000000000404' in the test double: it was never made there, or its records expired (they are kept for the stack's retention).\n`,
      );
    }
    const timeline = await jobsCli(jobs, ['timeline', '01jd0000000000000000000404', '--out', 'x.html']);
    expect(timeline).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^fanout jobs timeline: No job '01jd0000000000000000000404'/),
    });
  });

  it('refuses a bad command line with exit 2 and the usage', async () => {
    const jobs = new JobServiceDouble();
    const cases: Array<[string[], RegExp]> = [
      [['status'], /missing required argument 'id'/],
      [['timeline', '01jd0000000000000000000001'], /required option '-o, --out <file>' not specified/],
      [['timeline', 'x', '--out', 'a', '--format', 'png'], /Allowed: one of 'html', 'svg'/],
      [['list', '--limit', '0'], /Allowed: a whole number from 1 to 1000/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const run = await jobsCli(jobs, argv);
      expect(run.code).toBe(2);
      expect(run.out).toBe('');
      expect(run.err.split('\n')[0]).toMatch(message);
      expect(run.err).toMatch(/\nUsage: fanout jobs /);
    }
    const usage = await jobsCli(jobs, ['timeline', '01jd0000000000000000000001']);
    expect(usage.err.split('\n')[1]).toBe('Usage: fanout jobs timeline [options] <id>');
    expect(jobs.calls).toEqual([]);
  });
});

describe('fanout jobs (spawned as a user would)', { timeout: 120_000 }, () => {
  it('is in the help, and says in one line that the aws backend is not configured', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/^ {2}jobs +List, follow, read and cancel jobs/m);
    const run = await runCli(['jobs', 'status', '01jd0000000000000000000001']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^fanout jobs status: /);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
