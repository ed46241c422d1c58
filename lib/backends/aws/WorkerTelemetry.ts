/**
 * The worker's structured logs and metrics, through Powertools for AWS Lambda: one JSON log line
 * per chunk (Logger) and one CloudWatch embedded-metric-format blob per invocation (Metrics),
 * both on stdout, where Lambda sends them to CloudWatch Logs. Only the worker runtime loads this
 * module (by a dynamic import): a program that imports `fanout` never loads Powertools.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The CloudWatch namespace of the worker's metrics.
 *
 * @example
 * ```ts
 * const alarmMetric = { namespace: METRICS_NAMESPACE, metricName: 'crashes' };
 * ```
 */
export const METRICS_NAMESPACE = 'fanout';
/**
 * The `service` of the worker's log lines and the dimension of its metrics.
 *
 * @example
 * ```ts
 * const dimensions = { service: WORKER_SERVICE };
 * ```
 */
export const WORKER_SERVICE = 'fanout-worker';

/** How a chunk's delivery ended. */
export type ChunkOutcome =
  /** Ran and recorded (some of its items may have thrown: `taskErrors`). */
  | 'ok'
  /** Ran and recorded as failed as a whole (its task could not run). */
  | 'failed'
  /** Its worker thread died; released for another delivery. */
  | 'crash'
  /** Its worker thread died on every delivery the queue allows; recorded as dead. */
  | 'dead'
  /** Handed back unharmed: its invocation's time ran out before it started or finished. */
  | 'handedBack'
  /** Stopped after running most of an invocation: recorded as too long. */
  | 'tooLong'
  /** A request failed; released for another delivery. */
  | 'retried';

/** What a chunk's log line says. */
export interface ChunkReport {
  run: string;
  chunk: number;
  task: string;
  /** SQS's receive count of its message. */
  attempt: number;
  items: number;
  outcome: ChunkOutcome;
  /** Milliseconds from its start on a thread to its end (0 if it never started). */
  durationMs: number;
  /** Milliseconds its thread spent in the task (ran chunks only). */
  taskMs?: number;
  /** Items whose task threw. */
  taskErrors?: number;
}

/** Options of {@link WorkerTelemetry}. */
export interface WorkerTelemetryOptions {
  /** Emit EMF metrics (one blob per invocation). @default true */
  metrics?: boolean;
}

/** The part of a Lambda context the telemetry reads. */
interface RequestContext {
  awsRequestId?: string;
}

/**
 * One invocation's telemetry: its chunk lines go out at once, its metrics are added up and
 * emitted once by {@link InvocationTelemetry.flush}.
 */
export interface InvocationTelemetry {
  chunk(report: ChunkReport): void;
  /** Emits the invocation's metrics (once; later calls do nothing). */
  flush(): void;
}

/**
 * The worker's logger and metrics. The first invocation of a process is its cold start: each of
 * its chunk lines says `cold_start: true`, and its metrics count one `coldStarts`.
 *
 * Metrics (namespace `fanout`, dimension `service`): `chunks` and `items` run to the end,
 * `taskTime` (ms, one value per chunk), and failures by kind: `taskErrors` (items whose task
 * threw, or every item of a chunk that failed as a whole), `crashes` (a worker thread died,
 * including a chunk's last, dead one), `handedBack` (time ran out), `tooLong`; and `coldStarts`.
 *
 * @example
 * ```ts
 * const telemetry = new WorkerTelemetry({ metrics: true });
 * const invocation = telemetry.invocation({ awsRequestId: 'r-1' });
 * invocation.chunk({ run: 'r', chunk: 0, task: 't', attempt: 1, items: 2, outcome: 'ok', durationMs: 3 });
 * invocation.flush();
 * ```
 */
export class WorkerTelemetry {
  readonly logger = new Logger({ serviceName: WORKER_SERVICE });
  private readonly metrics: Metrics | undefined;
  private invocations = 0;

  constructor(options: WorkerTelemetryOptions = {}) {
    this.metrics =
      options.metrics === false ? undefined : new Metrics({ namespace: METRICS_NAMESPACE, serviceName: WORKER_SERVICE });
  }

  /** A note of the worker's (a crash, a redelivery, a failed request) as a warning line. */
  note(line: string): void {
    this.logger.warn(line);
  }

  /** Starts an invocation's telemetry. */
  invocation(context?: RequestContext): InvocationTelemetry {
    const coldStart = this.invocations++ === 0;
    const requestId = context?.awsRequestId;
    const counts = { chunks: 0, items: 0, taskErrors: 0, crashes: 0, handedBack: 0, tooLong: 0 };
    const taskTimes: number[] = [];
    let flushed = false;
    return {
      chunk: (report) => {
        this.logger.info('chunk', {
          run: report.run,
          chunk: report.chunk,
          task: report.task,
          attempt: report.attempt,
          items: report.items,
          outcome: report.outcome,
          duration_ms: round(report.durationMs),
          ...(report.taskMs !== undefined ? { task_ms: round(report.taskMs) } : {}),
          ...(report.taskErrors ? { task_errors: report.taskErrors } : {}),
          cold_start: coldStart,
          ...(requestId ? { function_request_id: requestId } : {}),
        });
        switch (report.outcome) {
          case 'ok':
          case 'failed':
            counts.chunks++;
            counts.items += report.items;
            counts.taskErrors += report.outcome === 'failed' ? report.items : (report.taskErrors ?? 0);
            if (report.taskMs !== undefined) taskTimes.push(round(report.taskMs));
            break;
          case 'crash':
          case 'dead':
            counts.crashes++;
            break;
          case 'handedBack':
            counts.handedBack++;
            break;
          case 'tooLong':
            counts.tooLong++;
            break;
          case 'retried':
            break;
        }
      },
      flush: () => {
        if (flushed || !this.metrics) return;
        flushed = true;
        // Added and published in one synchronous step: concurrent invocations never mix.
        for (const [name, value] of Object.entries(counts)) this.metrics.addMetric(name, MetricUnit.Count, value);
        for (const ms of taskTimes) this.metrics.addMetric('taskTime', MetricUnit.Milliseconds, ms);
        if (coldStart) this.metrics.addMetric('coldStarts', MetricUnit.Count, 1);
        this.metrics.publishStoredMetrics();
      },
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
