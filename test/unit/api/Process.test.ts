import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Process, ProcessError, activeChildren, currentProcess, parentProcess } from 'fanout';
import { noop, sleeps } from '../../fixtures/processTasks.js';
import { runProgram } from '../../examples/runExample.js';

const LONG = 120_000;

describe('Process', () => {
  it('checks its options, naming the option, the value and what is allowed', async () => {
    expect(() => new Process(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => new Process({ target: noop, args: 'x' as never })).toThrow(/args must be an array/);
    expect(() => new Process({ target: noop, name: 3 as never })).toThrow(/name must be a string; got 3 \(number\)/);
    expect(() => new Process({ target: noop, daemon: 'yes' as never })).toThrow(/daemon must be true or false/);
    expect(() => new Process({ target: noop, priority: 1 } as never)).toThrow(/priority/);
    await expect(new Process({ target: noop }).join(Number.NaN)).rejects.toThrow(
      /timeout must be a finite number of milliseconds/,
    );
  });

  it('describes the main thread as MainProcess without a parent', () => {
    expect(currentProcess()).toEqual({ name: 'MainProcess', pid: 0, daemon: false });
    expect(parentProcess()).toBeNull();
  });

  it('lets name and daemon change before start, and daemon not after', async () => {
    const p = new Process({ target: sleeps, args: [60_000] });
    p.name = 'renamed';
    p.daemon = true;
    expect([p.name, p.daemon]).toEqual(['renamed', true]);
    p.start();
    expect(() => (p.daemon = false)).toThrow(ProcessError);
    expect(activeChildren()).toContain(p);
    expect(String(p)).toBe(`<Process name='renamed' pid=${p.pid} started daemon>`);
    p.kill();
    await p.join();
    expect(p.exitCode).toBe(-9);
    expect(String(p)).toBe(`<Process name='renamed' pid=${p.pid} stopped exitcode=-9 daemon>`);
    expect(String(new Process({ target: noop, name: 'x' }))).toBe("<Process name='x' initial>");
    expect(() => p.kill()).not.toThrow(); // stopping an ended process does nothing, as in Python
  });

  it(
    'prints an uncaught error under "Process <name>:" on stderr and ends with 1; process.exit(3) ends with 3',
    async () => {
      const run = await runProgram('test/fixtures/programs/processFailure.ts');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('exit codes: 1 3\n');
      expect(run.stderr).toMatch(/^Process failing-child:\nTypeError: something broke\n {4}at /);
    },
    LONG,
  );

  it(
    'a non-daemon process keeps the program alive until it finishes',
    async () => {
      const run = await runProgram('test/fixtures/programs/nonDaemonOutlives.ts');
      expect(run).toMatchObject({ code: 0, stderr: '', stdout: 'main is done\nthe child finished after main\n' });
    },
    LONG,
  );
});
