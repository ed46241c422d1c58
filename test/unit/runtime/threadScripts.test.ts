import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runningBundled, runningFromSources, threadExecArgv, threadScript } from '../../../lib/runtime/threadScripts.js';

const run = promisify(execFile);

describe('threadScripts', () => {
  it('from the sources, threads run the tsx bootstraps, and nothing counts as bundled', () => {
    expect(runningFromSources).toBe(true);
    expect(runningBundled()).toBe(false);
    expect(threadScript('worker').pathname).toMatch(/\/lib\/runtime\/workerBootstrap\.mjs$/);
    expect(threadScript('process').pathname).toMatch(/\/lib\/runtime\/processBootstrap\.mjs$/);
  });

  it('threads inherit the Node options, less --input-type (both spellings)', () => {
    expect(threadExecArgv(['--import', 'tsx', '--input-type=module', '--max-old-space-size=64'])).toEqual([
      '--import',
      'tsx',
      '--max-old-space-size=64',
    ]);
    expect(threadExecArgv(['--input-type', 'module', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
  });

  it('a pool works in a node -e program with --input-type=module', { timeout: 60_000 }, async () => {
    const index = fileURLToPath(new URL('../../../lib/index.ts', import.meta.url));
    const tasks = fileURLToPath(new URL('../../fixtures/tasks.ts', import.meta.url));
    const program = [
      `import { Pool } from ${JSON.stringify(index)};`,
      `import { square } from ${JSON.stringify(tasks)};`,
      'const pool = new Pool(2);',
      'console.log(JSON.stringify(await pool.map(square, [1, 2, 3])));',
      'pool.close(); await pool.join();',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(JSON.parse(stdout)).toEqual([1, 4, 9]);
  });
});
