// networking.k8s.io/v1 Ingress -> the same route tables as Gateway routes.
//
// Which Ingresses: spec.ingressClassName (or the legacy
// kubernetes.io/ingress.class annotation) naming one of Pier's classes (the
// configured names, and IngressClasses whose spec.controller is Pier's); or
// no class at all when one of Pier's IngressClasses carries
// ingressclass.kubernetes.io/is-default-class: "true".
//
// How: every distinct rule host becomes a listener on the Ingress HTTP port
// (no host: the listener without hostname), holding the paths of every
// Ingress for that host: Exact as Exact, Prefix and ImplementationSpecific as
// PathPrefix (element-wise, which is what Kubernetes defines Prefix as).
// Host wildcards match one label, as Ingress defines them. An Ingress's
// defaultBackend serves what none of its paths match: on its own hosts, and
// on the listener without hostname; it ranks after every path.
// Each host in spec.tls (with a usable kubernetes.io/tls Secret) becomes a
// listener on the HTTPS port with the routes the host reaches on the HTTP
// port and that certificate; spec.tls without hosts covers the listener
// without hostname.
//
// Gateway listeners come first: an Ingress listener on a port and hostname a
// served Gateway listener already has (or on a port it uses with the other
// protocol) is left out, and the Ingress says so.

import {
  type Ingress,
  type IngressBackend,
  type IngressClass,
  ingressClassOf,
  isDefaultIngressClass,
  tlsKeyPair,
} from '../../src/model.ts';
import { hostMatches, isWildcard } from '../router/hostname.ts';
import type {
  HttpMatchSpec,
  ListenerRoutesSpec,
  RouteSpec,
  RuleSpec,
  WeightedBackend,
} from '../router.ts';
import { Reason } from './conditions.ts';
import type {
  IngressOptions,
  IngressStatus,
  ListenerConfig,
  Problem,
  SecretRef,
} from './gateway-config.ts';
import { problem, TranslateProblems } from './problems.ts';
import { createdAtOf, keyOf, namespaceOf, type Snapshot } from './snapshot.ts';

export interface IngressListener {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  spec: ListenerRoutesSpec;
  config: ListenerConfig;
  /** The Ingresses that contribute to it (`namespace/name`), to report a conflict to. */
  sources: string[];
}

export interface IngressTranslation {
  listeners: IngressListener[];
  statuses: IngressStatus[];
}

/** Says which served Gateway listener already holds port/hostname (or the port with another protocol). */
export type PortClaims = (
  port: number,
  protocol: 'HTTP' | 'HTTPS',
  hostname: string,
) => { listener: string; sameProtocol: boolean } | undefined;

function pierClasses(
  classes: readonly IngressClass[],
  options: IngressOptions,
): { names: Set<string>; isDefault: boolean } {
  const names = new Set(options.classNames);
  let isDefault = false;
  for (const c of classes) {
    const ours =
      names.has(c.metadata.name) ||
      (c.spec?.controller !== undefined && c.spec.controller === options.controllerName);
    if (!ours) continue;
    names.add(c.metadata.name);
    if (isDefaultIngressClass(c)) isDefault = true;
  }
  return { names, isDefault };
}

function isServed(ingress: Ingress, classes: { names: Set<string>; isDefault: boolean }): boolean {
  const name = ingressClassOf(ingress);
  return name === undefined || name === '' ? classes.isDefault : classes.names.has(name);
}

function backendOf(
  backend: IngressBackend,
  ingress: Ingress,
  snapshot: Snapshot,
  where: string,
  problems: Problem[],
): WeightedBackend {
  const object = `Ingress ${keyOf(ingress)}`;
  const namespace = namespaceOf(ingress);
  if (backend.service === undefined) {
    const r = backend.resource;
    const error = TranslateProblems.INGRESS_RESOURCE_BACKEND(
      where,
      r === undefined ? '(none)' : `${r.apiGroup ?? ''}/${r.kind} ${r.name}`,
    );
    problems.push(problem(object, Reason.InvalidKind, error));
    return {
      resolved: false,
      weight: 1,
      status: 500,
      reason: Reason.InvalidKind,
      message: error.message,
    };
  }
  const name = `${namespace}/${backend.service.name}`;
  const service = snapshot.services.get(name);
  if (service === undefined) {
    const error = TranslateProblems.BACKEND_NOT_FOUND(name);
    problems.push(problem(object, Reason.BackendNotFound, error));
    return {
      resolved: false,
      weight: 1,
      status: 500,
      reason: Reason.BackendNotFound,
      message: error.message,
    };
  }
  const { number, name: portName } = backend.service.port;
  const ports = service.spec?.ports ?? [];
  const port =
    number !== undefined
      ? ports.length === 0 || ports.some((p) => p.port === number)
        ? number
        : undefined
      : ports.find((p) => p.name === portName)?.port;
  if (port === undefined) {
    const error = TranslateProblems.BACKEND_PORT_NOT_FOUND(name, String(number ?? portName));
    problems.push(problem(object, Reason.BackendNotFound, error));
    return {
      resolved: false,
      weight: 1,
      status: 500,
      reason: Reason.BackendNotFound,
      message: error.message,
    };
  }
  return { resolved: true, namespace, name: backend.service.name, port, weight: 1 };
}

function pathMatch(path: string | undefined, pathType: string): HttpMatchSpec {
  const value = path === undefined || path === '' ? '/' : path;
  return {
    path: pathType === 'Exact' ? { type: 'Exact', value } : { type: 'PathPrefix', value },
    headers: [],
    queryParams: [],
  };
}

/** The host listener a TLS host reaches on the HTTP port: its own, a wildcard covering it, or the catch-all. */
function reachedHost(host: string, hosts: readonly string[]): string | undefined {
  if (hosts.includes(host)) return host;
  if (!isWildcard(host)) {
    const wildcard = hosts
      .filter((h) => isWildcard(h) && hostMatches(h, host, true))
      .sort((a, b) => b.length - a.length)[0];
    if (wildcard !== undefined) return wildcard;
  }
  return hosts.includes('') ? '' : undefined;
}

interface IngressRead {
  /** Host ('' for none) -> this Ingress's route on that host's listener. */
  routes: Map<string, RouteSpec>;
  tls: { host: string; certificate: SecretRef }[];
}

/** One Ingress's routes per host and its usable TLS hosts; problems go to `status`. */
function readIngress(ingress: Ingress, snapshot: Snapshot, status: IngressStatus): IngressRead {
  const key = keyOf(ingress);
  const base = {
    kind: 'Ingress' as const,
    namespace: status.namespace,
    name: status.name,
    hostnames: [],
  };
  const createdAt = createdAtOf(ingress);
  const withAge = createdAt === undefined ? base : { ...base, createdAt };
  const byHost = new Map<string, RuleSpec[]>();
  (ingress.spec?.rules ?? []).forEach((rule, i) => {
    const host = rule.host ?? '';
    const rules = byHost.get(host) ?? [];
    byHost.set(host, rules);
    (rule.http?.paths ?? []).forEach((path, j) => {
      const where = `rules[${i}].http.paths[${j}]`;
      rules.push({
        index: i,
        name: where,
        matches: [pathMatch(path.path, path.pathType)],
        backends: [backendOf(path.backend, ingress, snapshot, where, status.problems)],
        filters: {},
      });
    });
  });
  const defaultBackend = ingress.spec?.defaultBackend;
  const fallback: RuleSpec | undefined =
    defaultBackend === undefined
      ? undefined
      : {
          index: -1,
          name: 'defaultBackend',
          fallback: true,
          matches: [],
          backends: [
            backendOf(defaultBackend, ingress, snapshot, 'defaultBackend', status.problems),
          ],
          filters: {},
        };
  if (fallback !== undefined && !byHost.has('')) byHost.set('', []);
  const routes = new Map<string, RouteSpec>();
  for (const [host, rules] of byHost) {
    const all = fallback === undefined ? rules : [...rules, fallback];
    if (all.length > 0) routes.set(host, { ...withAge, rules: all });
  }
  const tlsHosts: IngressRead['tls'] = [];
  const object = `Ingress ${key}`;
  for (const tls of ingress.spec?.tls ?? []) {
    const hosts = tls.hosts === undefined || tls.hosts.length === 0 ? [''] : tls.hosts;
    if (tls.secretName === undefined || tls.secretName === '') {
      const error = TranslateProblems.INGRESS_TLS_SECRET_MISSING(hosts.join(', ') || '(any)');
      status.problems.push(problem(object, Reason.InvalidCertificateRef, error));
      continue;
    }
    const secretKey = `${status.namespace}/${tls.secretName}`;
    const secret = snapshot.secrets.get(secretKey);
    const why =
      secret === undefined
        ? 'does not exist'
        : tlsKeyPair(secret) === undefined
          ? 'is not a kubernetes.io/tls Secret with tls.crt and tls.key'
          : undefined;
    if (why !== undefined) {
      const error = TranslateProblems.INGRESS_TLS_SECRET_INVALID(secretKey, why);
      status.problems.push(problem(object, Reason.InvalidCertificateRef, error));
      continue;
    }
    for (const host of hosts) {
      tlsHosts.push({ host, certificate: { namespace: status.namespace, name: tls.secretName } });
    }
  }
  return { routes, tls: tlsHosts };
}

export function translateIngresses(
  snapshot: Snapshot,
  options: IngressOptions,
  claims: PortClaims,
): IngressTranslation {
  const statuses: IngressStatus[] = [];
  if (!options.enabled) return { listeners: [], statuses };
  const classes = pierClasses(snapshot.ingressClasses, options);
  // host -> routes, and which Ingresses fed it.
  const hosts = new Map<string, { routes: RouteSpec[]; sources: Set<string> }>();
  const tlsHosts = new Map<string, { certificates: SecretRef[]; sources: Set<string> }>();
  const statusByKey = new Map<string, IngressStatus>();
  const hostEntry = (host: string) => {
    let entry = hosts.get(host);
    if (entry === undefined) {
      entry = { routes: [], sources: new Set() };
      hosts.set(host, entry);
    }
    return entry;
  };

  for (const ingress of snapshot.ingresses) {
    const key = keyOf(ingress);
    const status: IngressStatus = {
      namespace: namespaceOf(ingress),
      name: ingress.metadata.name,
      served: false,
      problems: [],
    };
    statuses.push(status);
    statusByKey.set(key, status);
    if (!isServed(ingress, classes)) continue;
    status.served = true;
    let read: IngressRead;
    try {
      read = readIngress(ingress, snapshot, status);
    } catch (error) {
      // Only an Ingress that skipped validation gets here; the others are still served.
      status.problems.push(
        problem(
          `Ingress ${key}`,
          Reason.Invalid,
          TranslateProblems.OBJECT_MALFORMED(`Ingress ${key}`, (error as Error).message),
        ),
      );
      continue;
    }
    for (const [host, route] of read.routes) {
      const entry = hostEntry(host);
      entry.routes.push(route);
      entry.sources.add(key);
    }
    for (const { host, certificate } of read.tls) {
      let entry = tlsHosts.get(host);
      if (entry === undefined) {
        entry = { certificates: [], sources: new Set() };
        tlsHosts.set(host, entry);
      }
      if (
        !entry.certificates.some(
          (c) => c.namespace === certificate.namespace && c.name === certificate.name,
        )
      ) {
        entry.certificates.push(certificate);
      }
      entry.sources.add(key);
    }
  }

  const listeners: IngressListener[] = [];
  const conflicted = (
    port: number,
    protocol: 'HTTP' | 'HTTPS',
    host: string,
    sources: Iterable<string>,
  ): boolean => {
    const claim = claims(port, protocol, host);
    if (claim === undefined) return false;
    const error = claim.sameProtocol
      ? TranslateProblems.INGRESS_HOST_CONFLICT(host, port, claim.listener)
      : TranslateProblems.INGRESS_PORT_CONFLICT(port, claim.listener);
    for (const source of sources) {
      statusByKey
        .get(source)
        ?.problems.push(
          problem(
            `Ingress ${source}`,
            claim.sameProtocol ? Reason.HostnameConflict : Reason.ProtocolConflict,
            error,
          ),
        );
    }
    return true;
  };
  const add = (
    port: number,
    protocol: 'HTTP' | 'HTTPS',
    host: string,
    routes: RouteSpec[],
    certificates: SecretRef[],
    sources: Set<string>,
  ) => {
    if (conflicted(port, protocol, host, sources)) return;
    const name = `ingress-${protocol.toLowerCase()}:${host === '' ? '*' : host}`;
    const identity = { gateway: 'ingress', name, port, protocol };
    listeners.push({
      port,
      protocol,
      sources: [...sources],
      spec: {
        listener: identity,
        ...(host === '' ? {} : { hostname: host }),
        singleLabelWildcard: true,
        routes,
      },
      config: {
        identity,
        source: 'Ingress',
        ...(host === '' ? {} : { hostname: host }),
        certificates,
      },
    });
  };
  const hostList = [...hosts.keys()];
  for (const [host, entry] of hosts)
    add(options.httpPort, 'HTTP', host, entry.routes, [], entry.sources);
  for (const [host, entry] of tlsHosts) {
    if (options.httpsPort === options.httpPort) {
      // One port cannot speak both; the HTTP listeners were there first.
      const error = TranslateProblems.INGRESS_PORT_CONFLICT(
        options.httpsPort,
        'the Ingress HTTP listeners',
      );
      for (const source of entry.sources) {
        statusByKey
          .get(source)
          ?.problems.push(problem(`Ingress ${source}`, Reason.ProtocolConflict, error));
      }
      continue;
    }
    const reached = reachedHost(host, hostList);
    const routes = reached === undefined ? [] : (hosts.get(reached)?.routes ?? []);
    add(options.httpsPort, 'HTTPS', host, routes, entry.certificates, entry.sources);
  }
  return { listeners, statuses };
}
