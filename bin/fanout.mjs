#!/usr/bin/env node
// The `fanout` command. Plain JavaScript, so that Node runs it as it is. In the npm package it
// runs the compiled CLI; in a checkout of fanout (sources beside it, no build) it registers tsx
// first, so that fanout's TypeScript sources load.
import { existsSync } from 'node:fs';

const sources = new URL('../lib/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/lib/cli/main.js'));
}
const code = await main(process.argv.slice(2));
// Leave a program's own process.exitCode alone when all went well.
if (code !== 0) process.exitCode = code;
