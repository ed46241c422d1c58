import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { main } from '../../lib/cli/main.js';
import { square } from '../fixtures/tasks.js';
import { awsContext, provisionForTest } from '../integration/awsHarness.js';
import { bin, environmentWithoutFanout, repoRoot } from './runCli.js';

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('fanout worker (spawned, against the emulators)', () => {
  it('runs a pool’s chunks with the options given, stops on SIGINT with exit 0 and a summary', { timeout: 120_000 }, async () => {
    const config = await provisionForTest('cli-worker');
    const child = spawn(
      process.execPath,
      [bin, 'worker', '--threads', '1', '--concurrency', '3', '--wait-time', '1', '--tasks', 'test/fixtures/tasks.ts'],
      { cwd: repoRoot, env: { ...environmentWithoutFanout(), ...configEnvironment(config) } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => stderr.includes('polling'), 'the worker to poll');
      expect(stderr).toContain(`fanout worker: polling ${config.queueUrl} with 3 pollers and 1 threads`);
      const { context } = awsContext(config);
      await using pool = new context.Pool(2);
      expect(await pool.map(square, [1, 2, 3, 4, 5, 6], { chunksize: 2 })).toEqual([1, 4, 9, 16, 25, 36]);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/fanout worker: 3 messages, \d+ batches, 0 handed back for redelivery, \d+ AWS requests/);
    expect(stderr).not.toContain('NodeVersionSupportWarning');
  });
});

describe('fanout worker --timeout (in process, against the emulators)', () => {
  it("gives each batch's handler a context counting down from --timeout, not from the visibility timeout", async () => {
    const config = await provisionForTest('cli-worker-timeout', { visibilityTimeoutSeconds: 5 });
    const clients = new AwsClients(config);
    const saved = { ...process.env };
    const stop = new AbortController();
    let remaining: number | undefined;
    let err = '';
    try {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: 'not a chunk' }));
      Object.assign(process.env, configEnvironment(config));
      const code = await main(
        ['worker', '--timeout', '42', '--threads', '1', '--concurrency', '1', '--wait-time', '1', '--quiet'],
        { stdout: { write: () => true }, stderr: { write: (text: string) => ((err += text), true) } },
        {
          cwd: repoRoot,
          signal: stop.signal,
          workerHandler: async (_event, context) => {
            remaining ??= context.getRemainingTimeInMillis();
            stop.abort();
            return { batchItemFailures: [] };
          },
        },
      );
      expect({ code, err }).toEqual({ code: 0, err: '' });
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      clients.destroy();
    }
    expect(remaining).toBeGreaterThan(32_000);
    expect(remaining).toBeLessThanOrEqual(42_000);
  }, 60_000);
});
