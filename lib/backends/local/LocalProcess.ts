import type { ProcessThreadData } from '../../runtime/ProcessThreadData.js';
import { Worker } from 'node:worker_threads';
import { threadExecArgv, threadScript } from '../../runtime/threadScripts.js';
import type { ProcessEngine, ProcessSpec } from '../../backend/ProcessEngine.js';
import { inheritedThreadBackend } from '../../backend/backends.js';

/** The script a local process runs (see {@link threadScript}). */
export const defaultProcessScript = threadScript('process');

const SIGTERM = 15;
const SIGKILL = 9;

/**
 * A process on the local backend: a worker thread of its own running one task (see
 * `runtime/processThread.ts`). A daemon's thread is unreferenced, so it never keeps the program
 * alive and stops when the program ends; any other keeps the program alive until it finishes.
 *
 * @example
 * ```ts
 * const child = new LocalProcess(spec);
 * await child.exited; // 0
 * ```
 */
export class LocalProcess implements ProcessEngine {
  readonly pid: number;
  readonly exited: Promise<number>;
  private readonly thread: Worker;
  private stoppedBy: number | undefined;
  private ended = false;

  constructor(spec: ProcessSpec, script: URL = defaultProcessScript) {
    const data: ProcessThreadData = {
      fanoutProcess: true,
      fanoutScript: script.href,
      target: spec.target,
      args: spec.args,
      attachments: spec.attachments,
      name: spec.name,
      daemon: spec.daemon,
      identity: spec.identity,
      parent: spec.parent,
      threadBackend: inheritedThreadBackend(),
    };
    this.thread = new Worker(script, {
      execArgv: threadExecArgv(),
      workerData: data,
      transferList: spec.transfer,
      // A process prints to its parent's streams, as a forked Python process shares the terminal.
      stdout: false,
      stderr: false,
    });
    if (spec.daemon) this.thread.unref();
    this.pid = this.thread.threadId;
    this.exited = new Promise<number>((resolve) => {
      this.thread.once('exit', (code) => {
        this.ended = true;
        // The thread's own code cannot tell (a thread stopped before it ran exits with 0), so a
        // process stopped just as it was ending on its own also reads as stopped.
        resolve(this.stoppedBy !== undefined ? -this.stoppedBy : code);
      });
    });
    // The process entry reports its own errors; this only sees what it could not catch (the
    // loader failing, the thread running out of memory). Without a listener it would crash the parent.
    this.thread.on('error', (error) => {
      process.stderr.write(`Process ${spec.name}:\n${error.stack ?? String(error)}\n`);
    });
  }

  terminate(): void {
    this.stop(SIGTERM);
  }

  kill(): void {
    this.stop(SIGKILL);
  }

  private stop(signal: number): void {
    if (this.ended || this.stoppedBy !== undefined) return;
    this.stoppedBy = signal;
    void this.thread.terminate();
  }
}
