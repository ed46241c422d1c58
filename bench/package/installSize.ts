/**
 * What installing a package puts on disk: its own directory and its runtime dependency closure,
 * found as Node and npm find them (nested `node_modules` first, then each parent's), each
 * package directory counted once.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Manifest } from './packedFanout.js';

/** Bytes of a directory's files: their sizes, and what they take on disk (allocated blocks). */
export interface DirectorySize {
  bytes: number;
  diskBytes: number;
  files: number;
}

/** One installed package of a closure. */
export interface InstalledPackage extends DirectorySize {
  name: string;
  version: string;
  /** Its real directory. */
  dir: string;
}

/** A dependency closure, and what it lacked. */
export interface Closure {
  packages: InstalledPackage[];
  /** Required dependencies that no `node_modules` on the way held (`dependent → name`). */
  missing: string[];
}

/**
 * The size of a directory's files, recursively; a nested `node_modules` is skipped (the packages
 * in it are counted as packages of their own when the closure reaches them). Symbolic links count
 * as themselves and are not followed.
 *
 * @example
 * ```ts
 * directorySize('node_modules/piscina').files; // 27
 * ```
 */
export function directorySize(dir: string): DirectorySize {
  const size: DirectorySize = { bytes: 0, diskBytes: 0, files: 0 };
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') pending.push(path);
        continue;
      }
      const stats = lstatSync(path);
      size.bytes += stats.size;
      size.diskBytes += stats.blocks * 512;
      size.files++;
    }
  }
  return size;
}

/** Where Node finds package `name` from a package in `fromDir`: the nearest `node_modules` holding it. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The dependencies npm installs for a package: its dependencies, optional ones, and required peers. */
function installedDependencies(manifest: Manifest): Array<{ name: string; optional: boolean }> {
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => manifest.peerDependenciesMeta?.[name]?.optional !== true,
  );
  return [
    ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...peers.map((name) => ({ name, optional: false })),
  ];
}

/**
 * The runtime dependency closure of the package in `packageDir` (not including it): every
 * package its `dependencies`, `optionalDependencies` (where installed) and required
 * `peerDependencies` reach, recursively, each real directory once.
 *
 * @example
 * ```ts
 * const { packages } = dependencyClosure('node_modules/piscina');
 * ```
 */
export function dependencyClosure(packageDir: string): Closure {
  const root = realpathSync(packageDir);
  const seen = new Set<string>([root]);
  const packages: InstalledPackage[] = [];
  const missing: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    for (const { name, optional } of installedDependencies(manifest)) {
      const found = findPackage(name, dir);
      if (!found) {
        if (!optional) missing.push(`${manifest.name} → ${name}`);
        continue;
      }
      if (seen.has(found)) continue;
      seen.add(found);
      pending.push(found);
      const { version } = JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')) as Manifest;
      packages.push({ name, version, dir: found, ...directorySize(found) });
    }
  }
  return { packages, missing };
}
