/**
 * fanout's jobs API from TypeScript, with FanoutClient: submit a job, read its status, wait for
 * its results (paging and polling with back-off), stream them, cancel one. Every request is
 * SigV4-signed with the AWS SDK's signer and default credentials.
 *
 *   export FANOUT_API_URL=...   AWS_REGION=us-east-1   (and credentials)
 *   npx fanout run examples/api/client.ts -- square '[1,2,3,4,5]'
 */
import { ApiError, FanoutClient } from 'fanout';

const [task = 'square', items = '[1,2,3,4,5]'] = process.argv.slice(2);
const client = new FanoutClient(); // FANOUT_API_URL, the SDK's default credentials

try {
  const submitted = await client.submit({ task, items: JSON.parse(items) as unknown[] });
  console.log(JSON.stringify({ submitted }));
  console.log(JSON.stringify({ status: await client.status(submitted.jobId) }));
  const results = await client.waitForResults(submitted.jobId, { timeout: 600_000 });
  console.log(JSON.stringify({ results }));

  // One page at a time, as the API serves them: `next` until the last.
  let page = await client.results(submitted.jobId);
  let pages = 1;
  while (page.next) {
    page = await client.results(submitted.jobId, { next: page.next });
    pages++;
  }
  console.log(JSON.stringify({ pages }));

  // A second job, cancelled at once: workers skip its chunks that have not started.
  const other = await client.submit({ task, items: JSON.parse(items) as unknown[] });
  console.log(JSON.stringify({ cancelled: await client.cancel(other.jobId) }));
} catch (error) {
  if (!(error instanceof ApiError)) throw error;
  console.error(`client.ts: the API refused: ${error.message}`);
  process.exitCode = 1;
}
