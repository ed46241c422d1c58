import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkTimeline, type ChunkRunRecord, type ChunkStatus } from '../../lib/report/ChunkTimeline.js';

// Debian's chromium, never a downloaded browser. CHROMIUM_PATH points elsewhere where it lives elsewhere.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const T0 = 1_764_000_000_000;
const TASK = '<script>alert(1)</script>';

/** A job of 6 workers × 2 threads: every status, cold starts, retries and one zero-length chunk. */
function jobRecords(count: number): ChunkRunRecord[] {
  const statuses: ChunkStatus[] = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'failed', 'cancelled', 'tooLong', 'dead'];
  const lanes = 12;
  const next = new Array<number>(lanes).fill(0);
  return Array.from({ length: count }, (_, chunk) => {
    const lane = (chunk * 5) % lanes;
    const taskMs = chunk === 7 ? 0 : 40 + ((chunk * 7919) % 997);
    const startMs = T0 + lane * 45 + next[lane]!;
    next[lane]! += taskMs + 15;
    return {
      chunk,
      worker: lane < 2 ? `env "${lane}" <b>&` : `2026/12/02/[$LATEST]${(lane * 2654435761).toString(16)}`,
      thread: lane % 2,
      startMs,
      endMs: startMs + (chunk === 7 ? 0 : taskMs + 10),
      attempts: 1 + (chunk % 13 === 0 ? 1 : 0),
      coldStart: chunk < lanes,
      taskMs,
      items: 25,
      status: statuses[chunk % statuses.length]!,
    };
  });
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

// The page's own globals, as far as the functions given to page.evaluate use them: they run in
// Chromium, and this project's tsconfig has no DOM lib (its code runs on Node).
interface PageElement {
  tagName: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): Box;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  title: string;
  documentElement: PageElement;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getElementsByTagName(name: string): { length: number };
};
declare function getComputedStyle(element: PageElement): { display: string; visibility: string; opacity: string; fill: string };

const EPSILON = 0.01;
const inside = (inner: Box, outer: Box): boolean =>
  inner.x >= outer.x - EPSILON &&
  inner.y >= outer.y - EPSILON &&
  inner.x + inner.width <= outer.x + outer.width + EPSILON &&
  inner.y + inner.height <= outer.y + outer.height + EPSILON;

describe('the job timeline in headless Chromium', { timeout: 180_000 }, () => {
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-timeline-'));
    // Launched here when present; each test fails on its own when it is not (a failed hook would
    // report the tests as skipped).
    if (existsSync(CHROMIUM)) {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    }
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function launched(): Browser {
    if (browser === undefined) {
      throw new Error(
        `The browser tests need Debian's chromium at ${CHROMIUM} and it is missing: run \`apt-get install -y chromium\` ` +
          '(or set CHROMIUM_PATH to a Chromium binary).',
      );
    }
    return browser;
  }

  /** Opens a file in a fresh page, recording console errors, page errors, dialogs and every request. */
  async function open(
    name: string,
    markup: string,
  ): Promise<{ page: Page; problems: string[]; requests: string[]; url: string }> {
    const file = join(dir, name);
    writeFileSync(file, markup);
    const url = pathToFileURL(file).href;
    const page = await launched().newPage({ viewport: { width: 1200, height: 900 } });
    // Generous: the full suite shares two cores with Chromium's software renderer.
    page.setDefaultTimeout(120_000);
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(url);
    return { page, problems, requests, url };
  }

  it('draws every chunk inside its lane, lanes stacked, bars proportional to their counts, and nothing else runs', async () => {
    const records = jobRecords(120);
    const timeline = new ChunkTimeline({ jobId: 'job-120', task: TASK, chunks: records });
    const { page, problems, requests, url } = await open('timeline.html', timeline.toHtml());

    const drawn = await page.evaluate(() => {
      const box = (e: PageElement) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height };
      };
      const visible = (e: PageElement) => {
        const style = getComputedStyle(e);
        return style.display !== 'none' && style.visibility !== 'hidden' && Number(style.opacity) > 0;
      };
      return {
        chunks: [...document.querySelectorAll('rect.chunk')].map((e) => ({
          chunk: Number(e.getAttribute('data-chunk')),
          lane: Number(e.getAttribute('data-lane')),
          visible: visible(e),
          fill: getComputedStyle(e).fill,
          status: e.getAttribute('data-status'),
          tooltip: e.querySelector('title')?.textContent ?? '',
          box: box(e),
        })),
        lanes: [...document.querySelectorAll('rect.lane-bg')].map((e) => ({
          lane: Number(e.getAttribute('data-lane')),
          box: box(e),
        })),
        bars: [...document.querySelectorAll('rect.bar')].map((e) => ({
          count: Number(e.getAttribute('data-count')),
          box: box(e),
        })),
        coldMarks: document.querySelectorAll('path.cold-mark[data-chunk]').length,
        scripts: document.querySelectorAll('script, img, iframe, object, embed').length,
        title: document.title,
        heading: document.querySelector('.sub b')?.textContent,
      };
    });

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    expect(drawn.scripts).toBe(0);
    expect(drawn.title).toBe(`fanout job job-120 · ${TASK}`);
    expect(drawn.heading).toBe(TASK);

    // Chunks: all of them, visible, with a positive width, inside their own lane.
    expect(drawn.chunks).toHaveLength(records.length);
    expect(new Set(drawn.chunks.map((c) => c.chunk))).toEqual(new Set(records.map((r) => r.chunk)));
    expect(drawn.coldMarks).toBe(records.filter((r) => r.coldStart).length);
    const lanes = new Map(drawn.lanes.map((l) => [l.lane, l.box]));
    expect(lanes.size).toBe(12);
    for (const chunk of drawn.chunks) {
      expect(chunk.visible, `chunk ${chunk.chunk}`).toBe(true);
      expect(chunk.box.width, `chunk ${chunk.chunk}`).toBeGreaterThan(0);
      expect(chunk.box.height, `chunk ${chunk.chunk}`).toBeGreaterThan(0);
      expect(inside(chunk.box, lanes.get(chunk.lane)!), `chunk ${chunk.chunk} inside lane ${chunk.lane}`).toBe(true);
      expect(chunk.tooltip).toMatch(new RegExp(`^chunk ${chunk.chunk} · .* · 25 items · [12] attempts? · task \\d+ ms`));
    }
    // One colour per status, the same for every chunk of that status.
    const fills = new Map<string, Set<string>>();
    for (const chunk of drawn.chunks) fills.set(chunk.status!, (fills.get(chunk.status!) ?? new Set()).add(chunk.fill));
    expect([...fills.values()].map((set) => set.size)).toEqual([1, 1, 1, 1, 1]);
    expect(new Set([...fills.values()].map((set) => [...set][0])).size).toBe(5);

    // Within a lane, chunks run left to right in start order.
    for (const lane of lanes.keys()) {
      const inLane = drawn.chunks.filter((c) => c.lane === lane);
      const order = inLane.map((c) => records[c.chunk]!.startMs);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      for (let i = 1; i < inLane.length; i++) expect(inLane[i]!.box.x).toBeGreaterThanOrEqual(inLane[i - 1]!.box.x);
    }

    // Lanes: stacked top to bottom in index order, without overlap, all as wide.
    const stacked = [...lanes.entries()].sort((a, b) => a[0] - b[0]).map(([, box]) => box);
    for (let i = 1; i < stacked.length; i++) {
      expect(stacked[i]!.y).toBeGreaterThanOrEqual(stacked[i - 1]!.y + stacked[i - 1]!.height - EPSILON);
      expect(stacked[i]!.width).toBeCloseTo(stacked[0]!.width, 5);
    }

    // Histogram: bar heights in proportion to counts, all on one baseline, counts as the records say.
    expect(drawn.bars.map((b) => b.count)).toEqual(timeline.histogram.map((b) => b.count));
    expect(drawn.bars.reduce((sum, b) => sum + b.count, 0)).toBe(records.length);
    const tallest = drawn.bars.reduce((a, b) => (b.count > a.count ? b : a));
    for (const bar of drawn.bars) {
      expect(bar.box.height).toBeCloseTo((bar.count / tallest.count) * tallest.box.height, 1);
      expect(bar.box.y + bar.box.height).toBeCloseTo(tallest.box.y + tallest.box.height, 1);
    }

    const screenshot = join(dir, 'timeline.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });

  it('opens the SVG variant as a well-formed SVG document with the same chunks', async () => {
    const records = jobRecords(60);
    const { page, problems, requests, url } = await open(
      'timeline.svg',
      new ChunkTimeline({ jobId: 'job-60', task: TASK, chunks: records }).toSvg(),
    );
    const drawn = await page.evaluate(() => ({
      root: document.documentElement.tagName,
      parserErrors: document.getElementsByTagName('parsererror').length,
      chunks: [...document.querySelectorAll('rect.chunk')].map((e) => e.getBoundingClientRect().width),
      coldStarts: document.querySelector('[data-summary="coldStarts"]')?.getAttribute('data-value'),
    }));
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    expect(drawn.root).toBe('svg');
    expect(drawn.parserErrors).toBe(0);
    expect(drawn.chunks).toHaveLength(60);
    expect(drawn.chunks.every((width) => width > 0)).toBe(true);
    expect(drawn.coldStarts).toBe('12');
    await page.screenshot({ path: join(dir, 'timeline-svg.png') });
    await page.close();
  });

  it('shows an empty job as a "no chunks recorded" page', async () => {
    const { page, problems } = await open(
      'empty.html',
      new ChunkTimeline({ jobId: 'job-0', task: 'square', chunks: [] }).toHtml(),
    );
    expect(await page.locator('[data-empty="true"]').textContent()).toBe('No chunks recorded for this job.');
    expect(await page.locator('rect').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws 10,000 chunks, each visible with a positive width', async () => {
    const records = jobRecords(10_000);
    const { page, problems } = await open(
      'big.html',
      new ChunkTimeline({ jobId: 'job-big', task: 'square', chunks: records }).toHtml(),
    );
    const widths = await page.evaluate(() =>
      [...document.querySelectorAll('rect.chunk')].map((e) => e.getBoundingClientRect().width),
    );
    expect(widths).toHaveLength(10_000);
    expect(widths.filter((width) => !(width > 0))).toEqual([]);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(dir, 'big.png') });
    await page.close();
  });
});
