import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

describe('the aws backend loads lazily', () => {
  it('an aws pool that sends nothing does not load the AWS SDK', async () => {
    const script = fileURLToPath(new URL('../../fixtures/awsSdkLoaded.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, FANOUT_STACK: '', FANOUT_QUEUE_URL: '' },
    });
    const [before, after] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, number>);
    expect(before).toEqual({ before: 0 });
    // The check itself can see the SDK once it is loaded.
    expect(after!.after).toBeGreaterThan(0);
  }, 30_000);
});
