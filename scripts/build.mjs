// `npm run build`: compiles lib/, functions/ and infra/ to dist/ (tsconfig.build.json), then copies
// the plain JavaScript modules that run as they are (they are not TypeScript, so tsc leaves them).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Plain .mjs files the compiled package runs; the tsx bootstraps are for the sources only. */
const COPIED = ['lib/backends/aws/lambda/runtimeBootstrap.mjs'];

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
for (const file of COPIED) cpSync(file, `dist/${file}`);
