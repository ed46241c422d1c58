import type { ThreadBackend } from '../backend/backends.js';
import type { ProcessSpec } from '../backend/ProcessEngine.js';

/** What a process thread receives as its `workerData`. */
export interface ProcessThreadData {
  /** Tells a script that is also something else (a bundled program) that it runs a process. */
  fanoutProcess: true;
  /** The thread's own script (a bundle evaluates it before the process starts). */
  fanoutScript: string;
  target: ProcessSpec['target'];
  args: Uint8Array;
  attachments: unknown[];
  name: string;
  daemon: boolean;
  identity: number[];
  /** The pid the process's starter sees (a remote process's, on the aws backend); the thread's id when absent. */
  pid?: number;
  parent: ProcessSpec['parent'];
  /** The thread's default backend, when its starter names one (a target on an aws worker: that aws backend). */
  threadBackend?: ThreadBackend | undefined;
}
