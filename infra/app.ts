/**
 * The CDK app (`cdk.json` runs it with tsx): one {@link FanoutStack}, checked by cdk-nag's
 * AwsSolutions pack. Settings come from CDK context or the environment; see `appConfig`.
 *
 * @example
 * ```sh
 * npx cdk synth --quiet -c taskModules=src/tasks.ts
 * FANOUT_STACK=FanoutDev npx cdk deploy
 * ```
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { appConfig } from './appConfig.js';
import { FanoutStack } from './FanoutStack.js';

const app = new App();
const config = appConfig(app);
new FanoutStack(app, config.stackName, {
  stackName: config.stackName,
  description: 'fanout: SQS task queue, Lambda workers, DynamoDB state and S3 payloads',
  taskModules: config.taskModules,
  ...(config.workerEntry === undefined ? {} : { entry: config.workerEntry }),
});
// cdk-nag v3 is a policy-validation plugin: synth fails on any unacknowledged AwsSolutions error.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
