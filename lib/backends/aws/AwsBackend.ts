import type { JobService } from '../../backend/JobService.js';
import { AwsJobService } from './AwsJobService.js';
import type { Backend } from '../../backend/Backend.js';
import { backendNamed } from '../../backend/backends.js';
import type { ChannelEngine } from '../../backend/ChannelEngine.js';
import type { PoolEngine, PoolEngineOptions } from '../../backend/PoolEngine.js';
import type { ProcessEngine, ProcessSpec } from '../../backend/ProcessEngine.js';
import type { QueueEngine, QueueEngineOptions } from '../../backend/QueueEngine.js';
import type { LockEngine } from '../../backend/SyncEngines.js';
import type { ElementOf, Typecode } from '../../api/typecodes.js';
import { AwsConfigError, BackendMismatchError, InvalidArgumentError } from '../../errors.js';
import { AwsBarrier } from './AwsBarrier.js';
import { AwsChannelEngine } from './AwsChannelEngine.js';
import { AwsCondition } from './AwsCondition.js';
import { awsConfigFromEnvironment, resolveAwsConfig, type AwsConfig } from './AwsConfig.js';
import { AwsEvent } from './AwsEvent.js';
import { AwsLock } from './AwsLock.js';
import { AwsPoolEngine } from './AwsPoolEngine.js';
import { AwsProcess } from './AwsProcess.js';
import { AwsQueueEngine } from './AwsQueueEngine.js';
import { AwsSemaphore } from './AwsSemaphore.js';
import { AwsSharedMemory } from './AwsSharedMemory.js';
import type { AwsSession } from './AwsSession.js';
import { RequestCounter } from './RequestCounter.js';

/** Options of {@link AwsBackend}. */
export interface AwsBackendOptions {
  /** Where the resources are. @default read from the environment on first use ({@link resolveAwsConfig}) */
  config?: AwsConfig;
  /** Counts every request of this backend (its pools count theirs apart too, in their stats). @default a counter of its own */
  counter?: RequestCounter;
  /**
   * Milliseconds a pool's call waits while nobody receives its chunks before it fails with
   * `NoWorkersError` (a warning comes after about 10 s); 0 waits for ever.
   * @default `FANOUT_NO_WORKER_TIMEOUT_MS`, else 120,000
   */
  noWorkerTimeout?: number;
}

/** Concurrent workers a pool plans for when `processes` is not given (Lambda scales out). */
const DEFAULT_PROCESSES = 64;

/** The backends of this thread by resources, for objects that arrive as handles (see {@link AwsBackend.forConfig}). */
const byConfig = new Map<string, AwsBackend>();

/**
 * The aws backend: pools whose chunks travel over SQS to Lambda workers (or a `fanout worker`
 * fleet), with results in DynamoDB and big payloads in S3. Configured from the stack's outputs
 * (`FANOUT_STACK`) or the `FANOUT_*` environment variables; the AWS SDK loads on first use.
 *
 * @example
 * ```ts
 * const mp = getContext('aws');               // FANOUT_STACK=Fanout
 * await using pool = new mp.Pool();
 * await pool.map(square, [1, 2, 3]);
 *
 * const emulated = new Context(new AwsBackend({ config })); // explicit resources
 * ```
 */
export class AwsBackend implements Backend {
  readonly name = 'aws' as const;
  /** Counts every request of the backend's session. */
  readonly counter: RequestCounter;
  private config: Promise<AwsConfig> | undefined;
  /** The configuration once known (given, loaded, or read from the environment). */
  private knownConfig: AwsConfig | undefined;
  private openSession: Promise<AwsSession> | undefined;

  constructor(private readonly options: AwsBackendOptions = {}) {
    if (options.config) {
      this.config = Promise.resolve(options.config);
      this.knownConfig = options.config;
    }
    this.counter = options.counter ?? new RequestCounter();
  }

  /**
   * The backend of this thread for `config`'s resources, made once: an aws object that arrives in
   * a thread as a handle (a Lock passed to a task on a Lambda worker) is bound to it, and shares
   * its session with every other object of the same resources.
   *
   * @example
   * ```ts
   * const backend = AwsBackend.forConfig(handleState.config);
   * ```
   */
  static forConfig(config: AwsConfig): AwsBackend {
    const key = JSON.stringify([config.region, config.queueUrl, config.table, config.bucket, config.endpoints ?? null]);
    let backend = byConfig.get(key);
    if (!backend) {
      backend = new AwsBackend({ config });
      byConfig.set(key, backend);
    }
    return backend;
  }

  /**
   * The backend an aws handle is re-bound to in this thread: the one for the resources it names,
   * or, for a handle made before its resources were known, this thread's aws backend (from the
   * environment, as a deployed worker's).
   *
   * @example
   * ```ts
   * const backend = AwsBackend.forHandle(state.config);
   * ```
   */
  static forHandle(config: AwsConfig | null | undefined): AwsBackend {
    return config ? AwsBackend.forConfig(config) : (backendNamed('aws', 'an aws handle') as AwsBackend);
  }

  /** The resources of this backend (from its options or the environment, loaded once). */
  resources(): Promise<AwsConfig> {
    return this.loadConfig();
  }

  /**
   * Loads the backend's resources now (with `FANOUT_STACK`, from the stack's outputs), so that
   * shared objects can be made without waiting: `new Lock()` needs to know its table at once.
   *
   * @example
   * ```ts
   * await (getContext('aws').backend as AwsBackend).ready(); // or: await mp.ready()
   * ```
   */
  async ready(): Promise<void> {
    await this.loadConfig();
  }

  /**
   * The resources, known now: given, already loaded, or read from the `FANOUT_*` variables.
   * With only `FANOUT_STACK` set and nothing loaded yet, `what` cannot be made at once: a clear
   * {@link AwsConfigError} says to await `ready()` first.
   */
  resourcesNow(what: string): AwsConfig {
    if (this.knownConfig) return this.knownConfig;
    const config = awsConfigFromEnvironment();
    if (config) {
      this.knownConfig = config;
      this.config ??= Promise.resolve(config);
      return config;
    }
    throw new AwsConfigError(
      `${what} on the aws backend needs the stack's resources, which are read from the stack '${process.env.FANOUT_STACK}' ` +
        "(FANOUT_STACK) asynchronously: `await getContext('aws').ready()` once before creating it, or set FANOUT_QUEUE_URL, " +
        'FANOUT_TABLE and FANOUT_BUCKET.',
      ['FANOUT_QUEUE_URL', 'FANOUT_TABLE', 'FANOUT_BUCKET'],
    );
  }

  /** The resources if they are known already (no look-up, no error). */
  get resourcesIfKnown(): AwsConfig | undefined {
    return this.knownConfig;
  }

  createLock(recursive: boolean): AwsLock {
    return new AwsLock(this, this.resourcesNow(recursive ? 'An RLock' : 'A Lock'), { recursive });
  }

  createCondition(lock: LockEngine): AwsCondition {
    if (!(lock instanceof AwsLock)) throw new BackendMismatchError('lock given to a Condition', lock.backend, 'aws');
    return AwsCondition.create(lock);
  }

  createSemaphore(value: number, maxValue: number | undefined): AwsSemaphore {
    return AwsSemaphore.create(this, this.resourcesNow('A Semaphore'), value, maxValue);
  }

  createEvent(): AwsEvent {
    return AwsEvent.create(this, this.resourcesNow('An Event'));
  }

  createBarrier(parties: number): AwsBarrier {
    return AwsBarrier.create(this, parties, this.resourcesNow('A Barrier'));
  }

  createSharedMemory<T extends Typecode>(
    typecode: T,
    items: ReadonlyArray<ElementOf<T>> | number,
    options: { shards?: number } = {},
  ): AwsSharedMemory<T> {
    return AwsSharedMemory.create(this, this.resourcesNow('A Value or Array'), typecode, items, options);
  }

  createQueue(options: QueueEngineOptions): QueueEngine {
    this.resourcesNow('A Queue');
    return AwsQueueEngine.create(this, options);
  }

  createChannel(): ChannelEngine {
    this.resourcesNow('A Pipe');
    return AwsChannelEngine.create(this);
  }

  startProcess(spec: ProcessSpec): ProcessEngine {
    return new AwsProcess(this, spec);
  }

  /**
   * `FANOUT_PROCESSES` if set, else 64: how many workers a pool plans its chunks for (a map is cut
   * into about four chunks per worker, as Python's).
   */
  defaultProcesses(): number {
    const fromEnvironment = process.env.FANOUT_PROCESSES;
    if (fromEnvironment === undefined || fromEnvironment === '') return DEFAULT_PROCESSES;
    const processes = Number(fromEnvironment);
    if (!Number.isInteger(processes) || processes < 1) {
      throw new InvalidArgumentError('the FANOUT_PROCESSES environment variable', fromEnvironment, 'a whole number ≥ 1');
    }
    return processes;
  }

  createPoolEngine(options: PoolEngineOptions): PoolEngine {
    const { noWorkerTimeout } = this.options;
    return new AwsPoolEngine(
      options,
      () => this.session(),
      new RequestCounter(),
      noWorkerTimeout === undefined ? {} : { noWorkerTimeout },
    );
  }

  /** Jobs in this backend's table: those of Pools' map calls and of the HTTP API. */
  jobs(): JobService {
    return new AwsJobService(() => this.session(), this.defaultProcesses());
  }

  /**
   * The backend's one connection to its resources, opened on first use (which loads the AWS
   * SDK) and shared by its pools and primitives. A failed open is not kept: fixing the
   * environment and trying again works.
   */
  session(): Promise<AwsSession> {
    if (!this.openSession) {
      const opening = this.loadConfig().then(async (config) => {
        const { AwsSession } = await import('./AwsSession.js');
        return AwsSession.open(config, this.counter);
      });
      this.openSession = opening;
      opening.catch(() => {
        if (this.openSession === opening) this.openSession = undefined;
      });
    }
    return this.openSession;
  }

  /** Closes the session's sockets; the next use opens a new one. */
  async close(): Promise<void> {
    const opened = this.openSession;
    this.openSession = undefined;
    (await opened?.catch(() => undefined))?.close();
  }

  private loadConfig(): Promise<AwsConfig> {
    if (!this.config) {
      const loading = resolveAwsConfig().then((config) => (this.knownConfig = config));
      this.config = loading;
      // A failed load is not kept: fixing the environment and creating a new pool works.
      loading.catch(() => {
        if (this.config === loading) this.config = undefined;
      });
    }
    return this.config;
  }
}
