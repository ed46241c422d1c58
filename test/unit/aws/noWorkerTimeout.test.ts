import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'fanout';
import { Context } from '../../../lib/api/Context.js';
import { AwsBackend } from '../../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../../lib/backends/aws/AwsConfig.js';

const config: AwsConfig = {
  region: 'us-east-1',
  queueUrl: 'http://127.0.0.1:1/000000000000/q',
  table: 't',
  bucket: 'b',
  retentionSeconds: 3600,
};

describe('the aws pool option noWorkerTimeout and FANOUT_NO_WORKER_TIMEOUT_MS', () => {
  afterEach(() => {
    delete process.env.FANOUT_NO_WORKER_TIMEOUT_MS;
  });

  it('refuses a bad option or environment value with an error naming it (no request is made)', () => {
    const optionError = (() => {
      try {
        new new Context(new AwsBackend({ config, noWorkerTimeout: -1 })).Pool(1);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(optionError).toBeInstanceOf(InvalidArgumentError);
    expect(optionError!.message).toBe(
      'noWorkerTimeout must be a whole number of milliseconds ≥ 0 (0 waits for ever); got -1 (number).',
    );
    process.env.FANOUT_NO_WORKER_TIMEOUT_MS = '2 minutes';
    expect(() => new new Context(new AwsBackend({ config })).Pool(1)).toThrow(
      /the FANOUT_NO_WORKER_TIMEOUT_MS environment variable must be a whole number of milliseconds ≥ 0 .*got '2 minutes'/,
    );
    // The option wins over the environment.
    expect(() => new new Context(new AwsBackend({ config, noWorkerTimeout: 0 })).Pool(1)).not.toThrow();
  });
});
