/** Counts the modules a compiled entry point loads, from its static imports. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** `import … from './x.js'`, `export … from './x.js'`, `import './x.js'`, `require('./x')`: relative only. */
const STATIC_IMPORT =
  /(?:^|[;\s])(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"](\.{1,2}\/[^'"]+)['"]|\brequire\(['"](\.{1,2}\/[^'"]+)['"]\)/g;
const BLOCK_COMMENT = /\/\*[\s\S]*?\*\//g;
const LINE_COMMENT = /^\s*\/\/.*$/gm;

/** A relative specifier as Node finds it: the file, `.js` added (CommonJS), or a directory's index.js. */
function resolveFile(from: string, specifier: string): string {
  const path = resolve(dirname(from), specifier);
  if (existsSync(path) && statSync(path).isFile()) return path;
  if (existsSync(`${path}.js`)) return `${path}.js`;
  return resolve(path, 'index.js');
}

/**
 * The files of one package that `entries` load through static relative imports (dynamic
 * `import()` and other packages are left out), the entries included. Comments are stripped
 * first: the compiled sources keep their doc comments and `@example`s.
 *
 * @example
 * ```ts
 * staticModuleGraph(['node_modules/fanout/dist/lib/index.js']).size; // 78
 * ```
 */
export function staticModuleGraph(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = entries.map((entry) => resolve(entry));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, 'utf8').replace(BLOCK_COMMENT, '').replace(LINE_COMMENT, '');
    for (const match of code.matchAll(STATIC_IMPORT)) pending.push(resolveFile(file, (match[1] ?? match[2])!));
  }
  return seen;
}
