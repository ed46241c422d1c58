import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CommandUnavailableError } from './CommandUnavailableError.js';

/** What `fanout worker` expects of the aws backend's worker fleet module. */
export interface WorkerFleetModule {
  /** Runs the fleet with the arguments after `fanout worker`; resolves to an exit code (or nothing for 0). */
  runWorkerFleet(args: string[]): Promise<number | void> | number | void;
}

/**
 * The module that implements `fanout worker`, written by the aws backend (as TypeScript; a
 * compiled `.js` or `.mjs` next to it is found too).
 *
 * @example
 * ```ts
 * await runWorkerCommand(['--help'], workerFleetModule);
 * ```
 */
export const workerFleetModule = new URL('../backends/aws/WorkerFleet.ts', import.meta.url);

/**
 * Runs `fanout worker`: imports the aws backend's worker fleet only now (so `fanout run` never
 * loads the aws code) and hands it the arguments. Throws {@link CommandUnavailableError} when
 * the module is not part of this build or does not export `runWorkerFleet`.
 *
 * @example
 * ```ts
 * process.exitCode = await runWorkerCommand(['--queue', 'jobs']);
 * ```
 */
export async function runWorkerCommand(args: string[], module: URL = workerFleetModule): Promise<number> {
  // Look before importing, so that a module missing here is not confused with a module that is
  // present but fails to import one of its own dependencies (that error is passed on as it is).
  const path = fileURLToPath(module);
  const candidates = [path, path.replace(/\.ts$/, '.js'), path.replace(/\.ts$/, '.mjs')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new CommandUnavailableError(
      'worker',
      module.href,
      `'fanout worker' needs the aws backend's worker fleet (${path}), which this build of fanout does not include.`,
    );
  }
  const loaded = (await import(pathToFileURL(found).href)) as Partial<WorkerFleetModule>;
  if (typeof loaded.runWorkerFleet !== 'function') {
    throw new CommandUnavailableError(
      'worker',
      module.href,
      `'fanout worker': ${found} does not export a function runWorkerFleet(args: string[]).`,
    );
  }
  const code = await loaded.runWorkerFleet(args);
  return typeof code === 'number' ? code : 0;
}
