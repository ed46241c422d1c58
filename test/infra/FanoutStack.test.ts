import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FANOUT_OUTPUTS, FanoutStack } from '../../infra/FanoutStack.js';
import { FIXTURE_HANDLER, FIXTURE_TASKS, SYNTH_TIMEOUT_MS, newApp } from './fixtures/synth.js';

/** Every acknowledgment (rule id → reason) recorded on the construct tree under `scope`. */
function acknowledgments(scope: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.set(`${construct.node.path} ${id.replace(/^annotation::/i, '')}`, reason);
      }
    }
  }
  return found;
}

describe('FanoutStack', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let app: App;
  let stack: FanoutStack;
  let template: Template;

  beforeAll(() => {
    // No bundling: the template is the same, and cdk-nag reads only the template.
    app = newApp({ bundle: false });
    // As infra/app.ts registers it: synthesis fails on any unacknowledged AwsSolutions error.
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    stack = new FanoutStack(app, 'MyFanout', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER });
    template = Template.fromStack(stack);
  }, SYNTH_TIMEOUT_MS);

  it('has exactly the outputs the client reads, exported under the stack name', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([...FANOUT_OUTPUTS].sort());
    const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
    const { fanout } = stack;
    const urlId = id(fanout.apiFunctionUrl!);
    const expected = {
      QueueUrl: { Ref: id(fanout.queue) },
      DeadLetterQueueUrl: { Ref: id(fanout.deadLetterQueue) },
      TableName: { Ref: id(fanout.table) },
      BucketName: { Ref: id(fanout.bucket) },
      WorkerFunctionName: { Ref: id(fanout.workerFunction) },
      Region: { Ref: 'AWS::Region' },
      // The Function URL's host, without the URL's trailing slash: `${ApiUrl}/jobs` is the path /jobs.
      ApiUrl: {
        'Fn::Join': ['', ['https://', { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [urlId, 'FunctionUrl'] }] }] }]],
      },
    };
    for (const name of FANOUT_OUTPUTS) {
      template.hasOutput(name, { Value: expected[name], Export: { Name: `MyFanout-${name}` } });
    }
  });

  it('passes construct props through', () => {
    const app2 = newApp({ bundle: false });
    const custom = new FanoutStack(app2, 'Sized', {
      taskModules: [FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      workerMemoryMb: 5307,
      description: 'custom',
    });
    const sized = Template.fromStack(custom);
    sized.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 5307 });
    expect(sized.toJSON().Description).toBe('custom');
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged errors or warnings', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(report.violations.map((violation) => `${violation.severity} ${violation.ruleName}`)).toEqual([]);
    expect(report.success).toBe(true);
    // And the synthesis the app runs, with the plugin registered, succeeds.
    expect(() => app.synth()).not.toThrow();
  });

  it('has no CDK warnings or errors', () => {
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('acknowledges only reviewed cdk-nag rules, each with a reason', () => {
    const acks = acknowledgments(stack);
    const bucketId = stack.getLogicalId(stack.fanout.bucket.node.defaultChild as s3.CfnBucket);
    expect([...acks.keys()].sort()).toEqual(
      [
        'MyFanout/Fanout/AccessLogBucket AwsSolutions-S1',
        'MyFanout/Fanout/Worker AwsSolutions-L1',
        // No action wildcard any more; only the object key patterns of the exact S3 actions.
        `MyFanout/Fanout/WorkerRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*/args/*]`,
        `MyFanout/Fanout/WorkerRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*/results/*]`,
        // The shared objects: big queue and pipe items, a Process's big arguments.
        `MyFanout/Fanout/WorkerRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/objects/*]`,
        `MyFanout/Fanout/WorkerRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/processes/*/args]`,
        // The API function: its runtime, and the key patterns of its exact S3 actions.
        'MyFanout/Fanout/Api AwsSolutions-L1',
        `MyFanout/Fanout/ApiRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*/args/*]`,
        `MyFanout/Fanout/ApiRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*/results/*]`,
        `MyFanout/Fanout/ApiRole AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/uploads/*]`,
      ].sort(),
    );
    for (const reason of acks.values()) expect(reason.length).toBeGreaterThan(40);
  });

  it("passes cdk-nag AwsSolutions as well with removal 'retain' and an alarm topic", () => {
    const app2 = newApp({ bundle: false });
    const topic = sns.Topic.fromTopicArn(new Stack(app2, 'Ops'), 'Alarms', 'arn:aws:sns:eu-west-1:123456789012:fanout-alarms');
    const custom = new FanoutStack(app2, 'Retained', {
      taskModules: [FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      removal: 'retain',
      alarmTopic: topic,
    });
    Template.fromStack(custom).resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:fanout-alarms'] },
      2,
    );
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(custom);
    expect(report.violations.map((violation) => `${violation.severity} ${violation.ruleName}`)).toEqual([]);
    expect(Annotations.fromStack(custom).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('api: false — no API function, URL or ApiUrl output, the other outputs as before, and cdk-nag still passes', () => {
    const app2 = newApp({ bundle: false });
    const bare = new FanoutStack(app2, 'NoApi', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER, api: false });
    const noApi = Template.fromStack(bare);
    expect(Object.keys(noApi.toJSON().Outputs).sort()).toEqual(FANOUT_OUTPUTS.filter((name) => name !== 'ApiUrl').sort());
    noApi.resourceCountIs('AWS::Lambda::Url', 0);
    noApi.resourcePropertiesCountIs('AWS::Lambda::Function', { Environment: { Variables: { FANOUT_FUNCTION: 'api' } } }, 0);
    expect(bare.fanout.apiFunction).toBeUndefined();
    expect(bare.fanout.apiUrl).toBeUndefined();
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(bare);
    expect(report.violations.map((violation) => `${violation.severity} ${violation.ruleName}`)).toEqual([]);
    expect([...acknowledgments(bare).keys()].filter((key) => key.includes('/Api'))).toEqual([]);
  });

  it('the same check does report a non-compliant resource (so the zero above means something)', () => {
    const control = new App();
    Validations.of(control).addPlugins(new AwsSolutionsChecks(control));
    const bare = new Stack(control, 'Control');
    new s3.Bucket(bare, 'Bare');
    const rules = new AwsSolutionsChecks().validateScope(bare).violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    expect(() => control.synth()).toThrow(/AwsSolutions-S1|Validation failed/);
  });
});
