/**
 * What a benchmark section returns, and how the harness prints it: a console table and the
 * same table in markdown (to paste into bench/RESULTS.md).
 *
 * A section (`bench/<name>.ts` exporting `run<Name>Bench(options)`) returns its rows as one of:
 * - `BenchTable[]` or one `BenchTable` — titled tables of {@link BenchRow}s (preferred);
 * - `BenchRow[]` — one table, titled after the section;
 * - any array of plain objects — printed as a generic table, one column per key.
 */

/** Options every section receives from `bench/run.ts`. */
export interface BenchOptions {
  /** Few repetitions and small sizes: checks that the section runs (used by the smoke test). */
  quick: boolean;
  /** The largest sizes even where a sample gives the same rate (slower). */
  full: boolean;
  /** Timed repetitions per measurement (a warm-up run comes first and is not counted). */
  reps: number;
  /** Only these cases of a section (its own names, e.g. `a`, `memory`); empty = all. */
  cases: string[];
}

/** A goal for a row: a bound on its ratio (ours / peer) or on its own value. */
export interface Target {
  /** Which figure the bound applies to. */
  of: 'ratio' | 'ours';
  /** The figure must be at least this... */
  atLeast?: number;
  /** ...or at most this. */
  atMost?: number;
}

/**
 * One measured metric: our median, the peer's median measured in the same run, their ratio
 * (ours / peer) and the target it is held to.
 *
 * @example
 * ```ts
 * const row = benchRow({ metric: 'map 1M tiny', unit: 'items/s', ours: 5e6, peer: 3e6, peerName: 'Python',
 *   target: { of: 'ratio', atLeast: 2 } });
 * row.ratio; // 1.67
 * row.met; // false
 * ```
 */
export interface BenchRow {
  metric: string;
  /** Unit of `ours` and `peer`: 'items/s', 'µs', 'MB', '×', 's'... */
  unit: string;
  ours: number;
  peer?: number;
  /** What `peer` was measured on, e.g. 'piscina, 1 task per item'. */
  peerName?: string;
  /** ours / peer. */
  ratio?: number;
  target?: Target;
  /** Whether the target is met; absent when the row has no target. */
  met?: boolean;
  /** Why a figure is what it is, or how it was measured. */
  note?: string;
}

/** A titled table of rows, with notes printed under it. */
export interface BenchTable {
  title: string;
  rows: BenchRow[];
  notes?: string[];
}

/**
 * Makes a row: computes the ratio (when there is a peer) and whether the target is met.
 *
 * @example
 * ```ts
 * benchRow({ metric: 'round trip p50', unit: 'µs', ours: 40, peer: 50, target: { of: 'ratio', atMost: 1 } }).met; // true
 * ```
 */
export function benchRow(row: Omit<BenchRow, 'ratio' | 'met'>): BenchRow {
  const ratio = row.peer !== undefined ? row.ours / row.peer : undefined;
  const result: BenchRow = { ...row, ...(ratio !== undefined ? { ratio } : {}) };
  if (row.target) {
    const value = row.target.of === 'ratio' ? ratio : row.ours;
    result.met =
      value !== undefined &&
      Number.isFinite(value) &&
      (row.target.atLeast === undefined || value >= row.target.atLeast) &&
      (row.target.atMost === undefined || value <= row.target.atMost);
  }
  return result;
}

/** Whether a value is a {@link BenchRow} (as opposed to a generic printable object). */
export function isBenchRow(value: unknown): value is BenchRow {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as BenchRow).metric === 'string' &&
    typeof (value as BenchRow).ours === 'number'
  );
}

/** Whether a value is a {@link BenchTable}. */
export function isBenchTable(value: unknown): value is BenchTable {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as BenchTable).title === 'string' &&
    Array.isArray((value as BenchTable).rows)
  );
}

/** A table in the form the printer takes: headers and already formatted cells. */
export interface TextTable {
  title: string;
  headers: string[];
  cells: string[][];
  notes: string[];
}

const ROW_HEADERS = ['metric', 'ours', 'peer', 'ratio', 'target', 'met?'];

/**
 * Turns whatever a section returned into printable tables (see the module comment for the
 * accepted shapes). Throws a TypeError naming the section when it is none of them.
 */
export function toTextTables(section: string, result: unknown): TextTable[] {
  const tables: unknown[] = isBenchTable(result) ? [result] : Array.isArray(result) && result.every(isBenchTable) ? result : [];
  if (tables.length === 0 && Array.isArray(result)) tables.push({ title: section, rows: result });
  if (tables.length === 0) {
    throw new TypeError(
      `bench section '${section}' returned ${describe(result)}: expected an array of rows or of { title, rows } tables`,
    );
  }
  return (tables as BenchTable[]).map((table) => {
    const rows = table.rows as unknown[];
    if (rows.length > 0 && rows.every(isBenchRow)) {
      return {
        title: table.title,
        headers: ROW_HEADERS,
        cells: rows.map(rowCells),
        notes: [...rowNotes(rows), ...(table.notes ?? [])],
      };
    }
    return { title: table.title, ...genericCells(rows), notes: table.notes ?? [] };
  });
}

function rowCells(row: BenchRow): string[] {
  return [
    row.metric,
    formatValue(row.ours, row.unit),
    row.peer === undefined ? '—' : `${formatValue(row.peer, row.unit)}${row.peerName ? ` (${row.peerName})` : ''}`,
    row.ratio === undefined ? '—' : `${formatNumber(row.ratio)}×`,
    row.target ? formatTarget(row.target, row.unit) : '—',
    row.met === undefined ? '—' : row.met ? 'yes' : 'NO',
  ];
}

function rowNotes(rows: BenchRow[]): string[] {
  return rows.filter((row) => row.note).map((row) => `${row.metric}: ${row.note}`);
}

function genericCells(rows: unknown[]): { headers: string[]; cells: string[][] } {
  const headers: string[] = [];
  for (const row of rows) {
    const keys = row !== null && typeof row === 'object' ? Object.keys(row) : ['value'];
    for (const key of keys) if (!headers.includes(key)) headers.push(key);
  }
  const cells = rows.map((row) =>
    headers.map((key) => {
      const value = row !== null && typeof row === 'object' ? (row as Record<string, unknown>)[key] : row;
      return typeof value === 'number' ? formatNumber(value) : value === undefined ? '' : String(value);
    }),
  );
  return { headers, cells };
}

function formatTarget(target: Target, unit: string): string {
  const format = (value: number) => (target.of === 'ratio' ? `${formatNumber(value)}×` : formatValue(value, unit));
  const parts: string[] = [];
  if (target.atLeast !== undefined) parts.push(`≥ ${format(target.atLeast)}`);
  if (target.atMost !== undefined) parts.push(`≤ ${format(target.atMost)}`);
  return parts.join(', ');
}

/** A value with its unit, large rates shortened (1.23M items/s). */
export function formatValue(value: number, unit: string): string {
  if (unit === '×') return `${formatNumber(value)}×`;
  if (unit.endsWith('/s') && Math.abs(value) >= 1000) {
    const [scaled, suffix] = Math.abs(value) >= 1e6 ? [value / 1e6, 'M'] : [value / 1e3, 'k'];
    return `${formatNumber(scaled)}${suffix} ${unit}`;
  }
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** Three significant digits, without exponents for everyday magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toString();
  return Number(value.toPrecision(3)).toString();
}

/** A table as aligned plain text, for the terminal. */
export function renderText(table: TextTable): string {
  const widths = table.headers.map((header, column) =>
    Math.max(header.length, ...table.cells.map((cells) => (cells[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  const out = [`== ${table.title}`, line(table.headers), widths.map((width) => '-'.repeat(width)).join('  ')];
  for (const cells of table.cells) out.push(line(cells));
  if (table.cells.length === 0) out.push('(no rows)');
  for (const note of table.notes) out.push(`  * ${note}`);
  return out.join('\n');
}

/** A table as GitHub markdown, notes as a list under it. */
export function renderMarkdown(table: TextTable): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const out = [`### ${table.title}`, ''];
  if (table.cells.length > 0) {
    out.push(`| ${table.headers.map(escape).join(' | ')} |`);
    out.push(`|${table.headers.map(() => ' --- ').join('|')}|`);
    for (const cells of table.cells) out.push(`| ${cells.map(escape).join(' | ')} |`);
  } else {
    out.push('(no rows)');
  }
  if (table.notes.length > 0) out.push('', ...table.notes.map((note) => `- ${note}`));
  return out.join('\n');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without title and rows' : typeof value;
}
