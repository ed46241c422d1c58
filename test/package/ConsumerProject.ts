import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const REPO_MODULES = join(REPO, 'node_modules');

/** What a command printed and how it ended. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Packs fanout as `npm publish` would (`npm pack`, which builds it through `prepack`) into a
 * fresh directory outside the repository, and returns the tarball's path.
 */
export async function packFanout(): Promise<string> {
  const into = mkdtempSync(join(tmpdir(), 'fanout-pack-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', into, '--json'], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  return join(into, filename);
}

/**
 * A fresh npm project outside the repository with fanout installed from its tarball: the tarball
 * is unpacked into `node_modules/fanout` (what `npm install` does with it) and its bin linked.
 * The registry is off limits to tests (loopback only), so the packages fanout depends on, and
 * the tools a user would add (`typescript`, `aws-cdk-lib`...), are linked from this repository's
 * `node_modules`, at the versions its lock file pins.
 */
export class ConsumerProject {
  readonly dir: string;

  constructor(tarball: string, tools: readonly string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'fanout-consumer-'));
    this.write('package.json', JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    // A lock file, as in any npm project (the CDK bundles from the directory that holds it).
    this.write(
      'package-lock.json',
      JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages: { '': { name: 'consumer' } } }),
    );
    const fanoutDir = join(this.dir, 'node_modules', 'fanout');
    mkdirSync(fanoutDir, { recursive: true });
    const manifest = this.unpack(tarball, fanoutDir);
    for (const name of [...Object.keys(manifest.dependencies ?? {}), ...tools]) this.link(name);
    this.bin('fanout', '../fanout/bin/fanout.mjs');
    for (const [tool, bin] of [
      ['typescript', '../typescript/bin/tsc'],
      ['esbuild', '../esbuild/bin/esbuild'],
      ['rollup', '../rollup/dist/bin/rollup'],
    ] as const) {
      if (tools.includes(tool)) this.bin(tool === 'typescript' ? 'tsc' : tool, bin);
    }
  }

  /** Writes a file of the project (creating its directories). */
  write(path: string, content: string): void {
    const file = join(this.dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  /** Copies this directory's fixture file into the project. */
  copyFixture(name: string, to = name): void {
    const target = join(this.dir, to);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), target);
  }

  /** Runs a command in the project, with its `node_modules/.bin` first on the PATH. */
  async exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
    try {
      const { stdout, stderr } = await run(command, args, {
        cwd: this.dir,
        env: {
          ...process.env,
          PATH: `${join(this.dir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
          // The test runner's settings must not leak into the user's programs.
          NODE_OPTIONS: '',
          VITEST: '',
          FANOUT_BACKEND: '',
          ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 240_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: unknown; stdout?: string; stderr?: string };
      return {
        code: typeof failed.code === 'number' ? failed.code : -1,
        stdout: failed.stdout ?? '',
        stderr: failed.stderr ?? String(error),
      };
    }
  }

  /** Removes the project. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private unpack(tarball: string, fanoutDir: string): { dependencies?: Record<string, string> } {
    // npm's tarballs hold one top directory, `package/`.
    execFileSync('tar', ['-xzf', tarball, '-C', fanoutDir, '--strip-components=1']);
    return JSON.parse(readFileSync(join(fanoutDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  }

  private link(name: string): void {
    const target = join(this.dir, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(REPO_MODULES, name), target, 'dir');
  }

  private bin(name: string, target: string): void {
    const dir = join(this.dir, 'node_modules', '.bin');
    mkdirSync(dir, { recursive: true });
    symlinkSync(target, join(dir, name));
  }
}
