import { availableParallelism } from 'node:os';
import type { Backend } from '../../backend/Backend.js';
import type { PoolEngine, PoolEngineOptions } from '../../backend/PoolEngine.js';
import { InvalidArgumentError } from '../../errors.js';
import { LocalPoolEngine } from './LocalPoolEngine.js';
import { LocalSyncBackend } from './LocalSyncBackend.js';
import type { ProcessEngine, ProcessSpec } from '../../backend/ProcessEngine.js';
import type { QueueEngine, QueueEngineOptions } from '../../backend/QueueEngine.js';
import type { ChannelEngine } from '../../backend/ChannelEngine.js';
import { LocalProcess } from './LocalProcess.js';
import { LocalQueueEngine } from './LocalQueueEngine.js';
import { LocalChannelEngine } from './LocalChannelEngine.js';
import { assertNotBootstrapping } from '../../runtime/bundledThread.js';

/**
 * The embedded default backend: worker threads on this machine.
 *
 * @example
 * ```ts
 * const pool = new Pool(4, new LocalBackend());
 * ```
 */
export class LocalBackend implements Backend {
  readonly name = 'local' as const;
  readonly sync = new LocalSyncBackend();

  /** `FANOUT_PROCESSES` if set (the CLI's `--processes`), else the available parallelism. */
  defaultProcesses(): number {
    const fromEnvironment = process.env.FANOUT_PROCESSES;
    if (fromEnvironment === undefined || fromEnvironment === '') return availableParallelism();
    const processes = Number(fromEnvironment);
    if (!Number.isInteger(processes) || processes < 1) {
      throw new InvalidArgumentError('the FANOUT_PROCESSES environment variable', fromEnvironment, 'a whole number ≥ 1');
    }
    return processes;
  }

  createPoolEngine(options: PoolEngineOptions): PoolEngine {
    assertNotBootstrapping('new Pool()');
    return new LocalPoolEngine(options);
  }

  startProcess(spec: ProcessSpec): ProcessEngine {
    assertNotBootstrapping('Process.start()');
    return new LocalProcess(spec);
  }

  createQueue(options: QueueEngineOptions): QueueEngine {
    return LocalQueueEngine.create(options);
  }

  createChannel(): ChannelEngine {
    return LocalChannelEngine.create();
  }
}
