/**
 * The allowed ranges of the worker fleet's numeric options, shared by `runWorkerFleet` and the
 * `fanout worker` command line. A module of its own, without the AWS SDK, so the CLI can check
 * its arguments before loading the aws backend.
 *
 * @example
 * ```ts
 * const [min, max] = WORKER_FLEET_LIMITS.batchSize; // [1, 10]
 * ```
 */
export const WORKER_FLEET_LIMITS = {
  threads: [1, 256],
  concurrency: [1, 1000],
  /** SQS returns at most 10 messages per receive. */
  batchSize: [1, 10],
  /** SQS long polls last at most 20 s. */
  waitTimeSeconds: [0, 20],
  /** SQS visibility timeouts go up to 12 hours. */
  visibilityTimeout: [0, 43_200],
  /** A Lambda function's timeout goes up to 15 minutes. */
  timeout: [1, 900],
} as const satisfies Record<string, readonly [number, number]>;
