/**
 * Helpers for the tests of the deployed artifact: the repository's CDK app synthesized once
 * (shared by the test files of a run through a lock, and kept while the sources are unchanged),
 * its stack provisioned on the emulators of the global setup, and its worker asset run by the
 * Lambda runner.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { LambdaRunner, type LambdaRunnerOptions } from '../../lib/backends/aws/lambda/LambdaRunner.js';
import type { InvocationRecord } from '../../lib/backends/aws/lambda/invocation.js';
import { provisionStack, type ProvisionedStack, type ProvisionStackOptions } from '../../lib/backends/aws/StackProvisioner.js';
import type { StackTemplate } from '../../lib/backends/aws/stackTemplate.js';
import { synthesizeStack } from '../../lib/backends/aws/synthesizeStack.js';

// The SDK's notice about Node versions says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The stack the asset tests synthesize with the repository's app (infra/app.ts). */
export const ASSET_STACK_NAME = 'FanoutAssetTest';
/** The task modules bundled into its worker. */
export const ASSET_TASK_MODULES = ['test/fixtures/tasks.ts', 'test/fixtures/awsTasks.ts', 'test/fixtures/asset/assetTasks.ts'];
/** What the asset is built from: a change to any of these synthesizes again. */
const SOURCES = ['lib', 'functions', 'infra', 'test/fixtures', 'package-lock.json', 'cdk.json'];
const SYNTH_WAIT_MS = 240_000;
const STALE_LOCK_MS = 200_000;

/**
 * The template of the asset stack, synthesized with `npx cdk synth --quiet` (the repository's
 * app, with cdk-nag) into `.fanout/asset-synth/<hash of the sources>/`. Test files running at
 * once wait for one synth; a later run with the same sources reuses it.
 */
export async function synthesizedTemplate(): Promise<string> {
  const key = sourceHash();
  const root = join(REPO_ROOT, '.fanout', 'asset-synth');
  const outdir = join(root, key);
  const done = join(outdir, 'synth-done');
  const lock = join(root, `${key}.lock`);
  const template = join(outdir, `${ASSET_STACK_NAME}.template.json`);
  mkdirSync(root, { recursive: true });
  const deadline = Date.now() + SYNTH_WAIT_MS;
  for (;;) {
    if (existsSync(done)) return template;
    try {
      mkdirSync(lock);
    } catch {
      // Another test file is synthesizing (or died doing it: then its lock goes stale).
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the asset synth (lock ${lock}).`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      if (existsSync(done)) return template;
      rmSync(outdir, { recursive: true, force: true });
      await synthesizeStack({
        projectRoot: REPO_ROOT,
        outdir,
        stackName: ASSET_STACK_NAME,
        context: { stackName: ASSET_STACK_NAME, taskModules: ASSET_TASK_MODULES.join(',') },
      });
      writeFileSync(done, '');
      for (const entry of readdirSync(root)) {
        if (entry !== key && !entry.endsWith('.lock')) rmSync(join(root, entry), { recursive: true, force: true });
      }
      return template;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) add(join(path, entry));
    } else {
      hash.update(relative(REPO_ROOT, path));
      hash.update(readFileSync(path));
    }
  };
  for (const source of SOURCES) add(join(REPO_ROOT, source));
  hash.update(JSON.stringify(ASSET_TASK_MODULES));
  return hash.digest('hex').slice(0, 16);
}

/** Provisions a copy of the asset stack (or of `template`, a path or a template read or made) in the emulators, under a fresh name. */
export async function provisionAsset(
  prefix: string,
  options: Omit<ProvisionStackOptions, 'name'> & { template?: string | StackTemplate } = {},
): Promise<ProvisionedStack> {
  const { template, ...rest } = options;
  return provisionStack(template ?? (await synthesizedTemplate()), inject('awsEmulators'), {
    ...rest,
    name: `${prefix}-${randomBytes(4).toString('hex')}`,
  });
}

/** A started runner of a stack's worker, with what it logged and the records of its invocations. */
export interface TestRunner {
  runner: LambdaRunner;
  records: InvocationRecord[];
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts a runner of the stack's worker function on its event source (two environments unless
 * told otherwise). Set FANOUT_TEST_LAMBDA_LOGS=1 to print the functions' logs.
 */
export async function startRunner(stack: ProvisionedStack, options: Partial<LambdaRunnerOptions> = {}): Promise<TestRunner> {
  const records: InvocationRecord[] = [];
  const logs: string[] = [];
  const runner = new LambdaRunner(stack.worker.function, {
    config: stack.config,
    eventSource: stack.worker.eventSource,
    maxEnvironments: 2,
    ...options,
    // The SDK's notice about this machine's Node version says nothing about the function.
    environment: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.environment },
    log: (line) => {
      logs.push(line);
      if (process.env.FANOUT_TEST_LAMBDA_LOGS) console.log(`[lambda] ${line}`);
      options.log?.(line);
    },
    onInvocation: (record) => {
      records.push(record);
      options.onInvocation?.(record);
    },
  });
  await runner.start();
  return { runner, records, logs, stop: () => runner.stop() };
}

/** Whether a process is alive (a stopped one counts: it exists). */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A process's state letter from /proc (`T` when stopped), or undefined when it is gone. */
export function processState(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
