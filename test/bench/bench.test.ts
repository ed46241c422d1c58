import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isBenchRow, type BenchTable } from '../../bench/report.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'fanout-bench-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `bench/run.ts` the way `npm run bench` does, with the given arguments. */
function bench(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: repoRoot,
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

interface JsonReport {
  sections: Array<{ name: string; status: string; result?: BenchTable[]; error?: string }>;
}

// Smoke test only: it checks that every case runs and reports numbers, never how fast.
describe('npm run bench -- --quick --only pool', () => {
  it('runs every case of the pool section and reports a number in every row', { timeout: 300_000 }, async () => {
    const jsonFile = join(scratch, 'pool.json');
    const { stdout } = await bench(['--quick', '--only', 'pool', '--json', jsonFile]);

    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JsonReport;
    expect(report.sections.map((section) => [section.name, section.status, section.error])).toEqual([['pool', 'ran', undefined]]);
    const tables = report.sections[0]!.result!;
    expect(tables.map((table) => table.title.split(' ')[0])).toEqual(['(a)', '(b)', '(c)', '(d)', '(e)', 'Memory:']);
    const rows = tables.flatMap((table) => table.rows);
    // (e) has no rows only where python3 is missing, and then says so.
    const python = tables[4]!;
    if (python.rows.length === 0) expect(python.notes?.join(' ')).toMatch(/python3 was not found/);
    expect(rows.length).toBeGreaterThanOrEqual(12);
    for (const row of rows) {
      expect(isBenchRow(row), JSON.stringify(row)).toBe(true);
      expect(Number.isFinite(row.ours), `${row.metric}: ours`).toBe(true);
      expect(row.ours, `${row.metric}: ours`).toBeGreaterThan(0);
      if (row.peer !== undefined) {
        expect(Number.isFinite(row.peer) && row.peer > 0, `${row.metric}: peer`).toBe(true);
        expect(Number.isFinite(row.ratio), `${row.metric}: ratio`).toBe(true);
      }
      if (row.target !== undefined) expect(typeof row.met, `${row.metric}: met`).toBe('boolean');
    }
    // The targeted figures of the issue are all there.
    const targeted = rows.filter((row) => row.target).map((row) => row.metric);
    expect(targeted).toHaveLength(python.rows.length > 0 ? 7 : 6);

    // The console tables and the markdown to paste into RESULTS.md.
    expect(stdout).toContain('== (a) map of');
    expect(stdout).toContain('---- markdown (paste into bench/RESULTS.md) ----');
    expect(stdout).toContain('| metric | ours | peer | ratio | target | met? |');
  });

  it('refuses an unknown section, naming the ones there are', async () => {
    const failure = await bench(['--only', 'nosuch']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('--only: unknown section(s) nosuch; the sections are pool, sync, queues, aws, package');
  });

  it('refuses an unknown case of the pool section', async () => {
    const jsonFile = join(scratch, 'bad-case.json');
    const failure = await bench(['--quick', '--only', 'pool', '--cases', 'z', '--json', jsonFile]).then(
      () => undefined,
      (error: { code: number }) => error,
    );
    expect(failure?.code).toBe(1);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JsonReport;
    expect(report.sections[0]!.status).toBe('failed');
    expect(report.sections[0]!.error).toContain('unknown case(s) z; the cases are a, b, c, d, e, memory');
  });
});
