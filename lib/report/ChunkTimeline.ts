import { TimelineInputError } from '../errors.js';

/** How a chunk ended: its results stored, its task failed, the job cancelled, out of time, or its worker died. */
export type ChunkStatus = 'ok' | 'failed' | 'cancelled' | 'tooLong' | 'dead';

/** Every {@link ChunkStatus}, in the order the legend and the summary list them. */
export const CHUNK_STATUSES: readonly ChunkStatus[] = ['ok', 'failed', 'cancelled', 'tooLong', 'dead'];

/**
 * What one chunk of a job did: where it ran, when, how often it was tried, and how it ended.
 *
 * @example
 * ```ts
 * const record: ChunkRunRecord = {
 *   chunk: 0, worker: 'env-1', thread: 0, startMs: 1_700_000_000_000, endMs: 1_700_000_000_250,
 *   attempts: 1, coldStart: true, taskMs: 200, items: 100, status: 'ok',
 * };
 * ```
 */
export interface ChunkRunRecord {
  /** The chunk's number in the job (0-based). */
  chunk: number;
  /** The Lambda environment (its log stream) or fleet worker that ran it. */
  worker: string;
  /** The thread of that worker that ran it, as the worker numbers its threads. */
  thread: number;
  /** When it started, epoch ms on the worker's clock (machines' clocks may differ by a few ms). */
  startMs: number;
  /** When it ended, epoch ms (at or after `startMs`). */
  endMs: number;
  /** How many times it was delivered (SQS's receive count). */
  attempts: number;
  /** The first chunk its thread ran: the thread started (and loaded the task) just before it, and ran cold. */
  coldStart: boolean;
  /** The time spent inside the task function, ms. */
  taskMs: number;
  /** How many items the chunk held. */
  items: number;
  status: ChunkStatus;
  /** The run was a speculative copy of a straggler (the Pool's `speculate`), which finished first. */
  copy?: boolean;
}

/**
 * What a timeline draws: one job's id, its task's name and its chunk records (in any order).
 *
 * @example
 * ```ts
 * const input: ChunkTimelineInput = { jobId: 'job-1', task: 'square', chunks: [] };
 * ```
 */
export interface ChunkTimelineInput {
  jobId: string;
  task: string;
  chunks: readonly ChunkRunRecord[];
}

/**
 * One row of the timeline: a worker's thread, with the chunks it ran in start order.
 *
 * @example
 * ```ts
 * new ChunkTimeline(input).lanes.map((lane) => `${lane.worker}#${lane.thread}: ${lane.chunks.length}`);
 * ```
 */
export interface TimelineLane {
  /** The row, from the top (lanes are ordered by their first chunk's start). */
  index: number;
  worker: string;
  thread: number;
  chunks: readonly ChunkRunRecord[];
}

/**
 * One bar of the task-time histogram: the chunks whose `taskMs` is in `[loMs, hiMs)`.
 *
 * @example
 * ```ts
 * new ChunkTimeline(input).histogram.map((b) => `${b.loMs}-${b.hiMs} ms: ${b.count}`);
 * ```
 */
export interface TaskTimeBucket {
  index: number;
  loMs: number;
  hiMs: number;
  count: number;
}

/**
 * The figures the timeline's summary shows.
 *
 * @example
 * ```ts
 * const { wallMs, busyMs, lanes } = new ChunkTimeline(input).summary;
 * const utilisation = wallMs > 0 ? busyMs / (wallMs * lanes) : 0;
 * ```
 */
export interface TimelineSummary {
  /** Chunk records drawn. */
  chunks: number;
  /** Items in all chunks. */
  items: number;
  /** Distinct workers (Lambda environments or fleet workers). */
  workers: number;
  /** Distinct worker threads (the timeline's rows). */
  lanes: number;
  /** From the first chunk's start to the last chunk's end, ms (0 without chunks). */
  wallMs: number;
  /** The sum of every chunk's end minus start, ms. */
  busyMs: number;
  /** Chunks that ran in a worker's first invocation. */
  coldStarts: number;
  /** Chunks that ended `failed`, `tooLong` or `dead` (not `cancelled`: a cancel is asked for). */
  failedChunks: number;
  /** Chunks delivered more than once. */
  retriedChunks: number;
  /** The median and the largest time in the task function, ms (0 without chunks). */
  taskMsMedian: number;
  taskMsMax: number;
  /** The first chunk's start, epoch ms: the timeline's zero (undefined without chunks). */
  firstStartMs: number | undefined;
  byStatus: Readonly<Record<ChunkStatus, number>>;
}

// Layout, in CSS pixels. The timeline's rows shrink as lanes grow, so that a thousand lanes stay
// a scrollable page rather than a wall.
const WIDTH = 1100;
const TIMELINE_LEFT = 190;
const TIMELINE_RIGHT = 20;
const TIMELINE_TOP = 34;
const TIMELINE_BOTTOM = 44;
const TIMELINE_PLOT_WIDTH = WIDTH - TIMELINE_LEFT - TIMELINE_RIGHT;
const MIN_CHUNK_WIDTH = 1;
const LABEL_CHARACTERS = 26;
const HISTOGRAM_LEFT = 70;
const HISTOGRAM_RIGHT = 20;
const HISTOGRAM_TOP = 16;
const HISTOGRAM_BOTTOM = 48;
const HISTOGRAM_PLOT_WIDTH = WIDTH - HISTOGRAM_LEFT - HISTOGRAM_RIGHT;
const HISTOGRAM_PLOT_HEIGHT = 220;
const HISTOGRAM_HEIGHT = HISTOGRAM_TOP + HISTOGRAM_PLOT_HEIGHT + HISTOGRAM_BOTTOM;
const MAX_BUCKETS = 40;

const STATUS_LABELS: Record<ChunkStatus, string> = {
  ok: 'ok',
  failed: 'failed',
  cancelled: 'cancelled',
  tooLong: 'too long',
  dead: 'worker died',
};

const SVG_CSS = [
  'text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#333}',
  '.title{font-size:13px;font-weight:600}',
  '.lane-bg.even{fill:#f7f7f7}.lane-bg.odd{fill:#ebebeb}',
  '.ok{fill:#3a8d3a}.failed{fill:#d33}.cancelled{fill:#9a9a9a}.tooLong{fill:#f08c00}.dead{fill:#7b3fa0}',
  '.cold-mark{fill:#111;pointer-events:none}',
  '.axis{stroke:#777;fill:none}.grid{stroke:#d8d8d8}',
  '.bar{fill:#4a78b5}',
].join('');

const PAGE_CSS = [
  'body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}',
  'h1{font-size:18px;margin:0 0 2px}h2{font-size:15px;margin:20px 0 6px}',
  '.sub{color:#555;margin:0 0 14px}.empty{font-size:15px;padding:16px;background:#f4f4f4;display:inline-block}',
  'table.summary{border-collapse:collapse}',
  'table.summary th{text-align:left;font-weight:normal;color:#555;padding:1px 18px 1px 0}',
  'table.summary td{text-align:right;font-variant-numeric:tabular-nums;padding:1px 0}',
  'figure{margin:0}figcaption{color:#555;margin:4px 0 0;max-width:1100px}',
  'svg{max-width:100%;height:auto;display:block}',
].join('');

/**
 * A job's timeline: its chunks over time by worker lane (as Lithops' `plot` draws them), a
 * histogram of task times and a summary, as one self-contained HTML page or one SVG drawing.
 * Nothing in either runs a script or fetches anything; every drawn element carries `data-*`
 * attributes naming what it stands for. The records are checked when it is built.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * const timeline = new ChunkTimeline({ jobId: 'job-1', task: 'square', chunks: records });
 * writeFileSync('job-1.html', timeline.toHtml());
 * console.log(timeline.summary.wallMs, timeline.summary.coldStarts);
 * ```
 */
export class ChunkTimeline {
  readonly jobId: string;
  readonly task: string;
  /** The rows, top to bottom. */
  readonly lanes: readonly TimelineLane[];
  /** The task-time histogram's bars, left to right (empty without chunks). */
  readonly histogram: readonly TaskTimeBucket[];
  readonly summary: TimelineSummary;

  private readonly records: readonly ChunkRunRecord[];

  /** @throws {TimelineInputError} a record with a missing or wrong field, or that ends before it starts. */
  constructor(input: ChunkTimelineInput) {
    if (typeof input !== 'object' || input === null) {
      throw new TimelineInputError(`A timeline needs { jobId, task, chunks }, got ${describe(input)}.`, {
        field: 'input',
        value: input,
      });
    }
    if (typeof input.jobId !== 'string' || input.jobId === '') {
      throw new TimelineInputError(`The timeline's jobId is ${describe(input.jobId)}: expected a non-empty string.`, {
        field: 'jobId',
        value: input.jobId,
      });
    }
    if (typeof input.task !== 'string') {
      throw new TimelineInputError(`The timeline's task is ${describe(input.task)}: expected the task's name, a string.`, {
        field: 'task',
        value: input.task,
      });
    }
    if (!Array.isArray(input.chunks)) {
      throw new TimelineInputError(`The timeline's chunks are ${describe(input.chunks)}: expected an array of chunk records.`, {
        field: 'chunks',
        value: input.chunks,
      });
    }
    this.jobId = input.jobId;
    this.task = input.task;
    this.records = input.chunks.map((record, index) => checkRecord(record, index));
    this.lanes = laneRecords(this.records);
    this.histogram = bucketTaskTimes(this.records);
    this.summary = summarise(this.records, this.lanes.length);
  }

  /**
   * The whole report as one HTML document: inline CSS and SVG, no script, no external URL.
   *
   * @example
   * ```ts
   * writeFileSync('timeline.html', new ChunkTimeline(input).toHtml());
   * ```
   */
  toHtml(): string {
    const title = `fanout job ${this.jobId} · ${this.task}`;
    const parts: string[] = [
      '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
      // No script may run and nothing may be fetched, whatever a task name or worker id holds.
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">\n`,
      '<meta name="viewport" content="width=device-width,initial-scale=1">\n',
      `<title>${escapeMarkup(title)}</title>\n<style>${PAGE_CSS}${SVG_CSS}</style>\n</head>\n`,
      `<body data-job="${escapeMarkup(this.jobId)}" data-task="${escapeMarkup(this.task)}">\n`,
      `<h1>Job ${escapeMarkup(this.jobId)}</h1>\n<p class="sub">task <b>${escapeMarkup(this.task)}</b></p>\n`,
    ];
    if (this.records.length === 0) {
      parts.push('<p class="empty" data-empty="true">No chunks recorded for this job.</p>\n');
    }
    parts.push(this.summaryTable());
    if (this.records.length > 0) {
      parts.push(
        '<h2>Chunks over time</h2>\n<figure>\n',
        this.timelineSvg(0),
        '<figcaption>One row per worker thread, ordered by its first chunk. x: seconds since the job’s first chunk started. ',
        'Each bar is one chunk, from its start to its end, coloured by how it ended; a black corner marks a cold start. ',
        'Hover a bar for its chunk number, items, attempts and task time.</figcaption>\n</figure>\n',
        '<h2>Task time per chunk</h2>\n<figure>\n',
        this.histogramSvg(0),
        '<figcaption>How many chunks spent each range of time in the task function (ms, buckets of equal width). ',
        'A long tail to the right means stragglers.</figcaption>\n</figure>\n',
      );
    }
    parts.push('</body>\n</html>\n');
    return parts.join('');
  }

  /**
   * The same drawing as {@link toHtml} without the HTML page: one standalone SVG document with the
   * summary as text, the timeline and the histogram.
   *
   * @example
   * ```ts
   * writeFileSync('timeline.svg', new ChunkTimeline(input).toSvg());
   * ```
   */
  toSvg(): string {
    const summaryLines = this.summaryLines();
    const headerHeight = 44 + summaryLines.length * 16;
    const timelineHeight = this.records.length > 0 ? this.timelineHeight() : 0;
    const height = this.records.length > 0 ? headerHeight + timelineHeight + 24 + HISTOGRAM_HEIGHT : headerHeight + 30;
    const parts: string[] = [
      '<?xml version="1.0" encoding="UTF-8"?>\n',
      `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}"`,
      ` data-job="${escapeMarkup(this.jobId)}" data-task="${escapeMarkup(this.task)}">\n`,
      `<title>${escapeMarkup(`fanout job ${this.jobId} · ${this.task}`)}</title>\n<style>${SVG_CSS}</style>\n`,
      `<rect width="${WIDTH}" height="${height}" fill="#fff"/>\n`,
      `<text class="title" x="12" y="22">Job ${escapeMarkup(this.jobId)} · task ${escapeMarkup(this.task)}</text>\n`,
    ];
    summaryLines.forEach(([key, label, value], i) => {
      parts.push(`<text x="12" y="${44 + i * 16}" data-summary="${key}" data-value="${value}">${label}</text>\n`);
    });
    if (this.records.length === 0) {
      parts.push(`<text x="12" y="${headerHeight + 14}" data-empty="true">No chunks recorded for this job.</text>\n`);
    } else {
      parts.push(this.timelineSvg(headerHeight), this.histogramSvg(headerHeight + timelineHeight + 24));
    }
    parts.push('</svg>\n');
    return parts.join('');
  }

  private summaryRows(): Array<[key: string, label: string, value: number, shown: string]> {
    const s = this.summary;
    const rows: Array<[string, string, number, string]> = [
      ['chunks', 'Chunks', s.chunks, String(s.chunks)],
      ['items', 'Items', s.items, String(s.items)],
      ['workers', 'Workers', s.workers, String(s.workers)],
      ['lanes', 'Worker threads', s.lanes, String(s.lanes)],
      ['wallMs', 'Wall time', s.wallMs, seconds(s.wallMs)],
      ['busyMs', 'Busy time (sum of chunk durations)', s.busyMs, seconds(s.busyMs)],
      ['coldStarts', 'Cold starts', s.coldStarts, String(s.coldStarts)],
      ['failedChunks', 'Failed chunks (failed, too long, worker died)', s.failedChunks, String(s.failedChunks)],
      ['retriedChunks', 'Chunks tried more than once', s.retriedChunks, String(s.retriedChunks)],
      ['taskMsMedian', 'Task time per chunk, median', s.taskMsMedian, `${formatNumber(s.taskMsMedian)} ms`],
      ['taskMsMax', 'Task time per chunk, largest', s.taskMsMax, `${formatNumber(s.taskMsMax)} ms`],
    ];
    for (const status of CHUNK_STATUSES) {
      rows.push([`status.${status}`, `Ended ${STATUS_LABELS[status]}`, s.byStatus[status], String(s.byStatus[status])]);
    }
    return rows;
  }

  private summaryTable(): string {
    const rows = this.summaryRows().map(
      ([key, label, value, shown]) => `<tr data-summary="${key}" data-value="${value}"><th>${label}</th><td>${shown}</td></tr>\n`,
    );
    return `<table class="summary">\n${rows.join('')}</table>\n`;
  }

  private summaryLines(): Array<[key: string, text: string, value: number]> {
    return this.summaryRows()
      .filter(([key]) => !key.startsWith('status.'))
      .map(([key, label, value, shown]) => [key, `${label}: ${shown}`, value]);
  }

  private laneHeight(): number {
    return Math.max(4, Math.min(20, Math.floor(720 / Math.max(1, this.lanes.length))));
  }

  private timelineHeight(): number {
    return TIMELINE_TOP + this.lanes.length * this.laneHeight() + TIMELINE_BOTTOM;
  }

  private timelineSvg(y: number): string {
    const laneHeight = this.laneHeight();
    const height = this.timelineHeight();
    const plotBottom = TIMELINE_TOP + this.lanes.length * laneHeight;
    const t0 = this.summary.firstStartMs ?? 0;
    // A job of one instant still needs a scale: one millisecond wide.
    const spanMs = Math.max(1, this.summary.wallMs);
    const xOf = (ms: number): number => TIMELINE_LEFT + ((ms - t0) / spanMs) * TIMELINE_PLOT_WIDTH;
    const plotRight = TIMELINE_LEFT + TIMELINE_PLOT_WIDTH;
    const pad = laneHeight >= 10 ? 2 : laneHeight >= 6 ? 1 : 0.5;
    const chunkHeight = laneHeight - 2 * pad;
    // Label every lane when they are tall enough to read, every n-th lane otherwise.
    const labelEvery = Math.ceil(11 / laneHeight);
    const parts: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" data-figure="timeline" y="${y}" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">\n`,
      this.legend(),
    ];

    const ticks = niceTicks(spanMs / 1000, 10);
    parts.push('<g class="x-axis">\n');
    for (const tick of ticks.values) {
      const x = round(xOf(t0 + tick * 1000));
      parts.push(
        `<line class="grid" x1="${x}" x2="${x}" y1="${TIMELINE_TOP}" y2="${plotBottom}"/>`,
        `<text x="${x}" y="${plotBottom + 15}" text-anchor="middle" data-tick="${tick}">${tick.toFixed(ticks.decimals)}</text>\n`,
      );
    }
    parts.push(
      `<line class="axis" x1="${TIMELINE_LEFT}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}"/>\n`,
      `<text x="${TIMELINE_LEFT + TIMELINE_PLOT_WIDTH / 2}" y="${plotBottom + 34}" text-anchor="middle" data-axis="x">seconds since the job’s first chunk started</text>\n`,
      `<text x="12" y="${TIMELINE_TOP - 8}" data-axis="y">worker · thread</text>\n</g>\n`,
    );

    for (const lane of this.lanes) {
      const laneY = TIMELINE_TOP + lane.index * laneHeight;
      const worker = escapeMarkup(lane.worker);
      parts.push(
        `<g class="lane" data-lane="${lane.index}" data-worker="${worker}" data-thread="${lane.thread}" data-chunks="${lane.chunks.length}">\n`,
        `<rect class="lane-bg ${lane.index % 2 === 0 ? 'even' : 'odd'}" data-lane="${lane.index}" x="${TIMELINE_LEFT}" y="${laneY}" width="${TIMELINE_PLOT_WIDTH}" height="${laneHeight}"><title>${worker} · thread ${lane.thread}: ${lane.chunks.length} chunks</title></rect>\n`,
      );
      if (lane.index % labelEvery === 0) {
        const label = escapeMarkup(`${truncate(lane.worker, LABEL_CHARACTERS)} · ${lane.thread}`);
        const fontSize = Math.min(11, Math.max(8, laneHeight - 2));
        parts.push(
          `<text class="lane-label" x="${TIMELINE_LEFT - 6}" y="${round(laneY + laneHeight / 2)}" dominant-baseline="central" text-anchor="end" font-size="${fontSize}">${label}</text>\n`,
        );
      }
      const y0 = round(laneY + pad);
      for (const record of lane.chunks) {
        const width = Math.max(MIN_CHUNK_WIDTH, xOf(record.endMs) - xOf(record.startMs));
        // A bar widened to be visible must not stick out of the lane's right end.
        const x = Math.min(xOf(record.startMs), plotRight - width);
        const tooltip =
          `chunk ${record.chunk} · ${STATUS_LABELS[record.status]} · ${record.items} items · ${record.attempts} ` +
          `${record.attempts === 1 ? 'attempt' : 'attempts'} · task ${formatNumber(record.taskMs)} ms · ` +
          `${seconds(record.startMs - t0)} → ${seconds(record.endMs - t0)}${record.coldStart ? ' · cold start' : ''}`;
        parts.push(
          `<rect class="chunk ${record.status}" data-chunk="${record.chunk}" data-lane="${lane.index}" data-status="${record.status}"`,
          `${record.coldStart ? ' data-cold="true"' : ''} x="${round(x)}" y="${y0}" width="${round(width)}" height="${chunkHeight}"><title>${tooltip}</title></rect>\n`,
        );
        if (record.coldStart) {
          const size = round(Math.min(6, chunkHeight));
          parts.push(`<path class="cold-mark" data-chunk="${record.chunk}" d="M${round(x)} ${y0}h${size}l-${size} ${size}z"/>\n`);
        }
      }
      parts.push('</g>\n');
    }
    parts.push('</svg>\n');
    return parts.join('');
  }

  private legend(): string {
    const parts: string[] = ['<g class="legend">\n'];
    let x = TIMELINE_LEFT;
    for (const status of CHUNK_STATUSES) {
      const text = `${STATUS_LABELS[status]} (${this.summary.byStatus[status]})`;
      parts.push(
        `<rect class="swatch ${status}" data-legend="${status}" data-count="${this.summary.byStatus[status]}" x="${x}" y="8" width="12" height="12"/>`,
        `<text x="${x + 16}" y="18">${text}</text>\n`,
      );
      x += 26 + text.length * 6.5;
    }
    parts.push(
      `<rect class="swatch ok" x="${x}" y="8" width="12" height="12"/><path class="cold-mark" d="M${x} 8h6l-6 6z"/>`,
      `<text x="${x + 16}" y="18" data-legend="cold" data-count="${this.summary.coldStarts}">cold start (${this.summary.coldStarts})</text>\n</g>\n`,
    );
    return parts.join('');
  }

  private histogramSvg(y: number): string {
    const buckets = this.histogram;
    const maxCount = Math.max(1, ...buckets.map((b) => b.count));
    const plotBottom = HISTOGRAM_TOP + HISTOGRAM_PLOT_HEIGHT;
    const barSlot = HISTOGRAM_PLOT_WIDTH / buckets.length;
    const gap = barSlot > 6 ? 1 : 0;
    const parts: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" class="histogram" data-figure="histogram" y="${y}" width="${WIDTH}" height="${HISTOGRAM_HEIGHT}" viewBox="0 0 ${WIDTH} ${HISTOGRAM_HEIGHT}">\n`,
    ];
    const yTicks = niceTicks(maxCount, 5, 1);
    for (const tick of yTicks.values) {
      const tickY = round(plotBottom - (tick / maxCount) * HISTOGRAM_PLOT_HEIGHT);
      parts.push(
        `<line class="grid" x1="${HISTOGRAM_LEFT}" x2="${HISTOGRAM_LEFT + HISTOGRAM_PLOT_WIDTH}" y1="${tickY}" y2="${tickY}"/>`,
        `<text x="${HISTOGRAM_LEFT - 6}" y="${tickY}" dominant-baseline="central" text-anchor="end" data-tick="${tick}">${tick}</text>\n`,
      );
    }
    for (const bucket of buckets) {
      const height = (bucket.count / maxCount) * HISTOGRAM_PLOT_HEIGHT;
      const x = HISTOGRAM_LEFT + bucket.index * barSlot + gap;
      parts.push(
        `<rect class="bar" data-bucket="${bucket.index}" data-count="${bucket.count}" data-lo-ms="${bucket.loMs}" data-hi-ms="${bucket.hiMs}"`,
        ` x="${round(x)}" y="${round(plotBottom - height)}" width="${round(barSlot - 2 * gap)}" height="${round(height)}">`,
        `<title>${formatNumber(bucket.loMs)}–${formatNumber(bucket.hiMs)} ms: ${bucket.count} ${bucket.count === 1 ? 'chunk' : 'chunks'}</title></rect>\n`,
      );
    }
    // Edge labels, thinned to about a dozen so they do not run into each other.
    const labelEvery = Math.ceil((buckets.length + 1) / 12);
    for (let i = 0; i <= buckets.length; i += labelEvery) {
      const edge = i < buckets.length ? buckets[i]!.loMs : buckets[buckets.length - 1]!.hiMs;
      const x = round(HISTOGRAM_LEFT + i * barSlot);
      parts.push(
        `<line class="axis" x1="${x}" x2="${x}" y1="${plotBottom}" y2="${plotBottom + 4}"/>`,
        `<text x="${x}" y="${plotBottom + 16}" text-anchor="middle" data-tick="${edge}">${formatNumber(edge)}</text>\n`,
      );
    }
    parts.push(
      `<line class="axis" x1="${HISTOGRAM_LEFT}" x2="${HISTOGRAM_LEFT + HISTOGRAM_PLOT_WIDTH}" y1="${plotBottom}" y2="${plotBottom}"/>`,
      `<line class="axis" x1="${HISTOGRAM_LEFT}" x2="${HISTOGRAM_LEFT}" y1="${HISTOGRAM_TOP}" y2="${plotBottom}"/>\n`,
      `<text x="${HISTOGRAM_LEFT + HISTOGRAM_PLOT_WIDTH / 2}" y="${plotBottom + 38}" text-anchor="middle" data-axis="x">task time per chunk (ms)</text>\n`,
      `<text transform="translate(16 ${HISTOGRAM_TOP + HISTOGRAM_PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle" data-axis="y">chunks</text>\n`,
      '</svg>\n',
    );
    return parts.join('');
  }
}

/** Checks one record field by field, so that the error names the first wrong field. */
function checkRecord(value: unknown, index: number): ChunkRunRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TimelineInputError(`Chunk record ${index} is ${describe(value)}: expected an object.`, {
      field: `chunks[${index}]`,
      index,
      value,
    });
  }
  const record = value as Record<string, unknown>;
  const chunkNumber = record.chunk;
  const chunk = Number.isSafeInteger(chunkNumber) && (chunkNumber as number) >= 0 ? (chunkNumber as number) : undefined;
  const fail = (field: string, expected: string, message?: string): never => {
    const name = chunk === undefined ? `Chunk record ${index}` : `Chunk record ${index} (chunk ${chunk})`;
    const found = field in record ? `has ${field} ${describe(record[field])}` : `has no '${field}' field`;
    throw new TimelineInputError(message ?? `${name} ${found}: expected ${expected}.`, {
      field: `chunks[${index}].${field}`,
      index,
      ...(chunk === undefined ? {} : { chunk }),
      value: record[field],
    });
  };
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

  if (chunk === undefined) fail('chunk', 'the chunk number, an integer ≥ 0');
  if (typeof record.worker !== 'string' || record.worker === '') fail('worker', 'the worker id, a non-empty string');
  if (!isCount(record.thread)) fail('thread', 'the thread number, an integer ≥ 0');
  if (!isTime(record.startMs)) fail('startMs', 'the start time, epoch ms (a finite number)');
  if (!isTime(record.endMs)) fail('endMs', 'the end time, epoch ms (a finite number)');
  if ((record.endMs as number) < (record.startMs as number)) {
    fail(
      'endMs',
      '',
      `Chunk record ${index} (chunk ${chunk}) has endMs ${record.endMs as number}, before its startMs ${record.startMs as number}: ` +
        'a chunk must end at or after its start.',
    );
  }
  if (!isCount(record.attempts)) fail('attempts', 'the number of deliveries, an integer ≥ 0');
  if (typeof record.coldStart !== 'boolean') fail('coldStart', 'true or false');
  if (!isTime(record.taskMs) || (record.taskMs as number) < 0) fail('taskMs', 'the time in the task function, ms ≥ 0');
  if (!isCount(record.items)) fail('items', 'the number of items, an integer ≥ 0');
  if (!CHUNK_STATUSES.includes(record.status as ChunkStatus)) fail('status', `one of ${CHUNK_STATUSES.join(', ')}`);

  // A copy of the known fields only, so that a later change to the caller's objects changes nothing drawn.
  return {
    chunk: chunk as number,
    worker: record.worker as string,
    thread: record.thread as number,
    startMs: record.startMs as number,
    endMs: record.endMs as number,
    attempts: record.attempts as number,
    coldStart: record.coldStart as boolean,
    taskMs: record.taskMs as number,
    items: record.items as number,
    status: record.status as ChunkStatus,
  };
}

function laneRecords(records: readonly ChunkRunRecord[]): TimelineLane[] {
  const byLane = new Map<string, { worker: string; thread: number; chunks: ChunkRunRecord[] }>();
  for (const record of records) {
    const key = `${record.thread}\u0000${record.worker}`;
    let lane = byLane.get(key);
    if (lane === undefined) {
      lane = { worker: record.worker, thread: record.thread, chunks: [] };
      byLane.set(key, lane);
    }
    lane.chunks.push(record);
  }
  const byStart = (a: ChunkRunRecord, b: ChunkRunRecord): number => a.startMs - b.startMs || a.chunk - b.chunk;
  const lanes = [...byLane.values()];
  for (const lane of lanes) lane.chunks.sort(byStart);
  // First start order draws a staircase as workers join; ties keep a stable worker, thread order.
  lanes.sort(
    (a, b) =>
      a.chunks[0]!.startMs - b.chunks[0]!.startMs ||
      (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0) ||
      a.thread - b.thread,
  );
  return lanes.map((lane, index) => ({ index, ...lane }));
}

/**
 * Equal-width buckets over the task times, about Sturges' count of them, with a width of 1, 2 or 5
 * times a power of ten ms (at least 1 ms) so that the edges are round integers.
 */
function bucketTaskTimes(records: readonly ChunkRunRecord[]): TaskTimeBucket[] {
  if (records.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const record of records) {
    min = Math.min(min, record.taskMs);
    max = Math.max(max, record.taskMs);
  }
  const target = Math.min(MAX_BUCKETS, Math.ceil(Math.log2(records.length)) + 1);
  let width = niceNumber(Math.max(1, (max - min) / target));
  let lo = Math.floor(min / width) * width;
  while (Math.floor((max - lo) / width) + 1 > MAX_BUCKETS) {
    width = niceNumber(width * 1.5);
    lo = Math.floor(min / width) * width;
  }
  const count = Math.floor((max - lo) / width) + 1;
  const buckets: TaskTimeBucket[] = Array.from({ length: count }, (_, index) => ({
    index,
    loMs: lo + index * width,
    hiMs: lo + (index + 1) * width,
    count: 0,
  }));
  for (const record of records) buckets[Math.min(count - 1, Math.floor((record.taskMs - lo) / width))]!.count++;
  return buckets;
}

function summarise(records: readonly ChunkRunRecord[], lanes: number): TimelineSummary {
  const byStatus: Record<ChunkStatus, number> = { ok: 0, failed: 0, cancelled: 0, tooLong: 0, dead: 0 };
  const workers = new Set<string>();
  let items = 0;
  let busyMs = 0;
  let coldStarts = 0;
  let retriedChunks = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const record of records) {
    byStatus[record.status]++;
    workers.add(record.worker);
    items += record.items;
    busyMs += record.endMs - record.startMs;
    if (record.coldStart) coldStarts++;
    if (record.attempts > 1) retriedChunks++;
    first = Math.min(first, record.startMs);
    last = Math.max(last, record.endMs);
  }
  const taskTimes = records.map((r) => r.taskMs).sort((a, b) => a - b);
  const middle = taskTimes.length >> 1;
  const taskMsMedian =
    taskTimes.length === 0
      ? 0
      : taskTimes.length % 2 === 1
        ? taskTimes[middle]!
        : (taskTimes[middle - 1]! + taskTimes[middle]!) / 2;
  return {
    chunks: records.length,
    items,
    workers: workers.size,
    lanes,
    wallMs: records.length === 0 ? 0 : last - first,
    busyMs,
    coldStarts,
    failedChunks: byStatus.failed + byStatus.tooLong + byStatus.dead,
    retriedChunks,
    taskMsMedian,
    taskMsMax: taskTimes.length === 0 ? 0 : taskTimes[taskTimes.length - 1]!,
    firstStartMs: records.length === 0 ? undefined : first,
    byStatus,
  };
}

/** The smallest of 1, 2, 5 × 10^n that is ≥ `value`, and ≥ `floor`. */
function niceNumber(value: number, floor = 1): number {
  const target = Math.max(floor, value);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 5, 10]) if (step * power >= target) return step * power;
  return 10 * power;
}

/** Round tick values from 0 to `max`, about `count` of them. */
function niceTicks(max: number, count: number, floor = 0): { values: number[]; decimals: number } {
  const step = niceNumber(max / count, floor || 1e-3);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const values: number[] = [];
  // Rounding each tick to its step's decimals keeps 0.1 + 0.2 from printing as 0.30000000000000004.
  for (let i = 0; i * step <= max * (1 + 1e-9); i++) values.push(Number((i * step).toFixed(decimals)));
  return { values, decimals };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/** The end of a long worker id, where Lambda log stream names and generated ids differ. */
function truncate(text: string, characters: number): string {
  const codePoints = Array.from(text);
  return codePoints.length <= characters ? text : `…${codePoints.slice(codePoints.length - characters + 1).join('')}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}

// Characters XML 1.0 does not allow (C0 controls but tab/newline/return, U+FFFE/FFFF, lone surrogates):
// replaced so that the SVG stays well-formed XML whatever a worker id holds.
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MARKUP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML and SVG, in element content and in quoted attribute values alike. */
function escapeMarkup(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => MARKUP[c]!);
}
