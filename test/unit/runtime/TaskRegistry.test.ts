import { describe, expect, it } from 'vitest';
import { TaskRegistry } from '../../../lib/runtime/TaskRegistry.js';
import { TaskModuleError, UnknownTaskError } from '../../../lib/errors.js';

describe('TaskRegistry', () => {
  it('resolves a task by importing its module once', async () => {
    const registry = new TaskRegistry();
    const module = new URL('../../fixtures/preloaded.ts', import.meta.url).href;
    // The fixture registers itself in the thread's registry, not in this private one.
    await expect(registry.resolve({ name: 'preloadedTask', module })).rejects.toBeInstanceOf(UnknownTaskError);
    await expect(TaskRegistry.current.resolve({ name: 'preloadedTask', module })).resolves.toMatchObject({
      name: 'preloadedTask',
    });
  });

  it('names the module and the task when a module cannot be imported', async () => {
    const registry = new TaskRegistry();
    const error = (await registry
      .resolve({ name: 'x', module: 'file:///nowhere/tasks.ts' })
      .catch((e: unknown) => e)) as TaskModuleError;
    expect(error).toBeInstanceOf(TaskModuleError);
    expect(error.module).toBe('file:///nowhere/tasks.ts');
    expect(error.message).toMatch(/Could not import task module file:\/\/\/nowhere\/tasks\.ts \(for task 'x'\)/);
  });

  it('without a module, says how to define the task', async () => {
    const registry = new TaskRegistry();
    registry.register({ name: 'a', fn: () => 1, module: undefined });
    await expect(registry.resolve({ name: 'b' })).rejects.toThrow(
      /Unknown task 'b'. Known tasks here: 'a'. Define it with task\(name, fn\)/,
    );
  });

  it('lets a module evaluated again replace its own tasks', async () => {
    const registry = new TaskRegistry();
    registry.register({ name: 'again', fn: () => 1, module: 'file:///m.ts' });
    await Promise.resolve();
    const replacement = () => 2;
    registry.register({ name: 'again', fn: replacement, module: 'file:///m.ts' });
    expect(registry.get('again')?.fn).toBe(replacement);
  });
});
