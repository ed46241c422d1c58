import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, ValueError } from '../../../errors.js';
import type { LambdaFunctionSpec } from '../stackTemplate.js';
import type { InvocationOutcome, InvocationRecord, LambdaErrorInfo } from './invocation.js';
import type { TaskRoot } from './TaskRoot.js';

/** The runtime each environment runs: plain Node, no TypeScript loader. */
const BOOTSTRAP = new URL('./runtimeBootstrap.mjs', import.meta.url);
/** Lambda gives an on-demand environment's init phase 10 s. */
const INIT_TIMEOUT_MS = 10_000;
/** How long a freeze waits for the process to stop (about a millisecond per check; no /proc, no wait). */
const FREEZE_WAIT_MS = 200;
/** How often a running environment's resident memory is checked against the function's memory. */
const MEMORY_CHECK_MS = 100;

/** What every environment of one function shares. */
export interface EnvironmentSetup {
  fn: LambdaFunctionSpec;
  taskRoot: TaskRoot;
  /** The process environment of the runtime, but for the per-environment log stream name. */
  variables: Record<string, string>;
  /** Where the runtime's output and the START/END/REPORT lines go. */
  log: (line: string) => void;
}

/** The states of an environment: `idle` environments are frozen. */
export type EnvironmentState = 'new' | 'initializing' | 'idle' | 'busy' | 'dead';

/** A message from the runtime (see runtimeBootstrap.mjs), or the end of its process. */
type RuntimeEvent =
  | { type: 'ready'; importDurationMs: number }
  | { type: 'initError'; error: LambdaErrorInfo }
  | { type: 'response'; requestId: string; body: string }
  | { type: 'error'; requestId: string; error: LambdaErrorInfo }
  | { type: 'fatal'; requestId: string; error: LambdaErrorInfo }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'deadline' };

/** Runtimes of this process that are alive: killed when the process exits, so that none is orphaned. */
const liveRuntimes = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * One Lambda execution environment: a child process running the function's code with the
 * function's environment, through the phases Lambda gives it. `init()` starts the runtime and
 * imports the handler once; `invoke(event)` thaws it, runs one invocation with a context whose
 * remaining time counts down from the function's timeout, and freezes it again (SIGSTOP: its
 * timers and threads really stop) — or kills it when the timeout passes, its memory goes over
 * the function's, or its runtime exits; a dead environment is never used again.
 *
 * @example
 * ```ts
 * const environment = new LambdaEnvironment(setup);
 * const initError = await environment.init();
 * if (!initError) console.log((await environment.invoke({ Records: [] })).outcome);
 * await environment.kill();
 * ```
 */
export class LambdaEnvironment {
  /** The environment's log stream name, as Lambda names them. */
  readonly id: string;
  private child: ChildProcess | undefined;
  private status: EnvironmentState = 'new';
  private waiter: ((event: RuntimeEvent) => void) | undefined;
  private exited: Promise<void> = Promise.resolve();
  private memoryExceeded = false;
  private initDuration: number | undefined;
  private importDuration: number | undefined;
  private invocationCount = 0;

  constructor(private readonly setup: EnvironmentSetup) {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    this.id = `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
  }

  get state(): EnvironmentState {
    return this.status;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Invocations this environment has run. */
  get invocations(): number {
    return this.invocationCount;
  }

  /**
   * The init phase: starts the runtime and imports the handler module. Resolves to undefined when
   * the environment is ready (and frozen), or to the error that ended it.
   */
  async init(): Promise<LambdaErrorInfo | undefined> {
    if (this.status !== 'new') throw new ValueError(`The environment ${this.id} was already started.`);
    this.status = 'initializing';
    const started = performance.now();
    const child = fork(BOOTSTRAP, [], {
      cwd: this.setup.taskRoot.taskRoot,
      env: { ...this.setup.variables, AWS_LAMBDA_LOG_STREAM_NAME: this.id },
      // Not this process's flags (a TypeScript loader, a test runner's): the runtime is plain Node.
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.track(child);
    const event = await this.next(INIT_TIMEOUT_MS, undefined);
    if (event.type === 'ready') {
      this.initDuration = performance.now() - started;
      this.importDuration = event.importDurationMs;
      await this.freeze();
      this.status = 'idle';
      return undefined;
    }
    const error =
      event.type === 'initError'
        ? event.error
        : event.type === 'deadline'
          ? lambdaError('Sandbox.Timedout', `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`)
          : exitError(event);
    this.setup.log(
      `INIT_REPORT Init Duration: ${(performance.now() - started).toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${error.errorType}`,
    );
    await this.kill();
    return error;
  }

  /**
   * Runs one invocation: thaws the environment, hands it the event, and waits for the handler's
   * response, its error, or the function's timeout (then the environment is killed). Only an
   * `idle` environment can be invoked.
   */
  async invoke(event: unknown, options: { coldStart?: boolean } = {}): Promise<InvocationRecord> {
    if (this.status !== 'idle') {
      throw new ValueError(`The environment ${this.id} is ${this.status}, not idle: it cannot be invoked.`);
    }
    let payload: string;
    try {
      payload = JSON.stringify(event ?? null);
    } catch (error) {
      throw new InvalidArgumentError(
        'LambdaRunner.invoke(event)',
        event,
        'a JSON value (Lambda events are JSON)',
        (error as Error).message,
      );
    }
    const { fn, log } = this.setup;
    this.status = 'busy';
    this.invocationCount++;
    const requestId = randomUUID();
    const timeoutMs = fn.timeoutSeconds * 1000;
    log(`START RequestId: ${requestId} Version: $LATEST`);
    this.thaw();
    const started = performance.now();
    this.child!.send({
      type: 'invoke',
      requestId,
      deadlineMs: Date.now() + timeoutMs,
      event: payload,
      invokedFunctionArn: fn.functionArn,
      traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`,
    });
    const memoryCheck = setInterval(() => this.checkMemory(), MEMORY_CHECK_MS);
    const result = await this.next(timeoutMs, requestId);
    clearInterval(memoryCheck);
    const durationMs = performance.now() - started;
    const maxMemoryUsedMb = this.peakMemoryMb();
    let outcome: InvocationOutcome;
    switch (result.type) {
      case 'response':
        outcome = { status: 'success', response: JSON.parse(result.body) as unknown };
        break;
      case 'error':
        outcome = { status: 'error', error: result.error };
        break;
      case 'deadline':
        log(`${new Date().toISOString()} ${requestId} Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`);
        outcome = { status: 'timeout', timeoutSeconds: fn.timeoutSeconds };
        break;
      case 'fatal':
        outcome = { status: 'crashed', error: result.error };
        break;
      default:
        outcome = { status: 'crashed', error: this.memoryExceeded ? memoryError(fn.memorySize) : exitError(result) };
    }
    if (outcome.status === 'success' || outcome.status === 'error') {
      await this.freeze();
      this.status = 'idle';
    } else {
      await this.kill();
    }
    const cold = options.coldStart === true;
    log(`END RequestId: ${requestId}`);
    log(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\t` +
        `Memory Size: ${fn.memorySize} MB\tMax Memory Used: ${maxMemoryUsedMb ?? '?'} MB` +
        (cold ? `\tInit Duration: ${this.initDuration!.toFixed(2)} ms` : '') +
        (outcome.status === 'timeout' ? '\tStatus: timeout' : outcome.status === 'crashed' ? '\tStatus: error' : ''),
    );
    return {
      requestId,
      environmentId: this.id,
      pid: this.child?.pid,
      coldStart: cold,
      initDurationMs: cold ? this.initDuration : undefined,
      importDurationMs: cold ? this.importDuration : undefined,
      durationMs,
      maxMemoryUsedMb,
      outcome,
    };
  }

  /** Kills the environment's process (frozen or not) and waits for it to end. */
  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.status = 'dead';
    await this.exited;
  }

  private track(child: ChildProcess): void {
    liveRuntimes.add(child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const runtime of liveRuntimes) runtime.kill('SIGKILL');
      });
    }
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.setup.log(line));
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        liveRuntimes.delete(child);
        this.status = 'dead';
        this.deliver({ type: 'exit', code, signal });
        resolve();
      });
    });
    child.on('message', (message: RuntimeEvent) => this.deliver(message));
    // A send to a runtime that just died fails; its exit is what counts.
    child.on('error', () => {});
  }

  private deliver(event: RuntimeEvent): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    waiter(event);
  }

  /** The next event of the current phase: messages of other requests are ignored. */
  private next(timeoutMs: number, requestId: string | undefined): Promise<RuntimeEvent> {
    if (this.status === 'dead') return Promise.resolve({ type: 'exit', code: this.child?.exitCode ?? null, signal: null });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ type: 'deadline' });
      }, timeoutMs);
      const accept = (event: RuntimeEvent) => {
        if (requestId !== undefined && 'requestId' in event && event.requestId !== requestId) {
          this.waiter = accept;
          return;
        }
        clearTimeout(timer);
        resolve(event);
      };
      this.waiter = accept;
    });
  }

  /**
   * Stops the process (SIGSTOP) and waits until it is stopped: a signal takes effect a moment
   * after it is sent, and a frozen environment must be frozen when the invocation has returned.
   */
  private async freeze(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || !this.child!.kill('SIGSTOP')) return;
    for (let waited = 0; waited < FREEZE_WAIT_MS; waited++) {
      const state = processState(pid);
      if (state === undefined || state === 'T' || state === 'Z' || state === 'X') return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  private thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills an environment whose resident memory is over the function's memory, as Lambda does. */
  private checkMemory(): void {
    const residentMb = readStatusMb(this.child?.pid, 'VmRSS');
    if (residentMb !== undefined && residentMb > this.setup.fn.memorySize) {
      this.memoryExceeded = true;
      this.child?.kill('SIGKILL');
    }
  }

  private peakMemoryMb(): number | undefined {
    return readStatusMb(this.child?.pid, 'VmHWM');
  }
}

/** A process's state letter from /proc/<pid>/stat (Linux: `T` when stopped); undefined when unknown. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** A memory figure of a process from /proc (Linux), in whole MB; undefined elsewhere. */
function readStatusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.ceil(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function lambdaError(errorType: string, errorMessage: string): LambdaErrorInfo {
  return { errorType, errorMessage, trace: [] };
}

function exitError(event: RuntimeEvent): LambdaErrorInfo {
  const how =
    event.type === 'exit' && event.signal ? `signal: ${event.signal}` : `exit status ${event.type === 'exit' ? event.code : '?'}`;
  return lambdaError('Runtime.ExitError', `Runtime exited with error: ${how}`);
}

function memoryError(memorySize: number): LambdaErrorInfo {
  return lambdaError(
    'Runtime.OutOfMemory',
    `Runtime exited with error: signal: killed (memory over the function's ${memorySize} MB)`,
  );
}
