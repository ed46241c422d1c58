import { AwsConfigError } from '../../errors.js';

/** Where the aws backend's resources are, and how long its records live. */
export interface AwsConfig {
  region: string;
  /** The task queue's URL. */
  queueUrl: string;
  /** The task queue's dead-letter queue, watched by clients so that poison chunks fail their job. */
  deadLetterQueueUrl?: string | undefined;
  /** The DynamoDB table for results and state (`pk`/`sk` strings, TTL attribute `expiresAt`). */
  table: string;
  /** The S3 bucket for payloads too big for a message or an item. */
  bucket: string;
  /** Seconds a run's records are kept (the table's TTL and the bucket's expiry). @default 86400 */
  retentionSeconds: number;
  /** Endpoints of emulators (fauxqs, dynalite, LocalStack); unset means the real AWS endpoints. */
  endpoints?: { sqs?: string | undefined; s3?: string | undefined; dynamodb?: string | undefined } | undefined;
}

/** Stack outputs the client reads (the names of `FanoutStack`'s outputs). */
export const STACK_OUTPUTS = {
  queueUrl: 'QueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  table: 'TableName',
  bucket: 'BucketName',
  region: 'Region',
} as const;

const DEFAULT_RETENTION_SECONDS = 86_400;

type Environment = Record<string, string | undefined>;

/**
 * Reads the aws backend's configuration: the outputs of the stack named by `FANOUT_STACK`
 * (read with CloudFormation `DescribeStacks`), overridden by `FANOUT_QUEUE_URL`, `FANOUT_TABLE`,
 * `FANOUT_BUCKET`, `FANOUT_DLQ_URL`; the region from `AWS_REGION` (or the stack's); endpoints
 * from `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_DYNAMODB`.
 * Rejects with {@link AwsConfigError} naming whatever is missing.
 *
 * @example
 * ```ts
 * const config = await resolveAwsConfig(); // FANOUT_STACK=Fanout, or the FANOUT_* variables
 * ```
 */
export async function resolveAwsConfig(env: Environment = process.env): Promise<AwsConfig> {
  const stack = nonEmpty(env.FANOUT_STACK);
  return configFrom(env, stack ? await readStackOutputs(stack, env) : {}, stack);
}

/**
 * The configuration from the environment alone, when it needs no look-up: every `FANOUT_*`
 * variable set (as the stack sets them for its workers, and `fanout emulator` prints them).
 * `undefined` when `FANOUT_STACK` would have to be read first; throws {@link AwsConfigError} as
 * {@link resolveAwsConfig} does when neither is set.
 *
 * @example
 * ```ts
 * const config = awsConfigFromEnvironment() ?? (await resolveAwsConfig());
 * ```
 */
export function awsConfigFromEnvironment(env: Environment = process.env): AwsConfig | undefined {
  const stack = nonEmpty(env.FANOUT_STACK);
  if (stack && !(nonEmpty(env.FANOUT_QUEUE_URL) && nonEmpty(env.FANOUT_TABLE) && nonEmpty(env.FANOUT_BUCKET))) return undefined;
  return configFrom(env, {}, stack);
}

function configFrom(env: Environment, outputs: Record<string, string>, stack: string | undefined): AwsConfig {
  const endpoints = {
    sqs: nonEmpty(env.AWS_ENDPOINT_URL_SQS) ?? nonEmpty(env.AWS_ENDPOINT_URL),
    s3: nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL),
    dynamodb: nonEmpty(env.AWS_ENDPOINT_URL_DYNAMODB) ?? nonEmpty(env.AWS_ENDPOINT_URL),
  };
  const emulated = Boolean(endpoints.sqs || endpoints.s3 || endpoints.dynamodb);
  const settings = {
    queueUrl: nonEmpty(env.FANOUT_QUEUE_URL) ?? outputs[STACK_OUTPUTS.queueUrl],
    table: nonEmpty(env.FANOUT_TABLE) ?? outputs[STACK_OUTPUTS.table],
    bucket: nonEmpty(env.FANOUT_BUCKET) ?? outputs[STACK_OUTPUTS.bucket],
    region:
      nonEmpty(env.AWS_REGION) ??
      nonEmpty(env.AWS_DEFAULT_REGION) ??
      outputs[STACK_OUTPUTS.region] ??
      (emulated ? 'us-east-1' : undefined),
  };
  const variables: Record<keyof typeof settings, string> = {
    queueUrl: 'FANOUT_QUEUE_URL',
    table: 'FANOUT_TABLE',
    bucket: 'FANOUT_BUCKET',
    region: 'AWS_REGION',
  };
  const missing = (Object.keys(settings) as Array<keyof typeof settings>)
    .filter((key) => settings[key] === undefined)
    .map((key) => variables[key]);
  if (missing.length > 0) {
    const source = stack
      ? `The stack '${stack}' (FANOUT_STACK) lacks the outputs for them and they are not set in the environment.`
      : 'Set FANOUT_STACK to the name of a deployed fanout stack, or set these variables (`npx fanout emulator` prints them for the emulators).';
    throw new AwsConfigError(
      `The aws backend is not configured: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing. ${source}`,
      missing,
    );
  }
  const retention = parseRetention(env.FANOUT_RETENTION_SECONDS);
  return {
    region: settings.region!,
    queueUrl: settings.queueUrl!,
    deadLetterQueueUrl: nonEmpty(env.FANOUT_DLQ_URL) ?? outputs[STACK_OUTPUTS.deadLetterQueueUrl],
    table: settings.table!,
    bucket: settings.bucket!,
    retentionSeconds: retention,
    ...(emulated ? { endpoints } : {}),
  };
}

function parseRetention(value: string | undefined): number {
  if (nonEmpty(value) === undefined) return DEFAULT_RETENTION_SECONDS;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 60) {
    throw new AwsConfigError(`FANOUT_RETENTION_SECONDS must be a whole number of seconds ≥ 60; got '${value}'.`, []);
  }
  return seconds;
}

async function readStackOutputs(stack: string, env: Environment): Promise<Record<string, string>> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const response = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const outputs: Record<string, string> = {};
    for (const output of response.Stacks?.[0]?.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
    }
    return outputs;
  } catch (cause) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new AwsConfigError(
      `Could not read the outputs of the stack '${stack}' (FANOUT_STACK) with CloudFormation DescribeStacks: ${reason}. ` +
        'Check the stack name, the region (AWS_REGION) and your AWS credentials.',
      ['FANOUT_STACK'],
      cause,
    );
  } finally {
    client.destroy();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
