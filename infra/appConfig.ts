import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import { InvalidArgumentError } from '../lib/errors.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The task modules bundled into the worker, in a checkout of fanout, when neither the
 * `taskModules` context nor `FANOUT_TASK_MODULES` names any: the repository's example tasks
 * (paths relative to the repository root). The npm package has no default.
 */
export const DEFAULT_TASK_MODULES: readonly string[] = ['examples/primeTasks.ts', 'examples/seedTasks.ts'];

/** The stack name when neither the `stackName` context nor `FANOUT_STACK` sets one. */
export const DEFAULT_STACK_NAME = 'Fanout';

/** What `infra/app.ts` builds: see {@link appConfig}. */
export interface AppConfig {
  stackName: string;
  /** Absolute paths. */
  taskModules: string[];
  /** The worker handler module, when overridden; absolute. */
  workerEntry: string | undefined;
}

/**
 * Reads the app's settings, CDK context first, then the environment, then defaults:
 * - stack name: context `stackName`, env `FANOUT_STACK`, default `Fanout`;
 * - task modules: context `taskModules` or env `FANOUT_TASK_MODULES`, comma-separated paths
 *   relative to the working directory; default {@link DEFAULT_TASK_MODULES};
 * - worker handler: context `workerEntry` or env `FANOUT_WORKER_ENTRY`; default the construct's.
 *
 * @example
 * ```ts
 * // npx cdk synth -c stackName=Dev -c taskModules=src/tasks.ts,src/more.ts
 * const { stackName, taskModules } = appConfig(app);
 * ```
 */
export function appConfig(app: App, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const stackName = setting(app, 'stackName', env, 'FANOUT_STACK') ?? DEFAULT_STACK_NAME;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new InvalidArgumentError(
      'The stack name (context stackName or FANOUT_STACK)',
      stackName,
      'a CloudFormation stack name: a letter, then letters, digits and hyphens, at most 128 characters',
    );
  }
  const listed = setting(app, 'taskModules', env, 'FANOUT_TASK_MODULES');
  let taskModules: string[];
  if (listed === undefined) {
    // The examples are there only in a checkout of fanout; a project names its own modules.
    if (!import.meta.url.endsWith('.ts')) {
      throw new InvalidArgumentError(
        'The task modules (context taskModules or FANOUT_TASK_MODULES)',
        listed,
        'a comma-separated list of paths of task modules',
        'Name the modules that define your tasks: npx fanout deploy --tasks src/tasks.ts, or npx cdk deploy -c taskModules=src/tasks.ts.',
      );
    }
    taskModules = DEFAULT_TASK_MODULES.map((module) => join(REPO_ROOT, module));
  } else {
    taskModules = listed
      .split(',')
      .map((module) => module.trim())
      .filter((module) => module.length > 0)
      .map((module) => (isAbsolute(module) ? module : resolve(cwd, module)));
    if (taskModules.length === 0) {
      throw new InvalidArgumentError(
        'The task modules (context taskModules or FANOUT_TASK_MODULES)',
        listed,
        'a comma-separated list of paths of task modules',
      );
    }
  }
  const entry = setting(app, 'workerEntry', env, 'FANOUT_WORKER_ENTRY');
  const workerEntry = entry === undefined ? undefined : isAbsolute(entry) ? entry : resolve(cwd, entry);
  return { stackName, taskModules, workerEntry };
}

/** A non-empty string setting from the context, else from the environment. */
function setting(app: App, contextKey: string, env: NodeJS.ProcessEnv, envKey: string): string | undefined {
  const fromContext: unknown = app.node.tryGetContext(contextKey);
  if (fromContext !== undefined && fromContext !== null && fromContext !== '') {
    if (typeof fromContext !== 'string') {
      throw new InvalidArgumentError(`The CDK context value ${contextKey}`, fromContext, 'a string');
    }
    return fromContext;
  }
  const fromEnv = env[envKey];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
