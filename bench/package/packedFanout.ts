/**
 * fanout as a user installs it, for the package benchmark: compiled from this checkout's
 * sources into a scratch directory (never the repository's own `dist/`, which `npm pack` and
 * `npm run build` elsewhere may be rewriting meanwhile), packed with `npm pack`, and unpacked into
 * a fresh project outside the repository beside the benchmark's programs.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPO_MODULES = join(REPO_ROOT, 'node_modules');
/** The benchmark's programs (files of this directory), copied into the project as `programs/`. */
const PROGRAMS = fileURLToPath(new URL('.', import.meta.url));
const PROGRAM_FILES = [
  'tasks.mjs',
  'tasks.ts',
  'measureImap.mjs',
  'imapMemory.mjs',
  'imapMemory.ts',
  'roundTrip.mjs',
  'coldStart.mjs',
  'coldStartPiscina.mjs',
  'coldStartBundled.mjs',
  'startupParts.mjs',
];
/** The peers' worker files, copied beside `programs/` (the programs find them at `../`). */
const PEER_FILES = ['piscinaWorker.mjs', 'primes.mjs', 'pingWorker.mjs'];
/** What the programs import besides fanout: the peer, and the TypeScript loader for the .ts tasks. */
const TOOLS = ['piscina', 'tsx'];

/** The manifest fields the benchmark reads. */
export interface Manifest {
  name: string;
  version: string;
  files?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The packed package and the project it is installed in. */
export interface PackedFanout {
  /** The tarball `npm pack` made. */
  tarball: string;
  /** The project's directory: `node_modules/fanout`, `programs/`, the peers' worker files. */
  project: string;
  /** `node_modules/fanout` in the project: the unpacked tarball. */
  packageDir: string;
  manifest: Manifest;
}

/**
 * Builds fanout (`tsc -p tsconfig.build.json`, as `npm run build` does, into `scratch`), packs
 * it and installs the tarball into a new project in `scratch`. The runtime dependencies and the
 * tools are linked from this repository's `node_modules` (no registry), at the versions its lock
 * file pins.
 *
 * @example
 * ```ts
 * const fanout = await packFanout(mkdtempSync(join(tmpdir(), 'bench-')));
 * spawn('node', ['programs/coldStart.mjs'], { cwd: fanout.project });
 * ```
 */
export async function packFanout(scratch: string): Promise<PackedFanout> {
  const staging = join(scratch, 'staging');
  const tsc = join(REPO_MODULES, 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(staging, 'dist')], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
  cpSync(join(REPO_ROOT, 'package.json'), join(staging, 'package.json'));
  // The rest of what `files` ships comes from the checkout as it is (npm adds README and LICENSE itself).
  for (const entry of [...(manifest.files ?? []), 'README.md', 'LICENSE']) {
    if (entry.startsWith('dist/')) continue;
    try {
      cpSync(join(REPO_ROOT, entry), join(staging, entry), { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {
    cwd: staging,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  const tarball = join(scratch, filename);

  const project = join(scratch, 'project');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench-consumer', private: true, type: 'module' }));
  const packageDir = join(project, 'node_modules', 'fanout');
  mkdirSync(packageDir, { recursive: true });
  // npm's tarballs hold one top directory, `package/`.
  await run('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
  const packed = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Manifest;
  for (const name of [...Object.keys(packed.dependencies ?? {}), ...TOOLS]) {
    const target = join(project, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(REPO_MODULES, name), target, 'dir');
  }
  mkdirSync(join(project, 'programs'));
  for (const file of PROGRAM_FILES) cpSync(join(PROGRAMS, file), join(project, 'programs', file));
  for (const file of PEER_FILES) cpSync(join(REPO_ROOT, 'bench', file), join(project, file));
  return { tarball, project, packageDir, manifest: packed };
}
