import type { SQSEvent } from 'aws-lambda';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, ValueError } from '../../../errors.js';
import { AwsClients } from '../AwsClients.js';
import type { AwsConfig } from '../AwsConfig.js';
import type { RequestCounter } from '../RequestCounter.js';
import type { LambdaFunctionSpec, SqsEventSourceSpec } from '../stackTemplate.js';
import type { InvocationRecord } from './invocation.js';
import { LambdaEnvironment, type EnvironmentState } from './LambdaEnvironment.js';
import { SqsEventSourcePoller, type SqsEventSourceStats } from './SqsEventSourcePoller.js';
import { TaskRoot } from './TaskRoot.js';

/** Options of {@link LambdaRunner}. */
export interface LambdaRunnerOptions {
  /** Where the emulated resources are: the region, endpoints and credentials the function gets. */
  config: Pick<AwsConfig, 'region' | 'endpoints'>;
  /** The SQS event source mapping that triggers the function; without it, only {@link LambdaRunner.invoke} runs it. */
  eventSource?: SqsEventSourceSpec;
  /**
   * Most environments at once on this machine (the account's concurrency limit, scaled to a
   * laptop); the event source's `MaximumConcurrency` and the function's reserved concurrency
   * lower it further. @default the machine's available parallelism
   */
  maxEnvironments?: number;
  /** Long-poll wait of the event source's receives, 0–20 s. @default 20, as Lambda's pollers */
  waitTimeSeconds?: number;
  /** Variables added to (or replacing) the function's in every environment. They cannot replace Lambda's own. */
  environment?: Record<string, string>;
  /** Credentials the function's environment gets (its execution role's, in Lambda). @default the emulators' dummy keys */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A `node_modules` directory providing the AWS SDK, as Lambda's runtime does. @default the one this package uses */
  runtimeModules?: string;
  /** Counts the event source's SQS requests (Lambda's pollers' requests are billed to the account). */
  counter?: RequestCounter;
  /** Where the functions' logs and the START/END/REPORT lines go. @default nowhere */
  log?: (line: string) => void;
  /** Called with the record of each invocation when it ends. */
  onInvocation?: (record: InvocationRecord) => void;
}

/** What a runner has done so far. */
export interface LambdaRunnerStats {
  invocations: number;
  coldStarts: number;
  /** Invocations whose handler threw or rejected. */
  errors: number;
  /** Invocations killed at the function's timeout. */
  timeouts: number;
  /** Invocations whose runtime exited (including failed inits and memory over the limit). */
  crashes: number;
  eventSource: SqsEventSourceStats | undefined;
}

/** One execution environment of a runner. */
export interface EnvironmentInfo {
  id: string;
  pid: number | undefined;
  state: EnvironmentState;
  invocations: number;
}

const EMULATOR_CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };

/**
 * Runs a Lambda function's deployed artifact — its asset directory in `cdk.out` — on this
 * machine the way Lambda does, against emulated resources. Each execution environment is a
 * child process (plain Node) with the function's environment variables (references resolved
 * by {@link provisionStack}), Lambda's own (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `_HANDLER`, ...),
 * the emulators' endpoints and credentials. An environment is created on demand (the init
 * phase imports the handler once, reported as Init Duration), frozen between invocations
 * (SIGSTOP), reused while warm, and killed and discarded when an invocation outlives the
 * function's timeout, its memory goes over the function's, or its runtime exits. With an SQS
 * event source it polls the queue as Lambda's trigger does (see {@link SqsEventSourcePoller}),
 * with at most `MaximumConcurrency` environments busy at once.
 *
 * Not emulated: CPU share by memory (environments use this machine's cores), the Node version
 * (this machine's, not the function's `Runtime`), the Runtime API over HTTP (an IPC channel
 * stands in), reaping of idle environments, the 6 MB invocation payload limit.
 *
 * @example
 * ```ts
 * const stack = await provisionStack('cdk.out/Fanout.template.json', emulators.endpoints);
 * const runner = new LambdaRunner(stack.worker.function, { config: stack.config, eventSource: stack.worker.eventSource });
 * await runner.start();
 * // ... run pools against stack.config ...
 * await runner.stop();
 * ```
 */
export class LambdaRunner {
  private readonly limit: number;
  private readonly pollers: number;
  private readonly log: (line: string) => void;
  private readonly environmentsAlive = new Set<LambdaEnvironment>();
  private readonly idle: LambdaEnvironment[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly statistics: Omit<LambdaRunnerStats, 'eventSource'> = {
    invocations: 0,
    coldStarts: 0,
    errors: 0,
    timeouts: 0,
    crashes: 0,
  };
  private taskRoot: TaskRoot | undefined;
  private clients: AwsClients | undefined;
  private poller: SqsEventSourcePoller | undefined;
  private phase: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  /** Deletes the copy of the code if this process exits without stop() (its environments are killed too). */
  private readonly removeOnExit = () => this.taskRoot?.remove();

  constructor(
    readonly fn: LambdaFunctionSpec,
    private readonly options: LambdaRunnerOptions,
  ) {
    if (!fn || typeof fn !== 'object' || typeof fn.functionName !== 'string') {
      throw new InvalidArgumentError(
        'LambdaRunner: fn',
        fn,
        'a function description from provisionStack (stack.worker.function)',
      );
    }
    if (!fn.codeDirectory) {
      throw new InvalidArgumentError(
        'LambdaRunner: fn.codeDirectory',
        fn.codeDirectory,
        'the directory of the function code',
        fn.codeProblem,
      );
    }
    if (!options?.config?.region) {
      throw new InvalidArgumentError(
        'LambdaRunner: options.config',
        options?.config,
        'an AwsConfig with a region (stack.config)',
      );
    }
    const maxEnvironments = options.maxEnvironments ?? availableParallelism();
    if (!Number.isInteger(maxEnvironments) || maxEnvironments < 1 || maxEnvironments > 1000) {
      throw new InvalidArgumentError('LambdaRunner: options.maxEnvironments', maxEnvironments, 'a whole number from 1 to 1,000');
    }
    const waitTimeSeconds = options.waitTimeSeconds ?? 20;
    if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 0 || waitTimeSeconds > 20) {
      throw new InvalidArgumentError(
        'LambdaRunner: options.waitTimeSeconds',
        waitTimeSeconds,
        'a whole number of seconds from 0 to 20',
      );
    }
    if (options.eventSource && options.eventSource.functionLogicalId !== fn.logicalId) {
      throw new InvalidArgumentError(
        'LambdaRunner: options.eventSource',
        options.eventSource.logicalId,
        `an event source mapping of the function '${fn.logicalId}'`,
        `It invokes '${options.eventSource.functionLogicalId}'.`,
      );
    }
    if (fn.reservedConcurrency === 0) {
      throw new InvalidArgumentError(
        'LambdaRunner: fn.reservedConcurrency',
        0,
        'at least 1',
        'A function with no reserved concurrency is throttled by Lambda: it never runs.',
      );
    }
    this.limit = Math.min(maxEnvironments, fn.reservedConcurrency ?? Infinity);
    this.pollers = Math.min(this.limit, options.eventSource?.maximumConcurrency ?? Infinity);
    this.log = options.log ?? (() => {});
  }

  /**
   * Lays out the function's code as in Lambda and, with an enabled event source, starts polling.
   * Environments start on demand, with the first batch (a cold start).
   */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new ValueError(`LambdaRunner for '${this.fn.functionName}' was already started.`);
    this.taskRoot = TaskRoot.create(this.fn.codeDirectory!, this.options.runtimeModules);
    this.phase = 'running';
    process.on('exit', this.removeOnExit);
    const source = this.options.eventSource;
    if (source?.enabled) {
      this.clients = new AwsClients(
        { ...this.options.config, queueUrl: source.queueUrl, table: '', bucket: '', retentionSeconds: 60 },
        this.options.counter,
      );
      this.poller = new SqsEventSourcePoller({
        source,
        sqs: this.clients.sqs,
        region: this.options.config.region,
        pollers: this.pollers,
        waitTimeSeconds: this.options.waitTimeSeconds ?? 20,
        invoke: (event) => this.invokeUnlessStopped(event),
        log: this.log,
      });
      this.poller.start();
    }
  }

  /**
   * Invokes the function once with `event`, in a warm environment if one is idle, else in a new
   * one; waits for an environment when the runner's limit is reached (as an asynchronous
   * invocation waits in Lambda's queue). Resolves to the invocation's record; a handler error,
   * a timeout or a crash is an outcome in it, not a rejection.
   *
   * @example
   * ```ts
   * const record = await runner.invoke({ Records: [] });
   * if (record.outcome.status === 'success') console.log(record.outcome.response);
   * ```
   */
  async invoke(event: unknown): Promise<InvocationRecord> {
    if (this.phase !== 'running')
      throw new ValueError(`LambdaRunner for '${this.fn.functionName}' is ${this.phase}: call start() first.`);
    const running = this.run(event);
    this.inFlight.add(running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(running);
    }
  }

  /**
   * Stops polling (long polls end at once), lets the invocations in flight end (each within the
   * function's timeout), then kills every environment and deletes the copy of the code.
   * With `force`, kills the environments at once.
   */
  async stop(options: { force?: boolean } = {}): Promise<void> {
    if (this.phase === 'new') this.phase = 'stopped';
    if (this.phase === 'stopped') return;
    this.stopping ??= this.shutDown(options.force === true);
    await this.stopping;
  }

  private async shutDown(force: boolean): Promise<void> {
    this.phase = 'stopping';
    if (force) await Promise.all([...this.environmentsAlive].map((environment) => environment.kill()));
    await this.poller?.stop();
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.environmentsAlive].map((environment) => environment.kill()));
    this.environmentsAlive.clear();
    this.idle.length = 0;
    for (const wake of this.waiting.splice(0)) wake();
    this.clients?.destroy();
    this.taskRoot?.remove();
    process.off('exit', this.removeOnExit);
    this.phase = 'stopped';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  stats(): LambdaRunnerStats {
    return { ...this.statistics, eventSource: this.poller?.stats() };
  }

  /** The environments alive now (initializing, idle and frozen, or busy). */
  environments(): EnvironmentInfo[] {
    return [...this.environmentsAlive].map((environment) => ({
      id: environment.id,
      pid: environment.pid,
      state: environment.state,
      invocations: environment.invocations,
    }));
  }

  private async invokeUnlessStopped(event: SQSEvent): Promise<InvocationRecord | undefined> {
    try {
      return await this.invoke(event);
    } catch (error) {
      if (error instanceof ValueError && this.phase !== 'running') return undefined;
      throw error;
    }
  }

  private async run(event: unknown): Promise<InvocationRecord> {
    const { environment, cold } = await this.acquire();
    try {
      let record: InvocationRecord;
      if (cold) {
        this.statistics.coldStarts++;
        const initError = await environment.init();
        record = initError
          ? {
              requestId: '',
              environmentId: environment.id,
              pid: environment.pid,
              coldStart: true,
              initDurationMs: undefined,
              importDurationMs: undefined,
              durationMs: 0,
              maxMemoryUsedMb: undefined,
              outcome: { status: 'crashed', error: initError },
            }
          : await environment.invoke(event, { coldStart: true });
      } else {
        record = await environment.invoke(event);
      }
      this.statistics.invocations++;
      if (record.outcome.status === 'error') this.statistics.errors++;
      if (record.outcome.status === 'timeout') this.statistics.timeouts++;
      if (record.outcome.status === 'crashed') this.statistics.crashes++;
      this.options.onInvocation?.(record);
      return record;
    } finally {
      this.release(environment);
    }
  }

  /** An idle environment (the most recently used: it is the warmest), a new one, or the next one released. */
  private async acquire(): Promise<{ environment: LambdaEnvironment; cold: boolean }> {
    for (;;) {
      const warm = this.idle.pop();
      if (warm && warm.state !== 'idle') {
        // Its runtime exited while it waited (between its response and its freeze).
        this.environmentsAlive.delete(warm);
        continue;
      }
      if (warm) return { environment: warm, cold: false };
      if (this.environmentsAlive.size < this.limit) {
        const environment = new LambdaEnvironment({
          fn: this.fn,
          taskRoot: this.taskRoot!,
          variables: this.variables(),
          log: this.log,
        });
        this.environmentsAlive.add(environment);
        return { environment, cold: true };
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.phase !== 'running')
        throw new ValueError(`LambdaRunner for '${this.fn.functionName}' stopped before an environment was free.`);
    }
  }

  private release(environment: LambdaEnvironment): void {
    if (environment.state === 'idle' && this.phase === 'running') this.idle.push(environment);
    else if (environment.state === 'dead') this.environmentsAlive.delete(environment);
    this.waiting.shift()?.();
  }

  /** The process environment of the function's runtime. */
  private variables(): Record<string, string> {
    const fn = this.fn;
    const config = this.options.config;
    const credentials: NonNullable<LambdaRunnerOptions['credentials']> = this.options.credentials ?? EMULATOR_CREDENTIALS;
    const runtimeDirectory = this.taskRoot!.runtimeDirectory;
    const endpoints = config.endpoints ?? {};
    return {
      ...fn.environment,
      ...this.options.environment,
      // The emulation's addition: where the AWS services are.
      ...(endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: endpoints.sqs } : {}),
      ...(endpoints.s3 ? { AWS_ENDPOINT_URL_S3: endpoints.s3 } : {}),
      ...(endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb } : {}),
      // Lambda's own variables: a function's configuration cannot replace them.
      PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LAMBDA_TASK_ROOT: this.taskRoot!.taskRoot,
      LAMBDA_RUNTIME_DIR: runtimeDirectory,
      NODE_PATH: `${join(runtimeDirectory, 'node_modules')}:${this.taskRoot!.taskRoot}`,
      _HANDLER: fn.handler,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime ?? 'nodejs'}`,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: config.region,
      AWS_DEFAULT_REGION: config.region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    };
  }
}
