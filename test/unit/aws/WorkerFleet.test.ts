import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'fanout';
import { runWorkerFleet } from '../../../lib/backends/aws/WorkerFleet.js';
import { WORKER_FLEET_LIMITS } from '../../../lib/backends/aws/workerFleetLimits.js';

// The command line of `fanout worker` is tested with the CLI (test/cli); these are the options.
describe('runWorkerFleet options', () => {
  it('refuses out-of-range fleet options, naming them, before touching AWS', async () => {
    await expect(runWorkerFleet({ batchSize: 11 })).rejects.toThrow(/batchSize must be a whole number from 1 to 10; got 11/);
    await expect(runWorkerFleet({ threads: 0 })).rejects.toThrow(/threads/);
    await expect(runWorkerFleet({ waitTimeSeconds: 2.5 })).rejects.toThrow(InvalidArgumentError);
  });

  it('refuses a value one past either end of each range it publishes for the CLI', async () => {
    for (const [option, [min, max]] of Object.entries(WORKER_FLEET_LIMITS)) {
      const allowed = new RegExp(`${option} must be a whole number from ${min} to ${max}`);
      await expect(runWorkerFleet({ [option]: min - 1 })).rejects.toThrow(allowed);
      await expect(runWorkerFleet({ [option]: max + 1 })).rejects.toThrow(allowed);
    }
  });
});
