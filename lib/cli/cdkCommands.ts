import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingDependencyError } from '../errors.js';
import { cdkInvocation, type CdkVerb } from './cdkInvocation.js';
import type { CommandContext } from './CommandContext.js';
import { CommandUnavailableError } from './CommandUnavailableError.js';
import { collect, matching, singleValue } from './optionParsers.js';
import { quietAwsSdk } from './quietAwsSdk.js';
import { reportFailure } from './reportFailure.js';
import { spawnCommand } from './spawnCommand.js';
import { taskModulePaths } from './taskModules.js';
import { UsageError } from './UsageError.js';

interface CdkArguments {
  tasks: string[];
  stackName?: string;
  profile?: string;
  region?: string;
}

/** The stack name when `--stack-name` is not given (the CDK app's own default). */
const DEFAULT_STACK_NAME = 'Fanout';

/** What the CDK route needs in the user's project. */
export const CDK_INSTALL = 'npm install --save-dev aws-cdk aws-cdk-lib constructs';

const SUMMARIES: Record<CdkVerb, string> = {
  synth: 'Synthesize fanout’s stack with your task modules into cdk.out (no AWS account needed).',
  deploy: 'Deploy fanout’s stack (queues, Lambda workers, table, bucket) with your task modules.',
  destroy: 'Delete a stack that fanout deploy made.',
};

/**
 * Adds `fanout synth`, `fanout deploy` and `fanout destroy`: the CDK CLI (installed in the
 * user's project) run on fanout's CDK app, with the user's `--tasks` bundled into the worker.
 *
 * @example
 * ```ts
 * addCdkCommands(program, context);
 * ```
 */
export function addCdkCommands(program: Command, context: CommandContext): void {
  for (const verb of ['synth', 'deploy', 'destroy'] as const) {
    program
      .command(verb)
      .summary(SUMMARIES[verb])
      .description(
        `Runs \`cdk ${verb}\` (aws-cdk, from your project) on fanout’s CDK app: one stack with the ` +
          'task queue, the worker Lambda (your task modules bundled in, locally with esbuild), the ' +
          'DynamoDB table and the S3 bucket. Writes cdk.out in the current directory. A program ' +
          'then reaches the stack with FANOUT_BACKEND=aws FANOUT_STACK=<stack name>. Arguments ' +
          `after -- go to cdk (for example: fanout ${verb} --tasks src/tasks.ts -- ` +
          `${verb === 'synth' ? '--quiet' : verb === 'deploy' ? '--require-approval never' : '--force'}).`,
      )
      .usage('--tasks <module...> [--stack-name NAME] [--profile NAME] [--region REGION] [-- cdk options]')
      .addOption(
        new Option('--tasks <module...>', 'the task modules to bundle into the worker (one or more paths; required)')
          .argParser(collect('a task module path'))
          .makeOptionMandatory(),
      )
      .addOption(
        new Option('--stack-name <name>', `the CloudFormation stack (default: ${DEFAULT_STACK_NAME})`).argParser(
          matching(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a letter, then letters, digits and hyphens, at most 128 characters'),
        ),
      )
      .addOption(
        new Option('--profile <name>', 'the AWS profile (cdk --profile)').argParser(
          singleValue('a profile name', (value) => (value === '' ? undefined : value)),
        ),
      )
      .addOption(
        new Option('--region <region>', 'the AWS region (sets AWS_REGION for cdk)').argParser(
          matching(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS region, like us-east-1 or eu-west-3'),
        ),
      )
      .action(async (options: CdkArguments) => {
        const tasks = taskModulePaths(options.tasks, verb, context.cwd);
        const withComma = options.tasks.find((_module, index) => tasks[index]!.includes(','));
        if (withComma !== undefined) {
          throw new UsageError(
            `the task module path '${withComma}' contains a comma, which the CDK app's list of modules cannot hold; rename or move it.`,
            { command: verb, option: '--tasks', value: withComma },
          );
        }
        quietAwsSdk();
        try {
          const invocation = cdkInvocation({
            verb,
            ...locateCdk(verb, context.cwd),
            tasks,
            stackName: options.stackName ?? DEFAULT_STACK_NAME,
            ...(options.profile !== undefined ? { profile: options.profile } : {}),
            ...(options.region !== undefined ? { region: options.region } : {}),
            extra: context.passthrough,
            cwd: context.cwd,
            env: process.env,
          });
          context.exitCode = await (context.services.spawn ?? spawnCommand)(invocation);
        } catch (error) {
          reportFailure(context, verb, error);
        }
      });
  }
}

/**
 * fanout's CDK app — `infra/app.ts` run through tsx in a source checkout (this module is
 * TypeScript), or the compiled `infra/app.js` of the package — and the CDK CLI's entry script,
 * resolved from the user's project (so the CDK version is theirs). Throws
 * {@link MissingDependencyError} naming every package that cannot be found: aws-cdk from the
 * project, aws-cdk-lib and constructs from the app.
 */
function locateCdk(verb: CdkVerb, cwd: string): { cdkBin: string; app: { file: string; loader?: string } } {
  const source = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`../../infra/app.${source ? 'ts' : 'js'}`, import.meta.url));
  if (!existsSync(file)) {
    throw new CommandUnavailableError(
      verb,
      file,
      `'fanout ${verb}' needs fanout's CDK app (${file}), which this build of fanout does not include.`,
    );
  }
  const cdkBin = tryResolve(createRequire(join(cwd, 'package.json')), 'aws-cdk/bin/cdk');
  const missing = [
    ...(cdkBin === undefined ? ['aws-cdk'] : []),
    ...['aws-cdk-lib', 'constructs'].filter((name) => tryResolve(createRequire(file), name) === undefined),
  ];
  if (cdkBin === undefined || missing.length > 0) {
    throw new MissingDependencyError(`'fanout ${verb}' (run in ${cwd})`, missing, CDK_INSTALL);
  }
  return { cdkBin, app: source ? { file, loader: import.meta.resolve('tsx') } : { file } };
}

function tryResolve(require: NodeJS.Require, name: string): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}
