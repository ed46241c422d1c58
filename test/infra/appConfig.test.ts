import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STACK_NAME, DEFAULT_TASK_MODULES, appConfig } from '../../infra/appConfig.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { REPO_ROOT } from './fixtures/synth.js';

const app = (context: Record<string, unknown> = {}) => new App({ context });

describe('appConfig', () => {
  it('defaults: stack Fanout, the repository example tasks, the construct handler', () => {
    expect(appConfig(app(), {}, '/somewhere')).toEqual({
      stackName: DEFAULT_STACK_NAME,
      taskModules: DEFAULT_TASK_MODULES.map((module) => join(REPO_ROOT, module)),
      workerEntry: undefined,
    });
    expect(DEFAULT_STACK_NAME).toBe('Fanout');
  });

  it('reads the environment: FANOUT_STACK, FANOUT_TASK_MODULES (comma-separated, from the cwd), FANOUT_WORKER_ENTRY', () => {
    const env = { FANOUT_STACK: 'FanoutDev', FANOUT_TASK_MODULES: 'src/a.ts, /abs/b.ts,', FANOUT_WORKER_ENTRY: 'h.ts' };
    expect(appConfig(app(), env, '/proj')).toEqual({
      stackName: 'FanoutDev',
      taskModules: ['/proj/src/a.ts', '/abs/b.ts'],
      workerEntry: '/proj/h.ts',
    });
  });

  it('prefers the CDK context over the environment', () => {
    const context = { stackName: 'FromContext', taskModules: 'c.ts', workerEntry: '/x/handler.ts' };
    const env = { FANOUT_STACK: 'FromEnv', FANOUT_TASK_MODULES: 'e.ts' };
    expect(appConfig(app(context), env, '/p')).toEqual({
      stackName: 'FromContext',
      taskModules: ['/p/c.ts'],
      workerEntry: '/x/handler.ts',
    });
  });

  it('rejects a stack name CloudFormation would refuse', () => {
    expect(() => appConfig(app({ stackName: '1bad_name' }), {})).toThrow(InvalidArgumentError);
    expect(() => appConfig(app(), { FANOUT_STACK: 'a'.repeat(129) })).toThrow(/must be a CloudFormation stack name/);
  });

  it('rejects a task module list with no paths, and a context value that is not a string', () => {
    expect(() => appConfig(app({ taskModules: ' , ' }), {})).toThrow(
      "The task modules (context taskModules or FANOUT_TASK_MODULES) must be a comma-separated list of paths of task modules; got ' , ' (string).",
    );
    expect(() => appConfig(app({ taskModules: 3 }), {})).toThrow(
      'The CDK context value taskModules must be a string; got 3 (number).',
    );
  });
});
