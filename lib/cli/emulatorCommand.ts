import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isLoopbackHost, RESOURCE_NAME_PATTERN } from '../backends/aws/emulatorRules.js';
import { InvalidArgumentError } from '../errors.js';
import type { CommandContext } from './CommandContext.js';
import { matching, singleValue, wholeNumber } from './optionParsers.js';
import { quietAwsSdk } from './quietAwsSdk.js';
import { refusePassthrough } from './refusePassthrough.js';
import { reportFailure } from './reportFailure.js';
import { shellEnvironment } from './shellEnvironment.js';

interface EmulatorArguments {
  sqsPort?: number;
  dynamodbPort?: number;
  gatewayPort?: number;
  visibilityTimeout?: number;
  name?: string;
  host?: string;
  writeEnv?: string;
  template?: string;
}

/** The defaults of `fanout emulator` (those of LocalStack's SQS port and the one after it). */
const DEFAULTS = { sqsPort: 4566, dynamodbPort: 4567, gatewayPort: 0, visibilityTimeout: 30, name: 'fanout', host: '127.0.0.1' };

const ROUTES = `
The emulators run until Ctrl-C, so their environment is loaded in other shells. Two routes:

  An env file:      npx fanout emulator --write-env .env.fanout
    then, for node:       node --env-file=.env.fanout app.js
    or, in a shell:       . ./.env.fanout
  Standard output:  npx fanout emulator > fanout.env      (the notes go to stderr)
    then, in a shell:     . ./fanout.env      (or: eval "$(cat fanout.env)")

With that environment loaded (it sets FANOUT_BACKEND=aws), start workers and run your program:
  npx fanout worker --tasks src/tasks.ts
  npx fanout run src/main.ts          (or: node --env-file=.env.fanout src/main.js)

The output is lines of the form  export NAME='value'  (FANOUT_QUEUE_URL, FANOUT_TABLE,
FANOUT_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_SQS, ...). The emulators listen on loopback only and
accept any credentials. They need fauxqs and dynalite:
  npm install --save-dev fauxqs@1.9.2 dynalite@4.0.0
`;

/**
 * Adds `fanout emulator`: fauxqs (SQS, S3) and dynalite (DynamoDB) on loopback with fanout's
 * queue, table and bucket, in the foreground, printing the environment that points at them.
 *
 * @example
 * ```ts
 * addEmulatorCommand(program, context);
 * ```
 */
export function addEmulatorCommand(program: Command, context: CommandContext): void {
  program
    .command('emulator')
    .summary('Run the AWS emulators on this machine, with fanout’s queue, table and bucket.')
    .description(
      'Starts fauxqs (SQS and S3) and dynalite (DynamoDB) on a loopback address, creates what ' +
        'fanout’s stack defines (the task queue and its dead-letter queue, the table, the bucket), ' +
        'prints the environment that points the aws backend at them on stdout, and runs until ' +
        'Ctrl-C. Nothing is kept when it stops.',
    )
    .addOption(
      new Option(
        '--sqs-port <port>',
        `fauxqs’s port, for SQS and S3; 0 picks a free one (default: ${DEFAULTS.sqsPort})`,
      ).argParser(wholeNumber(0, 65_535)),
    )
    .addOption(
      new Option('--dynamodb-port <port>', `dynalite’s port; 0 picks a free one (default: ${DEFAULTS.dynamodbPort})`).argParser(
        wholeNumber(0, 65_535),
      ),
    )
    .addOption(
      new Option(
        '--gateway-port <port>',
        'one endpoint for every service, as LocalStack’s, exported as AWS_ENDPOINT_URL; 0 picks a free one (default: 0)',
      ).argParser(wholeNumber(0, 65_535)),
    )
    .addOption(
      new Option(
        '--visibility-timeout <seconds>',
        `the task queue’s visibility timeout, 0-43200 (default: ${DEFAULTS.visibilityTimeout})`,
      ).argParser(wholeNumber(0, 43_200)),
    )
    .addOption(
      new Option('--name <prefix>', `prefix of the resource names (default: ${DEFAULTS.name})`).argParser(
        matching(RESOURCE_NAME_PATTERN, '2-41 lower-case letters, digits and dashes, not starting with a dash'),
      ),
    )
    .addOption(
      new Option('--host <address>', `the loopback address to listen on (default: ${DEFAULTS.host})`).argParser(
        singleValue('a loopback address: 127.0.0.1 (or another 127.x.y.z), ::1 or localhost', (value) =>
          isLoopbackHost(value) ? value : undefined,
        ),
      ),
    )
    .addOption(
      new Option(
        '--template <path>',
        'a synthesized stack template (npx fanout synth --tasks ...: cdk.out/Fanout.template.json): create what it ' +
          'declares, and run its worker Lambda’s real asset under a Lambda-shaped runner fed by its SQS trigger',
      ).argParser(singleValue('the path of a template file', (value) => (value === '' ? undefined : value))),
    )
    // Not --env-file: Node 20 itself reads an --env-file anywhere in its arguments, even after the script.
    .addOption(
      new Option('--write-env <path>', 'also write the environment to this file, for node --env-file or a shell').argParser(
        singleValue('a file path', (value) => (value === '' ? undefined : value)),
      ),
    )
    .addHelpText('after', ROUTES)
    .action(async (options: EmulatorArguments) => {
      refusePassthrough(context, 'emulator');
      quietAwsSdk();
      await runEmulator(context, { ...DEFAULTS, ...options });
    });
}

async function runEmulator(
  context: CommandContext,
  options: Required<Omit<EmulatorArguments, 'writeEnv' | 'template'>> & EmulatorArguments,
) {
  const { stderr, stdout } = context.output;
  // Loaded only now: the emulators and the AWS SDK are for this command alone.
  const { configEnvironment, provisionResources, startEmulators } = await import('../backends/aws/emulator.js');
  let emulators: Awaited<ReturnType<typeof startEmulators>>;
  try {
    emulators = await startEmulators({
      host: options.host,
      sqsPort: options.sqsPort,
      dynamodbPort: options.dynamodbPort,
      gatewayPort: options.gatewayPort,
    });
  } catch (error) {
    const flag = portFlag(error);
    if (flag) {
      const port = flag === '--sqs-port' ? options.sqsPort : options.dynamodbPort;
      context.output.stderr.write(
        `fanout emulator: port ${port} (${flag}) ${(error as Error).message.includes('in use') ? 'is in use' : 'needs privileges'}; choose another, or 0 for any free port.\n`,
      );
      context.exitCode = 1;
    } else {
      reportFailure(context, 'emulator', error);
    }
    return;
  }
  let runner: { stop(): Promise<void> } | undefined;
  try {
    let config;
    const notesOfStack: string[] = [];
    if (options.template === undefined) {
      config = await provisionResources(emulators.endpoints, {
        name: options.name,
        visibilityTimeoutSeconds: options.visibilityTimeout,
        region: emulators.region,
      });
    } else {
      // The deployed artifact, emulated: the template's resources, and its worker's asset run as Lambda runs it.
      const { provisionStack } = await import('../backends/aws/StackProvisioner.js');
      const { LambdaRunner } = await import('../backends/aws/lambda/LambdaRunner.js');
      const stack = await provisionStack(resolve(context.cwd, options.template), emulators.endpoints, {
        region: emulators.region,
      });
      config = stack.config;
      const lambda = new LambdaRunner(stack.worker.function, {
        config: stack.config,
        eventSource: stack.worker.eventSource,
        log: (line) => stderr.write(`${line}\n`),
      });
      await lambda.start();
      runner = lambda;
      const { functionName, memorySize, timeoutSeconds } = stack.worker.function;
      notesOfStack.push(
        `# stack ${stack.stackName} from ${options.template}: worker ${functionName} (${memorySize} MB, ${timeoutSeconds} s) ` +
          'runs its asset under the Lambda runner',
        ...stack.resources
          .filter((resource) => resource.notApplied.length > 0)
          .map((resource) => `# not emulated on ${resource.logicalId}: ${resource.notApplied.join('; ')}`),
      );
    }
    // The services' own endpoints win in the SDK; AWS_ENDPOINT_URL serves every other tool.
    const exports = shellEnvironment({
      ...configEnvironment(config),
      ...(emulators.gatewayUrl ? { AWS_ENDPOINT_URL: emulators.gatewayUrl } : {}),
    });
    const notes = [
      `# fanout emulator: fauxqs (SQS, S3) on ${emulators.endpoints.sqs}, dynalite (DynamoDB) on ${emulators.endpoints.dynamodb}, ` +
        `all three on ${emulators.gatewayUrl ?? '(no gateway)'}`,
      `# queue ${config.queueUrl} (dead letters: ${config.deadLetterQueueUrl ?? 'from its redrive policy'}), table ${config.table}, bucket ${config.bucket}`,
      ...notesOfStack,
    ];
    if (options.writeEnv !== undefined) {
      const path = resolve(context.cwd, options.writeEnv);
      writeFileSync(
        path,
        `# fanout emulator (while it runs): node --env-file=${options.writeEnv} app.js, or . ./${options.writeEnv}\n${exports}`,
      );
      notes.push(`# wrote ${path}: node --env-file=${options.writeEnv} app.js, or in a shell: . ${path}`);
    }
    notes.push(
      '# load this environment in another shell, then: npx fanout worker --tasks <task module>, and run your program',
      '# ready; Ctrl-C stops the emulators',
    );
    stdout.write(exports);
    stderr.write(`${notes.join('\n')}\n`);
    await stopRequested(context.services.signal);
    stderr.write('# fanout emulator: stopping\n');
  } catch (error) {
    reportFailure(context, 'emulator', error);
  } finally {
    await runner?.stop();
    await emulators.stop();
  }
}

/** Resolves at SIGINT, SIGTERM or when `signal` aborts. */
function stopRequested(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop);
  });
}

/** The flag whose port startEmulators could not listen on, if that is what `error` says. */
function portFlag(error: unknown): '--sqs-port' | '--dynamodb-port' | undefined {
  if (!(error instanceof InvalidArgumentError)) return undefined;
  if (error.option.endsWith(': sqsPort')) return '--sqs-port';
  if (error.option.endsWith(': dynamodbPort')) return '--dynamodb-port';
  return undefined;
}
