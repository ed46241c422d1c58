import { Context } from 'fanout';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { definePoolConformance } from '../conformance/poolConformance.js';
import { square } from '../fixtures/tasks.js';
import { provisionAsset, startRunner, type TestRunner } from './assetHarness.js';

// The Pool conformance suite on the emulated aws backend through the deployed artifact: the
// stack synthesized by the repository's CDK app, provisioned from its template, and its worker
// asset (cdk.out) run by the Lambda runner as the event source mapping says (batches of 10,
// ReportBatchItemFailures; 1,769 MB, so one worker thread per environment), in two environments.
let lambda: TestRunner | undefined;
let context: Context | undefined;

definePoolConformance('aws, emulated, deployed asset', {
  async setup() {
    const stack = await provisionAsset('asset-pool');
    lambda = await startRunner(stack, { maxEnvironments: 2 });
    context = new Context(new AwsBackend({ config: stack.config }));
    // As a deployed stack's Lambdas are warm when the suite's one-second deadline starts.
    await using warmUp = new context.Pool(2);
    await warmUp.map(square, [1, 2], { chunksize: 1 });
  },
  context: () => context!,
  async teardown() {
    await lambda?.stop();
  },
});
