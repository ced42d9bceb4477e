// Leader election over the Store: of the processes campaigning for one name,
// at most one leads at a time (as long as timers run roughly on time), and a
// follower takes over after the leader stops renewing. client-go's
// leaderelection is the model:
//
// - The lease is a pier.dev/Lease object (src/model/pier/lease.ts) written
//   with optimistic concurrency (apply with expectedRevision): of two
//   processes that read the same lease, only one can write the next one.
// - A follower never compares its clock with the holder's. It notes, on its
//   own monotonic clock, when it last saw the lease change, and treats the
//   lease as expired once leaseDurationMs has passed since then without a
//   change. Clock skew between hosts therefore does not matter, only rates.
// - The leader steps down when it has not renewed for renewDeadlineMs
//   (default two thirds of the lease), measured from the start of its last
//   successful renewal: it stops before any follower can think the lease has
//   expired, since their count starts only after the renewal was written.
// - A leader that stops cleanly waits for its work to end, then releases the
//   lease (holderIdentity ``), so a follower takes it at its next look
//   instead of after the full lease.
//
// Reused by the agent: nothing here is specific to the Kubernetes source.

import { isPierError } from '../../errors.ts';
import { Kinds, type KubeObject, type ObjectRef, revisionOf } from '../../model/object.ts';
import { LEASE_API_VERSION, type Lease, leaseSchema } from '../../model/pier/lease.ts';
import { sleep } from '../../sleep.ts';
import { StoreErrors } from '../../store/errors.ts';
import type { Store } from '../../store.ts';
import { KubernetesErrors } from './errors.ts';

/** The subset of a pino logger elections use. */
export interface LeaderLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface LeaderElectorOptions {
  /** The lease's name: one election per name (`kubernetes-source`). */
  name: string;
  /** This process, unique among the candidates: `host/pid/random`. */
  identity: string;
  /** How long a lease holds after its last renewal. */
  leaseMs: number;
  /** How often the leader renews. */
  renewMs: number;
  /** The leader steps down when it has not renewed for this long. Default two thirds of leaseMs. */
  renewDeadlineMs?: number;
  /** How often a follower looks at the lease (with up to 20% jitter). Default renewMs. */
  retryMs?: number;
  logger?: LeaderLogger;
  /** A monotonic clock in ms; performance.now by default (tests may pass their own). */
  clock?: () => number;
}

export interface LeadershipCallbacks {
  /**
   * Called on gaining the lease. The signal aborts when the lease is lost or
   * the elector stops; the work should end soon after, and its promise settle:
   * stop() waits for it before releasing the lease.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(reason: string): void;
  /** The observed holder changed (`` when the lease is free). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElector {
  /** Starts campaigning; a no-op when already started. */
  start(callbacks: LeadershipCallbacks): void;
  /** Stops campaigning; a leader steps down, waits for its work, and releases the lease. */
  stop(): Promise<void>;
  isLeader(): boolean;
  /** The holder as last observed (`` when free), undefined before the first look. */
  holder(): string | undefined;
}

type LeaseObject = KubeObject & { spec: Lease['spec'] };

interface Observed {
  revision: number;
  holder: string;
  durationMs: number;
  /** Our clock when we first saw this revision. */
  at: number;
}

interface Leading {
  controller: AbortController;
  watchdog: ReturnType<typeof setTimeout> | undefined;
}

function checkPositive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw KubernetesErrors.LEADER_BAD_OPTION(
      option,
      `must be a positive number of ms, got ${String(value)}`,
    );
  }
  return value;
}

const silent: LeaderLogger = { info: () => undefined, warn: () => undefined };

export function createLeaderElector(store: Store, options: LeaderElectorOptions): LeaderElector {
  const { name, identity } = options;
  if (typeof name !== 'string' || name === '')
    throw KubernetesErrors.LEADER_BAD_OPTION('name', 'must be a non-empty string');
  if (typeof identity !== 'string' || identity === '')
    throw KubernetesErrors.LEADER_BAD_OPTION('identity', 'must be a non-empty string');
  const leaseMs = checkPositive('leaseMs', options.leaseMs);
  const renewMs = checkPositive('renewMs', options.renewMs);
  const renewDeadlineMs = checkPositive(
    'renewDeadlineMs',
    options.renewDeadlineMs ?? Math.floor((leaseMs * 2) / 3),
  );
  const retryMs = checkPositive('retryMs', options.retryMs ?? renewMs);
  if (renewDeadlineMs >= leaseMs) {
    throw KubernetesErrors.LEADER_BAD_OPTION(
      'renewDeadlineMs',
      `must be less than leaseMs (${leaseMs}), got ${renewDeadlineMs}`,
    );
  }
  if (renewMs >= renewDeadlineMs) {
    throw KubernetesErrors.LEADER_BAD_OPTION(
      'renewMs',
      `must be less than the renew deadline (${renewDeadlineMs} ms, two thirds of leaseMs by default), got ${renewMs}`,
    );
  }
  const logger = options.logger ?? silent;
  const clock = options.clock ?? (() => performance.now());
  const ref: ObjectRef = { kind: Kinds.Lease, name };

  let callbacks: LeadershipCallbacks | undefined;
  let observed: Observed | undefined;
  let leading: Leading | undefined;
  /** The leader work of the current or last term; the next term starts after it ends. */
  let work: Promise<void> = Promise.resolve();
  let loop: { controller: AbortController; done: Promise<void> } | undefined;
  let stopping = false;
  let failing = false;
  let badLeaseRevision: number | undefined;

  const leaseObject = (spec: Lease['spec']): LeaseObject => ({
    apiVersion: LEASE_API_VERSION,
    kind: 'Lease',
    metadata: { name },
    spec,
  });

  const observe = (revision: number, holder: string, durationMs: number) => {
    if (observed?.revision === revision) return;
    const changed = observed?.holder !== holder;
    observed = { revision, holder, durationMs, at: clock() };
    if (changed) {
      logger.info(
        { lease: name, holder: holder === '' ? undefined : holder },
        holder === '' ? 'lease is free' : `leader is ${holder}`,
      );
      try {
        callbacks?.onNewLeader?.(holder);
      } catch (error) {
        logger.warn({ err: error, lease: name }, 'onNewLeader threw');
      }
    }
  };

  /** One look at the lease: true when we hold it afterwards (taken or renewed). */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const current = await store.get<LeaseObject>(ref);
    const now = new Date().toISOString();
    if (current === undefined) {
      observed = undefined;
      const spec: Lease['spec'] = {
        holderIdentity: identity,
        leaseDurationMs: leaseMs,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
      return write(spec, 0);
    }
    const revision = revisionOf(current) ?? 0;
    const parsed = leaseSchema.safeParse(current);
    let spec: Lease['spec'];
    if (parsed.success) {
      spec = parsed.data.spec;
    } else {
      if (badLeaseRevision !== revision) {
        badLeaseRevision = revision;
        const issue = parsed.error.issues[0];
        logger.warn(
          { code: KubernetesErrors.codes.LEADER_BAD_LEASE, lease: name },
          KubernetesErrors.LEADER_BAD_LEASE(
            name,
            `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
          ).message,
        );
      }
      spec = { holderIdentity: '', leaseDurationMs: leaseMs, leaseTransitions: 0 };
    }
    observe(revision, spec.holderIdentity, spec.leaseDurationMs);
    const holder = spec.holderIdentity;
    const mine = holder === identity;
    if (!mine && holder !== '' && clock() < observed!.at + spec.leaseDurationMs) return false;
    return write(
      {
        holderIdentity: identity,
        leaseDurationMs: leaseMs,
        acquireTime: mine && spec.acquireTime !== undefined ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: mine ? spec.leaseTransitions : spec.leaseTransitions + 1,
      },
      revision,
    );
  };

  const write = async (spec: Lease['spec'], expectedRevision: number): Promise<boolean> => {
    try {
      const stored = await store.apply(leaseObject(spec), { expectedRevision });
      observe(revisionOf(stored) ?? 0, identity, leaseMs);
      return true;
    } catch (error) {
      if (isPierError(error, StoreErrors.codes.CONFLICT)) return false;
      throw error;
    }
  };

  const stepDown = (reason: string) => {
    const term = leading;
    if (term === undefined) return;
    leading = undefined;
    clearTimeout(term.watchdog);
    term.controller.abort(new Error(reason));
    logger.info({ lease: name, identity, reason }, 'stopped leading');
    try {
      callbacks?.onStoppedLeading?.(reason);
    } catch (error) {
      logger.warn({ err: error, lease: name }, 'onStoppedLeading threw');
    }
  };

  const armWatchdog = (term: Leading, renewStartedAt: number) => {
    clearTimeout(term.watchdog);
    const left = renewStartedAt + renewDeadlineMs - clock();
    term.watchdog = setTimeout(
      () => stepDown(`no renewal for ${renewDeadlineMs} ms`),
      Math.max(0, left),
    );
  };

  const becomeLeader = (renewStartedAt: number) => {
    const term: Leading = { controller: new AbortController(), watchdog: undefined };
    leading = term;
    armWatchdog(term, renewStartedAt);
    logger.info({ lease: name, identity }, 'started leading');
    const signal = term.controller.signal;
    const previous = work;
    work = (async () => {
      await previous;
      if (signal.aborted) return;
      try {
        await callbacks?.onStartedLeading(signal);
      } catch (error) {
        logger.warn({ err: error, lease: name }, 'leader work failed');
      }
    })();
  };

  const campaign = async (signal: AbortSignal) => {
    while (!signal.aborted) {
      const startedAt = clock();
      let held = false;
      try {
        held = await tryAcquireOrRenew();
        if (failing) {
          failing = false;
          logger.info({ lease: name }, 'lease reachable again');
        }
      } catch (error) {
        if (!failing) {
          failing = true;
          logger.warn(
            { err: error, code: (error as { code?: unknown }).code, lease: name },
            'cannot read or write the lease; retrying',
          );
        }
      }
      // stop() takes it from here, and releases a lease just taken.
      if (signal.aborted || stopping) return;
      if (held) {
        if (leading === undefined) becomeLeader(startedAt);
        else armWatchdog(leading, startedAt);
      } else if (leading !== undefined && observed !== undefined && observed.holder !== identity) {
        stepDown(`lease taken by ${observed.holder || 'nobody'}`);
      }
      const wait = leading !== undefined ? renewMs : retryMs * (1 + Math.random() * 0.2);
      await sleep(wait, signal);
    }
  };

  const release = async () => {
    try {
      const current = await store.get<LeaseObject>(ref);
      if (current === undefined) return;
      const parsed = leaseSchema.safeParse(current);
      if (!parsed.success || parsed.data.spec.holderIdentity !== identity) return;
      await store.apply(
        leaseObject({
          ...parsed.data.spec,
          holderIdentity: '',
          renewTime: new Date().toISOString(),
        }),
        { expectedRevision: revisionOf(current) ?? 0 },
      );
      logger.info({ lease: name, identity }, 'released the lease');
    } catch (error) {
      if (isPierError(error, StoreErrors.codes.CONFLICT)) return;
      logger.warn(
        { err: error, code: (error as { code?: unknown }).code, lease: name },
        'could not release the lease; followers take over when it expires',
      );
    }
  };

  return {
    start(given) {
      if (loop !== undefined) return;
      callbacks = given;
      stopping = false;
      const controller = new AbortController();
      loop = { controller, done: campaign(controller.signal) };
    },

    async stop() {
      const current = loop;
      if (current === undefined) return;
      stopping = true;
      current.controller.abort();
      await current.done;
      stepDown('stopping');
      await work;
      await release();
      loop = undefined;
    },

    isLeader: () => leading !== undefined,
    holder: () => observed?.holder,
  };
}
