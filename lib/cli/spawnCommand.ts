import { spawn } from 'node:child_process';

/** A command to start: the executable, its arguments, where and with which environment. */
export interface CommandInvocation {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Starts a command and resolves to its exit code (128 + the signal's number when a signal ended
 * it). {@link spawnCommand} is the real one; tests pass one that records the invocation.
 */
export type CommandSpawner = (invocation: CommandInvocation) => Promise<number>;

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Runs a command with this process's terminal (stdin, stdout and stderr inherited), as the CDK
 * CLI needs for its prompts and progress. While it runs, Ctrl-C (which the terminal sends to
 * both) leaves this process waiting for the command to finish, so that its exit code is reported.
 *
 * @example
 * ```ts
 * const code = await spawnCommand({ command: process.execPath, args: ['--version'], cwd: '.', env: process.env });
 * ```
 */
export const spawnCommand: CommandSpawner = (invocation) =>
  new Promise((resolve, reject) => {
    const child = spawn(invocation.command, invocation.args, { cwd: invocation.cwd, env: invocation.env, stdio: 'inherit' });
    const wait = () => {};
    process.on('SIGINT', wait);
    process.on('SIGTERM', wait);
    const done = () => {
      process.off('SIGINT', wait);
      process.off('SIGTERM', wait);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0));
    });
  });
