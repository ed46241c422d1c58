import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * True when fanout runs from its TypeScript sources (a checkout of fanout, under tsx or vitest);
 * false when it runs compiled (the npm package's `dist/`, or bundled into a program).
 */
export const runningFromSources = import.meta.url.endsWith('.ts');

let bundled: boolean | undefined;

/**
 * True when fanout was bundled into the program (esbuild, Rollup...): its compiled runtime files
 * are not beside its code. A bundle then runs itself as its threads' script and finds tasks by
 * the names it registered when it loaded, as the Lambda bundle does.
 *
 * @example
 * ```ts
 * if (runningBundled()) console.log('threads run', process.argv[1]);
 * ```
 */
export function runningBundled(): boolean {
  bundled ??= !runningFromSources && !existsSync(fileURLToPath(new URL('./workerThread.js', import.meta.url)));
  return bundled;
}

/** What a thread that fanout starts runs: a pool worker, or a `Process`. */
export type ThreadRole = 'worker' | 'process';

/**
 * The script of a thread fanout starts. From the sources: a bootstrap that registers tsx (threads
 * do not inherit a test runner's loader). Compiled: the compiled runtime, with no TypeScript loader
 * (one is registered only if a task module is TypeScript). Bundled: the program's entry script.
 *
 * @example
 * ```ts
 * new Worker(threadScript('worker'), { workerData });
 * ```
 */
export function threadScript(role: ThreadRole): URL {
  if (runningFromSources) {
    return new URL(role === 'worker' ? './workerBootstrap.mjs' : './processBootstrap.mjs', import.meta.url);
  }
  if (!runningBundled()) return new URL(role === 'worker' ? './workerThread.js' : './processThread.js', import.meta.url);
  // The entry script, where the program's tasks are; without one (node -e), this very bundle.
  const entry = process.argv[1];
  return entry ? pathToFileURL(entry) : new URL(import.meta.url);
}

/**
 * The Node.js options a thread fanout starts inherits: the process's own, less those about how
 * the main script itself is read (`--input-type=module` of a `node -e` program would make a thread
 * read its script as that input), which would stop every thread at start-up.
 *
 * @example
 * ```ts
 * new Worker(threadScript('worker'), { execArgv: threadExecArgv(), workerData });
 * ```
 */
export function threadExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const option = execArgv[i]!;
    if (option === '--input-type') i++;
    else if (!option.startsWith('--input-type=')) kept.push(option);
  }
  return kept;
}
