// The Node.js Lambda runtime of one execution environment, as LambdaRunner emulates it: plain
// Node (no TypeScript loader), started by LambdaEnvironment with the function's environment.
//
// Init: imports the handler module named by _HANDLER from LAMBDA_TASK_ROOT once, and reports
// how long the import took. Invocations arrive over the IPC channel (in place of the Runtime API); each
// gets a Lambda context whose getRemainingTimeInMillis() counts down to the deadline the runner
// set. The runner freezes this process (SIGSTOP) between invocations and kills it at the timeout.
// Logs go to stdout in Lambda's text format: time, request ID, level, message.
//
// Messages to the runner: { type: 'ready', importDurationMs } | { type: 'initError', error }
// | { type: 'response', requestId, body } | { type: 'error', requestId, error }
// | { type: 'fatal', requestId, error } (then the process exits, as Lambda's runtime does).
// Messages from the runner: { type: 'invoke', requestId, deadlineMs, event, invokedFunctionArn, traceId }.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

let currentRequestId = undefined;

// Lambda's Node runtime prefixes console output with the time, the request ID and the level.
for (const [method, level] of [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
  ['trace', 'TRACE'],
]) {
  console[method] = (...args) => {
    const text = format(...args).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text}\n`);
  };
}

/** The wire form of an error, as Lambda reports it (errorType, errorMessage, trace). */
function describeError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || error.constructor?.name || 'Error',
      errorMessage: error.message,
      trace: String(error.stack ?? '').split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: typeof error === 'string' ? error : format(error), trace: [] };
}

function send(message) {
  if (process.connected) process.send(message);
}

/** Sends a last message, then exits (process.send is asynchronous: exiting at once could drop it). */
function sendAndExit(message, code) {
  if (!process.connected) process.exit(code);
  process.send(message, () => process.exit(code));
  setTimeout(() => process.exit(code), 1000).unref();
}

// An error nobody handles ends the environment, as in Lambda's runtime: the invocation fails,
// the process exits, the runner discards it.
function fatal(errorType) {
  return (error) => {
    const described = describeError(error);
    if (errorType) described.errorType = errorType;
    process.stdout.write(
      `${new Date().toISOString()}\t${currentRequestId}\tERROR\t${described.errorType}: ${described.errorMessage}\n`,
    );
    sendAndExit(
      { type: currentRequestId === undefined ? 'initError' : 'fatal', requestId: currentRequestId, error: described },
      128,
    );
  };
}
process.on('uncaughtException', fatal(undefined));
process.on('unhandledRejection', fatal('Runtime.UnhandledPromiseRejection'));
// The runner is gone: so is this environment.
process.on('disconnect', () => process.exit(0));

async function loadHandler() {
  const spec = process.env._HANDLER ?? '';
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot < 0) {
    throw Object.assign(new Error(`Bad handler ${spec}: it must be module.export (for example index.handler).`), {
      name: 'Runtime.MalformedHandlerName',
    });
  }
  const modulePath = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1).split('.');
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(taskRoot, modulePath + ext)).find((path) => existsSync(path));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}' in ${taskRoot} (tried .js, .mjs, .cjs).`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let module;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError) error.name = 'Runtime.UserCodeSyntaxError';
    else if (error?.code === 'ERR_MODULE_NOT_FOUND') error.name = 'Runtime.ImportModuleError';
    throw error;
  }
  let handler = module;
  for (const key of exportPath) handler = handler?.[key];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${modulePath}.${exportPath.join('.')} is undefined or not exported as a function.`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler;
}

/** Calls the handler as Lambda's Node runtime does: a promise, or the callback (third argument). */
function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error === null || error === undefined ? resolve(result) : reject(error));
    const result = handler(event, context, callback);
    if (result !== null && typeof result?.then === 'function') result.then(resolve, reject);
  });
}

let handler;
const importStarted = performance.now();
try {
  handler = await loadHandler();
} catch (error) {
  const described = describeError(error);
  process.stdout.write(`${new Date().toISOString()}\tundefined\tERROR\t${described.errorType}: ${described.errorMessage}\n`);
  sendAndExit({ type: 'initError', error: described }, 129);
}
const importDurationMs = performance.now() - importStarted;

process.on('message', (message) => {
  if (message?.type !== 'invoke') return;
  const { requestId, deadlineMs } = message;
  currentRequestId = requestId;
  process.env._X_AMZN_TRACE_ID = message.traceId;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
  let event;
  try {
    event = JSON.parse(message.event);
  } catch (error) {
    send({ type: 'error', requestId, error: describeError(error) });
    return;
  }
  callHandler(handler, event, context).then(
    (response) => {
      let body;
      try {
        body = JSON.stringify(response === undefined ? null : response);
      } catch (error) {
        send({ type: 'error', requestId, error: { ...describeError(error), errorType: 'Runtime.MarshalError' } });
        return;
      }
      send({ type: 'response', requestId, body });
    },
    (error) => send({ type: 'error', requestId, error: describeError(error) }),
  );
});

if (handler) send({ type: 'ready', importDurationMs });
