import { inject } from 'vitest';
import { Context } from 'fanout';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { provisionResources } from '../../lib/backends/aws/emulator.js';
import { startFleet, type TestFleet } from '../integration/awsHarness.js';
import { definePoolConformance } from './poolConformance.js';

// The same suite as on the local backend, on the emulated aws backend: chunks travel over SQS
// (fauxqs) to an in-process worker fleet, results come back through DynamoDB (dynalite).
let fleet: TestFleet | undefined;
let context: Context | undefined;

definePoolConformance('aws, emulated', {
  async setup() {
    const config = await provisionResources(inject('awsEmulators'), { name: `conformance-${process.pid}` });
    fleet = startFleet(config);
    // As a deployed stack's Lambdas are warm: the suite's first call has a one-second deadline.
    await fleet.ready;
    context = new Context(new AwsBackend({ config }));
  },
  context: () => context!,
  async teardown() {
    await fleet?.stop();
  },
});
