import type { JobService } from '../backend/JobService.js';
import type { SqsBatchHandler } from '../backends/aws/WorkerFleet.js';
import type { RunCommand } from './runProgram.js';
import type { CommandSpawner } from './spawnCommand.js';

/** Where the CLI writes (the process's streams, or a buffer in tests). */
export interface CliOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * What the CLI's commands reach outside themselves; each has a default, and tests or scripts
 * replace one where the real thing cannot run (there is no AWS account for `fanout deploy`).
 *
 * @example
 * ```ts
 * const spawned: CommandInvocation[] = [];
 * await main(['deploy', '--tasks', 'src/tasks.ts'], process, { spawn: async (call) => (spawned.push(call), 0) });
 * ```
 */
export interface CliServices {
  /** Runs the program of `fanout run`. @default runProgram */
  runProgram?: (command: RunCommand) => Promise<void>;
  /** Starts a command (the CDK CLI) and resolves to its exit code. @default spawnCommand */
  spawn?: CommandSpawner;
  /** The handler `fanout worker` invokes with each batch. @default the worker runtime */
  workerHandler?: SqsBatchHandler;
  /** The user's project directory: relative paths and `cdk.out` are there. @default process.cwd() */
  cwd?: string;
  /** The jobs `fanout jobs` reads. @default the aws backend's, from the FANOUT_* environment */
  jobs?: () => JobService | Promise<JobService>;
  /** Stops the long-running commands (`emulator`, `worker`), as SIGINT does. */
  signal?: AbortSignal;
}

/**
 * What a command's action works with: where to write, the services, the arguments after `--`,
 * and the exit code it sets for `main` to return.
 *
 * @example
 * ```ts
 * const context: CommandContext = { output: process, services: {}, cwd: process.cwd(), passthrough: [], exitCode: 0 };
 * ```
 */
export interface CommandContext {
  readonly output: CliOutput;
  readonly services: CliServices;
  readonly cwd: string;
  /** The arguments after the first `--`, untouched: the program's (`run`) or the CDK CLI's. */
  readonly passthrough: readonly string[];
  exitCode: number;
}
