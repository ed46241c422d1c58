import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Process } from '../../lib/api/Process.js';
import { taskRef, type Task } from '../../lib/api/task.js';
import type { ProcessSpec } from '../../lib/backend/ProcessEngine.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsProcess } from '../../lib/backends/aws/AwsProcess.js';
import { ChunkProcessor } from '../../lib/backends/aws/ChunkProcessor.js';
import { encodeProcessBody, type ProcessMessage } from '../../lib/backends/aws/chunkMessages.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { ProcessStore } from '../../lib/backends/aws/ProcessStore.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { toSqsRecord } from '../../lib/backends/aws/sqsRecord.js';
import { ValueEncoder } from '../../lib/codec/ValueEncoder.js';
import { ProcessTooLongError, ProcessWorkerDiedError, RemoteError } from '../../lib/errors.js';
import { awsProcBigArgs, awsProcExits, awsProcLogged, awsProcThrows } from '../fixtures/awsProcessTasks.js';
import { provisionForTest, queueDepth, startFleet, waitFor } from './awsHarness.js';

const repo = new URL('../../', import.meta.url).pathname;
/** Short leases keep the dead-worker tests short (renewed every 200 ms). */
const LEASE_MS = 1_000;

function newLog(): string {
  return join(mkdtempSync(join(tmpdir(), 'fanout-awsproc-')), 'runs.log');
}

/** Lines in a log: how often targets ran. */
function runs(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

function specOf<A extends unknown[]>(target: Task<A, unknown>, args: A, name = 'Process-1'): ProcessSpec {
  const encoder = new ValueEncoder();
  encoder.write(args, 'the arguments');
  const { attachments, transfer } = encoder.takeAttachments();
  return {
    target: taskRef(target, 'test'),
    args: encoder.finish(),
    attachments,
    transfer,
    name,
    daemon: false,
    identity: [1],
    parent: { name: 'MainProcess', pid: 0, daemon: false, identity: [] },
  };
}

function start<A extends unknown[]>(config: AwsConfig, target: Task<A, unknown>, args: A, leaseMs = LEASE_MS): AwsProcess {
  return new AwsProcess(new AwsBackend({ config }), specOf(target, args), { leaseMs });
}

async function storeFor(config: AwsConfig): Promise<{ store: ProcessStore; clients: AwsClients }> {
  const clients = new AwsClients(config);
  return { store: new ProcessStore(clients.dynamodb, config.table), clients };
}

describe('aws backend on the emulators: Process', () => {
  it('runs targets on a worker fleet: exit codes 0, 1 with the error, the process.exit code, -15/-9 when stopped; join(timeout)', async () => {
    const config = await provisionForTest('proc', { visibilityTimeoutSeconds: 2 });
    const fleet = startFleet(config);
    try {
      await fleet.ready;
      const log = newLog();
      const counter = new RequestCounter();
      const ok = new AwsProcess(new AwsBackend({ config, counter }), specOf(awsProcLogged, [log, 0]), { leaseMs: LEASE_MS });
      expect(await ok.exited).toBe(0);
      expect(ok.error).toBeUndefined();
      expect(Number.isInteger(ok.pid) && ok.pid > 0).toBe(true);
      // The client sends one message and only reads the record (no writes without terminate/kill).
      const { requests } = counter.snapshot();
      expect(requests['SQS.SendMessageBatch']).toBe(1);
      expect(requests['DynamoDB.GetItem']).toBeGreaterThanOrEqual(1);
      expect(requests['DynamoDB.UpdateItem']).toBeUndefined();

      const throwsLog = newLog();
      const failing = start(config, awsProcThrows, [throwsLog, 'no good']);
      expect(await failing.exited).toBe(1);
      expect(failing.error).toBeInstanceOf(RemoteError);
      expect((failing.error as RemoteError).remoteName).toBe('TypeError');
      expect((failing.error as RemoteError).remoteMessage).toBe('no good');
      expect((failing.error as RemoteError).remoteStack).toContain('awsProcessTasks.ts');

      const exitLog = newLog();
      const exiting = start(config, awsProcExits, [exitLog, 3]);
      expect(await exiting.exited).toBe(3);
      expect(exiting.error).toBeUndefined();

      // A big argument goes through S3.
      const bigLog = newLog();
      const big = start(config, awsProcBigArgs, [bigLog, 'x'.repeat(300_000)]);
      expect(await big.exited).toBe(0);
      expect(runs(bigLog)).toEqual(['300000']);

      for (const [stop, code] of [
        ['terminate', -15],
        ['kill', -9],
      ] as const) {
        const stopLog = newLog();
        const long = start(config, awsProcLogged, [stopLog, 120_000]);
        await waitFor(() => runs(stopLog).length > 0, 30_000, 'the target to start');
        long[stop]();
        expect(await long.exited).toBe(code);
        expect(runs(stopLog)).toHaveLength(1);
      }

      // Through the public Process class, on a backend that starts AwsProcess engines.
      const backend = new AwsBackend({ config });
      const wired = Object.assign(backend, {
        startProcess: (spec: ProcessSpec) => new AwsProcess(backend, spec, { leaseMs: LEASE_MS }),
      });
      const joinLog = newLog();
      const p = new Process({ target: awsProcLogged, args: [joinLog, 120_000] }, wired);
      p.start();
      await p.join(300);
      expect(p.exitCode).toBeNull();
      expect(p.isAlive()).toBe(true);
      await waitFor(() => runs(joinLog).length > 0, 30_000, 'the target to start');
      p.terminate();
      await p.join();
      expect(p.exitCode).toBe(-15);
      expect(p.isAlive()).toBe(false);
      for (const each of [log, throwsLog, exitLog, joinLog]) expect(runs(each)).toHaveLength(1);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 20_000, 'the queue to drain');
    } finally {
      await fleet.stop();
    }
  }, 120_000);

  it('runs a target once when its message is delivered twice', async () => {
    const config = await provisionForTest('procdup', { visibilityTimeoutSeconds: 2 });
    const log = newLog();
    // No worker yet: copy the message, so that the queue holds it twice.
    const engine = start(config, awsProcLogged, [log, 1500]);
    await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 1, 20_000, 'the message on the queue');
    const clients = new AwsClients(config);
    try {
      let copied = 0;
      while (copied === 0) {
        const received = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: config.queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 1 }),
        );
        for (const message of received.Messages ?? []) {
          await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: message.Body! }));
          copied++;
        }
      }
    } finally {
      clients.destroy();
    }
    await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 2, 20_000, 'both copies on the queue');
    const fleet = startFleet(config);
    try {
      expect(await engine.exited).toBe(0);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 20_000, 'both copies to be done');
    } finally {
      await fleet.stop();
    }
    expect(runs(log)).toEqual(['ran']);
  }, 90_000);

  it('ends a process terminated before any worker took it at once, and no worker runs it later', async () => {
    const config = await provisionForTest('procearly', { visibilityTimeoutSeconds: 2 });
    const log = newLog();
    const engine = start(config, awsProcLogged, [log, 0]);
    await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 1, 20_000, 'the message on the queue');
    engine.terminate();
    expect(await engine.exited).toBe(-15);
    const fleet = startFleet(config);
    try {
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 20_000, 'the message to be done');
    } finally {
      await fleet.stop();
    }
    expect(runs(log)).toEqual([]);
  }, 60_000);

  it('reports a process whose worker process was killed mid-run as died (-1), and never runs it again', async () => {
    const config = await provisionForTest('prockill', { visibilityTimeoutSeconds: 2 });
    const log = newLog();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/worker.ts', '--threads', '1', '--wait-time', '1', '--quiet'],
      { cwd: repo, env: { ...process.env, ...configEnvironment(config) }, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let fleet: ReturnType<typeof startFleet> | undefined;
    try {
      const engine = start(config, awsProcLogged, [log, 120_000]);
      await waitFor(() => runs(log).length > 0, 60_000, 'the worker process to start the target');
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await engine.exited).toBe(ProcessWorkerDiedError.exitCode);
      expect(engine.error).toBeInstanceOf(ProcessWorkerDiedError);
      expect(engine.error?.message).toMatch(/lease of 1,000 ms went by without a renewal/);
      // The message comes back after its visibility timeout: a new worker sees the end and drops it.
      fleet = startFleet(config);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 30_000, 'the redelivery to be done');
    } finally {
      child.kill('SIGKILL');
      await fleet?.stop();
    }
    expect(runs(log)).toEqual(['ran']);
  }, 120_000);

  it('a worker whose process was judged dead meanwhile stops the target at its next renewal and writes nothing', async () => {
    const config = await provisionForTest('proclost', { visibilityTimeoutSeconds: 2 });
    const log = newLog();
    const fleet = startFleet(config);
    const { store, clients } = await storeFor(config);
    try {
      const engine = start(config, awsProcLogged, [log, 120_000]);
      await waitFor(() => runs(log).length > 0, 30_000, 'the target to start');
      // As if its renewals had not reached the table for a lease: someone records its death.
      await waitFor(
        async () => {
          const record = await store.read(engine.id);
          return store.markDied(engine.id, record.version, 'judged dead by the test', -1);
        },
        10_000,
        'the death to be recorded',
      );
      expect(await engine.exited).toBe(-1);
      expect(engine.error?.message).toBe('judged dead by the test');
      // The worker stops the 120 s target (else the fleet would not stop) and deletes its message.
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 20_000, 'the message to be done');
      expect(await store.read(engine.id)).toMatchObject({ status: 'exited', end: 'died', code: -1 });
    } finally {
      clients.destroy();
      await fleet.stop();
    }
    expect(runs(log)).toEqual(['ran']);
  }, 90_000);

  it("a redelivery that finds a claimed process whose lease is not renewed records 'worker died' and does not run it", async () => {
    const config = await provisionForTest('procstale', { visibilityTimeoutSeconds: 5 });
    const log = newLog();
    const { store, clients } = await storeFor(config);
    const processor = new ChunkProcessor({ clients, threads: 1 });
    try {
      const id = 'stale-holder-1';
      const expiresAt = Math.floor(Date.now() / 1000) + 3600;
      // A worker claimed it and died at once: nobody renews the lease.
      expect((await store.claim(id, 'a-dead-worker', 500, expiresAt)).claimed).toBe(true);
      const spec = specOf(awsProcLogged, [log, 0]);
      const message: ProcessMessage = {
        type: 'fanoutProcess',
        id,
        target: spec.target,
        args: Buffer.from(spec.args).toString('base64'),
        name: 'Process-stale',
        daemon: false,
        identity: [1],
        parent: spec.parent,
        leaseMs: 500,
        expiresAt,
      };
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: encodeProcessBody(message) }));
      const received = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: config.queueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'] }),
      );
      const arn = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: config.queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const records = (received.Messages ?? []).map((m) => toSqsRecord(m, arn.Attributes?.QueueArn ?? '', config.region));
      expect(records).toHaveLength(1);
      const response = await processor.handleEvent({ Records: records });
      expect(response.batchItemFailures).toEqual([]);
      const record = await store.read(id);
      expect(record).toMatchObject({ status: 'exited', end: 'died', code: -1 });
      expect(record.error).toMatch(/worker running process 'Process-stale' died/);
      // A second delivery of it is done at once.
      expect((await processor.handleEvent({ Records: records })).batchItemFailures).toEqual([]);
    } finally {
      await processor.close();
      clients.destroy();
    }
    expect(runs(log)).toEqual([]);
  }, 60_000);

  it("stops a target at its worker's function timeout and reports it as too long (-14), not retried", async () => {
    const config = await provisionForTest('proctime', { visibilityTimeoutSeconds: 2 });
    const log = newLog();
    // An 8 s function timeout: the target gets it less the reserve (and less its thread's start).
    const fleet = startFleet(config, { timeout: 8 });
    try {
      const engine = start(config, awsProcLogged, [log, 120_000]);
      expect(await engine.exited).toBe(ProcessTooLongError.exitCode);
      expect(engine.error).toBeInstanceOf(ProcessTooLongError);
      expect(engine.error?.message).toMatch(/function's timeout of 8\.0 s/);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 20_000, 'the message to be done');
    } finally {
      await fleet.stop();
    }
    expect(runs(log)).toEqual(['ran']);
  }, 60_000);
});
