import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What a program printed, and how it ended. */
export interface ProgramRun {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs a TypeScript program of the repository with tsx, as a user would, and collects its output.
 * It runs on the local backend unless `env` says otherwise (`env` is added to this process's).
 */
export function runProgram(path: string, timeoutMs = 90_000, env: Record<string, string> = {}): Promise<ProgramRun> {
  return new Promise((resolve) => {
    execFile(
      `${root}node_modules/.bin/tsx`,
      [path],
      { cwd: root, timeout: timeoutMs, env: { ...process.env, FANOUT_BACKEND: '', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}
