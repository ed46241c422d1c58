import type { MessageReleaser } from './MessageReleaser.js';

/**
 * Keeps an invocation's received messages hidden while their chunks wait or run: every half
 * visibility timeout (counted from the invocation's start, which is at most a little after the
 * receive) it extends the visibility of the messages still held by one more visibility timeout,
 * ten to a request. So a chunk longer than the queue's visibility timeout is not delivered a
 * second time while it runs, and the visibility timeout can stay short — it is then also how
 * soon the chunks of a worker that died come back. An invocation shorter than half the
 * visibility timeout sends nothing.
 *
 * @example
 * ```ts
 * const heartbeat = new Heartbeat(releaser, 30, performance.now(), () => heldReceiptHandles());
 * // ... when the invocation answers:
 * heartbeat.stop();
 * ```
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  /** Visibility extensions sent (one per message per beat). */
  extensions = 0;

  constructor(
    private readonly releaser: MessageReleaser,
    private readonly visibilityTimeoutSeconds: number | undefined,
    startedAt: number,
    private readonly held: () => string[],
  ) {
    if (visibilityTimeoutSeconds === undefined || !(visibilityTimeoutSeconds >= 1)) return;
    const interval = (visibilityTimeoutSeconds * 1000) / 2;
    const beat = () => {
      const handles = this.held();
      this.extensions += handles.length;
      for (const handle of handles) void this.releaser.setVisibility(handle, this.visibilityTimeoutSeconds!);
      this.timer = setTimeout(beat, interval);
    };
    this.timer = setTimeout(beat, Math.max(0, startedAt + interval - performance.now()));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
