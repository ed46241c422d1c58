import type { Context as LambdaContext } from 'aws-lambda';
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AwsConfig } from '../backends/aws/AwsConfig.js';
import { isLoopbackHost, RESOURCE_NAME_PATTERN } from '../backends/aws/emulatorRules.js';
import type { ProvisionedStack } from '../backends/aws/StackProvisioner.js';
import { InvalidArgumentError, TaskModuleError, ValueError } from '../errors.js';
import type { FunctionUrlEvent, FunctionUrlHandler, FunctionUrlResult } from '../http/FunctionUrlAdapter.js';
import type { CommandContext } from './CommandContext.js';
import { collect, matching, singleValue, wholeNumber } from './optionParsers.js';
import { quietAwsSdk } from './quietAwsSdk.js';
import { refusePassthrough } from './refusePassthrough.js';
import { reportFailure } from './reportFailure.js';
import { shellEnvironment } from './shellEnvironment.js';
import { taskModulePaths } from './taskModules.js';
import { UsageError } from './UsageError.js';

interface EmulatorArguments {
  sqsPort?: number;
  dynamodbPort?: number;
  gatewayPort?: number;
  apiPort?: number;
  visibilityTimeout?: number;
  name?: string;
  host?: string;
  writeEnv?: string;
  template?: string;
  tasks?: string[];
}

/** The defaults of `fanout emulator` (those of LocalStack's SQS port and the one after it). */
const DEFAULTS = {
  sqsPort: 4566,
  dynamodbPort: 4567,
  gatewayPort: 0,
  apiPort: 0,
  visibilityTimeout: 30,
  name: 'fanout',
  host: '127.0.0.1',
};

/**
 * fanout's own API handler, run in this process without `--template`: the TypeScript source in
 * a checkout of fanout, the compiled module in the npm package (`dist/functions/api/handler.js`).
 * The same module the stack bundles into its API function.
 */
const API_HANDLER = new URL(
  import.meta.url.endsWith('.ts') ? '../../functions/api/handler.ts' : '../../functions/api/handler.js',
  import.meta.url,
);
/** The API function's timeout in the stack (infra/Fanout.ts): the in-process handler's context counts down from it. */
const API_TIMEOUT_MS = 60_000;

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
FANOUT_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_SQS, ..., FANOUT_API_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY). The emulators listen on loopback only and accept any credentials. They
need fauxqs and dynalite:
  npm install --save-dev fauxqs@1.9.2 dynalite@4.0.0

The jobs API (POST /jobs, GET /jobs/ID, GET /jobs/ID/results, DELETE /jobs/ID) listens on
FANOUT_API_URL (127.0.0.1) and checks SigV4 signatures (service lambda) against the printed
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as the deployed Function URL does:
  curl --aws-sigv4 "aws:amz:$AWS_REGION:lambda" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H 'content-type: application/json' --data '{"task":"square","items":[1,2,3]}' "$FANOUT_API_URL/jobs"
With --template it runs the template's API asset; without, fanout's API handler in this process,
with the task modules of --tasks (a job naming any other task is refused).
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
        '--api-port <port>',
        'the jobs API’s port on 127.0.0.1, exported as FANOUT_API_URL; 0 picks a free one (default: 0)',
      ).argParser(wholeNumber(0, 65_535)),
    )
    .addOption(
      new Option(
        '--tasks <module...>',
        'without --template: task modules the API imports, so that it accepts jobs of their tasks (repeatable)',
      ).argParser(collect('a task module path')),
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
      if (options.tasks !== undefined && options.template !== undefined) {
        throw new UsageError(
          '--tasks is for the emulator without --template: the template’s API and worker bundle their own task modules ' +
            '(synthesize with them: npx fanout synth --tasks MODULE).',
          { command: 'emulator', option: '--tasks', value: options.tasks.join(' ') },
        );
      }
      const tasks = taskModulePaths(options.tasks ?? [], 'emulator', context.cwd);
      quietAwsSdk();
      await runEmulator(context, { ...DEFAULTS, ...options, tasks });
    });
}

type ResolvedArguments = Required<Omit<EmulatorArguments, 'writeEnv' | 'template'>> & EmulatorArguments;

async function runEmulator(context: CommandContext, options: ResolvedArguments) {
  const { stderr, stdout } = context.output;
  // Loaded only now: the emulators and the AWS SDK are for this command alone.
  const { configEnvironment, provisionResources, startEmulators, EMULATOR_CREDENTIALS } =
    await import('../backends/aws/emulator.js');
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
  let api: LocalApi | undefined;
  try {
    let config: AwsConfig;
    let stack: ProvisionedStack | undefined;
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
      stack = await provisionStack(resolve(context.cwd, options.template), emulators.endpoints, {
        region: emulators.region,
      });
      config = stack.config;
      const lambda = new LambdaRunner(stack.worker.function, {
        config: stack.config,
        eventSource: stack.worker.eventSource,
        credentials: EMULATOR_CREDENTIALS,
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
    const credentials = {
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    };
    api = await startLocalApi(context, options, { ...configEnvironment(config), ...credentials }, stack);
    notesOfStack.push(...api.notes);
    // The services' own endpoints win in the SDK; AWS_ENDPOINT_URL serves every other tool.
    const exports = shellEnvironment({
      ...configEnvironment(config),
      ...(emulators.gatewayUrl ? { AWS_ENDPOINT_URL: emulators.gatewayUrl } : {}),
      ...(api.url !== undefined ? { FANOUT_API_URL: api.url } : {}),
      // The emulated account's: the emulators accept them, the Lambda runner gives them to the
      // functions, and the API checks signatures against them.
      ...credentials,
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
      stack
        ? "# load this environment in another shell and run your program (the template's worker runs here)"
        : '# load this environment in another shell, then: npx fanout worker --tasks <task module>, and run your program',
      '# ready; Ctrl-C stops the emulators',
    );
    stdout.write(exports);
    stderr.write(`${notes.join('\n')}\n`);
    await stopRequested(context.services.signal);
    stderr.write('# fanout emulator: stopping\n');
  } catch (error) {
    if (isApiPortInUse(error)) {
      stderr.write(`fanout emulator: port ${options.apiPort} (--api-port) is in use; choose another, or 0 for any free port.\n`);
      context.exitCode = 1;
    } else {
      reportFailure(context, 'emulator', error);
    }
  } finally {
    await api?.stop();
    await runner?.stop();
    await emulators.stop();
  }
}

/** The jobs API on loopback, or the note that there is none. */
interface LocalApi {
  /** `FANOUT_API_URL`, when the API runs. */
  url: string | undefined;
  notes: string[];
  stop(): Promise<void>;
}

/**
 * Serves the jobs API on 127.0.0.1 behind a {@link FunctionUrlAdapter}, as the stack's Function
 * URL serves it: with a template, its API function's asset under a {@link LambdaRunner} (SigV4
 * checked when the URL's AuthType is AWS_IAM); without, fanout's API handler in this process, with
 * `environment` set as the stack sets the function's and the task modules imported first, as the
 * bundle imports them.
 */
async function startLocalApi(
  context: CommandContext,
  options: ResolvedArguments,
  environment: Record<string, string>,
  stack: ProvisionedStack | undefined,
): Promise<LocalApi> {
  const { stderr } = context.output;
  if (stack && !stack.api) {
    return {
      url: undefined,
      notes: ['# no jobs API: the template has none (a stack made with api: false), so FANOUT_API_URL is not set'],
      stop: async () => {},
    };
  }
  const [{ FunctionUrlAdapter }, { SigV4Verifier }, { EMULATOR_CREDENTIALS }] = await Promise.all([
    import('../http/FunctionUrlAdapter.js'),
    import('../http/SigV4Verifier.js'),
    import('../backends/aws/emulator.js'),
  ]);
  const region = environment.AWS_REGION!;
  const authType = stack?.api?.authType ?? 'AWS_IAM';
  const verifier = authType === 'AWS_IAM' ? new SigV4Verifier({ credentials: [EMULATOR_CREDENTIALS], region }) : null;
  const stops: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step();
  };
  try {
    let handler: FunctionUrlHandler;
    let what: string;
    if (stack?.api) {
      const { LambdaRunner } = await import('../backends/aws/lambda/LambdaRunner.js');
      const fn = stack.api.function;
      const runner = new LambdaRunner(fn, {
        config: stack.config,
        credentials: EMULATOR_CREDENTIALS,
        log: (line) => stderr.write(`${line}\n`),
      });
      await runner.start();
      stops.push(() => runner.stop());
      handler = async (event) => {
        const { outcome, requestId } = await runner.invoke(event);
        if (outcome.status === 'success') return outcome.response as FunctionUrlResult | string;
        const why =
          outcome.status === 'timeout'
            ? `timed out after ${outcome.timeoutSeconds} s`
            : `${outcome.status}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`;
        throw new ValueError(`The API function's invocation ${requestId} ${why}.`);
      };
      what = `${fn.functionName} (${fn.memorySize} MB, ${fn.timeoutSeconds} s) runs its asset under the Lambda runner`;
    } else {
      stops.push(setEnvironment(environment));
      for (const module of options.tasks) {
        try {
          await import(pathToFileURL(module).href);
        } catch (error) {
          throw new TaskModuleError(
            module,
            `the task module ${module} failed to load: ${(error as Error)?.message ?? String(error)}`,
            error,
          );
        }
      }
      const loaded = (await import(API_HANDLER.href)) as { handler?: unknown };
      if (typeof loaded.handler !== 'function') {
        throw new ValueError(`${fileURLToPath(API_HANDLER)} exports no handler function.`);
      }
      const apiHandler = loaded.handler as (
        event: FunctionUrlEvent,
        context: LambdaContext,
      ) => Promise<FunctionUrlResult | string>;
      handler = (event) => apiHandler(event, lambdaContext(event, region));
      what = `fanout's API handler runs in this process, with ${options.tasks.length === 0 ? 'no task modules (every POST /jobs is refused: pass --tasks MODULE)' : `the tasks of ${options.tasks.map((module) => basename(module)).join(', ')}`}`;
    }
    const adapter = await FunctionUrlAdapter.start({
      handler,
      verifier,
      port: options.apiPort,
      onError: (error, event) =>
        stderr.write(
          `# fanout emulator: API request ${event.requestContext.requestId} (${event.requestContext.http.method} ${event.rawPath}) failed: ` +
            `${(error as Error)?.message ?? String(error)}\n`,
        ),
    });
    stops.push(() => adapter.stop());
    const checks =
      verifier === null
        ? 'AuthType NONE: unsigned requests are served'
        : `SigV4 (service lambda, region ${region}) checked against AWS_ACCESS_KEY_ID ${EMULATOR_CREDENTIALS.accessKeyId}`;
    return { url: adapter.url, notes: [`# jobs API on ${adapter.url} (${checks}): ${what}`], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Sets `variables` in this process's environment; the returned function puts back what was there. */
function setEnvironment(variables: Record<string, string>): () => void {
  const previous = new Map(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** A Lambda context for the in-process handler, its remaining time counting down from the stack's API timeout. */
function lambdaContext(event: FunctionUrlEvent, region: string): LambdaContext {
  const deadline = Date.now() + API_TIMEOUT_MS;
  const functionName = 'fanout-api-local';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: event.requestContext.requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'in-process',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Whether `error` says the API's port is in use (FunctionUrlAdapter's port option). */
function isApiPortInUse(error: unknown): boolean {
  return error instanceof InvalidArgumentError && error.option === 'FunctionUrlAdapter.start(options): port';
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
