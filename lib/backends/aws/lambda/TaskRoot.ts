import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../../errors.js';

/** The packages Lambda's Node.js runtime provides next to the function's code: the AWS SDK v3. */
const RUNTIME_PACKAGE_SCOPES = ['@aws-sdk', '@smithy'];

/**
 * A function's code laid out as in a Lambda execution environment: a copy of the asset
 * directory (Lambda's `/var/task`), outside any project, so that the code finds only what it
 * bundled, plus the AWS SDK that the Node.js runtime provides (links to an installed copy, one
 * directory up, where module resolution looks after the task root). A dependency missing from
 * the bundle fails here as it would in Lambda, instead of being found in the project's
 * `node_modules`.
 *
 * @example
 * ```ts
 * const root = TaskRoot.create(worker.codeDirectory!);
 * // ... run environments with cwd root.taskRoot ...
 * root.remove();
 * ```
 */
export class TaskRoot {
  private constructor(
    /** The copy of the code (`LAMBDA_TASK_ROOT`). */
    readonly taskRoot: string,
    /** The directory holding the runtime's modules (`LAMBDA_RUNTIME_DIR`). */
    readonly runtimeDirectory: string,
  ) {}

  /**
   * Copies `codeDirectory` into a new temporary directory and links the runtime's packages from
   * `runtimeModules` (a `node_modules` directory holding `@aws-sdk`). @default the `node_modules`
   * this package resolves the AWS SDK from
   */
  static create(codeDirectory: string, runtimeModules: string = defaultRuntimeModules()): TaskRoot {
    if (typeof codeDirectory !== 'string' || !existsSync(codeDirectory) || !statSync(codeDirectory).isDirectory()) {
      throw new InvalidArgumentError(
        'LambdaRunner: the function code directory',
        codeDirectory,
        'an existing directory (the asset in cdk.out)',
      );
    }
    if (!existsSync(join(runtimeModules, '@aws-sdk'))) {
      throw new InvalidArgumentError(
        'LambdaRunner: options.runtimeModules',
        runtimeModules,
        'a node_modules directory holding @aws-sdk',
      );
    }
    const base = mkdtempSync(join(tmpdir(), 'fanout-lambda-'));
    const taskRoot = join(base, 'task');
    cpSync(codeDirectory, taskRoot, { recursive: true });
    const modules = join(base, 'node_modules');
    mkdirSync(modules);
    for (const scope of RUNTIME_PACKAGE_SCOPES) {
      if (existsSync(join(runtimeModules, scope))) symlinkSync(join(runtimeModules, scope), join(modules, scope), 'dir');
    }
    return new TaskRoot(taskRoot, base);
  }

  /** Deletes the copy (the linked runtime packages stay where they are). */
  remove(): void {
    rmSync(this.runtimeDirectory, { recursive: true, force: true });
  }
}

function defaultRuntimeModules(): string {
  const entry = createRequire(import.meta.url).resolve('@aws-sdk/client-sqs');
  const marker = `${join('node_modules', '@aws-sdk')}`;
  return entry.slice(0, entry.lastIndexOf(marker) + 'node_modules'.length);
}
