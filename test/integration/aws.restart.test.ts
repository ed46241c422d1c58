import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { awsLoggedBy } from './restartTasks.js';
import { awsContext, chunkRecords, provisionForTest, queueDepth, startFleet, waitFor } from './awsHarness.js';

const repo = new URL('../../', import.meta.url).pathname;

/** The runs logged so far: item → the pids that ran it, in order. */
function runsOf(log: string): Map<number, number[]> {
  const runs = new Map<number, number[]>();
  if (!existsSync(log)) return runs;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line) continue;
    const [item, pid] = line.split(' ').map(Number) as [number, number];
    runs.set(item, [...(runs.get(item) ?? []), pid]);
  }
  return runs;
}

describe('aws backend on the emulators: a worker fleet killed mid-run, another taking over', () => {
  it('runs no chunk twice in the new fleet, loses none, records each once, dead-letters none', async () => {
    // As in issue 8: a short visibility timeout, more batches in hand than threads.
    const config = await provisionForTest('restart', { visibilityTimeoutSeconds: 5, maxReceiveCount: 5 });
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-restart-')), 'runs.log');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts', '--threads', '2', '--quiet'], {
      cwd: repo,
      env: { ...process.env, ...configEnvironment(config) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const { context } = awsContext(config);
    await using pool = new context.Pool(8);
    const items = Array.from({ length: 40 }, (_, i) => [log, i, 1000] as [string, number, number]);
    const mapped = pool.starmapAsync(awsLoggedBy, items, { chunksize: 1 });
    let fleet: ReturnType<typeof startFleet> | undefined;
    try {
      await waitFor(() => runsOf(log).size >= 6, 60_000, 'the first fleet to run six chunks');
      child.kill('SIGKILL');
      await exited;
      fleet = startFleet(config, { threads: 2, concurrency: 4, waitTimeSeconds: 20 });
      expect(await mapped.get()).toEqual(items.map(([, x]) => x * 2));
    } finally {
      child.kill('SIGKILL');
      await fleet?.stop();
    }
    const runs = runsOf(log);
    for (const pids of runs.values()) expect(pids.filter((pid) => pid === process.pid).length).toBeLessThanOrEqual(1);
    const records = [...(await chunkRecords(config)).values()];
    expect(records).toHaveLength(40);
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
    expect(await queueDepth(config, config.deadLetterQueueUrl!)).toBe(0);
  }, 180_000);
});
