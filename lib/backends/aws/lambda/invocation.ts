/** What an invocation of an emulated Lambda function produced, and the record the runner keeps of it. */

/** An error as Lambda reports it. */
export interface LambdaErrorInfo {
  /** `errorType`: the error's name, or a runtime code such as `Runtime.ImportModuleError`. */
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/**
 * How an invocation ended:
 * - `success`: the handler returned; `response` is its result after a JSON round trip.
 * - `error`: the handler threw or rejected; the environment is kept, as Lambda keeps it.
 * - `timeout`: the function's timeout passed; the environment was killed and discarded.
 * - `crashed`: the runtime exited (process.exit, an uncaught error, memory over the limit, a
 *   failed init); the environment is discarded.
 */
export type InvocationOutcome =
  | { status: 'success'; response: unknown }
  | { status: 'error'; error: LambdaErrorInfo }
  | { status: 'timeout'; timeoutSeconds: number }
  | { status: 'crashed'; error: LambdaErrorInfo };

/** One invocation, as a REPORT line describes it. */
export interface InvocationRecord {
  requestId: string;
  /** The execution environment (its log stream name). */
  environmentId: string;
  /** The environment's process ID. */
  pid: number | undefined;
  /** The environment was created for this invocation. */
  coldStart: boolean;
  /** Cold starts: from starting the runtime to the handler module loaded (Lambda's Init Duration). */
  initDurationMs: number | undefined;
  /** Cold starts: how long importing the handler module took, inside the runtime. */
  importDurationMs: number | undefined;
  /** From sending the event to the outcome (not counting init). */
  durationMs: number;
  /** Peak resident memory of the environment so far, in MB (Linux only). */
  maxMemoryUsedMb: number | undefined;
  outcome: InvocationOutcome;
}
