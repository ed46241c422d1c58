import { Option, type Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { JobItemError, JobService, JobStatus } from '../backend/JobService.js';
import { JobCancelledError } from '../errors.js';
import { toJsonValue } from '../http/api/jsonValues.js';
import { ChunkTimeline } from '../report/ChunkTimeline.js';
import type { CommandContext } from './CommandContext.js';
import { addJobsCostCommand } from './costCommands.js';
import { oneOf, singleValue, wholeNumber } from './optionParsers.js';
import { ProgressBar } from './ProgressBar.js';
import { quietAwsSdk } from './quietAwsSdk.js';
import { refusePassthrough } from './refusePassthrough.js';
import { reportFailure } from './reportFailure.js';

/** `fanout jobs watch` exits with this when the job was cancelled (1 when it failed). */
export const WATCH_CANCELLED_EXIT_CODE = 3;

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;
const FORMATS = ['html', 'svg'] as const;

/**
 * Adds `fanout jobs list | status ID | results ID | cancel ID | watch ID | timeline ID | cost ID`: jobs of
 * the aws backend (configured from the FANOUT_* environment, as `fanout worker`), read, followed
 * or cancelled from any machine by id. Returns the `jobs` command, for more subcommands.
 *
 * @example
 * ```ts
 * addJobsCommand(program, context);
 * // fanout jobs watch 01jd0000000000000000000001
 * ```
 */
export function addJobsCommand(program: Command, context: CommandContext): Command {
  const jobs = program
    .command('jobs')
    .summary('List, follow, read and cancel jobs of the aws backend (they outlive their caller).')
    .description(
      'Jobs started by a pool (pool.mapAsync, pool.map) or over the HTTP API, on the aws backend ' +
        'the FANOUT_* environment names (FANOUT_STACK, or what `npx fanout emulator` prints).',
    )
    .usage('<list|status|results|cancel|watch|timeline|cost> [ID] [options]');
  // A usage error is printed with the usage of `jobs`: make it that of the subcommand being run.
  jobs.hook('preSubcommand', (_jobs, sub) => void jobs.usage(`${sub.name()} ${sub.usage()}`));

  jobs
    .command('list')
    .summary('List jobs, newest first.')
    .addOption(new Option('--limit <N>', 'jobs to show (default: 20)').argParser(wholeNumber(1, 1000)))
    .addOption(new Option('--next <token>', 'the page after this token (list prints it)').argParser(token()))
    .option('--json', 'print { jobs, next } as JSON')
    .action((options: { limit?: number; next?: string; json?: boolean }) =>
      withJobs(context, 'jobs list', async (service) => {
        const page = await service.list({ limit: options.limit ?? 20, next: options.next });
        if (options.json) {
          context.output.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
          return;
        }
        context.output.stdout.write(jobTable(page.jobs));
        if (page.next) context.output.stderr.write(`more: fanout jobs list --next ${page.next}\n`);
      }),
    );

  jobs
    .command('status')
    .summary('Show where a job is: its state and counts.')
    .argument('<id>', 'the job id')
    .option('--json', 'print the status as JSON')
    .action((id: string, options: { json?: boolean }) =>
      withJobs(context, 'jobs status', async (service) => {
        const status = await service.status(id);
        context.output.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
      }),
    );

  jobs
    .command('results')
    .summary('Print a job’s results in input order, as JSON.')
    .description(
      'One JSON line per item, in input order: {"index":0,"value":...}, or {"index":1,"error":' +
        '{"name":...,"message":...}} for an item that failed. --json prints one document instead: ' +
        '{"jobId","complete","results":[...null where an item failed],"errors":[...]}. Values JSON ' +
        'has no form for are written as the HTTP API writes them: undefined → null, bigint → a ' +
        'string of digits, Map → [key, value] pairs, Set and typed arrays → arrays, Date → ISO 8601. Without ' +
        '--wait, a running job’s finished prefix is printed (and how far it got, on stderr).',
    )
    .argument('<id>', 'the job id')
    .option('--json', 'print one JSON document instead of JSON lines')
    .option('--wait', 'wait until every result is in')
    .action((id: string, options: { json?: boolean; wait?: boolean }) =>
      withJobs(context, 'jobs results', async (service) => {
        const results: unknown[] = [];
        const errors: JobItemError[] = [];
        const out = context.output.stdout;
        const complete = await readResults(service, id, options.wait === true, context.services.signal, (page) => {
          const failed = new Map(page.errors.map((error) => [error.index, error]));
          page.results.forEach((value, offset) => {
            const index = page.from + offset;
            const error = failed.get(index);
            if (options.json) {
              results.push(error ? null : value);
              if (error) errors.push(error);
            } else {
              const line = error ? { index, error: { name: error.name, message: error.message } } : { index, value };
              out.write(`${toJson(line)}\n`);
            }
          });
        });
        if (options.json) out.write(`${toJson({ jobId: id, complete, results, errors }, 2)}\n`);
        if (!complete) {
          const status = await service.status(id);
          context.output.stderr.write(
            `fanout jobs results: job ${id} is ${status.status}: ${status.done} of ${status.total} items done; ` +
              `the results printed are those up to the first unfinished chunk (--wait waits for all).\n`,
          );
        }
      }),
    );

  jobs
    .command('cancel')
    .summary('Cancel a job: workers skip its chunks that have not started.')
    .argument('<id>', 'the job id')
    .action((id: string) =>
      withJobs(context, 'jobs cancel', async (service) => {
        const status = await service.cancel(id);
        context.output.stdout.write(
          status.status === 'cancelled'
            ? `job ${id} cancelled (${status.done} of ${status.total} items had finished)\n`
            : `job ${id} had already ended: ${status.status}\n`,
        );
      }),
    );

  jobs
    .command('watch')
    .summary('Show a live progress bar until the job ends; exit 0 if it succeeded.')
    .description(
      `Polls the job's status (100 ms doubling to 2 s while nothing changes) and draws a progress ` +
        `bar on stderr until the job ends. Exit code: 0 when it succeeded, 1 when it failed, ` +
        `${WATCH_CANCELLED_EXIT_CODE} when it was cancelled.`,
    )
    .argument('<id>', 'the job id')
    .action((id: string) =>
      withJobs(context, 'jobs watch', async (service) => {
        const status = await watch(service, id, context);
        if (!status) return;
        const summary = `job ${id} ${status.status}: ${status.done - status.failed} of ${status.total} items succeeded, ${status.failed} failed`;
        context.output.stdout.write(`${summary}\n`);
        if (status.status === 'failed') context.exitCode = 1;
        if (status.status === 'cancelled') context.exitCode = WATCH_CANCELLED_EXIT_CODE;
      }),
    );

  jobs
    .command('timeline')
    .summary('Write a job’s chunk timeline (chunks over time by worker) as HTML or SVG.')
    .argument('<id>', 'the job id')
    .addOption(new Option('-o, --out <file>', 'the file to write').makeOptionMandatory().argParser(token('a file path')))
    .addOption(
      new Option(
        '--format <html|svg>',
        'html: a page with the timeline, a task-time histogram and a summary (default, or from .svg)',
      ).argParser(oneOf(FORMATS)),
    )
    .action((id: string, options: { out: string; format?: (typeof FORMATS)[number] }) =>
      withJobs(context, 'jobs timeline', async (service) => {
        const status = await service.status(id);
        const chunks = await service.chunkRuns(id);
        const timeline = new ChunkTimeline({ jobId: id, task: status.task, chunks });
        const format = options.format ?? (/\.svg$/i.test(options.out) ? 'svg' : 'html');
        const file = resolve(context.cwd, options.out);
        await writeFile(file, format === 'svg' ? timeline.toSvg() : timeline.toHtml());
        context.output.stdout.write(
          `wrote ${file}: ${format} timeline of ${chunks.length} of ${status.chunks} chunks of job ${id}\n`,
        );
      }),
    );
  const openJobs = context.services.jobs;
  addJobsCostCommand(jobs, context, openJobs ? { jobs: async () => openJobs() } : {});
  return jobs;
}

/** Opens the job service, runs `action`, reports a failure in one line (exit 1), and closes what it opened. */
async function withJobs(context: CommandContext, command: string, action: (service: JobService) => Promise<void>): Promise<void> {
  refusePassthrough(context, command);
  let close: (() => Promise<void>) | undefined;
  try {
    let service: JobService;
    if (context.services.jobs) {
      service = await context.services.jobs();
    } else {
      quietAwsSdk();
      // Loaded only now, so that the other commands never load the AWS SDK.
      const { AwsBackend } = await import('../backends/aws/AwsBackend.js');
      const backend = new AwsBackend();
      close = () => backend.close();
      service = backend.jobs();
    }
    await action(service);
  } catch (error) {
    reportFailure(context, command, error);
  } finally {
    await close?.().catch(() => undefined);
  }
}

/**
 * Reads a job's result pages from the start, handing each to `onPage`; with `wait`, waits (with
 * back-off on the status) until the last page, else stops at the first unfinished chunk.
 * Resolves to whether every result was read.
 */
async function readResults(
  service: JobService,
  id: string,
  wait: boolean,
  signal: AbortSignal | undefined,
  onPage: (page: { from: number; results: unknown[]; errors: JobItemError[] }) => void,
): Promise<boolean> {
  let next: string | undefined;
  let delay = FIRST_DELAY_MS;
  let lastDone = -1;
  for (;;) {
    const page = await service.results(id, { next });
    onPage(page);
    if (page.next === undefined) return true;
    next = page.next;
    if (!page.waiting) {
      delay = FIRST_DELAY_MS;
      continue;
    }
    if (!wait) return false;
    for (;;) {
      await sleep(delay, signal);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      if (signal?.aborted) return false;
      const status = await service.status(id);
      if (status.status === 'cancelled') throw new JobCancelledError(id, status.task);
      if (status.done !== lastDone || status.status === 'succeeded' || status.status === 'failed') {
        lastDone = status.done;
        break;
      }
    }
  }
}

/** Draws the job's progress until it ends; resolves to its last status (undefined when stopped by the signal). */
async function watch(service: JobService, id: string, context: CommandContext): Promise<JobStatus | undefined> {
  let status = await service.status(id);
  const stderr = context.output.stderr as { write(text: string): unknown; isTTY?: boolean; columns?: number };
  const bar = new ProgressBar({
    total: status.total,
    label: `${status.task} ${id}`,
    stream: {
      write: (text) => stderr.write(text),
      isTTY: stderr.isTTY === true,
      ...(stderr.columns ? { columns: stderr.columns } : {}),
    },
  });
  let delay = FIRST_DELAY_MS;
  const signal = context.services.signal;
  for (;;) {
    bar.update(status.done);
    if (status.status === 'succeeded' || status.status === 'failed' || status.status === 'cancelled') break;
    await sleep(delay, signal);
    if (signal?.aborted) {
      bar.finish();
      return undefined;
    }
    const latest = await service.status(id);
    delay = latest.done === status.done ? Math.min(delay * 2, MAX_DELAY_MS) : FIRST_DELAY_MS;
    status = latest;
  }
  bar.finish();
  return status;
}

/** Half of `ms` to all of it (jitter, so that many watchers do not poll in step), cut short by the signal. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms / 2 + Math.random() * (ms / 2));
    signal?.addEventListener('abort', done, { once: true });
  });
}

function statusText(status: JobStatus): string {
  const rows: Array<[string, string]> = [
    ['job', status.jobId],
    ['task', status.task],
    ['status', status.status],
    ['items', `${status.done}/${status.total} done, ${status.failed} failed`],
    ['chunks', `${status.chunksDone}/${status.chunks} done (chunksize ${status.chunksize}${status.starmap ? ', starmap' : ''})`],
    ['source', status.source],
    ['created', status.createdAt],
  ];
  if (status.cancelledAt) rows.push(['cancelled', status.cancelledAt]);
  if (status.finishedAt) rows.push(['finished', status.finishedAt]);
  return rows.map(([name, value]) => `${name.padEnd(10)}${value}\n`).join('');
}

function jobTable(jobs: readonly JobStatus[]): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = [
    ['JOB', 'TASK', 'STATUS', 'DONE', 'FAILED', 'CREATED'],
    ...jobs.map((job) => [job.jobId, job.task, job.status, `${job.done}/${job.total}`, String(job.failed), job.createdAt]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** JSON of decoded results, by the API's rules (`toJsonValue`): the same JSON over HTTP and here. */
function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(toJsonValue(value), null, indent);
}

function token(allowed = 'a non-empty token'): (value: string, previous: string | undefined) => string {
  return singleValue(allowed, (value) => (value === '' ? undefined : value));
}
