import { TaskRegistry } from '../runtime/TaskRegistry.js';
import type { RunCommand } from './CliCommand.js';
import { ensureTypeScriptLoader } from '../runtime/typeScriptLoader.js';

/**
 * Runs a program as `fanout run` does: sets `FANOUT_BACKEND` and `FANOUT_PROCESSES` from the
 * options, makes `process.argv` look as if the program had been started with `node <file> ...`,
 * marks the file as the entry script (so that a task defined in it is refused with a clear
 * error, instead of every worker re-running the program), then imports it. Resolves when the
 * program's top-level code has finished; rejects with what it threw.
 *
 * @example
 * ```ts
 * await runProgram(parseCommandLine(['run', 'examples/main-job.ts']) as RunCommand);
 * ```
 */
export async function runProgram(command: RunCommand): Promise<void> {
  if (command.backend !== undefined) process.env.FANOUT_BACKEND = command.backend;
  if (command.processes !== undefined) process.env.FANOUT_PROCESSES = String(command.processes);
  process.argv = [process.argv[0]!, command.file, ...command.programArgs];
  TaskRegistry.current.setEntryScript(command.fileUrl);
  await ensureTypeScriptLoader(command.fileUrl);
  await import(command.fileUrl);
}
