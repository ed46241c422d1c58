/**
 * `fanout/cdk`: the AWS CDK construct and stack of fanout's aws backend, for your own CDK app.
 * Needs `aws-cdk-lib` and `constructs` (peer dependencies), and `esbuild` to bundle the worker.
 *
 * @example
 * ```ts
 * import { App, Stack } from 'aws-cdk-lib';
 * import { Fanout } from 'fanout/cdk';
 *
 * const stack = new Stack(new App(), 'MyApp');
 * const fanout = new Fanout(stack, 'Fanout', { taskModules: ['src/tasks.ts'] });
 * ```
 */
export { Fanout, type FanoutProps } from './Fanout.js';
export { FanoutStack, FANOUT_OUTPUTS, type FanoutStackProps, type FanoutOutputName } from './FanoutStack.js';
