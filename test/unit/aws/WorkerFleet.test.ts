import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'fanout';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { AwsClients } from '../../../lib/backends/aws/AwsClients.js';
import { runWorkerFleet } from '../../../lib/backends/aws/WorkerFleet.js';
import { WORKER_FLEET_LIMITS } from '../../../lib/backends/aws/workerFleetLimits.js';
import { provisionForTest } from '../../integration/awsHarness.js';

// The command line of `fanout worker` is tested with the CLI (test/cli); these are the options.
describe('runWorkerFleet options', () => {
  it('refuses out-of-range fleet options, naming them, before touching AWS', async () => {
    await expect(runWorkerFleet({ batchSize: 11 })).rejects.toThrow(/batchSize must be a whole number from 1 to 10; got 11/);
    await expect(runWorkerFleet({ threads: 0 })).rejects.toThrow(/threads/);
    await expect(runWorkerFleet({ waitTimeSeconds: 2.5 })).rejects.toThrow(InvalidArgumentError);
    await expect(runWorkerFleet({ timeout: 901 })).rejects.toThrow(/timeout must be a whole number from 1 to 900; got 901/);
  });

  it('refuses a value one past either end of each range it publishes for the CLI', async () => {
    for (const [option, [min, max]] of Object.entries(WORKER_FLEET_LIMITS)) {
      const allowed = new RegExp(`${option} must be a whole number from ${min} to ${max}`);
      await expect(runWorkerFleet({ [option]: min - 1 })).rejects.toThrow(allowed);
      await expect(runWorkerFleet({ [option]: max + 1 })).rejects.toThrow(allowed);
    }
  });
});

describe('runWorkerFleet deadlines (emulators)', () => {
  /** The remaining time the handler's context reports when the fleet's first invocation starts. */
  async function remainingAtStart(options: { timeout?: number }): Promise<number> {
    // A short visibility timeout: the deadline must not count down from it.
    const config = await provisionForTest('fleet-timeout', { visibilityTimeoutSeconds: 5 });
    const clients = new AwsClients(config);
    const stop = new AbortController();
    let remaining: number | undefined;
    try {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: 'not a chunk' }));
      await runWorkerFleet({
        ...options,
        config,
        threads: 1,
        concurrency: 1,
        waitTimeSeconds: 1,
        signal: stop.signal,
        handler: async (_event, context) => {
          remaining ??= context.getRemainingTimeInMillis();
          stop.abort();
          return { batchItemFailures: [] };
        },
      });
    } finally {
      clients.destroy();
    }
    return remaining!;
  }

  it("counts each invocation's context down from the stack's function timeout (300 s), not the visibility timeout", async () => {
    const remaining = await remainingAtStart({});
    expect(remaining).toBeGreaterThan(290_000);
    expect(remaining).toBeLessThanOrEqual(300_000);
  });

  it('counts down from the timeout given', async () => {
    const remaining = await remainingAtStart({ timeout: 42 });
    expect(remaining).toBeGreaterThan(32_000);
    expect(remaining).toBeLessThanOrEqual(42_000);
  });
});
