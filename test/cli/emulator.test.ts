import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveAwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { EMULATOR_CREDENTIALS } from '../../lib/backends/aws/emulator.js';
import { main, type CliOutput } from '../../lib/cli/main.js';
import { signedFetch } from '../../lib/http/signedFetch.js';
import { startFleet } from '../integration/awsHarness.js';
import { bin, environmentWithoutFanout, repoRoot, runCli } from './runCli.js';

const run = promisify(execFile);
const NODE_NOTICE = 'NodeVersionSupportWarning';

function output(): CliOutput & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `export NAME='value'` lines back into variables. */
function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

function portIsClosed(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('fanout emulator', { timeout: 120_000 }, () => {
  it('prints export lines that a shell and node --env-file load, with a queue URL the SDK reaches as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-emulator-'));
    const io = output();
    const stop = new AbortController();
    const running = main(
      [
        'emulator',
        '--sqs-port',
        '0',
        '--dynamodb-port',
        '0',
        '--name',
        'cli-emulator',
        '--visibility-timeout',
        '7',
        '--write-env',
        '.env.fanout',
      ],
      io,
      { cwd: dir, signal: stop.signal },
    );
    try {
      await until(() => io.err().includes('# ready'), 'the emulator to be ready');
      const printed = parseExports(io.out());
      expect(Object.keys(printed)).toEqual([
        'FANOUT_BACKEND',
        'AWS_REGION',
        'FANOUT_QUEUE_URL',
        'FANOUT_DLQ_URL',
        'FANOUT_TABLE',
        'FANOUT_BUCKET',
        'FANOUT_RETENTION_SECONDS',
        'AWS_ENDPOINT_URL_SQS',
        'AWS_ENDPOINT_URL_S3',
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ENDPOINT_URL',
        'FANOUT_API_URL',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]);
      // Nothing but export lines on stdout: the notes are comments on stderr.
      expect(
        io
          .out()
          .trimEnd()
          .split('\n')
          .every((line) => line.startsWith('export ')),
      ).toBe(true);
      expect(printed).toMatchObject({
        FANOUT_BACKEND: 'aws',
        FANOUT_TABLE: 'cli-emulator-state',
        FANOUT_BUCKET: 'cli-emulator-payloads',
        // The emulated account's credentials: those the Lambda runner gives functions, and the API checks.
        AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      });
      expect(printed.FANOUT_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(printed.FANOUT_QUEUE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/cli-emulator-tasks$/);
      expect(printed.FANOUT_QUEUE_URL!.startsWith(`${printed.AWS_ENDPOINT_URL_SQS}/`)).toBe(true);
      expect(io.err()).toMatch(/^# fanout emulator: fauxqs \(SQS, S3\) on http:\/\/127\.0\.0\.1:\d+, dynalite/);

      // The file, as node reads it, and as a shell reads it (and the shell reads stdout the same way).
      const file = join(dir, '.env.fanout');
      expect(readFileSync(file, 'utf8')).toContain(io.out());
      const script =
        'console.log(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("FANOUT_") || k.startsWith("AWS_")))))';
      const { stdout: fromNode } = await run(process.execPath, [`--env-file=${file}`, '-e', script], { env: {} });
      expect(JSON.parse(fromNode)).toEqual(printed);
      const { stdout: fromShell } = await run('sh', ['-c', `. "$0" && env`, file], { env: {} });
      expect(parseEnv(fromShell)).toMatchObject(printed);
      const { stdout: fromEval } = await run('sh', ['-c', 'eval "$0" && env', io.out()], { env: {} });
      expect(parseEnv(fromEval)).toMatchObject(printed);

      // The queue URL is a real address: the SDK, given no endpoint, sends to it.
      const sqs = new SQSClient({
        region: printed.AWS_REGION!,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: printed.FANOUT_QUEUE_URL, MessageBody: 'hello' }));
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: printed.FANOUT_QUEUE_URL, WaitTimeSeconds: 1 }));
        expect(received.Messages?.map((message) => message.Body)).toEqual(['hello']);
      } finally {
        sqs.destroy();
      }
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
    expect(io.err()).toContain('# fanout emulator: stopping');
    expect(await portIsClosed(parseExports(io.out()).AWS_ENDPOINT_URL_SQS!)).toBe(true);
    expect(await portIsClosed(parseExports(io.out()).AWS_ENDPOINT_URL_DYNAMODB!)).toBe(true);
  });

  it('runs as a command until Ctrl-C (SIGINT), exits 0, and prints no AWS SDK notice about Node', async () => {
    const child = spawn(process.execPath, [bin, 'emulator', '--sqs-port', '0', '--dynamodb-port', '0'], {
      cwd: repoRoot,
      env: environmentWithoutFanout(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => stderr.includes('# ready'), 'the emulator to be ready', 60_000);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(parseExports(stdout).FANOUT_QUEUE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/fanout-tasks$/);
    expect(stderr).not.toContain(NODE_NOTICE);
    expect(stderr).not.toMatch(/Warning/);
  });

  it('the notice it keeps quiet is one the SDK prints in a plain process on Node 20 (the control for the test above)', async () => {
    const script = "import { SQSClient } from '@aws-sdk/client-sqs'; new SQSClient({ region: 'us-east-1' }).destroy();";
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '' },
    });
    const major = Number(process.versions.node.split('.')[0]);
    expect(stderr.includes(NODE_NOTICE)).toBe(major < 22);
  });

  it('serves the jobs API in-process with --tasks: unsigned or badly signed requests get 403, a signed POST /jobs runs on workers and its results come back', async () => {
    const emulator = startEmulatorCli([
      '--sqs-port',
      '0',
      '--dynamodb-port',
      '0',
      '--api-port',
      '0',
      '--tasks',
      'test/fixtures/tasks.ts',
    ]);
    try {
      const env = await emulator.ready;
      expect(emulator.stderr()).toMatch(
        /# jobs API on http:\/\/127\.0\.0\.1:\d+ \(SigV4 \(service lambda, region us-east-1\) checked against AWS_ACCESS_KEY_ID fanout-local\): fanout's API handler runs in this process, with the tasks of tasks\.ts/,
      );
      const url = `${env.FANOUT_API_URL}/jobs/01jz0000000000000000000000`;
      const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
      const signed = await signedFetch(url, { region: env.AWS_REGION!, credentials });
      // The handler's answer (no such job), not a refusal, with the request id of its event.
      expect(signed.status).toBe(404);
      expect(signed.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      expect(await signed.json()).toHaveProperty('error.code');

      const unsigned = await fetch(url);
      expect(unsigned.status).toBe(403);
      expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('ERR_UNSIGNED');
      const badSecret = await signedFetch(url, {
        region: env.AWS_REGION!,
        credentials: { ...credentials, secretAccessKey: 'wrong' },
      });
      expect(badSecret.status).toBe(403);
      expect(((await badSecret.json()) as { error: { code: string } }).error.code).toBe('ERR_BAD_SIGNATURE');
      const otherKey = await signedFetch(url, {
        region: env.AWS_REGION!,
        credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' },
      });
      expect(((await otherKey.json()) as { error: { code: string } }).error.code).toBe('ERR_UNKNOWN_ACCESS_KEY');

      // A job end to end: submitted over the API, run by a worker fleet on the printed resources, read back.
      const fleet = startFleet(await resolveAwsConfig(env), { tasks: [new URL('../fixtures/tasks.ts', import.meta.url).href] });
      try {
        await fleet.ready;
        const api = (method: string, path: string, body?: unknown) =>
          signedFetch(`${env.FANOUT_API_URL}${path}`, {
            method,
            region: env.AWS_REGION!,
            credentials,
            ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
          });
        const submitted = await api('POST', '/jobs', { task: 'square', items: [1, 2, 3, 4, 5, 6], chunksize: 2 });
        expect(submitted.status).toBe(202);
        const { jobId, total } = (await submitted.json()) as { jobId: string; total: number };
        expect(jobId).toMatch(/^[0-9a-z]{26}$/);
        expect(total).toBe(6);
        expect(await settled((path) => api('GET', path), jobId)).toMatchObject({
          status: 'succeeded',
          total: 6,
          done: 6,
          failed: 0,
        });
        const results = await api('GET', `/jobs/${jobId}/results`);
        expect(results.status).toBe(200);
        expect(await results.json()).toMatchObject({ results: [1, 4, 9, 16, 25, 36], errors: [] });
        // A task the emulator's --tasks modules do not define is refused at submit time.
        const unknown = await api('POST', '/jobs', { task: 'noSuchTask', items: [1] });
        expect(unknown.status).toBe(400);
      } finally {
        await fleet.stop();
      }
    } finally {
      emulator.stop();
    }
    expect(await emulator.exited).toBe(0);
    expect(await portIsClosed(parseExports(emulator.stdout()).FANOUT_API_URL!)).toBe(true);
  });

  it('says the API port is in use, by its flag, and exits 1', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(['emulator', '--sqs-port', '0', '--dynamodb-port', '0', '--api-port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `fanout emulator: port ${port} (--api-port) is in use; choose another, or 0 for any free port.\n`,
      );
      expect(result.stdout).toBe('');
    } finally {
      busy.close();
    }
  });

  it('refuses --tasks with --template, and a task module that does not exist, as usage errors (exit 2)', async () => {
    const both = await runCli(['emulator', '--template', 'cdk.out/Fanout.template.json', '--tasks', 'test/fixtures/tasks.ts']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--tasks is for the emulator without --template/);
    const missing = await runCli(['emulator', '--tasks', 'no/such/tasks.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/the task module 'no\/such\/tasks\.ts' does not exist/);
  });

  it('says which port is in use, by its flag, and exits 1', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(['emulator', '--sqs-port', String(port), '--dynamodb-port', '0']);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `fanout emulator: port ${port} (--sqs-port) is in use; choose another, or 0 for any free port.\n`,
      );
      expect(result.stdout).toBe('');
    } finally {
      busy.close();
    }
  });
});

/** Polls `GET /jobs/{jobId}` until the job is neither queued nor running; its last status. */
async function settled(get: (path: string) => Promise<Response>, jobId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const status = (await (await get(`/jobs/${jobId}`)).json()) as Record<string, unknown>;
    if (status.status !== 'queued' && status.status !== 'running') return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the job ${jobId} did not settle in 600 polls`);
}

/** `fanout emulator ...args` as a command of its own, until `stop()` (SIGINT); `ready` resolves with its exports. */
function startEmulatorCli(args: string[]): {
  ready: Promise<Record<string, string>>;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  stop: () => void;
} {
  const child = spawn(process.execPath, [bin, 'emulator', ...args], { cwd: repoRoot, env: environmentWithoutFanout() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = until(() => stderr.includes('# ready') || child.exitCode !== null, 'the emulator to be ready', 60_000).then(
    () => {
      if (!stderr.includes('# ready')) throw new Error(`fanout emulator exited:\n${stderr}`);
      return parseExports(stdout);
    },
  );
  return { ready, exited, stdout: () => stdout, stderr: () => stderr, stop: () => child.kill('SIGINT') };
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
