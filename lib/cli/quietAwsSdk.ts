/**
 * Keeps the AWS SDK from printing its notice that it will drop Node 20 (a process warning it
 * emits at the first client it builds, unless `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED`
 * is `true`). Called by fanout's own commands — `worker`, `emulator`, `synth`, `deploy`,
 * `destroy` — whose output is fanout's, and inherited by the processes they start (the CDK CLI
 * bundles the same SDK). Not by `fanout run`: the program is the user's, and so is the notice
 * about the Node version it runs on. A value the user set is left alone.
 *
 * @example
 * ```ts
 * quietAwsSdk();
 * const { runWorkerFleet } = await import('../backends/aws/WorkerFleet.js');
 * ```
 */
export function quietAwsSdk(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
