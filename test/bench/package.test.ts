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
const scratch = mkdtempSync(join(tmpdir(), 'fanout-bench-package-test-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `bench/run.ts` the way `npm run bench` does, with the given arguments. */
function bench(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 540_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

interface JsonReport {
  sections: Array<{ name: string; status: string; result?: BenchTable[]; error?: string }>;
}

// Smoke test only: it checks that every case runs on the packed package and reports numbers, never how fast.
describe('npm run bench -- --quick --only package', () => {
  it(
    'builds, packs and installs fanout, runs every case in fresh processes and reports a number in every row',
    { timeout: 600_000 },
    async () => {
      const jsonFile = join(scratch, 'package.json');
      const { stdout } = await bench(['--quick', '--only', 'package', '--json', jsonFile]).catch((error: Error) => {
        // The section's own error is in the report: show it, not only "Command failed".
        let report = '(no report written)';
        try {
          report = readFileSync(jsonFile, 'utf8');
        } catch {
          // keep the placeholder
        }
        throw new Error(`${error.message}\nreport: ${report.slice(0, 4000)}`);
      });

      const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JsonReport;
      expect(report.sections.map((section) => [section.name, section.status, section.error])).toEqual([
        ['package', 'ran', undefined],
      ]);
      const tables = report.sections[0]!.result!;
      expect(tables.map((table) => table.title.split(':')[0])).toEqual([
        'Memory',
        'Round trip',
        'Cold start',
        'Cold start',
        'Install size for a user who never deploys',
        'Install size',
      ]);
      const [memory, latency, cold, parts, install, largest] = tables;
      expect(memory!.rows).toHaveLength(10);
      expect(latency!.rows).toHaveLength(3);
      expect(cold!.rows).toHaveLength(4);
      expect(parts!.rows).toHaveLength(8);
      expect(install!.rows).toHaveLength(5);
      expect(largest!.rows.length).toBeGreaterThanOrEqual(3);

      const deployOnly = install!.rows.find((row) => row.metric.startsWith('CDK, esbuild, emulator'));
      for (const row of tables.flatMap((table) => table.rows)) {
        expect(isBenchRow(row), JSON.stringify(row)).toBe(true);
        expect(Number.isFinite(row.ours), `${row.metric}: ours`).toBe(true);
        if (row !== deployOnly) expect(row.ours, `${row.metric}: ours`).toBeGreaterThan(0);
        if (row.peer !== undefined) {
          expect(Number.isFinite(row.peer) && row.peer > 0, `${row.metric}: peer`).toBe(true);
          expect(Number.isFinite(row.ratio), `${row.metric}: ratio`).toBe(true);
        }
        if (row.target !== undefined) expect(typeof row.met, `${row.metric}: met`).toBe('boolean');
      }
      // Issue 7's targets: RSS with JS tasks and with TS tasks (sampled and high-water mark each),
      // the round trip, the cold start, and nothing deploy-only installed.
      const targeted = tables.flatMap((table) => table.rows).filter((row) => row.target);
      expect(targeted.map((row) => row.metric)).toEqual([
        'peak RSS, JS tasks, plain node (sampled every 10 ms)',
        'peak RSS, JS tasks, plain node (kernel high-water mark)',
        'peak RSS, TS tasks under tsx (sampled every 10 ms)',
        'peak RSS, TS tasks under tsx (kernel high-water mark)',
        'round trip p50',
        'first map result, compiled package',
        'CDK, esbuild, emulator or TypeScript packages in the closure',
      ]);
      // A property of the package, not a timing: a user who never deploys gets none of them.
      expect(deployOnly).toMatchObject({ ours: 0, met: true });
      expect(stdout).toContain('| metric | ours | peer | ratio | target | met? |');
    },
  );

  it('refuses an unknown case of the package section, naming the ones there are', async () => {
    const jsonFile = join(scratch, 'bad-case.json');
    const failure = await bench(['--quick', '--only', 'package', '--cases', 'z', '--json', jsonFile]).then(
      () => undefined,
      (error: { code: number }) => error,
    );
    expect(failure?.code).toBe(1);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as JsonReport;
    expect(report.sections[0]!.status).toBe('failed');
    expect(report.sections[0]!.error).toContain('unknown case(s) z; the cases are memory, latency, cold, install');
  });
});
