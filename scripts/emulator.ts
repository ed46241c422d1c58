/**
 * `npm run emulator`: `fanout emulator` from the repository (see `npx fanout emulator --help`):
 * fauxqs (SQS + S3) and dynalite (DynamoDB) on 127.0.0.1 with the fanout stack's queues, table
 * and bucket; prints the environment to load in other shells, and runs until Ctrl-C.
 *
 *   npm run emulator -- [--sqs-port 4566] [--dynamodb-port 4567] [--visibility-timeout 30] [--write-env PATH]
 */
import { main } from '../lib/cli/main.js';

process.exitCode = await main(['emulator', ...process.argv.slice(2)]);
