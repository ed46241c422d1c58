import { describe, expect, it } from 'vitest';
import { Context } from 'fanout';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { resolveAwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { main, type CliOutput } from '../../lib/cli/main.js';
import { signedFetch } from '../../lib/http/signedFetch.js';
import { square } from '../fixtures/tasks.js';
import { synthesizedTemplate } from './assetHarness.js';

/** `export NAME='value'` lines back into variables. */
function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

describe(
  'fanout emulator --template: the synthesized stack, its worker asset run as Lambda runs it',
  { timeout: 240_000 },
  () => {
    it('creates what the template declares, runs the worker asset on its SQS trigger and the API asset behind its URL: a pool map and a signed POST /jobs go through them', async () => {
      const template = await synthesizedTemplate();
      let out = '';
      let err = '';
      const io: CliOutput = {
        stdout: { write: (text: string) => (out += text) },
        stderr: { write: (text: string) => (err += text) },
      };
      const stop = new AbortController();
      const running = main(['emulator', '--template', template, '--sqs-port', '0', '--dynamodb-port', '0'], io, {
        signal: stop.signal,
      });
      try {
        const deadline = Date.now() + 120_000;
        while (!err.includes('# ready')) {
          if (Date.now() > deadline) throw new Error(`fanout emulator did not get ready:\n${err}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(err).toMatch(
          /# stack FanoutAssetTest from .*: worker \S+ \(\d+ MB, \d+ s\) runs its asset under the Lambda runner/,
        );
        const env = parseExports(out);
        expect(env.FANOUT_BACKEND).toBe('aws');
        const config = await resolveAwsConfig(env);
        const context = new Context(new AwsBackend({ config }));
        await using pool = new context.Pool(2);
        expect(await pool.map(square, [1, 2, 3, 4], { chunksize: 1 })).toEqual([1, 4, 9, 16]);
        // The START/END/REPORT lines of the runner's environments: the asset ran, not an in-process fleet.
        // An invocation writes its results before it returns and its REPORT line comes after that, so
        // the map can end first: wait until every invocation started has reported.
        const lines = (prefix: string) => err.split('\n').filter((line) => line.startsWith(prefix)).length;
        const reports = () => lines('REPORT RequestId: ');
        const invocationsEnded = async () => {
          const until = Date.now() + 30_000;
          while (reports() === 0 || reports() < lines('START RequestId: ')) {
            if (Date.now() > until) throw new Error(`invocations did not report within 30 s:\n${err}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        };
        await invocationsEnded();
        expect(err).toMatch(/REPORT RequestId: /);

        // The jobs API: the template's API asset, behind the Function URL adapter, SigV4 checked.
        expect(err).toMatch(
          /# jobs API on http:\/\/127\.0\.0\.1:\d+ \(SigV4 \(service lambda, region us-east-1\) checked against AWS_ACCESS_KEY_ID fanout-local\): \S*FanoutApi\S* \(1024 MB, 60 s\) runs its asset under the Lambda runner/,
        );
        expect(env.FANOUT_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const url = `${env.FANOUT_API_URL}/jobs/01jz0000000000000000000000`;
        const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
        const before = reports();
        const signed = await signedFetch(url, { region: env.AWS_REGION!, credentials });
        // Answered by the API function's asset (one more invocation under the runner): no such job.
        expect(signed.status).toBe(404);
        expect(await signed.json()).toHaveProperty('error.code');
        expect(reports()).toBe(before + 1);
        // Refused before the function runs: no invocation.
        const unsigned = await fetch(url);
        expect(unsigned.status).toBe(403);
        expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('ERR_UNSIGNED');
        const badSecret = await signedFetch(url, {
          region: env.AWS_REGION!,
          credentials: { ...credentials, secretAccessKey: 'x' },
        });
        expect(badSecret.status).toBe(403);
        expect(((await badSecret.json()) as { error: { code: string } }).error.code).toBe('ERR_BAD_SIGNATURE');
        expect(reports()).toBe(before + 1);

        // A job end to end in deployed code: the API asset submits it, the worker asset runs it.
        const api = (method: string, path: string, body?: unknown) =>
          signedFetch(`${env.FANOUT_API_URL}${path}`, {
            method,
            region: env.AWS_REGION!,
            credentials,
            ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
          });
        const submitted = await api('POST', '/jobs', { task: 'square', items: [1, 2, 3, 4, 5], chunksize: 2 });
        expect(submitted.status).toBe(202);
        const { jobId, total } = (await submitted.json()) as { jobId: string; total: number };
        expect(total).toBe(5);
        let status: Record<string, unknown> = {};
        for (
          let i = 0;
          i < 600 && (status.status === undefined || status.status === 'queued' || status.status === 'running');
          i++
        ) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
          status = (await (await api('GET', `/jobs/${jobId}`)).json()) as Record<string, unknown>;
        }
        expect(status).toMatchObject({ jobId, task: 'square', status: 'succeeded', total: 5, done: 5, failed: 0 });
        const results = await api('GET', `/jobs/${jobId}/results`);
        expect(await results.json()).toMatchObject({ results: [1, 4, 9, 16, 25], errors: [] });
        // The API bundle registers the same task modules as the worker: another name is refused at submit.
        expect((await api('POST', '/jobs', { task: 'asset.notBundled', items: [1] })).status).toBe(400);
      } finally {
        stop.abort();
      }
      expect(await running).toBe(0);
      expect(err).toContain('# fanout emulator: stopping');
    });
  },
);
