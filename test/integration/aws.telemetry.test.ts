import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerCrashedError } from 'fanout';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { closeWorkerRuntime, configureWorkerRuntime, warmUpWorkerRuntime } from '../../lib/backends/aws/workerRuntime.js';
import { awsExit, awsFail, awsLogged } from '../fixtures/awsTasks.js';
import { awsContext, provisionForTest, queueDepth, startFleet, waitFor } from './awsHarness.js';
import { invokeHandler, receiveRecords } from './lambdaInvoke.js';

// The worker handler's structured logs and metrics, read from what it really writes to stdout
// (Powertools' Logger and Metrics write there, as Lambda expects): the handler runs in this
// process on real messages from the emulated queue (see lambdaInvoke.ts).

type Line = Record<string, unknown>;

interface Emf {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  [key: string]: unknown;
}

let captured: string[] = [];
const streams = [process.stdout, process.stderr] as const;
const writes = streams.map((stream) => stream.write.bind(stream));

// Info lines and metrics go to stdout, warnings to stderr: both are the function's log.
beforeEach(() => {
  captured = [];
  streams.forEach((stream, index) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured.push(String(chunk));
      return (writes[index] as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
});
afterEach(() => {
  streams.forEach((stream, index) => (stream.write = writes[index]!));
});

/** The JSON lines written to stdout and stderr since the test began. */
function jsonLines(): Line[] {
  return captured
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
}
const chunkLines = () => jsonLines().filter((line) => line.message === 'chunk');
const emfBlobs = () => jsonLines().filter((line) => '_aws' in line) as unknown as Emf[];

/** The metrics of an EMF blob by name (their units checked by the caller). */
function metricsOf(blob: Emf): Record<string, unknown> {
  const names = blob._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name);
  return Object.fromEntries(names.map((name) => [name, blob[name]]));
}

async function receiveAll(clients: AwsClients, count: number) {
  const records = [];
  while (records.length < count) {
    const received = await receiveRecords(clients, { max: Math.min(10, count - records.length), waitSeconds: 1 });
    if (received.length === 0) break;
    records.push(...received);
  }
  return records;
}

describe('the worker handler logs each chunk as JSON and emits EMF metrics per invocation (emulators, real SDK)', () => {
  afterAll(() => closeWorkerRuntime());

  it('a cold then a warm invocation: chunk lines with run, chunk, task, attempt, duration, cold start; one EMF blob each', async () => {
    const config = await provisionForTest('telemetry', { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 });
    configureWorkerRuntime({ config, threads: 1 });
    await warmUpWorkerRuntime();
    const { context } = awsContext(config);
    await using pool = new context.Pool(2);
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-telemetry-')), 'runs.log');
    const clients = new AwsClients(config);
    try {
      const mapped = pool.starmapAsync(
        awsLogged,
        [0, 1, 2, 3].map((x) => [log, x, 20] as [string, number, number]),
        { chunksize: 2 },
      );
      const failing = pool.map(awsFail, [5], { chunksize: 1 }).catch((error: unknown) => error);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 3, 20_000, '3 messages on the queue');
      await invokeHandler(clients, await receiveAll(clients, 3), 30_000);
      expect(await mapped.get()).toEqual([0, 2, 4, 6]);
      expect(await failing).toBeInstanceOf(Error);

      const cold = chunkLines();
      expect(cold).toHaveLength(3);
      const logged = cold.filter((line) => line.task === 'aws.logged').sort((a, b) => Number(a.chunk) - Number(b.chunk));
      expect(logged.map((line) => line.chunk)).toEqual([0, 1]);
      const runs = new Set(logged.map((line) => line.run));
      expect(runs.size).toBe(1);
      for (const line of logged) {
        expect(line).toMatchObject({
          level: 'INFO',
          service: 'fanout-worker',
          items: 2,
          outcome: 'ok',
          attempt: 1,
          cold_start: true,
        });
        expect(typeof line.run).toBe('string');
        expect(line.function_request_id).toEqual(expect.any(String));
        // Two items of 20 ms each.
        expect(line.duration_ms).toBeGreaterThanOrEqual(40);
        expect(line.task_ms).toBeGreaterThanOrEqual(40);
      }
      const failed = cold.find((line) => line.task === 'aws.fail')!;
      expect(failed).toMatchObject({ items: 1, outcome: 'ok', task_errors: 1, cold_start: true });

      const [blob, ...more] = emfBlobs();
      expect(more).toEqual([]);
      const spec = blob!._aws.CloudWatchMetrics[0]!;
      expect(spec.Namespace).toBe('fanout');
      expect(spec.Dimensions).toEqual([['service']]);
      expect(blob!.service).toBe('fanout-worker');
      const units = Object.fromEntries(spec.Metrics.map((metric) => [metric.Name, metric.Unit]));
      expect(units).toMatchObject({ chunks: 'Count', items: 'Count', taskTime: 'Milliseconds', coldStarts: 'Count' });
      const metrics = metricsOf(blob!);
      expect(metrics).toMatchObject({ chunks: 3, items: 5, taskErrors: 1, crashes: 0, handedBack: 0, tooLong: 0, coldStarts: 1 });
      expect(metrics.taskTime).toHaveLength(3);
      // One task time per chunk run: the same as its line's.
      const byValue = (a: number, b: number) => a - b;
      expect([...(metrics.taskTime as number[])].sort(byValue)).toEqual(cold.map((line) => line.task_ms as number).sort(byValue));

      // Warm: no cold start on the line, none counted.
      captured = [];
      const one = pool.apply(awsLogged, [log, 9, 0]);
      await invokeHandler(clients, await receiveAll(clients, 1), 30_000);
      expect(await one).toBe(18);
      expect(chunkLines()).toEqual([expect.objectContaining({ task: 'aws.logged', items: 1, outcome: 'ok', cold_start: false })]);
      const warm = emfBlobs();
      expect(warm).toHaveLength(1);
      expect(metricsOf(warm[0]!)).toMatchObject({ chunks: 1, items: 1 });
      expect(metricsOf(warm[0]!)).not.toHaveProperty('coldStarts');
    } finally {
      clients.destroy();
    }
  }, 60_000);

  it('failures by kind: chunks handed back at the deadline and a crashed thread, on their lines and in the metrics', async () => {
    const config = await provisionForTest('telemetry-fail', { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 });
    configureWorkerRuntime({ config, threads: 1 });
    await warmUpWorkerRuntime();
    const { context } = awsContext(config);
    await using pool = new context.Pool(2);
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-telemetry-')), 'runs.log');
    const clients = new AwsClients(config);
    try {
      // Three chunks of 1.6 s on one thread in a 3 s invocation: one runs, two are handed back.
      const mapped = pool.starmapAsync(
        awsLogged,
        [0, 1, 2].map((x) => [log, x, 1600] as [string, number, number]),
        { chunksize: 1 },
      );
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 3, 20_000, '3 messages on the queue');
      await invokeHandler(clients, await receiveAll(clients, 3), 3000);
      const outcomes = chunkLines().map((line) => line.outcome);
      expect(outcomes.filter((outcome) => outcome === 'handedBack').length).toBeGreaterThanOrEqual(1);
      expect(outcomes.length).toBe(3);
      const handedBack = outcomes.filter((outcome) => outcome === 'handedBack').length;
      expect(metricsOf(emfBlobs()[0]!)).toMatchObject({ handedBack, chunks: 3 - handedBack, coldStarts: 1 });
      // The rest are visible again at once: run them to the end.
      for (let left = handedBack; left > 0; left = chunkLines().filter((line) => line.outcome === 'handedBack').length) {
        captured = [];
        await invokeHandler(clients, await receiveAll(clients, left), 30_000);
      }
      expect(await mapped.get()).toEqual([0, 2, 4]);

      // A thread that dies every time: released after 1, 2, 4, 8 s, then recorded as dead.
      captured = [];
      let settled = false;
      const crash = pool
        .apply(awsExit, [3])
        .catch((error: unknown) => error)
        .finally(() => (settled = true));
      while (!settled) {
        const records = await receiveRecords(clients, { waitSeconds: 2 });
        if (records.length > 0) await invokeHandler(clients, records, 30_000);
      }
      expect(await crash).toBeInstanceOf(WorkerCrashedError);
      const crashLines = chunkLines().filter((line) => line.task === 'aws.exit');
      expect(crashLines.map((line) => [line.outcome, line.attempt, line.cold_start])).toEqual([
        ['crash', 1, false],
        ['crash', 2, false],
        ['crash', 3, false],
        ['crash', 4, false],
        ['dead', 5, false],
      ]);
      const blobs = emfBlobs();
      expect(blobs).toHaveLength(5);
      expect(blobs.map((blob) => metricsOf(blob).crashes)).toEqual([1, 1, 1, 1, 1]);
      // The processor's note of a crash is a JSON warning line too.
      expect(jsonLines().some((line) => line.level === 'WARN' && String(line.message).includes('crashed its worker'))).toBe(true);
    } finally {
      clients.destroy();
    }
  }, 90_000);
});

describe('the local worker fleet', () => {
  it('with jsonLogs writes the same chunk lines, and no metrics unless asked', async () => {
    const config = await provisionForTest('telemetry-fleet', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
    const fleet = startFleet(config, { threads: 1, jsonLogs: true });
    await fleet.ready;
    try {
      const { context } = awsContext(config);
      await using pool = new context.Pool(2);
      expect(await pool.map(awsFail, [1]).catch((error: unknown) => (error as Error).message)).toContain('no good: 1');
      await waitFor(() => Promise.resolve(chunkLines().length === 1), 10_000, 'a chunk line');
      expect(chunkLines()[0]).toMatchObject({
        task: 'aws.fail',
        items: 1,
        outcome: 'ok',
        task_errors: 1,
        attempt: 1,
        cold_start: true,
      });
      expect(emfBlobs()).toEqual([]);
    } finally {
      await fleet.stop();
    }
  }, 60_000);

  it('with jsonLogs and metrics also emits one EMF blob per invocation', async () => {
    const config = await provisionForTest('telemetry-fleet-emf', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
    const fleet = startFleet(config, { threads: 1, jsonLogs: true, metrics: true });
    await fleet.ready;
    try {
      const { context } = awsContext(config);
      await using pool = new context.Pool(2);
      expect(await pool.map(awsFail, [1]).catch((error: unknown) => (error as Error).message)).toContain('no good: 1');
      await waitFor(() => Promise.resolve(emfBlobs().length === 1), 10_000, 'an EMF blob');
      expect(metricsOf(emfBlobs()[0]!)).toMatchObject({ chunks: 1, items: 1, taskErrors: 1, coldStarts: 1 });
    } finally {
      await fleet.stop();
    }
  }, 60_000);
});
