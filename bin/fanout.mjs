#!/usr/bin/env node
// The `fanout` command. Plain JavaScript, so that Node runs it as it is: it registers tsx, so
// that fanout's TypeScript sources and the user's .ts programs load, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
const code = await main(process.argv.slice(2));
// Leave a program's own process.exitCode alone when all went well.
if (code !== 0) process.exitCode = code;
