import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './UsageError.js';

/**
 * Checks the task modules given to `--tasks` and returns their absolute paths: each must be a
 * file (relative paths are resolved against `cwd`); a file: URL is taken as its path.
 *
 * @example
 * ```ts
 * taskModulePaths(['src/tasks.ts'], 'deploy', '/app'); // ['/app/src/tasks.ts']
 * ```
 */
export function taskModulePaths(modules: readonly string[], command: string, cwd: string): string[] {
  return modules.map((module) => {
    let absolute: string;
    try {
      absolute = module.startsWith('file:') ? fileURLToPath(module) : resolve(cwd, module);
    } catch {
      throw new UsageError(`the task module '${module}' is not a valid file: URL.`, {
        command,
        option: '--tasks',
        value: module,
      });
    }
    let isFile: boolean;
    try {
      isFile = statSync(absolute).isFile();
    } catch {
      throw new UsageError(`the task module '${module}' does not exist (looked for ${absolute}).`, {
        command,
        option: '--tasks',
        value: module,
      });
    }
    if (!isFile) {
      throw new UsageError(`the task module '${module}' is not a file (${absolute}).`, {
        command,
        option: '--tasks',
        value: module,
      });
    }
    return absolute;
  });
}
