// createGateway(): the assembly (gateway/gateway.ts). Watchers only record
// (which kinds changed); one rate-limited sync does the work, in this order:
//
//   1. translate() the objects, when anything but EndpointSlices changed;
//      the problems it finds are logged once each, with their codes;
//   2. the upstream registry resolves every backend to endpoints (also when
//      only EndpointSlices changed: then nothing else is rebuilt);
//   3. per port of the config: a new PortRouting swapped in with one
//      assignment, certificates rebuilt (HTTPS), listeners opened for new
//      ports; a port whose protocol changed gets a new listener (bound
//      beside the old one with SO_REUSEPORT, so it never stops accepting),
//      and ports no longer configured are closed and drained in the
//      background (settings.shutdownGraceMs).
//
// A sync that throws leaves the previous state serving and is retried.

import { Kinds, kindKeyOf } from '../../src/model/object.ts';
import type { EndpointSlice, KubeObject, Secret, Service } from '../../src/model.ts';
import { createInformer, type Informer } from '../../src/store/informer.ts';
import { createTrustedProxies } from '../forward.ts';
import type { Gateway, GatewayOptions, GatewayPortStatus, GatewayState } from '../gateway.ts';
import { createCertificateStore } from '../listener/certificates.ts';
import { createListener, type Listener, type ListenerProtocol } from '../listener.ts';
import { spliceStatus } from '../native/splice.ts';
import { createStdoutAccessLog } from '../observe/access-log.ts';
import { createGatewayMetrics } from '../observe/gateway-metrics.ts';
import { backendTlsOf } from '../translate/backend-tls.ts';
import type { GatewayConfig, PortConfig, Problem } from '../translate/gateway-config.ts';
import { translate } from '../translate/translate.ts';
import { AssemblyErrors } from './errors.ts';
import { CONFIG_KINDS, GATEWAY_KINDS } from './kinds.ts';
import { createRequestHandlers, type PortState } from './request-handler.ts';
import { backendWants, createPortRouting, type PortRouting } from './routing.ts';
import { createSyncLoop } from './sync-loop.ts';
import type { BackendWant, UpstreamLookup } from './upstream-registry.ts';
import { createUpstreamRegistry } from './upstream-registry.ts';

/** How soon a port that failed to bind is tried again. */
const PORT_RETRY_MS = 1000;

interface OpenPort extends PortState {
  port: number;
  protocol: ListenerProtocol;
  listener: Listener;
  listening: boolean;
  listeners: string[];
}

export function createGateway(options: GatewayOptions): Gateway {
  const { settings, metrics } = options;
  const logger = options.logger.child({ component: 'gateway' });
  if (options.informer === undefined && options.store === undefined) {
    throw new TypeError('createGateway needs a store or an informer');
  }
  const ownInformer = options.informer === undefined;
  const informer: Informer =
    options.informer ??
    createInformer(options.store!, {
      kinds: GATEWAY_KINDS,
      logger: logger.child({ part: 'informer' }),
    });
  const gm = createGatewayMetrics(metrics);
  const accessLog =
    settings.accessLog === 'off' ? undefined : (options.accessLog ?? createStdoutAccessLog());
  const registry = createUpstreamRegistry({
    useClusterIP: settings.useClusterIP,
    upstream: { http1Client: settings.upstreamHttp1Client },
  });
  gm.setEjectionSource(() => registry.ejections());
  const certificates = createCertificateStore();
  const trustedProxies = createTrustedProxies(settings.trustedProxies);

  const open = new Map<number, OpenPort>();
  const closing = new Set<Promise<void>>();
  const portErrors = new Map<number, { code: string; message: string }>();
  let config: GatewayConfig | undefined;
  let wants: BackendWant[] = [];
  let configDirty = true;
  let endpointsDirty = true;
  let syncs = 0;
  let knownProblems = new Set<string>();
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const loop = createSyncLoop(settings.syncDelayMs, sync, (error) => {
    const failure = AssemblyErrors.SYNC_FAILED(
      error instanceof Error ? error.message : String(error),
    );
    logger.error({ err: error, code: failure.code }, failure.message);
  });

  function record(kinds: Iterable<string>): void {
    for (const kind of kinds) {
      if (kind === Kinds.EndpointSlice) endpointsDirty = true;
      else configDirty = true;
    }
    loop.schedule();
  }

  function objects(): KubeObject[] {
    const out: KubeObject[] = [];
    for (const kind of CONFIG_KINDS) for (const o of informer.list(kind)) out.push(o);
    return out;
  }

  function logProblems(problems: readonly Problem[]): void {
    const now = new Set<string>();
    for (const p of problems) {
      const key = `${p.code} ${p.object} ${p.message}`;
      now.add(key);
      if (!knownProblems.has(key)) {
        logger.warn({ code: p.code, object: p.object, reason: p.reason }, p.message);
      }
    }
    for (const key of knownProblems) {
      if (!now.has(key)) logger.info({ problem: key }, 'resolved');
    }
    knownProblems = now;
    gm.problems.set(problems.length);
  }

  /** The registry's view of the Store, with the backend TLS table of the config being applied. */
  const lookupFor = (config: GatewayConfig): UpstreamLookup => ({
    service: (namespace: string, name: string) =>
      informer.get<Service>({ kind: Kinds.Service, namespace, name }),
    slices: () => informer.list<EndpointSlice>(Kinds.EndpointSlice),
    backendTls: (namespace: string, name: string, port: number) =>
      backendTlsOf(config.backendTls, namespace, name, port),
  });
  const secretOf = (ref: { namespace: string; name: string }) =>
    informer.get<Secret>({ kind: Kinds.Secret, namespace: ref.namespace, name: ref.name });

  function routingContext(config: GatewayConfig) {
    return {
      registry,
      clientCertificates: config.backendClientCertificates,
      metrics: gm,
      accessLog,
      trustedProxies,
      onRuleProblem(route: string, message: string) {
        const error = AssemblyErrors.RULE_POLICY(route, message);
        logger.error({ code: error.code, route }, error.message);
      },
    };
  }

  function newListener(pc: PortConfig, state: PortState): Listener {
    const connections = gm.openConnections.labels(String(pc.port));
    const listener = createListener({
      port: pc.port,
      address: settings.address,
      protocol: pc.protocol,
      limits: settings.limits,
      bodySplice: settings.bodySplice,
      handlers: createRequestHandlers({ state, protocol: pc.protocol, registry }),
      events: {
        connection: (delta) => connections.inc(delta),
        clientError: (code, status) => gm.clientErrors.labels(code, String(status)).inc(),
        tlsError: (code) => gm.tlsErrors.labels(code).inc(),
        bodySpliced: (bytes, outcome) => {
          gm.splicedBodies.labels(outcome).inc();
          if (outcome === 'ok') gm.splicedBytes.inc(bytes);
        },
      },
    });
    return listener;
  }

  function closePort(entry: OpenPort, why: string): void {
    logger.info({ port: entry.port, protocol: entry.protocol, why }, 'closing listener; draining');
    const done = entry.listener.close(settings.shutdownGraceMs).then(() => {
      logger.info({ port: entry.port }, 'listener closed');
    });
    closing.add(done);
    void done.finally(() => closing.delete(done));
  }

  function openPort(pc: PortConfig, routing: PortRouting, names: string[]): OpenPort {
    const state = {
      port: pc.port,
      protocol: pc.protocol,
      routing,
      listening: false,
      listeners: names,
    } as OpenPort;
    state.listener = newListener(pc, state);
    open.set(pc.port, state);
    return state;
  }

  async function applyPorts(next: GatewayConfig): Promise<void> {
    const context = routingContext(next);
    const opening: Promise<void>[] = [];
    const wanted = new Set<number>();
    for (const pc of next.ports) {
      wanted.add(pc.port);
      const routing = createPortRouting(pc, context);
      const names = pc.listeners.map((l) => `${l.identity.gateway} ${l.identity.name}`);
      let selection: ReturnType<typeof certificates.build>['selection'] | undefined;
      if (pc.protocol === 'HTTPS') {
        const built = certificates.build(pc.listeners, secretOf);
        selection = built.selection;
        for (const p of built.problems)
          logger.warn({ code: p.code, secret: p.secret, port: pc.port }, p.message);
      }
      let entry = open.get(pc.port);
      let replaced: OpenPort | undefined;
      if (entry !== undefined && entry.protocol !== pc.protocol) {
        // The new listener binds beside the old one (SO_REUSEPORT); the old drains once it listens.
        replaced = entry.listening ? entry : undefined;
        if (!entry.listening) void entry.listener.close(0);
        open.delete(pc.port);
        entry = undefined;
      }
      if (entry?.listening) {
        entry.routing = routing;
        entry.listeners = names;
        if (selection !== undefined) entry.listener.setCertificates(selection);
        continue;
      }
      // New, or not listening yet (a bind that failed before is tried again).
      const state: OpenPort = entry ?? openPort(pc, routing, names);
      state.routing = routing;
      state.listeners = names;
      if (selection !== undefined) state.listener.setCertificates(selection);
      opening.push(
        state.listener
          .listen()
          .then(
            (bound) => {
              state.listening = true;
              portErrors.delete(pc.port);
              logger.info(
                {
                  port: bound.port,
                  address: bound.address,
                  protocol: pc.protocol,
                  listeners: names,
                },
                'listening',
              );
            },
            (error: unknown) => {
              const code = (error as { code?: string }).code ?? 'ERR';
              const message = error instanceof Error ? error.message : String(error);
              if (portErrors.get(pc.port)?.message !== message)
                logger.error({ code, port: pc.port }, message);
              portErrors.set(pc.port, { code, message });
            },
          )
          .finally(() => {
            if (replaced !== undefined) closePort(replaced, `protocol changed to ${pc.protocol}`);
          }),
      );
    }
    for (const [port, entry] of open) {
      if (wanted.has(port)) continue;
      open.delete(port);
      portErrors.delete(port);
      if (entry.listening) closePort(entry, 'no listener configured on this port any more');
      else void entry.listener.close(0);
    }
    certificates.prune();
    await Promise.all(opening);
  }

  async function sync(): Promise<void> {
    if (closed) return;
    const started = performance.now();
    const translateNeeded = configDirty || config === undefined;
    configDirty = false;
    const endpointsNeeded = endpointsDirty || translateNeeded;
    endpointsDirty = false;
    let next = config;
    if (translateNeeded) {
      next = translate({
        objects: objects(),
        options: {
          controllerName: settings.controllerName,
          ingress: { ...settings.ingress, classNames: [...settings.ingress.classNames] },
        },
      });
      logProblems(next.problems);
      const w: BackendWant[] = [];
      for (const pc of next.ports) backendWants(pc.spec, next.backendClientCertificates, w);
      wants = w;
    }
    if (endpointsNeeded) registry.sync(wants, lookupFor(next!));
    if (translateNeeded || portErrors.size > 0) await applyPorts(next!);
    config = next;
    // A port that could not be bound (in use, no permission) is tried again without waiting for a change.
    if (portErrors.size > 0 && retryTimer === undefined && !closed) {
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        loop.schedule();
      }, PORT_RETRY_MS);
      retryTimer.unref();
    }
    syncs++;
    gm.syncs.inc();
    const seconds = (performance.now() - started) / 1000;
    gm.syncDuration.observe(seconds);
    const summary = {
      revision: informer.revision(),
      ms: Math.round(seconds * 1000),
      ports: next?.ports.map((p) => `${p.protocol} ${p.port}`) ?? [],
      gateways: next?.status.gateways.map(
        (g) =>
          `${g.namespace}/${g.name}: ${g.listeners.map((l) => `${l.name}=${l.attachedRoutes}`).join(' ')}`,
      ),
      upstreams: registry.list().length,
      problems: next?.problems.length ?? 0,
    };
    // A new configuration is worth a line; an endpoints-only sync is not.
    if (translateNeeded) logger.info(summary, 'configuration applied');
    else logger.debug(summary, 'endpoints synced');
  }

  function portStatus(entry: OpenPort): GatewayPortStatus {
    return {
      port: entry.port,
      protocol: entry.protocol,
      address: settings.address,
      connections: entry.listener.connections,
      inFlight: entry.listener.inFlight,
      listeners: entry.listeners,
    };
  }

  return {
    async start(signal) {
      logger.info(
        { bodySplice: settings.bodySplice ? spliceStatus() : 'off (gateway.bodySplice: false)' },
        'request bodies by splice(2)',
      );
      unsubscribe = informer.subscribe((batch) => {
        if (batch.resync && batch.changes.length === 0) return;
        record(batch.changes.map((c) => kindKeyOf(c.object)));
      });
      if (ownInformer) informer.start();
      await informer.waitForSync(signal);
      configDirty = true;
      endpointsDirty = true;
      await loop.runNow();
    },
    ready() {
      return informer.hasSynced() && syncs > 0 && portErrors.size === 0 && !closed;
    },
    settled() {
      return loop.settled();
    },
    config() {
      return config;
    },
    state(): GatewayState {
      return {
        syncs,
        revision: informer.revision(),
        ports: [...open.values()].filter((e) => e.listening).map(portStatus),
        portErrors: [...portErrors].map(([port, e]) => ({ port, ...e })),
        upstreams: registry.list().map((u) => ({
          name: u.upstream.name,
          endpoints: u.endpoints,
          available: u.upstream.available().length,
        })),
        problems: config?.problems ?? [],
        status: config?.status,
      };
    },
    async close(graceMs = settings.shutdownGraceMs) {
      if (closed) return;
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      unsubscribe?.();
      await loop.stop();
      if (ownInformer) await informer.stop();
      const all = [...open.values()].map((entry) => entry.listener.close(graceMs));
      open.clear();
      await Promise.all([...all, ...closing]);
      await registry.close();
      accessLog?.flush?.();
    },
  };
}
