import { randomBytes } from 'node:crypto';
import { AwsConfigError, ProtocolError } from '../../errors.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import type { AwsSession } from './AwsSession.js';

/** What every aws object's handle state holds: its id and the resources it lives in. */
export interface AwsObjectState {
  id: string;
  config: AwsConfig;
}

/**
 * Where an aws shared object (an event, a barrier) lives: its backend, its random id, and the
 * resources, known synchronously once loaded so that `handle()` can name them. Opens its store
 * module, which loads the SDK, on first use only.
 *
 * @example
 * ```ts
 * const ref = AwsObjectRef.create(new AwsBackend({ config }));
 * const store = await ref.store(async (session) => new (await import('./EventStore.js')).EventStore(session));
 * ref.state(); // { id: 'k3T9...', config }
 * ```
 */
export class AwsObjectRef<Store> {
  private config: AwsConfig | undefined;
  private opened: Promise<Store> | undefined;

  private constructor(
    readonly backend: AwsBackend,
    readonly id: string,
    config: AwsConfig | undefined,
  ) {
    this.config = config;
    // A backend made with its config resolves at once; one reading the environment a little later.
    if (!config)
      backend.resources().then(
        (loaded) => (this.config ??= loaded),
        () => {},
      );
  }

  /** A new object of `backend`, with a fresh random id. */
  static create<Store>(backend: AwsBackend, config?: AwsConfig): AwsObjectRef<Store> {
    return new AwsObjectRef<Store>(backend, randomBytes(12).toString('base64url'), config);
  }

  /**
   * The object a handle names, bound to `backend` (by default this thread's backend for its
   * resources). Rejects a state that is not an aws object's with {@link ProtocolError}.
   */
  static fromState<Store>(kind: string, state: unknown, backend?: AwsBackend): AwsObjectRef<Store> {
    const { id, config } = (state ?? {}) as Partial<AwsObjectState>;
    if (
      typeof id !== 'string' ||
      id === '' ||
      typeof config !== 'object' ||
      config === null ||
      typeof config.table !== 'string'
    ) {
      throw new ProtocolError(`An '${kind}' handle arrived without its id and resources (state: ${JSON.stringify(state)}).`);
    }
    return new AwsObjectRef<Store>(backend ?? AwsBackend.forConfig(config), id, config);
  }

  /** The handle state: id and resources. Throws {@link AwsConfigError} before the resources are known. */
  state(kind: string): AwsObjectState {
    if (!this.config) {
      throw new AwsConfigError(
        `An '${kind}' object cannot cross to a worker before its backend has loaded its resources ` +
          '(from FANOUT_STACK or the FANOUT_* variables): use it once first (await it), or give the backend its config.',
      );
    }
    return { id: this.id, config: this.config };
  }

  /** The object's store, made once from the backend's session. A failed open is tried again next time. */
  store(make: (session: AwsSession) => Promise<Store>): Promise<Store> {
    if (!this.opened) {
      const opening = this.backend.session().then(async (session) => {
        this.config ??= session.config;
        return make(session);
      });
      this.opened = opening;
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined;
      });
    }
    return this.opened;
  }
}
