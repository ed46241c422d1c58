import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, TaskDefinitionError, isTask, task } from 'fanout';
import { square } from '../../fixtures/tasks.js';

const run = promisify(execFile);

describe('task()', () => {
  it('returns a callable handle that runs here and knows its name and module', () => {
    expect(square(7)).toBe(49);
    expect(square.taskName).toBe('square');
    expect(square.module).toMatch(/^file:\/\/.*\/test\/fixtures\/tasks\.ts$/);
    expect(isTask(square)).toBe(true);
    expect(isTask((x: number) => x)).toBe(false);
  });

  it('refuses a name taken by a task of another module', () => {
    expect(() => task('square', (x: number) => x + x)).toThrow(TaskDefinitionError);
    expect(() => task('square', (x: number) => x + x)).toThrow(/already taken by a task defined in file:.*tasks\.ts/);
  });

  it('refuses the same name twice in one module', () => {
    task('twiceHere', () => 1);
    expect(() => task('twiceHere', () => 2)).toThrow(/defined twice/);
  });

  it('refuses bad names and non-functions, naming what is allowed', () => {
    expect(() => task('', () => 1)).toThrow(InvalidArgumentError);
    expect(() => task('has space', () => 1)).toThrow(/name must be a non-empty string/);
    expect(() => task('ok', 42 as never)).toThrow(/fn must be a function; got 42 \(number\)/);
  });

  it('refuses a task defined in the entry script, saying to move it to a module', async () => {
    const result = await run('npx', ['tsx', 'test/fixtures/entryScriptTask.ts']).catch(
      (error: { stderr: string; code: number }) => error,
    );
    expect('code' in result && result.code).not.toBe(0);
    expect((result as { stderr: string }).stderr).toMatch(/Task 'inEntry' is defined in the entry script/);
    expect((result as { stderr: string }).stderr).toMatch(/Move the task into a module of its own/);
  });
});
