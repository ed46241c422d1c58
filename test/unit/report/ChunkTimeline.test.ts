import { describe, expect, it } from 'vitest';
import { TimelineInputError } from '../../../lib/errors.js';
import { ChunkTimeline, type ChunkRunRecord } from '../../../lib/report/ChunkTimeline.js';

const T0 = 1_764_000_000_000;

function record(
  fields: Partial<ChunkRunRecord> & Pick<ChunkRunRecord, 'chunk' | 'worker' | 'startMs' | 'endMs'>,
): ChunkRunRecord {
  return { thread: 0, attempts: 1, coldStart: false, taskMs: fields.endMs - fields.startMs, items: 10, status: 'ok', ...fields };
}

// Three lanes: w-a thread 0 starts first, then w-a thread 1, then w-b thread 0.
const RECORDS: ChunkRunRecord[] = [
  record({ chunk: 3, worker: 'w-a', startMs: T0 + 500, endMs: T0 + 800, taskMs: 250, items: 7 }),
  record({ chunk: 0, worker: 'w-a', startMs: T0, endMs: T0 + 400, coldStart: true, taskMs: 10 }),
  record({ chunk: 1, worker: 'w-a', thread: 1, startMs: T0 + 100, endMs: T0 + 300, coldStart: true, taskMs: 20 }),
  record({ chunk: 2, worker: 'w-b', startMs: T0 + 200, endMs: T0 + 450, coldStart: true, taskMs: 30, attempts: 2 }),
  record({ chunk: 4, worker: 'w-b', startMs: T0 + 600, endMs: T0 + 1000, taskMs: 260, status: 'failed', attempts: 3 }),
];

const DRAWN_TAGS = new Set(
  'html head meta title style body h1 h2 p b table tr th td figure figcaption svg g rect path line text'.split(' '),
);

interface Tag {
  name: string;
  attributes: Record<string, string>;
}

/** The start tags of the renderer's own, regular markup (attribute values are escaped, so no `>` inside). */
function tags(markup: string, selector: { name: string; class?: string }): Tag[] {
  const found: Tag[] = [];
  for (const match of markup.matchAll(/<([a-z]+)\b([^>]*)>/g)) {
    if (match[1] !== selector.name) continue;
    const attributes: Record<string, string> = {};
    for (const attribute of match[2]!.matchAll(/([\w-]+)="([^"]*)"/g)) attributes[attribute[1]!] = attribute[2]!;
    if (selector.class !== undefined && !(attributes.class ?? '').split(' ').includes(selector.class)) continue;
    found.push({ name: match[1]!, attributes });
  }
  return found;
}

const num = (tag: Tag, attribute: string): number => {
  const value = tag.attributes[attribute];
  if (value === undefined) throw new Error(`<${tag.name}> has no ${attribute}`);
  return Number(value);
};

function summaryValues(html: string): Record<string, number> {
  return Object.fromEntries(tags(html, { name: 'tr' }).map((tr) => [tr.attributes['data-summary']!, num(tr, 'data-value')]));
}

describe('ChunkTimeline', () => {
  it('draws one lane per worker thread, ordered by first start, with each lane’s chunks in start order', () => {
    const html = new ChunkTimeline({ jobId: 'job-1', task: 'square', chunks: RECORDS }).toHtml();
    const lanes = tags(html, { name: 'g', class: 'lane' });
    expect(lanes.map((g) => [g.attributes['data-worker'], g.attributes['data-thread'], g.attributes['data-chunks']])).toEqual([
      ['w-a', '0', '2'],
      ['w-a', '1', '1'],
      ['w-b', '0', '2'],
    ]);
    const chunks = tags(html, { name: 'rect', class: 'chunk' });
    expect(chunks.map((r) => [r.attributes['data-lane'], r.attributes['data-chunk'], r.attributes['data-status']])).toEqual([
      ['0', '0', 'ok'],
      ['0', '3', 'ok'],
      ['1', '1', 'ok'],
      ['2', '2', 'ok'],
      ['2', '4', 'failed'],
    ]);
    expect(chunks.filter((r) => r.attributes['data-cold'] === 'true').map((r) => r.attributes['data-chunk'])).toEqual([
      '0',
      '1',
      '2',
    ]);
    expect(tags(html, { name: 'path', class: 'cold-mark' }).filter((p) => p.attributes['data-chunk'] !== undefined)).toHaveLength(
      3,
    );
  });

  it('places each chunk at its seconds since the first start, on the same scale in every lane', () => {
    const html = new ChunkTimeline({ jobId: 'job-1', task: 'square', chunks: RECORDS }).toHtml();
    const laneBoxes = tags(html, { name: 'rect', class: 'lane-bg' });
    const wall = 1000; // the last end (T0 + 1000) less the first start (T0)
    const byChunk = new Map(RECORDS.map((r) => [String(r.chunk), r]));
    for (const rect of tags(html, { name: 'rect', class: 'chunk' })) {
      const lane = laneBoxes[num(rect, 'data-lane')]!;
      const source = byChunk.get(rect.attributes['data-chunk']!)!;
      const left = num(lane, 'x');
      const width = num(lane, 'width');
      expect(num(rect, 'x')).toBeCloseTo(left + ((source.startMs - T0) / wall) * width, 1);
      expect(num(rect, 'width')).toBeCloseTo(((source.endMs - source.startMs) / wall) * width, 1);
      expect(num(rect, 'y')).toBeGreaterThanOrEqual(num(lane, 'y'));
      expect(num(rect, 'y') + num(rect, 'height')).toBeLessThanOrEqual(num(lane, 'y') + num(lane, 'height'));
    }
    const xs = tags(html, { name: 'rect', class: 'chunk' })
      .filter((r) => r.attributes['data-lane'] === '0')
      .map((r) => num(r, 'x'));
    expect(xs[0]).toBeLessThan(xs[1]!);
    // Lanes are stacked: each starts where the one above ends.
    for (let i = 1; i < laneBoxes.length; i++) {
      expect(num(laneBoxes[i]!, 'y')).toBe(num(laneBoxes[i - 1]!, 'y') + num(laneBoxes[i - 1]!, 'height'));
    }
  });

  it('buckets task times into equal-width bars whose counts match a count of the records in each range', () => {
    const timeline = new ChunkTimeline({ jobId: 'job-1', task: 'square', chunks: RECORDS });
    const bars = tags(timeline.toHtml(), { name: 'rect', class: 'bar' });
    // Task times 10, 20, 30, 250, 260: five records give four target buckets, 260 / 4 rounds up to 100 ms.
    expect(bars.map((b) => [num(b, 'data-lo-ms'), num(b, 'data-hi-ms'), num(b, 'data-count')])).toEqual([
      [0, 100, 3],
      [100, 200, 0],
      [200, 300, 2],
    ]);
    expect(timeline.histogram.map((b) => b.count)).toEqual([3, 0, 2]);
  });

  it('counts every bucket of a larger job as the records in its range say', () => {
    const chunks = Array.from({ length: 997 }, (_, i) =>
      record({ chunk: i, worker: `w${i % 7}`, startMs: T0 + i * 3, endMs: T0 + i * 3 + 50, taskMs: (i * 7919) % 1733 }),
    );
    const bars = tags(new ChunkTimeline({ jobId: 'j', task: 't', chunks }).toHtml(), { name: 'rect', class: 'bar' });
    expect(bars.length).toBeGreaterThan(5);
    let total = 0;
    bars.forEach((bar, i) => {
      const lo = num(bar, 'data-lo-ms');
      const hi = num(bar, 'data-hi-ms');
      if (i > 0) expect(lo).toBe(num(bars[i - 1]!, 'data-hi-ms'));
      expect(hi - lo).toBe(num(bars[0]!, 'data-hi-ms') - num(bars[0]!, 'data-lo-ms'));
      const expected = chunks.filter((c) => c.taskMs >= lo && c.taskMs < hi).length;
      expect(num(bar, 'data-count')).toBe(expected);
      total += expected;
    });
    expect(total).toBe(997);
    const maxCount = Math.max(...bars.map((b) => num(b, 'data-count')));
    for (const bar of bars) expect(num(bar, 'height') / 220).toBeCloseTo(num(bar, 'data-count') / maxCount, 3);
  });

  it('summarises chunks, items, workers, wall and busy time, cold starts and failures', () => {
    const timeline = new ChunkTimeline({ jobId: 'job-1', task: 'square', chunks: RECORDS });
    const expected = {
      chunks: 5,
      items: 47,
      workers: 2,
      lanes: 3,
      wallMs: 1000,
      busyMs: 300 + 400 + 200 + 250 + 400,
      coldStarts: 3,
      failedChunks: 1,
      retriedChunks: 2,
      taskMsMedian: 30,
      taskMsMax: 260,
      'status.ok': 4,
      'status.failed': 1,
      'status.cancelled': 0,
      'status.tooLong': 0,
      'status.dead': 0,
    };
    expect(summaryValues(timeline.toHtml())).toEqual(expected);
    expect(timeline.summary).toMatchObject({ chunks: 5, wallMs: 1000, busyMs: 1550, firstStartMs: T0 });
    expect(
      tags(timeline.toHtml(), { name: 'rect', class: 'swatch' }).map((s) => [
        s.attributes['data-legend'],
        s.attributes['data-count'],
      ]),
    ).toEqual([
      ['ok', '4'],
      ['failed', '1'],
      ['cancelled', '0'],
      ['tooLong', '0'],
      ['dead', '0'],
      [undefined, undefined],
    ]);
  });

  it('escapes task names and worker ids, and fetches or runs nothing', () => {
    const task = '<script>alert(1)</script>';
    const worker = `"><img src=x onerror=alert(1)>&'\u0001`;
    const timeline = new ChunkTimeline({
      jobId: 'job"<1>',
      task,
      chunks: [record({ chunk: 0, worker, startMs: T0, endMs: T0 + 5 })],
    });
    for (const markup of [timeline.toHtml(), timeline.toSvg()]) {
      expect(markup).not.toContain('<script');
      expect(markup).not.toContain('<img');
      expect(markup).not.toContain('\u0001');
      expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(markup).toContain('data-worker="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;\uFFFD"');
      expect(markup).toContain('data-job="job&quot;&lt;1&gt;"');
      // Every start tag (quoted attribute values skipped whole) is one the renderer draws, and none loads or runs anything.
      const starts = [...markup.matchAll(/<([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)];
      const names = new Set(starts.map((m) => m[1]!.toLowerCase()));
      expect([...names].filter((n) => !DRAWN_TAGS.has(n))).toEqual([]);
      const attributeNames = starts.flatMap((m) => [...m[2]!.matchAll(/([\w:-]+)="[^"]*"/g)].map((a) => a[1]!.toLowerCase()));
      expect(attributeNames.filter((a) => a === 'src' || a === 'href' || a.startsWith('on'))).toEqual([]);
      expect(markup).not.toMatch(/url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
    }
  });

  it('draws an empty job as a clear "no chunks recorded" page', () => {
    const timeline = new ChunkTimeline({ jobId: 'job-0', task: 'square', chunks: [] });
    const html = timeline.toHtml();
    expect(html).toContain('data-empty="true">No chunks recorded for this job.');
    expect(tags(html, { name: 'rect', class: 'chunk' })).toHaveLength(0);
    expect(summaryValues(html)).toMatchObject({ chunks: 0, items: 0, workers: 0, wallMs: 0, busyMs: 0 });
    expect(timeline.histogram).toEqual([]);
    expect(timeline.summary.firstStartMs).toBeUndefined();
    const svg = timeline.toSvg();
    expect(svg).toMatch(/^<\?xml[^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('No chunks recorded for this job.');
    expect(svg).not.toContain('NaN');
  });

  it('draws one chunk across the whole width, and a zero-length chunk still visible inside its lane', () => {
    for (const [startMs, endMs] of [
      [T0, T0 + 250],
      [T0, T0],
    ] as const) {
      const html = new ChunkTimeline({
        jobId: 'j',
        task: 't',
        chunks: [record({ chunk: 9, worker: 'only', startMs, endMs, taskMs: 0 })],
      }).toHtml();
      const [lane] = tags(html, { name: 'rect', class: 'lane-bg' });
      const rects = tags(html, { name: 'rect', class: 'chunk' });
      expect(rects).toHaveLength(1);
      const rect = rects[0]!;
      expect(num(rect, 'width')).toBeGreaterThan(0);
      expect(num(rect, 'x')).toBe(num(lane!, 'x'));
      expect(num(rect, 'x') + num(rect, 'width')).toBeLessThanOrEqual(num(lane!, 'x') + num(lane!, 'width'));
      if (endMs > startMs) expect(num(rect, 'width')).toBe(num(lane!, 'width'));
      expect(tags(html, { name: 'rect', class: 'bar' }).map((b) => num(b, 'data-count'))).toEqual([1]);
      expect(html).not.toContain('NaN');
    }
  });

  it('gives the SVG variant the same chunks and bars, without the HTML page', () => {
    const timeline = new ChunkTimeline({ jobId: 'job-1', task: 'square', chunks: RECORDS });
    const svg = timeline.toSvg();
    expect(svg).not.toContain('<html');
    expect(svg).not.toContain('<body');
    const chunkIds = (markup: string) => tags(markup, { name: 'rect', class: 'chunk' }).map((r) => r.attributes['data-chunk']);
    expect(chunkIds(svg)).toEqual(chunkIds(timeline.toHtml()));
    expect(tags(svg, { name: 'rect', class: 'bar' }).map((b) => num(b, 'data-count'))).toEqual([3, 0, 2]);
    expect(tags(svg, { name: 'text' }).find((t) => t.attributes['data-summary'] === 'coldStarts')?.attributes['data-value']).toBe(
      '3',
    );
  });

  it('draws 10,000 chunks, in about 215 bytes of HTML each', () => {
    const chunks = Array.from({ length: 10_000 }, (_, i) =>
      record({
        chunk: i,
        worker: `2026/12/02/[$LATEST]${(i % 100).toString(16).padStart(32, '0')}`,
        thread: Math.floor(i / 100) % 2,
        startMs: T0 + Math.floor(i / 200) * 800 + (i % 100) * 3,
        endMs: T0 + Math.floor(i / 200) * 800 + (i % 100) * 3 + 700,
        taskMs: 100 + ((i * 37) % 600),
        coldStart: i < 200,
      }),
    );
    const timeline = new ChunkTimeline({ jobId: 'job-big', task: 'square', chunks });
    const html = timeline.toHtml();
    expect(tags(html, { name: 'rect', class: 'chunk' })).toHaveLength(10_000);
    expect(timeline.lanes).toHaveLength(200);
    expect(html.length).toBeLessThan(10_000 * 250);
    expect(timeline.histogram.reduce((sum, b) => sum + b.count, 0)).toBe(10_000);
  });

  it('refuses a chunk that ends before it starts, naming the record, the chunk and the field', () => {
    const chunks = [RECORDS[0]!, record({ chunk: 7, worker: 'w', startMs: T0 + 200, endMs: T0 + 100 })];
    const error = captureError(() => new ChunkTimeline({ jobId: 'j', task: 't', chunks }));
    expect(error).toBeInstanceOf(TimelineInputError);
    expect(error).toMatchObject({ code: 'ERR_TIMELINE_INPUT', field: 'chunks[1].endMs', index: 1, chunk: 7, value: T0 + 100 });
    expect(error.message).toBe(
      `Chunk record 1 (chunk 7) has endMs ${T0 + 100}, before its startMs ${T0 + 200}: a chunk must end at or after its start.`,
    );
  });

  it('refuses a record with a field missing or of the wrong type, naming that field', () => {
    const good = RECORDS[1]!;
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ...good, worker: undefined }, 'worker', /^Chunk record 0 \(chunk 0\) has worker undefined: expected the worker id/],
      [omit(good, 'worker'), 'worker', /has no 'worker' field: expected the worker id, a non-empty string/],
      [omit(good, 'startMs'), 'startMs', /has no 'startMs' field/],
      [omit(good, 'taskMs'), 'taskMs', /has no 'taskMs' field/],
      [{ ...good, chunk: '3' }, 'chunk', /^Chunk record 0 has chunk "3": expected the chunk number, an integer ≥ 0/],
      [{ ...good, thread: -1 }, 'thread', /has thread -1 \(number\)/],
      [{ ...good, endMs: Number.NaN }, 'endMs', /has endMs NaN \(number\): expected the end time/],
      [{ ...good, coldStart: 'yes' }, 'coldStart', /has coldStart "yes": expected true or false/],
      [{ ...good, status: 'weird' }, 'status', /has status "weird": expected one of ok, failed, cancelled, tooLong, dead/],
      [{ ...good, items: 1.5 }, 'items', /has items 1.5 \(number\)/],
    ];
    for (const [bad, field, message] of cases) {
      const error = captureError(() => new ChunkTimeline({ jobId: 'j', task: 't', chunks: [bad as unknown as ChunkRunRecord] }));
      expect(error, field).toBeInstanceOf(TimelineInputError);
      expect((error as TimelineInputError).field).toBe(`chunks[0].${field}`);
      expect(error.message).toMatch(message);
    }
    const notObject = captureError(
      () => new ChunkTimeline({ jobId: 'j', task: 't', chunks: [null as unknown as ChunkRunRecord] }),
    );
    expect(notObject).toMatchObject({ field: 'chunks[0]', message: 'Chunk record 0 is null (object): expected an object.' });
  });

  it('refuses a missing job id, task name or record list', () => {
    const input = { jobId: 'j', task: 't', chunks: [] };
    expect(captureError(() => new ChunkTimeline({ ...input, jobId: '' }))).toMatchObject({ field: 'jobId' });
    expect(captureError(() => new ChunkTimeline({ ...input, task: 3 as unknown as string }))).toMatchObject({ field: 'task' });
    expect(captureError(() => new ChunkTimeline({ ...input, chunks: {} as unknown as ChunkRunRecord[] }))).toMatchObject({
      code: 'ERR_TIMELINE_INPUT',
      field: 'chunks',
    });
  });

  it('draws nothing the caller changes afterwards', () => {
    const chunks = RECORDS.map((r) => ({ ...r }));
    const timeline = new ChunkTimeline({ jobId: 'j', task: 't', chunks });
    const before = timeline.toHtml();
    chunks[0]!.endMs = chunks[0]!.startMs - 1;
    chunks.push(record({ chunk: 99, worker: 'late', startMs: T0, endMs: T0 + 1 }));
    expect(timeline.toHtml()).toBe(before);
  });
});

function omit(value: ChunkRunRecord, field: keyof ChunkRunRecord): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  delete copy[field];
  return copy;
}

function captureError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}
