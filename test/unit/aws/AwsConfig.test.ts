import { afterEach, describe, expect, it } from 'vitest';
import { AwsConfigError, Context, Pool } from 'fanout';
import { resolveAwsConfig } from '../../../lib/backends/aws/AwsConfig.js';
import { AwsBackend } from '../../../lib/backends/aws/AwsBackend.js';
import { square } from '../../fixtures/tasks.js';

describe('resolveAwsConfig', () => {
  it('names every missing variable', async () => {
    const error = await resolveAwsConfig({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsConfigError);
    expect((error as AwsConfigError).missing).toEqual(['FANOUT_QUEUE_URL', 'FANOUT_TABLE', 'FANOUT_BUCKET', 'AWS_REGION']);
    expect((error as Error).message).toContain('FANOUT_STACK');
  });

  it('reads the FANOUT_* variables, the region and the emulator endpoints', async () => {
    const config = await resolveAwsConfig({
      FANOUT_QUEUE_URL: 'http://localhost:4566/000000000000/tasks',
      FANOUT_DLQ_URL: 'http://localhost:4566/000000000000/dlq',
      FANOUT_TABLE: 'state',
      FANOUT_BUCKET: 'payloads',
      FANOUT_RETENTION_SECONDS: '3600',
      AWS_ENDPOINT_URL_SQS: 'http://localhost:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:4567',
    });
    expect(config).toEqual({
      region: 'us-east-1',
      queueUrl: 'http://localhost:4566/000000000000/tasks',
      deadLetterQueueUrl: 'http://localhost:4566/000000000000/dlq',
      table: 'state',
      bucket: 'payloads',
      retentionSeconds: 3600,
      endpoints: { sqs: 'http://localhost:4566', s3: undefined, dynamodb: 'http://localhost:4567' },
    });
  });

  it('needs a region against real AWS, and rejects a bad retention', async () => {
    const base = { FANOUT_QUEUE_URL: 'https://sqs/q', FANOUT_TABLE: 't', FANOUT_BUCKET: 'b' };
    const noRegion = await resolveAwsConfig(base).catch((e: unknown) => e);
    expect((noRegion as AwsConfigError).missing).toEqual(['AWS_REGION']);
    const badRetention = await resolveAwsConfig({ ...base, AWS_REGION: 'eu-west-1', FANOUT_RETENTION_SECONDS: 'soon' }).catch(
      (e: unknown) => e,
    );
    expect(badRetention).toBeInstanceOf(AwsConfigError);
    expect((badRetention as Error).message).toContain('FANOUT_RETENTION_SECONDS');
  });
});

describe('aws backend configuration errors reach the caller', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('a pool on an unconfigured aws backend fails its calls with AwsConfigError (no hang)', async () => {
    for (const name of ['FANOUT_STACK', 'FANOUT_QUEUE_URL', 'FANOUT_TABLE', 'FANOUT_BUCKET']) delete process.env[name];
    const pool = new Pool(2, new AwsBackend());
    const error = await pool.map(square, [1, 2, 3]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsConfigError);
    expect((error as Error).message).toContain('FANOUT_QUEUE_URL');
    await pool.terminate();
  });

  it('a queue that cannot be reached fails the call with AwsConfigError naming the queue', async () => {
    const config = {
      region: 'us-east-1',
      queueUrl: 'http://127.0.0.1:9/000000000000/nowhere',
      table: 't',
      bucket: 'b',
      retentionSeconds: 3600,
      endpoints: { sqs: 'http://127.0.0.1:9', s3: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' },
    };
    const mp = new Context(new AwsBackend({ config }));
    const pool = new mp.Pool(2);
    const error = await pool.apply(square, [2]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsConfigError);
    expect((error as Error).message).toContain('nowhere');
    await pool.terminate();
  }, 30_000);

  it('getContext("aws") is the aws backend, with FANOUT_PROCESSES as its default size', async () => {
    const { getContext } = await import('fanout');
    process.env.FANOUT_PROCESSES = '12';
    expect(getContext('aws').name).toBe('aws');
    expect(getContext('aws').backend.defaultProcesses()).toBe(12);
  });
});
