import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** File extensions that need a TypeScript loader. */
const TYPESCRIPT_MODULE = /\.(?:[cm]?ts|tsx)(?:[?#]|$)/;

/** How to make a TypeScript module importable, for the error that lists the ways. */
export const TYPESCRIPT_ROUTES =
  'Either run your program under tsx (npx tsx main.ts, or node --import tsx main.ts: threads inherit the loader), ' +
  'or use Node’s own type stripping (--experimental-strip-types on Node 22.6+, the default on 23.6+), ' +
  'or install tsx in your project (npm install --save-dev tsx), which fanout then registers in the threads that need it.';

/** Whether this thread can import TypeScript: decided once per thread. */
let ready: Promise<void> | undefined;

/**
 * True if `module` (a URL or path) names a TypeScript file.
 *
 * @example
 * ```ts
 * isTypeScriptModule('file:///app/tasks.ts'); // true
 * ```
 */
export function isTypeScriptModule(module: string): boolean {
  return TYPESCRIPT_MODULE.test(module);
}

/**
 * Makes sure this thread can import the TypeScript module `module` before it is imported (a
 * failed import is cached by Node, so it cannot be retried after registering a loader). A
 * JavaScript module needs nothing. Otherwise, a probe module tells whether a loader is already
 * active (tsx inherited through `--import`, Node's type stripping); if not, tsx is registered when
 * it is installed. Rejects with a message listing the three ways ({@link TYPESCRIPT_ROUTES}).
 *
 * @example
 * ```ts
 * await ensureTypeScriptLoader('file:///app/tasks.ts');
 * await import('file:///app/tasks.ts');
 * ```
 */
export function ensureTypeScriptLoader(module: string): Promise<void> {
  if (!isTypeScriptModule(module)) return Promise.resolve();
  ready ??= prepareLoader();
  return ready;
}

async function prepareLoader(): Promise<void> {
  if (await canImportTypeScript()) return;
  let register: (() => unknown) | undefined;
  try {
    // A string the bundlers leave alone: tsx is optional, and never bundled.
    const specifier = 'tsx/esm/api';
    ({ register } = (await import(specifier)) as { register: () => unknown });
  } catch {
    throw new Error(`This thread has no TypeScript loader and tsx is not installed. ${TYPESCRIPT_ROUTES}`);
  }
  register();
}

/** Imports a tiny TypeScript module (outside node_modules, where Node refuses to strip types). */
async function canImportTypeScript(): Promise<boolean> {
  const dir = join(tmpdir(), 'fanout');
  const probe = join(dir, 'typescript-probe.mts');
  if (!existsSync(probe)) {
    mkdirSync(dir, { recursive: true });
    // Write then rename: threads probing at once never import a half-written file.
    const temporary = `${probe}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(temporary, 'export const probe: number = 1;\n');
    renameSync(temporary, probe);
  }
  try {
    await import(pathToFileURL(probe).href);
    return true;
  } catch {
    return false;
  }
}
