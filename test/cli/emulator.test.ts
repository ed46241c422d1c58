import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main, type CliOutput } from '../../lib/cli/main.js';
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
      });
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

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
