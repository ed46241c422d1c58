import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main, type CliOutput } from '../../lib/cli/main.js';

function output(): CliOutput & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

describe('main (in process; running programs is tested through bin/fanout.mjs in cli.test.ts)', () => {
  it('prints the overview for --help and exits 0', async () => {
    const io = output();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toMatch(/Usage: fanout <command>/);
    expect(io.out()).toMatch(/^ {2}run {2,}Run a program/m);
    expect(io.out()).toMatch(/^ {2}worker {2,}Run a fleet of workers/m);
    expect(io.err()).toBe('');
  });

  it("prints a command's usage and options for <command> --help", async () => {
    const io = output();
    expect(await main(['run', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/^Usage: fanout run <file> \[--backend local\|aws\] \[--processes N\]/);
    expect(io.out()).toMatch(/-p, --processes N +Workers of a Pool/);
    expect(io.out()).toMatch(/-b, --backend local\|aws +The backend/);
  });

  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const io = output();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out()).toBe(`fanout ${version}\n`);
  });

  it("prints a usage error with the command's usage on stderr and exits 2", async () => {
    const io = output();
    expect(await main(['run', 'no-such-file.ts', '--processes', 'many'], io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toMatch(/^fanout: Option '--processes' must be a whole number ≥ 1 .*got 'many'\./);
    expect(io.err()).toContain('Usage: fanout run <file>');
    expect(io.err()).toContain('(more: fanout run --help)');
  });

  it('points to the overview for an unknown command', async () => {
    const io = output();
    expect(await main(['deploy'], io)).toBe(2);
    expect(io.err()).toMatch(/^fanout: Unknown command 'deploy'\. Commands: 'run', 'worker'\./);
    expect(io.err()).toContain('(more: fanout --help)');
  });
});
