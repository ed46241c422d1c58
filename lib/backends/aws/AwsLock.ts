import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Deadline } from '../../backend/Deadline.js';
import type { LockEngine } from '../../backend/SyncEngines.js';
import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import { InvalidArgumentError, LockLostError, RuntimeError, ValueError } from '../../errors.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import type { AwsSession } from './AwsSession.js';
import { threadLockOwner, type LockOwner } from './awsOwner.js';
import { DEFAULT_LEASE_MS, leaseMs } from './leaseSettings.js';
import { PollBackoff } from './PollBackoff.js';
import { objectKey, type ItemKey } from './tableKeys.js';
import type { LeaseState, LeaseStore } from './LeaseStore.js';

// A blocked acquire polls as every aws wait does (PollBackoff: 20 ms doubling to 1 s, paced by
// the round trip). A 500 ms bound made 100 waiters saturate the emulator (60 s for 100 hand-offs,
// against 20 s with 1 s).

/** Options of {@link AwsLock.create}. */
export interface AwsLockOptions {
  /** `RLock` (owned, recursive) rather than `Lock`. */
  recursive: boolean;
  /**
   * How long a holder keeps the lock without a heartbeat landing: a waiter that sees the lock's
   * version unchanged for this long (on its own clock) takes it over. Heartbeats every third.
   * @default `FANOUT_LEASE_MS`, else 10,000
   */
  leaseMs?: number | undefined;
  /** Who holds: tests give each engine its own to play separate machines. @default this thread's */
  owner?: LockOwner | undefined;
  /**
   * The item the lease lives on: a Value's own lock keeps it on the Value's item, so that an
   * access can check the lock in the request that does it (see `AwsSharedMemory.ownLock`).
   * @default the lock's own item, `obj#lock#<id>` / `state`
   */
  item?: LockItem | undefined;
}

/** Where a lock's lease lives, as the parts of its {@link objectKey}. */
export interface LockItem {
  kind: string;
  id: string;
  part: string;
}

/** The state of an `aws.lock` / `aws.rlock` handle. */
export interface AwsLockState {
  id: string;
  config: AwsConfig;
  recursive: boolean;
  leaseMs: number;
  /** Set when the lease lives on another object's item (a Value's own lock). */
  item?: LockItem;
}

/** An acquisition held by an owner, kept in memory (shared by every copy of the lock in a thread). */
interface Hold {
  readonly owner: string;
  readonly token: number;
  /** The version the last landed write set. */
  version: string;
  readonly leaseMs: number;
  /** `performance.now()` when the last landed write was sent: nobody can take over before this + lease. */
  confirmedAt: number;
  /** RLock recursion depth (1 for a Lock). */
  depth: number;
  /** Set when a heartbeat found the lock no longer ours. */
  lost: { currentToken: number | undefined } | undefined;
  /** The latest heartbeat's failure (a network error), cleared by a heartbeat that lands. */
  heartbeatError: unknown;
  timer: NodeJS.Timeout | undefined;
  /** Set once released (or replaced): its heartbeat stops. */
  ended: boolean;
  /** A fault test froze the heartbeat. */
  suspended: boolean;
}

/**
 * A `Lock` or `RLock` of the aws backend: a lease on one DynamoDB item, taken and released with
 * one conditional `UpdateItem` each (no transactions), as AWS's lock client does it:
 *
 * - acquiring sets the holder, a random record version and the lease, and bumps the fencing
 *   token with `ADD` (so it grows with every acquisition by anyone; heartbeats leave it alone);
 * - while held, an unref'd heartbeat rewrites the version every third of the lease;
 * - a waiter polls the item with jittered back-off (20 ms doubling to 1 s); one that sees the
 *   same version for a whole lease of its own monotonic clock takes the lock over with a write
 *   conditioned on that version — no clock is compared across machines;
 * - a holder that lost its lease learns it at release, which fails with {@link LockLostError}.
 *
 * An RLock's recursion depth stays in memory: a re-entrant acquire by the owner sends nothing
 * while its lease is confirmed (one renewal otherwise). A `Lock` may be released by anyone.
 *
 * @example
 * ```ts
 * const lock = await AwsLock.create(new AwsBackend({ config }), { recursive: false });
 * if (await lock.acquire(Deadline.after(5_000))) {
 *   try { await guardedWrite(lock.fencingToken); } finally { await lock.release(); }
 * }
 * ```
 */
export class AwsLock implements LockEngine {
  readonly backend = 'aws' as const;
  readonly recursive: boolean;
  readonly id: string;
  readonly leaseMs: number;
  fencingToken: number | undefined;
  private readonly holdKey: string;
  private readonly owner: LockOwner;
  private readonly item: LockItem | undefined;
  /** The key of the item the lease lives on. */
  readonly key: ItemKey;
  private openStore: Promise<LeaseStore> | undefined;

  constructor(
    private readonly aws: AwsBackend,
    readonly config: AwsConfig,
    options: AwsLockOptions & { id?: string | undefined },
  ) {
    this.recursive = options.recursive;
    this.leaseMs = leaseMs(options.leaseMs);
    this.id = options.id ?? randomBytes(12).toString('hex');
    this.owner = options.owner ?? threadLockOwner();
    this.holdKey = `${config.table}|${this.id}`;
    this.item = options.item;
    this.key = options.item
      ? objectKey(options.item.kind, options.item.id, options.item.part)
      : objectKey('lock', this.id, 'state');
  }

  /**
   * A new lock on `backend`'s table (its item is written on first acquire).
   *
   * @example
   * ```ts
   * const rlock = await AwsLock.create(backend, { recursive: true, leaseMs: 5_000 });
   * ```
   */
  static async create(backend: AwsBackend, options: AwsLockOptions): Promise<AwsLock> {
    return new AwsLock(backend, await backend.resources(), options);
  }

  /**
   * Re-binds a lock that arrived as a handle, to this thread's backend for its resources.
   *
   * @example
   * ```ts
   * const lock = AwsLock.fromHandle(descriptor.state);
   * ```
   */
  static fromHandle(state: unknown, owner?: LockOwner): AwsLock {
    const s = state as Partial<AwsLockState> | null;
    if (
      !s ||
      typeof s.id !== 'string' ||
      typeof s.recursive !== 'boolean' ||
      typeof s.leaseMs !== 'number' ||
      typeof s.config?.table !== 'string'
    ) {
      throw new InvalidArgumentError('an aws.lock handle', state, 'an object with id, config, recursive and leaseMs');
    }
    return new AwsLock(AwsBackend.forConfig(s.config), s.config, {
      id: s.id,
      recursive: s.recursive,
      leaseMs: s.leaseMs,
      owner,
      item: lockItemOf(s.item),
    });
  }

  handle(): HandleDescriptor {
    const state: AwsLockState = { id: this.id, config: this.config, recursive: this.recursive, leaseMs: this.leaseMs };
    if (this.item) state.item = { ...this.item };
    return { kind: this.recursive ? 'aws.rlock' : 'aws.lock', state };
  }

  async tryAcquire(): Promise<boolean> {
    const hold = this.mine();
    if (hold && this.recursive) return this.reenter(hold);
    return (await this.attempt(undefined)).acquired;
  }

  async acquire(deadline: Deadline): Promise<boolean> {
    const hold = this.mine();
    if (hold && this.recursive) return this.reenter(hold);
    const first = await this.attempt(undefined);
    if (first.acquired) return true;
    const store = await this.store();
    const backoff = new PollBackoff();
    // The version seen, and since when (on this clock): unchanged for its lease, it is stale.
    let watched = first.state ? watch(first.state) : undefined;
    let roundTrip = 0;
    while (!deadline.expired()) {
      const staleAt = watched?.version !== undefined ? watched.since + watched.leaseMs : Infinity;
      await backoff.sleep(Math.min(backoff.next(roundTrip), deadline.remaining(), Math.max(0, staleAt - performance.now())));
      const readAt = performance.now();
      const state = await store.read(this.key);
      roundTrip = performance.now() - readAt;
      if (!state || state.holder === undefined) {
        if ((await this.attempt(undefined)).acquired) return true;
      } else if (watched && state.version === watched.version && performance.now() - watched.since >= watched.leaseMs) {
        if ((await this.attempt(state.version)).acquired) return true;
      } else if (!watched || state.version !== watched.version) {
        watched = watch(state);
      }
    }
    return false;
  }

  async release(): Promise<void> {
    const hold = this.mine();
    if (this.recursive) {
      if (!hold) {
        throw new RuntimeError('cannot release un-acquired lock: this RLock is not held by this thread and process.');
      }
      if (hold.depth > 1) {
        hold.depth--;
        if (hold.lost) throw await this.lostError(hold);
        return;
      }
    }
    if (hold) return this.releaseHold(hold);
    const store = await this.store();
    if (!(await store.releaseAny(this.key, newVersion()))) {
      throw new ValueError('semaphore or lock released too many times: this Lock is not locked.');
    }
  }

  /** Whether anyone holds the lock (one consistent read). A crashed holder's lock reads as held until taken over. */
  async locked(): Promise<boolean> {
    const state = await (await this.store()).read(this.key);
    return state?.holder !== undefined;
  }

  /**
   * Whether this thread and process hold the lock. An RLock answers from memory while its lease
   * is confirmed; a `Lock` (which anyone may release) reads the item when memory says yes.
   */
  async isMine(): Promise<boolean> {
    const hold = this.mine();
    if (!hold || hold.lost) return false;
    if (this.recursive && performance.now() - hold.confirmedAt < hold.leaseMs) return true;
    const state = await (await this.store()).read(this.key);
    return state?.holder === hold.owner && state.token === hold.token;
  }

  /**
   * The fencing token of this thread's hold, for {@link AwsCondition}; `undefined` when this
   * thread and process do not hold the lock (as far as memory says: no request).
   */
  heldToken(): number | undefined {
    return this.mine()?.token;
  }

  /** Releases every level at once (one request), for `Condition.wait`; returns the depth to restore. */
  async releaseAll(): Promise<number> {
    const hold = this.mine();
    if (!hold) throw new RuntimeError('cannot release un-acquired lock: this lock is not held by this thread and process.');
    const depth = hold.depth;
    hold.depth = 1;
    await this.releaseHold(hold);
    return depth;
  }

  /** Re-acquires (waiting as long as it takes) at the depth {@link releaseAll} returned. */
  async acquireRestore(depth: number): Promise<void> {
    await this.acquire(Deadline.never);
    const hold = this.mine();
    if (hold && this.recursive) hold.depth = depth;
  }

  /** The session of the lock's backend (for the stores of objects built over the lock). */
  session(): Promise<AwsSession> {
    return this.aws.session();
  }

  /**
   * For fault tests: freezes this thread's heartbeat of the lock, as if its holder were paused
   * (a frozen Lambda); the lease then runs out and a waiter takes it over.
   * @internal
   */
  suspendHeartbeat(): void {
    const hold = this.mine();
    if (!hold) return;
    hold.suspended = true;
    clearTimeout(hold.timer);
  }

  private mine(): Hold | undefined {
    const hold = this.owner.holds.get(this.holdKey) as Hold | undefined;
    return hold && hold.owner === this.owner.id() ? hold : undefined;
  }

  /** A re-entrant acquire of an RLock by its owner: nothing to send while the lease is confirmed. */
  private async reenter(hold: Hold): Promise<boolean> {
    if (hold.lost) throw await this.lostError(hold);
    if (performance.now() - hold.confirmedAt >= hold.leaseMs) {
      // Heartbeats have not landed for a lease: make sure it is still ours before nesting.
      await this.beat(hold);
      if (hold.lost) throw await this.lostError(hold);
    }
    hold.depth++;
    this.fencingToken = hold.token;
    return true;
  }

  /** One conditional write: take the lock if free (or stale at `staleVersion`). */
  private async attempt(staleVersion: string | undefined): Promise<{ acquired: boolean; state?: LeaseState | undefined }> {
    const store = await this.store();
    const owner = this.owner.id();
    const version = newVersion();
    const sentAt = performance.now();
    const outcome = await store.acquire(this.key, { owner, version, leaseMs: this.leaseMs, staleVersion });
    if (!outcome.acquired) return { acquired: false, state: outcome.state };
    // A hold of this owner still in memory was ended by someone else (a Lock released by another party).
    const previous = this.owner.holds.get(this.holdKey) as Hold | undefined;
    if (previous) endHold(previous);
    const hold: Hold = {
      owner,
      token: outcome.token,
      version,
      leaseMs: this.leaseMs,
      confirmedAt: sentAt,
      depth: 1,
      lost: undefined,
      heartbeatError: undefined,
      timer: undefined,
      ended: false,
      suspended: false,
    };
    this.owner.holds.set(this.holdKey, hold);
    this.fencingToken = outcome.token;
    this.scheduleBeat(hold, this.leaseMs / 3);
    return { acquired: true };
  }

  private async releaseHold(hold: Hold): Promise<void> {
    endHold(hold);
    if (this.owner.holds.get(this.holdKey) === hold) this.owner.holds.delete(this.holdKey);
    const store = await this.store();
    if (!hold.lost && (await store.release(this.key, hold.owner, hold.token, newVersion()))) return;
    // Refused (or known lost): say why, from the item as it is now.
    const state = await store.read(this.key).catch(() => undefined);
    if (!this.recursive && state?.token === hold.token && state.holder === undefined) {
      throw new ValueError('semaphore or lock released too many times: this Lock is not locked (another party released it).');
    }
    hold.lost = { currentToken: state?.token ?? hold.lost?.currentToken };
    throw await this.lostError(hold);
  }

  private scheduleBeat(hold: Hold, delay: number): void {
    if (hold.ended || hold.suspended || hold.lost) return;
    hold.timer = setTimeout(() => {
      void this.beat(hold).then(() => {
        // After a failed beat (confirmedAt is older), the next one comes a tenth of the lease later.
        this.scheduleBeat(hold, Math.max(hold.leaseMs / 10, hold.confirmedAt + hold.leaseMs / 3 - performance.now()));
      });
    }, delay);
    // A held lock does not keep the program alive (nor a Lambda invocation running).
    hold.timer.unref();
  }

  /** One heartbeat: rewrites the version if the hold is still ours; marks it lost if not. Never rejects. */
  private async beat(hold: Hold): Promise<void> {
    const version = newVersion();
    const sentAt = performance.now();
    try {
      const store = await this.store();
      const outcome = await store.renew(this.key, hold.owner, hold.token, version);
      if (hold.ended) return;
      if (outcome.renewed) {
        hold.version = version;
        hold.confirmedAt = sentAt;
        hold.heartbeatError = undefined;
      } else {
        hold.lost = { currentToken: outcome.state?.token };
      }
    } catch (error) {
      // Tried again at the next beat; if none lands for a lease, the release reports it.
      hold.heartbeatError = error;
    }
  }

  private async lostError(hold: Hold): Promise<LockLostError> {
    let current = hold.lost?.currentToken;
    if (current === undefined) current = (await (await this.store()).read(this.key).catch(() => undefined))?.token;
    const kind = this.recursive ? 'RLock' : 'Lock';
    const failed =
      hold.heartbeatError === undefined
        ? ''
        : ` Its last heartbeat failed: ${hold.heartbeatError instanceof Error ? hold.heartbeatError.message : String(hold.heartbeatError)}.`;
    return new LockLostError(
      `This ${kind} (aws lock ${this.id}) was lost before its release: the hold with fencing token ${hold.token} ` +
        `ended without this holder (its ${hold.leaseMs} ms lease was taken over, or another party released it)` +
        `${current === undefined ? '' : `; the lock's token is now ${current}`}.${failed} Work done under it may ` +
        `have overlapped another holder's: guard shared resources with the lock's fencingToken.`,
      { lockId: this.id, token: hold.token, currentToken: current },
      hold.heartbeatError,
    );
  }

  private store(): Promise<LeaseStore> {
    if (!this.openStore) {
      const opening = Promise.all([import('./LeaseStore.js'), this.aws.session()]).then(([module, session]) =>
        module.LeaseStore.forSession(session),
      );
      this.openStore = opening;
      opening.catch(() => {
        if (this.openStore === opening) this.openStore = undefined;
      });
    }
    return this.openStore;
  }
}

function endHold(hold: Hold): void {
  hold.ended = true;
  clearTimeout(hold.timer);
}

function watch(state: LeaseState): { version: string | undefined; since: number; leaseMs: number } {
  return { version: state.version, since: performance.now(), leaseMs: state.leaseMs || DEFAULT_LEASE_MS };
}

function newVersion(): string {
  return randomBytes(8).toString('hex');
}

function lockItemOf(value: unknown): LockItem | undefined {
  if (value === undefined || value === null) return undefined;
  const item = value as Partial<LockItem>;
  if (typeof item.kind !== 'string' || typeof item.id !== 'string' || typeof item.part !== 'string') {
    throw new InvalidArgumentError('an aws.lock handle: item', value, 'an object with kind, id and part');
  }
  return { kind: item.kind, id: item.id, part: item.part };
}
