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
// It is an optional peer dependency of the package: checked when installed (always, in fanout's
// own repository, where it is a dev dependency).
const cdkNag = await import('cdk-nag').catch((error: unknown) => {
  if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write(
    'fanout: cdk-nag is not installed; the AwsSolutions checks are skipped (npm install --save-dev cdk-nag).\n',
  );
  return undefined;
});
if (cdkNag) Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
app.synth();
