import type { Backend } from '../../backend/Backend.js';
import type { PoolEngine, PoolEngineOptions } from '../../backend/PoolEngine.js';
import { InvalidArgumentError } from '../../errors.js';
import { resolveAwsConfig, type AwsConfig } from './AwsConfig.js';
import { AwsPoolEngine } from './AwsPoolEngine.js';
import type { RequestCounter } from './RequestCounter.js';

/** Options of {@link AwsBackend}. */
export interface AwsBackendOptions {
  /** Where the resources are. @default read from the environment on first use ({@link resolveAwsConfig}) */
  config?: AwsConfig;
  /** Counts the requests of every pool of this backend. @default one counter per pool */
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
  private config: Promise<AwsConfig> | undefined;

  constructor(private readonly options: AwsBackendOptions = {}) {
    if (options.config) this.config = Promise.resolve(options.config);
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
      () => this.loadConfig(),
      this.options.counter,
      noWorkerTimeout === undefined ? {} : { noWorkerTimeout },
    );
  }

  private loadConfig(): Promise<AwsConfig> {
    if (!this.config) {
      const loading = resolveAwsConfig();
      this.config = loading;
      // A failed load is not kept: fixing the environment and creating a new pool works.
      loading.catch(() => {
        if (this.config === loading) this.config = undefined;
      });
    }
    return this.config;
  }
}
