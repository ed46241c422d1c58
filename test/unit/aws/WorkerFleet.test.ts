import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from 'fanout';
import { parseWorkerFleetArgs, runWorkerFleet, WORKER_FLEET_USAGE } from '../../../lib/backends/aws/WorkerFleet.js';

describe('fanout worker arguments', () => {
  it('reads every option', () => {
    const { options, help } = parseWorkerFleetArgs([
      '--threads',
      '3',
      '--concurrency',
      '5',
      '--batch-size',
      '4',
      '--wait-time',
      '2',
      '--visibility-timeout',
      '60',
      '--tasks',
      'a.ts',
      '--tasks',
      'b.ts',
      '--quiet',
    ]);
    expect(help).toBe(false);
    expect(options).toEqual({
      threads: 3,
      concurrency: 5,
      batchSize: 4,
      waitTimeSeconds: 2,
      visibilityTimeout: 60,
      tasks: ['a.ts', 'b.ts'],
      handleSignals: true,
    });
  });

  it('refuses an unknown option or a non-number, naming it', () => {
    expect(() => parseWorkerFleetArgs(['--treads', '2'])).toThrow(InvalidArgumentError);
    expect(() => parseWorkerFleetArgs(['--treads', '2'])).toThrow(/--treads/);
    expect(() => parseWorkerFleetArgs(['--threads', 'two'])).toThrow(/--threads/);
  });

  it('an unknown option is a usage error: message and options on stderr, exit code 2', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await runWorkerFleet(['--treads', '2'])).toBe(2);
      expect(error.mock.calls[0]![0]).toContain("'--treads'");
      expect(error.mock.calls[0]![0]).toContain(WORKER_FLEET_USAGE);
    } finally {
      error.mockRestore();
    }
  });

  it('--help prints the usage and exits 0 without touching AWS', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await runWorkerFleet(['--help'])).toBe(0);
      expect(log).toHaveBeenCalledWith(WORKER_FLEET_USAGE);
    } finally {
      log.mockRestore();
    }
  });

  it('refuses out-of-range fleet options, naming them', async () => {
    await expect(runWorkerFleet({ batchSize: 11 })).rejects.toThrow(/batchSize/);
    await expect(runWorkerFleet({ threads: 0 })).rejects.toThrow(/threads/);
  });
});
