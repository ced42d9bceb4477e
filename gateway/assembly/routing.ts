// What one port serves between two syncs: its compiled route table and,
// per matched rule, what the request handler needs to answer without
// computing anything: the forward plan of each backend (upstream + compiled
// ForwardPolicy + observer), whether the filters must run per request, and
// the observer of the gateway's own answers on that rule.
//
// RouteMatch objects are the router's (one per table entry); their runtime
// is compiled on the first request that hits them and kept until the next
// sync replaces the whole PortRouting, so a sync costs translate() and not
// a walk over every rule.

import type { ExternalAuthConfig } from '../filters.ts';
import {
  type AffinityPolicy,
  affinityFromSessionPersistence,
  compileForwardPolicy,
  type ForwardPlan,
  type ForwardPolicy,
  type TrustedProxies,
} from '../forward.ts';
import type { AccessLogSink } from '../gateway.ts';
import type { GatewayMetrics } from '../observe/gateway-metrics.ts';
import { createRouteObserver, type RouteObserver } from '../observe/route-observer.ts';
import type {
  ListenerIdentity,
  RouteMatch,
  RouteTable,
  RouteTableSpec,
  ServiceBackend,
} from '../router.ts';
import type { ClientCertificate } from '../translate/client-certificates.ts';
import type { PortConfig } from '../translate/gateway-config.ts';
import type { Upstream } from '../upstream.ts';
import type { BackendWant, UpstreamRegistry } from './upstream-registry.ts';

export interface BackendTarget {
  /** upstream + policy, no path or host: passed as is when the request needs neither. */
  plan: ForwardPlan;
  /** `ns/name:port`. */
  service: string;
}

export interface RuleRuntime {
  /** The rule has filters that act per request (redirect, rewrite, mirror, unresolved). */
  decides: boolean;
  /** Parallel to match.backends; undefined: unresolved (500). */
  targets: readonly (BackendTarget | undefined)[];
  /** For the gateway's own answers on this rule (redirects, 500s). */
  observer: RouteObserver;
  /** The digest of the client certificate its Gateway presents to TLS backends (mirrors use it too). */
  clientCertificate: string | undefined;
  /** ExternalAuth: every request asks this first (external-auth.ts). */
  externalAuth: { config: ExternalAuthConfig; upstream: Upstream | undefined } | undefined;
}

export interface RoutingContext {
  registry: UpstreamRegistry;
  metrics: GatewayMetrics;
  accessLog: AccessLogSink | undefined;
  trustedProxies: TrustedProxies;
  /** By Gateway `namespace/name`: the client certificate it presents to TLS backends. */
  clientCertificates: ReadonlyMap<string, ClientCertificate>;
  /** Reports a rule whose policy cannot be compiled (its requests get 500). */
  onRuleProblem(route: string, message: string): void;
}

export interface PortRouting {
  readonly port: number;
  readonly table: RouteTable;
  /** The gateway's own answers before a rule matched (404, 400). */
  readonly unmatched: RouteObserver;
  /** The runtime of a matched rule, compiled on first use. */
  rule(match: RouteMatch): RuleRuntime;
}

export function routeName(match: RouteMatch): string {
  const r = match.route;
  return `${r.kind} ${r.namespace}/${r.name} rule ${r.rule}`;
}

function routeLabel(match: RouteMatch): string {
  const r = match.route;
  return `${r.kind.toLowerCase()}/${r.namespace}/${r.name}/rule/${r.rule}`;
}

function gatewayName(listener: ListenerIdentity): string {
  return listener.gateway;
}

export function serviceName(backend: ServiceBackend): string {
  return `${backend.namespace}/${backend.name}:${backend.port}`;
}

/**
 * Every backend (and mirror) a port's rules send to: what the upstream
 * registry must hold, with the client certificate of the listener's Gateway.
 */
export function backendWants(
  spec: RouteTableSpec,
  clientCertificates: ReadonlyMap<string, ClientCertificate> = new Map(),
  out: BackendWant[] = [],
): BackendWant[] {
  for (const listener of spec.listeners) {
    const clientCertificate = clientCertificates.get(listener.listener.gateway);
    for (const route of listener.routes) {
      for (const rule of route.rules) {
        const persistent = rule.sessionPersistence !== undefined;
        for (const backend of rule.backends) {
          if (backend.resolved) out.push({ backend, persistent, clientCertificate });
        }
        for (const mirror of rule.filters.requestMirror ?? []) {
          out.push({ backend: mirror.backend, persistent: false, clientCertificate });
        }
        const auth = rule.filters.externalAuth;
        if (auth !== undefined)
          out.push({ backend: auth.backend, persistent: false, clientCertificate });
      }
    }
  }
  return out;
}

function needsDecide(match: RouteMatch): boolean {
  const f = match.filters;
  return (
    f.cors !== undefined ||
    f.requestRedirect !== undefined ||
    f.urlRewrite !== undefined ||
    f.unresolved !== undefined ||
    (f.requestMirror !== undefined && f.requestMirror.length > 0)
  );
}

export function createPortRouting(config: PortConfig, context: RoutingContext): PortRouting {
  const rules = new Map<RouteMatch, RuleRuntime>();
  const first = config.listeners[0]?.identity;
  const unmatched = createRouteObserver(
    {
      gateway: first?.gateway ?? '',
      listener: '',
      port: config.port,
      route: '',
      service: '',
      routeLabel: '',
    },
    context.metrics,
    context.accessLog,
  );

  function compile(match: RouteMatch): RuleRuntime {
    const name = routeName(match);
    const label = routeLabel(match);
    const base = {
      gateway: gatewayName(match.listener),
      listener: match.listener.name,
      port: config.port,
      route: name,
      routeLabel: label,
    };
    const persistent = match.sessionPersistence !== undefined;
    const clientCertificate = context.clientCertificates.get(match.listener.gateway)?.digest;
    const targets = match.backends.map((backend): BackendTarget | undefined => {
      if (!backend.resolved) return undefined;
      const service = serviceName(backend);
      const resolved = context.registry.get(backend, persistent, clientCertificate);
      // Unknown, or refused by its BackendTLSPolicy: the request gets 500 (BACKEND_UNRESOLVED).
      if (resolved === undefined || resolved.refused !== undefined) return undefined;
      const observer = createRouteObserver(
        { ...base, service },
        context.metrics,
        context.accessLog,
      );
      let policy: ForwardPolicy;
      try {
        policy = compileForwardPolicy({
          requestHeaders: [match.filters.requestHeaderModifier, backend.filters?.requestHeaders],
          responseHeaders: [match.filters.responseHeaderModifier, backend.filters?.responseHeaders],
          ...(match.retry === undefined
            ? {}
            : {
                retry: {
                  codes: match.retry.codes,
                  ...(match.retry.attempts === undefined ? {} : { attempts: match.retry.attempts }),
                  ...(match.retry.backoffMs === undefined
                    ? {}
                    : { backoffMs: match.retry.backoffMs }),
                },
              }),
          timeouts: match.timeouts,
          ...affinityField(match, resolved.clientIpAffinity),
          trustedProxies: context.trustedProxies,
          observer,
        });
      } catch (error) {
        context.onRuleProblem(name, error instanceof Error ? error.message : String(error));
        return undefined;
      }
      return { plan: Object.freeze({ upstream: resolved.upstream, policy }), service };
    });
    return {
      decides: needsDecide(match),
      targets,
      observer: createRouteObserver({ ...base, service: '' }, context.metrics, context.accessLog),
      clientCertificate,
      externalAuth:
        match.filters.externalAuth === undefined
          ? undefined
          : {
              config: match.filters.externalAuth,
              upstream: context.registry.get(
                match.filters.externalAuth.backend,
                false,
                clientCertificate,
              )?.upstream,
            },
    };
  }

  return {
    port: config.port,
    table: config.table,
    unmatched,
    rule(match) {
      let runtime = rules.get(match);
      if (runtime === undefined) {
        runtime = compile(match);
        rules.set(match, runtime);
      }
      return runtime;
    },
  };
}

function affinityField(match: RouteMatch, clientIp: boolean): { affinity?: AffinityPolicy } {
  const affinity: AffinityPolicy | undefined =
    match.sessionPersistence !== undefined
      ? affinityFromSessionPersistence(match.sessionPersistence)
      : clientIp
        ? { type: 'client-ip' }
        : undefined;
  return affinity === undefined ? {} : { affinity };
}
