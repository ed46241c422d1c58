import { InvalidArgumentError } from '../errors.js';

/** Where a {@link ProgressBar} draws: `process.stderr`, or anything with `write`. */
export interface ProgressStream {
  write(text: string): unknown;
  /** A terminal: the bar is redrawn in place. Otherwise it prints a line now and then (logs, CI). */
  isTTY?: boolean;
  /** The terminal's width, to fit the bar. */
  columns?: number;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** The number of items of the whole job. */
  total: number;
  /** Shown before the bar. @default '' */
  label?: string;
  /** What an item is called in the rate. @default 'items' */
  unit?: string;
  /** @default process.stderr */
  stream?: ProgressStream;
  /** The clock, in ms (tests pass their own). @default performance.now */
  now?: () => number;
  /** On a terminal, redraw at most this often. @default 100 (10 times a second) */
  redrawEveryMs?: number;
  /** Elsewhere, print a line at most this often. @default 5000 */
  lineEveryMs?: number;
}

const BAR_WIDTH = 24;

/**
 * A progress bar for a job of known size: items done of total, percent, rate (items/s) and
 * ETA. On a terminal it redraws one line in place (`\r`), at most ten times a second; when the
 * stream is not a terminal (a log file, CI) it prints a full line every few seconds, so logs stay
 * readable. `finish()` draws the final state once.
 *
 * @example
 * ```ts
 * const bar = new ProgressBar({ total: ranges.length, label: 'primes', unit: 'ranges' });
 * for await (const count of pool.imapUnordered(countPrimes, ranges)) bar.tick();
 * bar.finish();
 * // primes [============>           ] 250/500  50.0%  41.7 ranges/s  ETA 0:06
 * ```
 */
export class ProgressBar {
  private readonly total: number;
  private readonly label: string;
  private readonly unit: string;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly interval: number;
  private readonly startedAt: number;
  private lastDrawAt: number | undefined;
  private done = 0;
  private finished = false;

  constructor(options: ProgressBarOptions) {
    if (!Number.isSafeInteger(options.total) || options.total < 0) {
      throw new InvalidArgumentError('new ProgressBar(options): total', options.total, 'a whole number ≥ 0');
    }
    this.total = options.total;
    this.label = options.label ?? '';
    this.unit = options.unit ?? 'items';
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.interval = this.stream.isTTY ? (options.redrawEveryMs ?? 100) : (options.lineEveryMs ?? 5000);
    this.startedAt = this.now();
    // A terminal shows the bar at the first tick; a log gets its first line after an interval.
    this.lastDrawAt = this.stream.isTTY ? undefined : this.startedAt;
  }

  /** Items done so far. */
  get completed(): number {
    return this.done;
  }

  /** Counts `count` more items done, and draws if it is time to. */
  tick(count = 1): void {
    this.update(this.done + count);
  }

  /** Sets the number of items done, and draws if it is time to. */
  update(done: number): void {
    if (this.finished) return;
    this.done = Math.max(0, Math.min(done, this.total));
    const at = this.now();
    if (this.lastDrawAt === undefined || at - this.lastDrawAt >= this.interval) this.draw(at);
  }

  /** Draws the final state and ends the line. Later calls do nothing. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.draw(this.now());
    if (this.stream.isTTY) this.stream.write('\n');
  }

  /**
   * The progress line at time `at` (ms, on the bar's clock), without control characters:
   * `label [====>     ] 12/50  24.0%  3.2 items/s  ETA 0:12`.
   */
  render(at: number = this.now()): string {
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    const elapsedSeconds = Math.max(0, at - this.startedAt) / 1000;
    const rate = elapsedSeconds > 0 ? this.done / elapsedSeconds : 0;
    const remaining = this.total - this.done;
    const eta = remaining === 0 ? '0:00' : rate > 0 ? formatDuration(remaining / rate) : '--:--';
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = '='.repeat(Math.max(0, filled - (filled < BAR_WIDTH ? 1 : 0))) + (filled < BAR_WIDTH && filled > 0 ? '>' : '');
    const text =
      `[${bar.padEnd(BAR_WIDTH)}] ${this.done}/${this.total}  ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
      `${formatRate(rate)} ${this.unit}/s  ETA ${eta}`;
    return this.label ? `${this.label} ${text}` : text;
  }

  private draw(at: number): void {
    this.lastDrawAt = at;
    let line = this.render(at);
    if (this.stream.isTTY) {
      // Never wider than the terminal, or a wrapped line would defeat the redraw in place.
      const columns = this.stream.columns;
      if (columns !== undefined && columns > 1 && line.length > columns - 1) line = line.slice(0, columns - 1);
      this.stream.write(`\r${line}\x1b[K`);
    } else {
      this.stream.write(`${line}\n`);
    }
  }
}

/** `0:07`, `12:34`, `1:02:03`. */
function formatDuration(seconds: number): string {
  const total = Math.ceil(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function formatRate(rate: number): string {
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(1);
}
