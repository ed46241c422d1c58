import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { StackTemplateError } from '../../errors.js';

/** Options of {@link synthesizeStack}. */
export interface SynthesizeStackOptions {
  /** The CDK project (where `cdk.json` is). @default the working directory */
  projectRoot?: string;
  /** Where the cloud assembly goes. @default `<projectRoot>/cdk.out` */
  outdir?: string;
  /** The stack whose template to return, when the app has several. */
  stackName?: string;
  /** CDK context values (`-c key=value`), e.g. fanout's app reads `stackName` and `taskModules` (comma-separated). */
  context?: Record<string, string>;
  /** @default 180000 */
  timeoutMs?: number;
}

/**
 * Synthesizes a CDK app with its own CLI (`npx cdk synth --quiet`), as a user does before
 * deploying, and returns the path of the stack's template in the cloud assembly: the template
 * and assets that `cdk deploy` would ship. Rejects with {@link StackTemplateError} carrying the
 * CLI's output when the synth fails.
 *
 * @example
 * ```ts
 * const template = await synthesizeStack({ context: { stackName: 'Dev', taskModules: 'src/tasks.ts' } });
 * const stack = await provisionStack(template, emulators.endpoints);
 * ```
 */
export async function synthesizeStack(options: SynthesizeStackOptions = {}): Promise<string> {
  const projectRoot = resolve(options.projectRoot ?? process.cwd());
  if (!existsSync(join(projectRoot, 'cdk.json'))) {
    throw new StackTemplateError(`No cdk.json in ${projectRoot}: synthesizeStack needs the root of a CDK project.`, projectRoot);
  }
  const outdir = options.outdir === undefined ? join(projectRoot, 'cdk.out') : resolve(projectRoot, options.outdir);
  const args = ['cdk', 'synth', '--quiet', '--output', outdir];
  for (const [key, value] of Object.entries(options.context ?? {})) args.push('--context', `${key}=${value}`);
  await new Promise<void>((done, fail) => {
    execFile(
      'npx',
      args,
      { cwd: projectRoot, timeout: options.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return done();
        const output = `${stderr}\n${stdout}`.trim().split('\n').slice(-20).join('\n');
        fail(new StackTemplateError(`npx ${args.join(' ')} failed in ${projectRoot}:\n${output}`, projectRoot, error));
      },
    );
  });
  return templateOf(outdir, options.stackName);
}

/** The template file of a stack in a cloud assembly, read from its manifest. */
function templateOf(outdir: string, stackName: string | undefined): string {
  const manifestPath = join(outdir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  const chosen = stackName
    ? stacks.filter(([id, artifact]) => id === stackName || artifact.properties?.stackName === stackName)
    : stacks;
  if (chosen.length !== 1) {
    const names = stacks.map(([id]) => id).join(', ') || 'none';
    throw new StackTemplateError(
      stackName
        ? `The cloud assembly ${outdir} has no stack '${stackName}' (its stacks: ${names}).`
        : `The cloud assembly ${outdir} has ${stacks.length} stacks (${names}): name one with stackName.`,
      manifestPath,
    );
  }
  const file = chosen[0]![1].properties?.templateFile ?? `${chosen[0]![0]}.template.json`;
  return isAbsolute(file) ? file : join(outdir, file);
}
