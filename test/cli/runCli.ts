import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository's root, where the CLI runs. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The `fanout` command's script. */
export const bin = fileURLToPath(new URL('../../bin/fanout.mjs', import.meta.url));

/** What a CLI run printed and how it ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The test's environment without its FANOUT_* variables. */
export function environmentWithoutFanout(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FANOUT_')));
}

/**
 * Runs `node bin/fanout.mjs ...args` (from the repository root, or `cwd`), as a user would, and
 * collects its output. FANOUT_* variables of the test's own environment are left out unless
 * given in `env`.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: { ...environmentWithoutFanout(), ...env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({
          code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}
