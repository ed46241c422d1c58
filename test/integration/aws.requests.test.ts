import { describe, expect, it } from 'vitest';
import type { SQSRecord } from 'aws-lambda';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { closeWorkerRuntime, configureWorkerRuntime, warmUpWorkerRuntime } from '../../lib/backends/aws/workerRuntime.js';
import { awsLogged } from '../fixtures/awsTasks.js';
import { square } from '../fixtures/tasks.js';
import { awsContext, provisionForTest, startFleet } from './awsHarness.js';
import { invokeHandler, receiveRecords } from './lambdaInvoke.js';

/** Client and fleet requests per chunk message, with the kinds. */
function perChunk(client: RequestCounter, fleet: RequestCounter, chunks: number) {
  const requests: Record<string, number> = { ...client.snapshot().requests };
  for (const [kind, count] of Object.entries(fleet.snapshot().requests)) requests[kind] = (requests[kind] ?? 0) + count;
  const total = Object.values(requests).reduce((a, b) => a + b, 0);
  return { perChunk: total / chunks, requests };
}

describe('aws backend on the emulators: requests per chunk, with heartbeats and releases', () => {
  it('stays at most 2 per chunk for tiny items', async () => {
    const config = await provisionForTest('requests');
    const fleetCounter = new RequestCounter();
    const fleet = startFleet(config, { counter: fleetCounter });
    const { context, counter } = awsContext(config);
    try {
      await fleet.ready;
      await using pool = new context.Pool(4);
      const items = Array.from({ length: 400 }, (_, i) => i);
      expect(await pool.map(square, items, { chunksize: 1 })).toEqual(items.map((x) => x * x));
    } finally {
      await fleet.stop();
    }
    const measured = perChunk(counter, fleetCounter, 400);
    console.log(`tiny items, 1 a chunk: ${measured.perChunk.toFixed(2)} requests per chunk`, measured.requests);
    expect(measured.perChunk).toBeLessThanOrEqual(2);
  }, 120_000);

  it('counts the heartbeats of an invocation longer than half the visibility timeout: one request per beat for ten messages', async () => {
    const config = await provisionForTest('beats', { visibilityTimeoutSeconds: 2 });
    const workerCounter = new RequestCounter();
    configureWorkerRuntime({ config, threads: 2, counter: workerCounter });
    await warmUpWorkerRuntime();
    const { context, counter } = awsContext(config);
    const clients = new AwsClients(config, workerCounter);
    try {
      await using pool = new context.Pool(2);
      const items = Array.from({ length: 4 }, (_, i) => ['/dev/null', i, 2500] as [string, number, number]);
      const mapped = pool.starmapAsync(awsLogged, items, { chunksize: 1 });
      const records: SQSRecord[] = [];
      while (records.length < 4) records.push(...(await receiveRecords(clients, { max: 4 - records.length })));
      // Two threads, four chunks of 2.5 s: about 5 s held, a beat every second.
      expect((await invokeHandler(clients, records, 30_000)).batchItemFailures).toEqual([]);
      expect(await mapped.get()).toEqual([0, 2, 4, 6]);
    } finally {
      clients.destroy();
      await closeWorkerRuntime();
    }
    const measured = perChunk(counter, workerCounter, 4);
    console.log(`2.5 s chunks, 2 s visibility: ${measured.perChunk.toFixed(2)} requests per chunk`, measured.requests);
    const beats = measured.requests['SQS.ChangeMessageVisibilityBatch'] ?? 0;
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(beats).toBeLessThanOrEqual(6);
  }, 120_000);
});
