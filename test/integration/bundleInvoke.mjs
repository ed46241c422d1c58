// Plays the Lambda runtime for the bundle test: plain Node (no TypeScript loader), imports the
// bundled worker and invokes its handler once with the event in the given JSON file.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { functionName: 'bundle-test', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 };
const response = await handler(event, context);
console.log(JSON.stringify(response));
process.exit(0);
