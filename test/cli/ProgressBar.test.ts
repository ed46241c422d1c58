import { describe, expect, it } from 'vitest';
import { ProgressBar, type ProgressBarOptions } from '../../lib/cli/ProgressBar.js';
import { InvalidArgumentError } from '../../lib/errors.js';

/** The ANSI sequence that clears the rest of a terminal line. */
const CLEAR_TO_END = '\x1b[K';

/** A stream that records what is written, and a clock the test moves by hand. */
function setup(options: Partial<ProgressBarOptions> & { tty: boolean; columns?: number }) {
  const writes: string[] = [];
  let time = 1_000;
  const stream = { isTTY: options.tty, columns: options.columns, write: (text: string) => writes.push(text) };
  const bar = new ProgressBar({ total: 50, label: 'job', unit: 'items', ...options, stream, now: () => time });
  return { bar, writes, advance: (ms: number) => (time += ms), at: (ms: number) => 1_000 + ms };
}

describe('ProgressBar: the line', () => {
  it('shows the label, bar, done/total, percent, rate and ETA', () => {
    const { bar, advance } = setup({ tty: true });
    advance(4_000);
    bar.update(12);
    // 12 in 4 s: 3.0 items/s; 38 left: 12.7 s, shown rounded up.
    expect(bar.render()).toBe('job [=====>                  ] 12/50   24.0%  3.0 items/s  ETA 0:13');
  });

  it('fills the bar and shows ETA 0:00 when done', () => {
    const { bar, advance } = setup({ tty: true });
    advance(2_000);
    bar.update(50);
    expect(bar.render()).toBe('job [========================] 50/50  100.0%  25.0 items/s  ETA 0:00');
  });

  it('shows an unknown ETA before any item is done', () => {
    const { bar, advance } = setup({ tty: true });
    advance(1_000);
    expect(bar.render()).toBe('job [                        ] 0/50    0.0%  0.0 items/s  ETA --:--');
  });

  it('shows hours in a long ETA and whole numbers for high rates', () => {
    const slow = setup({ tty: true, total: 100_000 });
    slow.advance(10_000);
    slow.bar.update(10);
    expect(slow.bar.render()).toMatch(/ 1\.0 items\/s {2}ETA 27:46:30$/);
    const fast = setup({ tty: true, total: 100_000 });
    fast.advance(1_000);
    fast.bar.update(5_000);
    expect(fast.bar.render()).toMatch(/ 5000 items\/s {2}ETA 0:19$/);
  });

  it('counts a job of no items as complete, and keeps the count within 0..total', () => {
    expect(setup({ tty: true, total: 0 }).bar.render()).toContain('0/0  100.0%');
    const { bar } = setup({ tty: true });
    bar.update(70);
    expect(bar.completed).toBe(50);
    bar.update(-3);
    expect(bar.completed).toBe(0);
  });

  it('leaves out the label when there is none', () => {
    const { bar } = setup({ tty: true, label: '' });
    expect(bar.render()).toMatch(/^\[ {24}\] 0\/50 /);
  });

  it('refuses a total that is not a whole number ≥ 0', () => {
    for (const total of [-1, 2.5, NaN]) {
      expect(() => new ProgressBar({ total, stream: { write: () => true } })).toThrow(InvalidArgumentError);
    }
    expect(() => new ProgressBar({ total: -1, stream: { write: () => true } })).toThrow(
      /total must be a whole number ≥ 0; got -1/,
    );
  });
});

describe('ProgressBar on a terminal', () => {
  it('redraws one line in place with \\r, at most every 100 ms', () => {
    const { bar, writes, advance } = setup({ tty: true });
    bar.tick(); // the first tick draws at once
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(`\r${bar.render()}${CLEAR_TO_END}`);
    expect(bar.render()).toContain(' 1/50 ');
    advance(30);
    bar.tick();
    advance(30);
    bar.tick();
    expect(writes).toHaveLength(1);
    advance(40);
    bar.tick(); // 100 ms after the first draw
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain(' 4/50 ');
    expect(writes.join('')).not.toContain('\n');
  });

  it('draws the final state once and ends the line on finish', () => {
    const { bar, writes, advance } = setup({ tty: true });
    bar.tick();
    advance(10);
    bar.tick(49);
    bar.finish();
    expect(writes.slice(-2)).toEqual([`\r${bar.render()}${CLEAR_TO_END}`, '\n']);
    expect(bar.render()).toContain(' 50/50  100.0%');
    const count = writes.length;
    bar.finish();
    bar.tick();
    expect(writes).toHaveLength(count);
  });

  it('cuts the line to the terminal width, so that it never wraps', () => {
    const { bar, writes } = setup({ tty: true, columns: 20 });
    bar.tick();
    expect(writes[0]).toBe(`\r${bar.render().slice(0, 19)}${CLEAR_TO_END}`);
  });

  it('uses the redraw interval given', () => {
    const { bar, writes, advance } = setup({ tty: true, redrawEveryMs: 1_000 });
    bar.tick();
    advance(500);
    bar.tick();
    expect(writes).toHaveLength(1);
    advance(500);
    bar.tick();
    expect(writes).toHaveLength(2);
  });
});

describe('ProgressBar elsewhere (a log, CI)', () => {
  it('prints a whole line every few seconds, never \\r', () => {
    const { bar, writes, advance } = setup({ tty: false });
    bar.tick(); // no line at the first tick: a log gets one after an interval
    advance(4_999);
    bar.tick();
    expect(writes).toHaveLength(0);
    advance(1);
    bar.tick();
    expect(writes).toEqual(['job [>                       ] 3/50    6.0%  0.6 items/s  ETA 1:19\n']);
    advance(4_000);
    bar.tick();
    expect(writes).toHaveLength(1);
  });

  it('prints the final line once on finish', () => {
    const { bar, writes, advance } = setup({ tty: false, lineEveryMs: 2_000 });
    advance(2_000);
    bar.update(25);
    bar.update(50);
    bar.finish();
    bar.finish();
    expect(writes).toEqual([expect.stringContaining(' 25/50 '), expect.stringMatching(/ 50\/50 {2}100\.0% .*\n$/)]);
    expect(writes.join('')).not.toContain('\r');
  });
});
