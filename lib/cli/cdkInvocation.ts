import { shellQuote } from './shellEnvironment.js';
import type { CommandInvocation } from './spawnCommand.js';

/** The CDK CLI commands that fanout wraps. */
export type CdkVerb = 'synth' | 'deploy' | 'destroy';

/** What {@link cdkInvocation} needs: where things are, and the user's options. */
export interface CdkRequest {
  verb: CdkVerb;
  /** The CDK CLI's entry script (`aws-cdk/bin/cdk`, as resolved from the user's project). */
  cdkBin: string;
  /** fanout's CDK app, with the command that runs it: `node [--import <tsx>] <app>`. */
  app: { file: string; loader?: string };
  /** Absolute paths of the task modules to bundle. */
  tasks: string[];
  stackName: string;
  profile?: string;
  region?: string;
  /** Arguments after `--`, for the CDK CLI. */
  extra: readonly string[];
  /** The user's project: where cdk runs and writes `cdk.out`. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The node executable. @default process.execPath */
  node?: string;
}

/**
 * The command line that runs `cdk <verb>` on fanout's CDK app with the user's task modules:
 * `node <cdk> <verb> <stack> --app '<node> <app>' --output cdk.out -c taskModules=... -c
 * stackName=... [--profile P] [extra...]`, in the user's directory. The region goes in the
 * environment (`AWS_REGION`, `AWS_DEFAULT_REGION`), where the CDK CLI reads it; it has no flag.
 *
 * @example
 * ```ts
 * const call = cdkInvocation({ verb: 'synth', cdkBin, app: { file: appFile }, tasks: ['/app/src/tasks.ts'],
 *   stackName: 'Fanout', extra: [], cwd: '/app', env: process.env });
 * await spawnCommand(call);
 * ```
 */
export function cdkInvocation(request: CdkRequest): CommandInvocation {
  const node = request.node ?? process.execPath;
  const appCommand = [node, ...(request.app.loader ? ['--import', request.app.loader] : []), request.app.file]
    .map(shellQuote)
    .join(' ');
  return {
    command: node,
    args: [
      request.cdkBin,
      request.verb,
      request.stackName,
      '--app',
      appCommand,
      '--output',
      'cdk.out',
      '--context',
      `taskModules=${request.tasks.join(',')}`,
      '--context',
      `stackName=${request.stackName}`,
      ...(request.profile !== undefined ? ['--profile', request.profile] : []),
      ...request.extra,
    ],
    cwd: request.cwd,
    env: {
      ...request.env,
      ...(request.region !== undefined ? { AWS_REGION: request.region, AWS_DEFAULT_REGION: request.region } : {}),
    },
  };
}
