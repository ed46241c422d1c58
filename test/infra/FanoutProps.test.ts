import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { Fanout, type FanoutProps } from '../../infra/Fanout.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { FIXTURE_HANDLER, FIXTURE_TASKS, newApp } from './fixtures/synth.js';

/** Builds a Fanout in a fresh stack; every prop is checked before any resource (or bundle) is made. */
function build(props: Partial<FanoutProps>): Fanout {
  const stack = new Stack(newApp({ bundle: false }), 'Props');
  return new Fanout(stack, 'Fanout', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER, ...props });
}

function errorOf(props: Partial<FanoutProps>): InvalidArgumentError {
  try {
    build(props);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    return error as InvalidArgumentError;
  }
  throw new Error(`no error for ${JSON.stringify(props)}`);
}

describe('Fanout props validation', () => {
  it.each([
    [{ workerMemoryMb: 127 }, 'Fanout props.workerMemoryMb must be an integer from 128 to 10240; got 127 (number).'],
    [{ workerMemoryMb: 10_241 }, 'Fanout props.workerMemoryMb must be an integer from 128 to 10240; got 10241 (number).'],
    [{ workerMemoryMb: 1769.5 }, 'Fanout props.workerMemoryMb must be an integer from 128 to 10240; got 1769.5 (number).'],
    [{ batchSize: 0 }, 'Fanout props.batchSize must be an integer from 1 to 10; got 0 (number).'],
    [{ batchSize: 11 }, 'Fanout props.batchSize must be an integer from 1 to 10; got 11 (number).'],
    [{ maxConcurrency: 1 }, 'Fanout props.maxConcurrency must be an integer from 2 to 1000; got 1 (number).'],
    [{ maxConcurrency: 1001 }, 'Fanout props.maxConcurrency must be an integer from 2 to 1000; got 1001 (number).'],
    [{ maxReceiveCount: 4 }, 'Fanout props.maxReceiveCount must be an integer from 5 to 1000; got 4 (number).'],
    [{ maxReceiveCount: 1001 }, 'Fanout props.maxReceiveCount must be an integer from 5 to 1000; got 1001 (number).'],
  ] as [Partial<FanoutProps>, string][])('rejects %o', (props, message) => {
    const error = errorOf(props);
    expect(error.message).toBe(message);
    expect(error.option).toBe(`Fanout props.${Object.keys(props)[0]}`);
  });

  it('rejects a number where a count is expected as a string', () => {
    expect(errorOf({ batchSize: '5' as unknown as number }).message).toBe(
      "Fanout props.batchSize must be an integer from 1 to 10; got '5' (string).",
    );
  });

  it.each([
    [
      { workerTimeout: Duration.seconds(901) },
      /^Fanout props\.workerTimeout \(in seconds\) must be whole seconds from 1 to 900 .*got 901 \(number\)\. That is 15 minutes 1 second\.$/,
    ],
    [
      { workerTimeout: Duration.millis(1500) },
      /^Fanout props\.workerTimeout \(in seconds\) must be whole seconds from 1 to 900 .*got 1\.5 \(number\)/,
    ],
    [
      { workerTimeout: Duration.seconds(0) },
      /^Fanout props\.workerTimeout \(in seconds\) must be whole seconds from 1 to 900 .*got 0 \(number\)/,
    ],
    [
      { retention: Duration.minutes(59) },
      /^Fanout props\.retention \(in seconds\) must be whole seconds from 3600 to 31536000 \(from 1 hour to 365 days\); got 3540 \(number\)/,
    ],
    [
      { retention: Duration.days(366) },
      /^Fanout props\.retention \(in seconds\) must be whole seconds from 3600 to 31536000 .*got 31622400 \(number\)/,
    ],
  ] as [Partial<FanoutProps>, RegExp][])('rejects a duration out of range: %o', (props, message) => {
    expect(errorOf(props).message).toMatch(message);
  });

  it('rejects a visibility timeout under the worker timeout (CreateEventSourceMapping refuses it), naming the floor', () => {
    const error = errorOf({ workerTimeout: Duration.minutes(10), visibilityTimeout: Duration.seconds(599) });
    expect(error.message).toBe(
      'Fanout props.visibilityTimeout (in seconds) must be whole seconds from 600 to 43200 ' +
        '(at least workerTimeout and 2 × maxBatchingWindow, at most 12 hours, the SQS maximum); got 599 (number). ' +
        'That is 9 minutes 59 seconds.',
    );
  });

  it('rejects a visibility timeout under 2 × the batching window', () => {
    const error = errorOf({
      workerTimeout: Duration.seconds(30),
      maxBatchingWindow: Duration.seconds(60),
      visibilityTimeout: Duration.seconds(119),
    });
    expect(error.message).toMatch(
      /^Fanout props\.visibilityTimeout \(in seconds\) must be whole seconds from 120 to 43200 .*got 119 \(number\)/,
    );
  });

  it('rejects a visibility timeout over 12 hours', () => {
    expect(errorOf({ visibilityTimeout: Duration.seconds(43_201) }).message).toMatch(/from 300 to 43200 .*got 43201 \(number\)/);
  });

  it('rejects a batching window out of range', () => {
    expect(errorOf({ maxBatchingWindow: Duration.seconds(301) }).message).toMatch(
      /^Fanout props\.maxBatchingWindow \(in seconds\) must be whole seconds from 0 to 300 \(from 0 to 5 minutes, Lambda's limit\); got 301 \(number\)/,
    );
    expect(errorOf({ maxBatchingWindow: Duration.millis(500) }).message).toMatch(/got 0\.5 \(number\)/);
  });

  it('accepts the bounds: the worker timeout, 2 × the batching window, and 12 hours', () => {
    expect(() =>
      build({ workerTimeout: Duration.seconds(1), visibilityTimeout: Duration.seconds(1), retention: Duration.hours(1) }),
    ).not.toThrow();
    expect(() =>
      build({
        workerTimeout: Duration.seconds(30),
        maxBatchingWindow: Duration.seconds(60),
        visibilityTimeout: Duration.seconds(120),
      }),
    ).not.toThrow();
    expect(() => build({ visibilityTimeout: Duration.hours(12), retention: Duration.days(365) })).not.toThrow();
  });

  it('defaults the visibility timeout to 2 × the worker timeout, or 2 × the batching window when that is longer', () => {
    const queueVisibility = (fanout: Fanout) => {
      const stack = Stack.of(fanout);
      return Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fanout.queue.node.defaultChild as sqs.CfnQueue)]
        .Properties.VisibilityTimeout;
    };
    expect(queueVisibility(build({ workerTimeout: Duration.seconds(90) }))).toBe(180);
    expect(queueVisibility(build({ workerTimeout: Duration.seconds(30), maxBatchingWindow: Duration.seconds(100) }))).toBe(200);
  });

  it('rejects a duration that is not a Duration', () => {
    expect(errorOf({ workerTimeout: 300 as unknown as Duration }).message).toBe(
      'Fanout props.workerTimeout must be a Duration (from aws-cdk-lib); got 300 (number).',
    );
  });

  it('rejects an architecture other than arm64 and x86_64', () => {
    expect(errorOf({ architecture: lambda.Architecture.custom('riscv64', 'linux/riscv64') }).message).toBe(
      "Fanout props.architecture must be Architecture.ARM_64 or Architecture.X86_64; got 'riscv64' (string).",
    );
  });

  it('rejects no task modules', () => {
    expect(errorOf({ taskModules: [] }).message).toBe(
      'Fanout props.taskModules must be a non-empty array of paths of task modules; got an array of length 0. ' +
        'The worker imports them to register your tasks.',
    );
    expect(errorOf({ taskModules: undefined }).option).toBe('Fanout props.taskModules');
  });

  it('rejects a task module that does not exist, saying where a relative path resolves', () => {
    const error = errorOf({ taskModules: [FIXTURE_TASKS, 'no/such/tasks.ts'] });
    expect(error.option).toBe('Fanout props.taskModules[1]');
    expect(error.message).toBe(
      "Fanout props.taskModules[1] must be the path of an existing file; got 'no/such/tasks.ts' (string). " +
        `It resolves to ${process.cwd()}/no/such/tasks.ts (relative paths are from the working directory).`,
    );
  });

  it('names the full path of a long missing task module (the value itself is shortened)', () => {
    const long = `/${'very-long-directory-name/'.repeat(4)}tasks.ts`;
    expect(errorOf({ taskModules: [long] }).message).toContain(`The path: ${long}.`);
  });

  it('rejects a directory as a task module', () => {
    expect(errorOf({ taskModules: [tmpdir()] }).option).toBe('Fanout props.taskModules[0]');
  });

  it('rejects a handler entry that does not exist', () => {
    expect(errorOf({ entry: '/no/such/handler.ts' }).message).toBe(
      "Fanout props.entry must be the path of an existing file; got '/no/such/handler.ts' (string).",
    );
  });

  it('rejects an API entry that does not exist, an api that is not a boolean, and an API entry with api: false', () => {
    expect(errorOf({ apiEntry: '/no/such/api.ts' }).message).toBe(
      "Fanout props.apiEntry must be the path of an existing file; got '/no/such/api.ts' (string).",
    );
    expect(errorOf({ api: 'yes' as unknown as boolean }).message).toBe(
      "Fanout props.api must be true (serve the jobs API) or false; got 'yes' (string).",
    );
    expect(errorOf({ api: false, apiEntry: FIXTURE_HANDLER }).message).toMatch(
      /^Fanout props\.apiEntry must be undefined when props\.api is false; got '.*handler\.ts' \(string\)\. There is no API function/,
    );
  });

  it('accepts api: false (no API function) and an API entry of its own', () => {
    expect(build({ api: false }).apiFunction).toBeUndefined();
    expect(build({ apiEntry: FIXTURE_HANDLER }).apiBundleEntry).toBeDefined();
  });

  it.each([
    ['keep', "Fanout props.removal must be 'destroy' or 'retain'; got 'keep' (string)."],
    ['DESTROY', "Fanout props.removal must be 'destroy' or 'retain'; got 'DESTROY' (string)."],
    [RemovalPolicy.SNAPSHOT, "Fanout props.removal must be 'destroy' or 'retain'; got 'snapshot' (string)."],
    [3, "Fanout props.removal must be 'destroy' or 'retain'; got 3 (number)."],
  ] as [unknown, string][])('rejects removal %o', (removal, message) => {
    const error = errorOf({ removal: removal as FanoutProps['removal'] });
    expect(error.option).toBe('Fanout props.removal');
    expect(error.message).toBe(message);
  });

  it("accepts removal 'destroy' and 'retain', which are also the values of RemovalPolicy.DESTROY and RETAIN", () => {
    for (const removal of ['destroy', 'retain', RemovalPolicy.DESTROY, RemovalPolicy.RETAIN] as const) {
      expect(() => build({ removal })).not.toThrow();
    }
  });

  it.each([
    ['arn:aws:sns:eu-west-1:123456789012:alarms', "got 'arn:aws:sns:eu-west-1:123456789012:alarms' (string)."],
    [{ topicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms' }, 'got an object of type Object.'],
    [null, 'got null.'],
  ] as [unknown, string][])('rejects an alarm topic that is not an sns.ITopic: %o', (alarmTopic, got) => {
    expect(errorOf({ alarmTopic: alarmTopic as sns.ITopic }).message).toBe(
      'Fanout props.alarmTopic must be an sns.ITopic (new sns.Topic(...) or sns.Topic.fromTopicArn(...)), or undefined; ' + got,
    );
  });

  it('accepts an imported topic as the alarm topic', () => {
    const stack = new Stack(newApp({ bundle: false }), 'Imported');
    const topic = sns.Topic.fromTopicArn(stack, 'Alarms', 'arn:aws:sns:eu-west-1:123456789012:alarms');
    const fanout = new Fanout(stack, 'Fanout', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER, alarmTopic: topic });
    // Resolved without a synth (the first synth of a process takes seconds: CDK's template validation).
    for (const alarm of [fanout.deadLetterAlarm, fanout.workerErrorsAlarm]) {
      const actions = stack.resolve((alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmActions) as unknown;
      expect(actions).toEqual(['arn:aws:sns:eu-west-1:123456789012:alarms']);
    }
  });

  it('rejects a project root without a lock file', () => {
    expect(errorOf({ projectRoot: mkdtempSync(join(tmpdir(), 'fanout-no-lock-')) }).message).toMatch(
      /^Fanout props\.projectRoot must be a directory holding a lock file \(package-lock\.json, yarn\.lock, pnpm-lock\.yaml, bun\.lockb\)/,
    );
  });
});
