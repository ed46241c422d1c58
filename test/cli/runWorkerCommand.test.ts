import { describe, expect, it } from 'vitest';
import { CommandUnavailableError } from '../../lib/cli/CommandUnavailableError.js';
import { runWorkerCommand, workerFleetModule } from '../../lib/cli/runWorkerCommand.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

describe('runWorkerCommand', () => {
  it('looks for the fleet in lib/backends/aws/WorkerFleet.ts', () => {
    expect(workerFleetModule.pathname).toMatch(/\/lib\/backends\/aws\/WorkerFleet\.ts$/);
  });

  it('imports the fleet module when run, passes the arguments and returns its exit code', async () => {
    const module = fixture('fakeWorkerFleet.ts');
    const { calls } = (await import(module.href)) as { calls: string[][] };
    expect(await runWorkerCommand(['--queue', 'jobs'], module)).toBe(7);
    expect(await runWorkerCommand([], module)).toBe(0);
    expect(calls).toEqual([['--queue', 'jobs'], []]);
  });

  it('says clearly that the command is unavailable when the module is missing', async () => {
    const module = fixture('noSuchWorkerFleet.ts');
    const error = await runWorkerCommand([], module).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandUnavailableError);
    expect(error).toMatchObject({ code: 'ERR_COMMAND_UNAVAILABLE', command: 'worker', module: module.href });
    expect((error as Error).message).toMatch(/'fanout worker' needs the aws backend's worker fleet \(.*noSuchWorkerFleet\.ts\)/);
  });

  it('says which export is missing when the module lacks runWorkerFleet', async () => {
    await expect(runWorkerCommand([], fixture('fleetWithoutEntry.ts'))).rejects.toThrow(
      /fleetWithoutEntry\.ts does not export a function runWorkerFleet\(args: string\[\]\)/,
    );
  });

  it('passes on the error of a fleet module that fails to load, rather than calling it missing', async () => {
    await expect(runWorkerCommand([], fixture('fleetThatFailsToLoad.ts'))).rejects.toThrow(
      'the fleet module failed while loading',
    );
  });
});
