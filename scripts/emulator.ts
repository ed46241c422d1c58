/**
 * `npm run emulator`: starts fauxqs (SQS + S3) and dynalite (DynamoDB) on 127.0.0.1, creates the
 * fanout stack's queue, dead-letter queue, table and bucket in them, and prints the environment
 * to export. Runs until Ctrl-C.
 *
 *   npm run emulator -- [--sqs-port 4566] [--dynamodb-port 4567] [--visibility-timeout 30]
 */
import { parseArgs } from 'node:util';
import { configEnvironment, provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';

const { values } = parseArgs({
  options: {
    'sqs-port': { type: 'string', default: '4566' },
    'dynamodb-port': { type: 'string', default: '4567' },
    'visibility-timeout': { type: 'string', default: '30' },
    name: { type: 'string', default: 'fanout' },
  },
});

const emulators = await startEmulators({ sqsPort: Number(values['sqs-port']), dynamodbPort: Number(values['dynamodb-port']) });
const config = await provisionResources(emulators.endpoints, {
  name: values.name,
  visibilityTimeoutSeconds: Number(values['visibility-timeout']),
});
console.log('# fanout emulators are running (fauxqs: SQS + S3, dynalite: DynamoDB). In another shell:');
for (const [name, value] of Object.entries(configEnvironment(config))) console.log(`export ${name}=${value}`);
console.log('# then start workers:  npx tsx scripts/worker.ts   (or: fanout worker)');
console.log('# and run a program:   FANOUT_BACKEND=aws npm start');

const stop = async () => {
  await emulators.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
