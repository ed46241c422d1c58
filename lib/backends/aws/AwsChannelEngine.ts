import { Deadline } from '../../backend/Deadline.js';
import type { ChannelEngine, Received } from '../../backend/ChannelEngine.js';
import { BrokenPipeError } from '../../errors.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import { randomId } from './AwsQueueEngine.js';
import { PollBackoff } from './PollBackoff.js';
import type { QueueStore } from './QueueStore.js';

/** An end of a channel, as Connection numbers them. */
type ChannelEnd = 0 | 1;
const READER: ChannelEnd = 0;
const WRITER: ChannelEnd = 1;
/** As `FIRST_COPY` in QueueStore (not imported: that module loads the SDK). */
const FIRST_COPY = 'first';

/** The handle kind of one direction of an aws pipe. */
export const AWS_CHANNEL_KIND = 'aws.channel';

/** What an aws channel's handle carries. */
export interface AwsChannelState {
  id: string;
  /** The resources of the channel's backend (`null` if they were not known yet when it was sent). */
  config: AwsConfig | null;
}

/**
 * One direction of a pipe on the aws backend: the same DynamoDB layout as an aws queue
 * ({@link QueueStore}), plus the copies of each end on the meta item: an end closes with its last
 * copy, as a file descriptor does (see {@link copyEnd}). `send` is one `PutItem`, with
 * a read of the meta item beside it (in parallel) to see whether the reader closed its end; `recv`
 * claims the oldest item as a queue's `get` does, and reports EOF when a head query finds no item
 * and the sender's flag, twice in a row (an item sent before the close is then surely visible).
 *
 * @example
 * ```ts
 * const channel = AwsChannelEngine.create(new AwsBackend({ config }));
 * await channel.send(bytes);
 * await channel.recv(Deadline.never); // { item: bytes }
 * ```
 */
export class AwsChannelEngine implements ChannelEngine {
  readonly backendName = 'aws';
  private readonly actor = randomId(6);
  private config: AwsConfig | null = null;
  private opened: Promise<QueueStore> | undefined;
  private sending: Promise<unknown> = Promise.resolve();
  private receiving: Promise<unknown> = Promise.resolve();
  private itemSeq = 0;
  private lastMs = 0;
  private readerClosedHere = false;
  /** The sender's close, once asked for (so that tests and shutdown can wait for it to land). */
  private closing: Promise<void> | undefined;
  /** This object's registrations and releases of end copies, in order (see {@link copyEnd}). */
  private copyUpdates: Promise<unknown> = Promise.resolve();
  /** Whether this object made copies of each end (see {@link releaseEnd}). */
  private readonly copied = [false, false];

  private constructor(
    private readonly backend: AwsBackend,
    readonly id: string,
    /** The token of the copy this object was revived for (undefined: the first copy, or a borrowed one). */
    readonly arrivedToken?: string,
  ) {
    // Known at once when the backend made it (its handle must name its resources right away).
    this.config = backend.resourcesIfKnown ?? null;
    backend.resources().then(
      (config) => (this.config = config),
      () => {},
    );
  }

  static create(backend: AwsBackend): AwsChannelEngine {
    return new AwsChannelEngine(backend, randomId());
  }

  /**
   * Re-binds a channel from its handle, on this machine (through `backend` when given: tests
   * simulating machines); `token` names the copy it is, when it was sent as one (see {@link copyEnd}).
   */
  static fromHandle(state: AwsChannelState, backend?: AwsBackend, token?: string): AwsChannelEngine {
    return new AwsChannelEngine(backend ?? AwsBackend.forHandle(state.config), state.id, token);
  }

  /**
   * Makes a new copy of `end` (a Connection sent to a process): registers a token for it in the
   * meta item's set of the end's copies, and returns it. The end closes once its first copy and
   * every registered one are released ({@link releaseEnd}). A copy is registered by the holder of
   * another open copy, before that holder's own release (this object orders its updates), so an
   * end with an open copy never reads as closed, whatever order the machines' updates land in.
   */
  copyEnd(end: ChannelEnd): string {
    this.copied[end] = true;
    const token = randomId(8);
    this.updateCopies('o', end, token);
    return token;
  }

  /**
   * Releases a copy of `end`: the one with `token`, or (undefined) the end's first copy. Releasing
   * twice is harmless (the process's end and its own close may both release it). A writer's
   * release lands after this object's sends: the reader reads them before EOF.
   */
  releaseEnd(end: ChannelEnd, token: string | undefined): void {
    // The first reader copy, never copied from here: no other copy exists, so the end is closed
    // now, and this thread's sends fail at once (other machines' once the release lands).
    if (end === READER && token === undefined && this.arrivedToken === undefined && !this.copied[READER]) {
      this.readerClosedHere = true;
    }
    this.updateCopies('x', end, token ?? FIRST_COPY);
  }

  private updateCopies(set: 'o' | 'x', end: ChannelEnd, token: string): void {
    const after = Promise.all([this.copyUpdates, end === WRITER ? this.sending : undefined]);
    const update = after.then(async () => (await this.store()).addToSet(`${set}${end}`, token));
    this.copyUpdates = update.catch((error: unknown) => {
      process.stderr.write(`fanout: could not record a pipe end's ${set === 'o' ? 'copy' : 'close'}: ${String(error)}\n`);
    });
  }

  handle(): { kind: string; state: Record<string, unknown> } {
    const state: AwsChannelState = { id: this.id, config: this.config };
    return { kind: AWS_CHANNEL_KIND, state: { ...state } };
  }

  private store(): Promise<QueueStore> {
    this.opened ??= Promise.all([this.backend.session(), import('./QueueStore.js')]).then(([session, { QueueStore }]) => {
      this.config = session.config;
      return new QueueStore(session, 'channel', this.id);
    });
    return this.opened;
  }

  /** Appends an item; rejects with `BrokenPipeError` once the receiving end is closed. */
  send(item: Uint8Array): Promise<void> {
    const sent = this.sending.then(() => this.sendNow(item));
    this.sending = sent.catch(() => {});
    return sent;
  }

  private async sendNow(item: Uint8Array): Promise<void> {
    if (this.readerClosedHere) throw new BrokenPipeError();
    const store = await this.store();
    this.lastMs = Math.max(Date.now(), this.lastMs);
    const part = `${String(this.lastMs).padStart(13, '0')}#${this.actor}#${String(++this.itemSeq).padStart(10, '0')}`;
    const [, meta] = await Promise.all([store.putItem(part, item), store.meta()]);
    if (meta.readerClosed) throw new BrokenPipeError();
  }

  /** The next item, `'eof'` once the sender closed and nothing is left, or `'timeout'` at `deadline`. */
  recv(deadline: Deadline): Promise<Received> {
    const received = this.receiving.then(() => this.recvNow(deadline));
    this.receiving = received.catch(() => {});
    return received;
  }

  private async recvNow(deadline: Deadline): Promise<Received> {
    const store = await this.store();
    const backoff = new PollBackoff();
    for (;;) {
      const taken = await store.take(this.actor);
      if (taken.item) return { item: taken.item };
      if (taken.senderClosed) {
        const again = await store.take(this.actor);
        if (again.item) return { item: again.item };
        if (again.senderClosed) return 'eof';
      }
      if (!(await backoff.pause(deadline))) return 'timeout';
    }
  }

  /** True once an item or the sender's close is there to be read; false at `deadline`. */
  async poll(deadline: Deadline): Promise<boolean> {
    const store = await this.store();
    const backoff = new PollBackoff();
    for (;;) {
      if (await store.ready()) return true;
      if (!(await backoff.pause(deadline))) return false;
    }
  }

  /** Closes the sending end, after the sends already made: the reader gets EOF after the last item. */
  closeSender(): void {
    this.closing ??= this.sending.then(async () => (await this.store()).setFlag('sc'));
    this.closing.catch(() => {});
  }

  /** Closes the receiving end: sends fail from now on. */
  closeReceiver(): void {
    this.readerClosedHere = true;
    void this.store()
      .then((store) => store.setFlag('rc'))
      .catch(() => {});
  }

  /** Resolves once the sender's close (if asked for) and this object's copy updates have landed. */
  async closed(): Promise<void> {
    await Promise.all([this.closing, this.copyUpdates]);
  }
}
