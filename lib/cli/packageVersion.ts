import { existsSync, readFileSync } from 'node:fs';

/**
 * The version in fanout's package.json, for `fanout --version`: the nearest package.json above
 * this module (`../../` from the sources, `../../../` from the compiled `dist/lib/cli/`).
 *
 * @example
 * ```ts
 * packageVersion(); // '0.1.0'
 * ```
 */
export function packageVersion(): string {
  for (let up = new URL('../', import.meta.url); up.pathname !== '/'; up = new URL('../', up)) {
    const path = new URL('package.json', up);
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
    if (manifest.name === 'fanout') return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  }
  return 'unknown';
}
