import { inject } from 'vitest';
import { Context } from 'fanout';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { provisionResources } from '../../lib/backends/aws/emulator.js';
import { startFleet, type TestFleet } from '../integration/awsHarness.js';
import type { ConformanceTarget } from './ConformanceTarget.js';

/**
 * The emulated aws backend as a conformance target: fresh resources on fauxqs and dynalite, an
 * in-process worker fleet (the real worker handler) for pool tasks and Process targets, and a
 * context over them. Shared objects live in DynamoDB, and reach the fleet's threads as handles.
 *
 * @example
 * ```ts
 * defineSyncConformance('aws, emulated', awsTarget('sync'));
 * ```
 */
export function awsTarget(name: string): ConformanceTarget {
  let fleet: TestFleet | undefined;
  let context: Context | undefined;
  return {
    async setup() {
      const config = await provisionResources(inject('awsEmulators'), { name: `${name}-${process.pid}` });
      // Enough workers for the suites' blocking tasks (waiters, parties, consumers), one chunk per
      // batch as Lambda's environments each take their own: like a deployment's scale-out.
      fleet = startFleet(config, { threads: 8, concurrency: 8, batchSize: 1 });
      // As a deployed stack's Lambdas are warm.
      await fleet.ready;
      context = new Context(new AwsBackend({ config }));
    },
    context: () => context!,
    async teardown() {
      await fleet?.stop();
    },
    // A lock or counter in DynamoDB takes milliseconds: the stress tests run a thousandth as long.
    scale: (localCount) => Math.max(4, Math.ceil(localCount / 1000)),
    // The worker polls stop requests every 500 ms; a loaded machine adds seconds to the requests.
    stopLatencyMs: 5_000,
  };
}
