// translate(): a snapshot of Store objects -> GatewayConfig. Pure and
// deterministic: the same objects (in any order) give the same config, so the
// glue can run it on every change (record, then sync: convention 4) and swap
// the route tables in one assignment.
//
//   GatewayClasses --controllerName--> Pier's classes --> their Gateways
//   Gateways --listeners.ts--> listener states (conflicts, certificates)
//   HTTPRoutes, GRPCRoutes --routes.ts--> rules --attach.ts--> listeners
//   Ingresses --ingress.ts--> listeners of their own on the Ingress ports
//   served listeners, by port --> RouteTableSpec --createRouteTable--> RouteTable
//
// Bad objects never make it throw: they show up as conditions and problems.

import { isPierError } from '../../src/errors.ts';
import type { KubeObject, ParentReference } from '../../src/model.ts';
import { createRouteTable } from '../router/table.ts';
import type { ListenerRoutesSpec, RouteSpec, RouteTableSpec } from '../router.ts';
import { type Attachment, attachRoute, type ParentResult, rejectKindConflicts } from './attach.ts';
import { type BackendTls, resolveBackendTls } from './backend-tls.ts';
import type { RefFailure } from './backends.ts';
import { type ClientCertificate, resolveClientCertificates } from './client-certificates.ts';
import { ConditionType, condition, Reason, resolvedRefsCondition } from './conditions.ts';
import {
  type Condition,
  DEFAULT_TRANSLATE_OPTIONS,
  type GatewayConfig,
  type GatewayStatus,
  type ListenerConfig,
  type PortConfig,
  type Problem,
  type RouteStatus,
  type StatusReport,
  type TranslateOptions,
} from './gateway-config.ts';
import { type IngressListener, translateIngresses } from './ingress.ts';
import {
  buildListeners,
  isServed,
  type ListenerState,
  listenerConditions,
  listenerFailures,
} from './listeners.ts';
import { problem, TranslateProblems } from './problems.ts';
import { createGrantIndex } from './reference-grants.ts';
import { type CompiledRoute, compileGrpcRoute, compileHttpRoute } from './routes.ts';
import { compareAge, createSnapshot, keyOf, namespaceOf } from './snapshot.ts';

export interface TranslateInput {
  /** Every object of the kinds translation reads (others are ignored), as validateObject returns them. */
  objects: Iterable<KubeObject>;
  options?: Partial<Omit<TranslateOptions, 'ingress'>> & {
    ingress?: Partial<TranslateOptions['ingress']>;
  };
}

function optionsOf(input: TranslateInput['options']): TranslateOptions {
  return {
    controllerName: input?.controllerName ?? DEFAULT_TRANSLATE_OPTIONS.controllerName,
    ingress: { ...DEFAULT_TRANSLATE_OPTIONS.ingress, ...input?.ingress },
  };
}

function joinMessages(failures: readonly RefFailure[]): string {
  return [...new Set(failures.map((f) => f.error.message))].join('; ');
}

function routeParentConditions(
  route: CompiledRoute,
  parent: ParentResult,
  acceptedHere: Attachment[],
): Condition[] {
  const generation = route.generation;
  const conditions: Condition[] = [];
  const rejections = parent.attachments
    .filter((a) => a.rejected !== undefined)
    .map((a) => a.rejected!);
  const failure =
    parent.failure ??
    (acceptedHere.length === 0 && rejections.length > 0 ? rejections[0] : undefined) ??
    (route.rules.length === 0 && route.dropped.length > 0
      ? {
          reason: route.dropped[0]!.reason,
          error: TranslateProblems.ROUTE_NO_VALID_RULES(joinMessages(route.dropped)),
        }
      : undefined);
  conditions.push(
    failure === undefined
      ? condition(ConditionType.Accepted, true, Reason.Accepted, 'Route is accepted', generation)
      : condition(ConditionType.Accepted, false, failure.reason, failure.error.message, generation),
  );
  conditions.push(resolvedRefsCondition(route.refFailures, generation));
  if (failure === undefined && route.dropped.length > 0) {
    conditions.push(
      condition(
        ConditionType.PartiallyInvalid,
        true,
        Reason.UnsupportedValue,
        TranslateProblems.RULES_DROPPED(joinMessages(route.dropped)).message,
        generation,
      ),
    );
  }
  return conditions;
}

function routeSpecFor(attachment: Attachment): RouteSpec {
  const { route } = attachment;
  const spec: RouteSpec = {
    kind: route.kind,
    namespace: route.namespace,
    name: route.name,
    hostnames: attachment.bindings,
    rules: route.rules,
  };
  if (route.createdAt !== undefined) spec.createdAt = route.createdAt;
  return spec;
}

export function translate(input: TranslateInput): GatewayConfig {
  const options = optionsOf(input.options);
  const snapshot = createSnapshot(input.objects);
  const grants = createGrantIndex(snapshot.referenceGrants);
  const problems: Problem[] = [];

  // GatewayClasses and Gateways that are Pier's.
  const classes = snapshot.gatewayClasses.filter(
    (c) => c.spec?.controllerName === options.controllerName,
  );
  const classNames = new Set(classes.map((c) => c.metadata.name));
  const gateways = snapshot.gateways.filter((g) => classNames.has(g.spec?.gatewayClassName));
  // A Gateway whose listeners are not a list skipped validation; it is not served.
  const listenerStates = buildListeners(
    gateways.filter((g) => Array.isArray(g.spec?.listeners)),
    snapshot,
    grants,
  );
  const clientCertificates = resolveClientCertificates(gateways, snapshot, grants);
  const byGateway = new Map<string, ListenerState[]>();
  for (const gateway of gateways) byGateway.set(keyOf(gateway), []);
  for (const state of listenerStates) byGateway.get(state.gatewayKey)?.push(state);

  // Routes that name one of those Gateways, compiled once each.
  const mentionsPier = (
    route: { spec?: { parentRefs?: readonly ParentReference[] | undefined } | undefined },
    ns: string,
  ) => {
    const refs = route.spec?.parentRefs ?? [];
    // Not a list: the route skipped validation and names no parent Pier can read.
    return (
      Array.isArray(refs) && refs.some((p) => byGateway.has(`${p?.namespace ?? ns}/${p?.name}`))
    );
  };
  const scope = { snapshot, grants };
  const routes: CompiledRoute[] = [
    ...snapshot.httpRoutes
      .filter((r) => mentionsPier(r, namespaceOf(r)))
      .map((r) => compileHttpRoute(r, scope)),
    ...snapshot.grpcRoutes
      .filter((r) => mentionsPier(r, namespaceOf(r)))
      .map((r) => compileGrpcRoute(r, scope)),
  ].sort((a, b) => compareAge(a.object, b.object));

  const parents = new Map<CompiledRoute, ParentResult[]>();
  const attachments: Attachment[] = [];
  for (const route of routes) {
    const results = attachRoute(route, byGateway);
    parents.set(route, results);
    // A route without a servable rule is not accepted anywhere, so it claims no hostname.
    if (route.rules.length > 0) for (const r of results) attachments.push(...r.attachments);
  }
  rejectKindConflicts(attachments);
  const accepted = attachments.filter((a) => a.rejected === undefined);
  for (const a of accepted) a.listener.attached.add(`${a.route.kind} ${a.route.key}`);

  // Route status.
  const routeStatuses: RouteStatus[] = [];
  for (const route of routes) {
    const results = parents.get(route) ?? [];
    if (results.length === 0) continue;
    const status: RouteStatus = {
      kind: route.kind,
      namespace: route.namespace,
      name: route.name,
      parents: [],
    };
    for (const parent of results) {
      const acceptedHere =
        route.rules.length === 0 ? [] : parent.attachments.filter((a) => a.rejected === undefined);
      const conditions = routeParentConditions(route, parent, acceptedHere);
      status.parents.push({
        parentRef: parent.parentRef,
        controllerName: options.controllerName,
        conditions,
      });
      for (const c of conditions) {
        if (c.status === 'True' && c.type !== ConditionType.PartiallyInvalid) continue;
        problems.push({
          object: `${route.kind} ${route.key} (parent Gateway ${parent.gateway})`,
          code: problemCode(c, route, parent),
          reason: c.reason,
          message: c.message,
        });
      }
    }
    routeStatuses.push(status);
  }

  // Gateway status.
  const gatewayStatuses: GatewayStatus[] = gateways.map((gateway) => {
    const states = byGateway.get(keyOf(gateway)) ?? [];
    const generation = gateway.metadata.generation;
    const served = states.filter(isServed).length;
    const conditions: Condition[] = [];
    if (served === 0) {
      const message = TranslateProblems.GATEWAY_NO_LISTENERS().message;
      conditions.push(
        condition(ConditionType.Accepted, false, Reason.ListenersNotValid, message, generation),
      );
      conditions.push(
        condition(ConditionType.Programmed, false, Reason.Invalid, message, generation),
      );
      problems.push(
        problem(
          `Gateway ${keyOf(gateway)}`,
          Reason.ListenersNotValid,
          TranslateProblems.GATEWAY_NO_LISTENERS(),
        ),
      );
    } else {
      conditions.push(
        served === states.length
          ? condition(
              ConditionType.Accepted,
              true,
              Reason.Accepted,
              'Gateway is accepted',
              generation,
            )
          : condition(
              ConditionType.Accepted,
              true,
              Reason.ListenersNotValid,
              `${states.length - served} of ${states.length} listeners are not served; see their conditions`,
              generation,
            ),
      );
      conditions.push(
        condition(
          ConditionType.Programmed,
          true,
          Reason.Programmed,
          'Gateway is served',
          generation,
        ),
      );
    }
    const clientCertificate = clientCertificates.get(keyOf(gateway));
    if (clientCertificate !== undefined) {
      const failures = clientCertificate.failure === undefined ? [] : [clientCertificate.failure];
      conditions.push(resolvedRefsCondition(failures, generation));
      for (const f of failures)
        problems.push(problem(`Gateway ${keyOf(gateway)}`, f.reason, f.error));
    }
    for (const state of states) {
      for (const f of listenerFailures(state)) {
        problems.push(
          problem(`Gateway ${state.gatewayKey} listener ${state.listener.name}`, f.reason, f.error),
        );
      }
    }
    return {
      namespace: namespaceOf(gateway),
      name: gateway.metadata.name,
      conditions,
      listeners: states.map((state) => ({
        name: state.listener.name,
        supportedKinds: state.supportedKinds,
        attachedRoutes: state.attached.size,
        conditions: listenerConditions(state),
      })),
    };
  });

  // Served listeners by port, then the Ingress listeners that fit around them.
  const servedStates = listenerStates.filter(isServed);
  const ingress = translateIngresses(snapshot, options.ingress, (port, protocol, hostname) => {
    const onPort = servedStates.filter((s) => s.listener.port === port);
    const other = onPort.find((s) => s.identity.protocol !== protocol);
    if (other !== undefined)
      return {
        listener: `Gateway ${other.gatewayKey} listener ${other.listener.name}`,
        sameProtocol: false,
      };
    const same = onPort.find((s) => (s.hostname ?? '') === hostname);
    return same === undefined
      ? undefined
      : {
          listener: `Gateway ${same.gatewayKey} listener ${same.listener.name}`,
          sameProtocol: true,
        };
  });
  for (const status of ingress.statuses) problems.push(...status.problems);

  const ports = buildPorts(servedStates, accepted, ingress.listeners, problems);
  const backendTls = resolveBackendTls(snapshot);
  problems.push(...backendTls.problems);
  const status: StatusReport = {
    gatewayClasses: classes.map((c) => ({
      name: c.metadata.name,
      conditions: [
        condition(
          ConditionType.Accepted,
          true,
          Reason.Accepted,
          `Handled by ${options.controllerName}`,
          c.metadata.generation,
        ),
      ],
    })),
    gateways: gatewayStatuses,
    routes: routeStatuses,
    ingresses: ingress.statuses,
    backendTLSPolicies: policyStatuses(backendTls, accepted, byGateway, options.controllerName),
  };
  const backendClientCertificates = new Map<string, ClientCertificate>();
  for (const [key, entry] of clientCertificates)
    if (entry.certificate !== undefined) backendClientCertificates.set(key, entry.certificate);
  return { ports, backendTls, backendClientCertificates, status, problems };
}

/**
 * A policy's ancestors are the Gateways of Pier's whose accepted routes send
 * to (or mirror to) a Service it targets; each gets the policy's conditions.
 */
function policyStatuses(
  backendTls: BackendTls,
  accepted: readonly Attachment[],
  byGateway: ReadonlyMap<string, ListenerState[]>,
  controllerName: string,
) {
  const gatewaysByService = new Map<string, Set<string>>();
  const add = (service: string, gateway: string) => {
    let set = gatewaysByService.get(service);
    if (set === undefined) {
      set = new Set();
      gatewaysByService.set(service, set);
    }
    set.add(gateway);
  };
  for (const a of accepted) {
    for (const rule of a.route.rules) {
      for (const b of rule.backends)
        if (b.resolved) add(`${b.namespace}/${b.name}`, a.listener.gatewayKey);
      for (const m of rule.filters.requestMirror ?? [])
        add(`${m.backend.namespace}/${m.backend.name}`, a.listener.gatewayKey);
    }
  }
  return backendTls.policies.map((policy) => {
    const gateways = new Set(policy.services.flatMap((s) => [...(gatewaysByService.get(s) ?? [])]));
    return {
      namespace: policy.namespace,
      name: policy.name,
      ancestors: [...gateways]
        .filter((g) => byGateway.has(g))
        .sort()
        .map((g) => {
          const slash = g.indexOf('/');
          return {
            ancestorRef: {
              group: 'gateway.networking.k8s.io',
              kind: 'Gateway',
              namespace: g.slice(0, slash),
              name: g.slice(slash + 1),
            },
            controllerName,
            conditions: policy.conditions,
          };
        }),
    };
  });
}

function problemCode(c: Condition, route: CompiledRoute, parent: ParentResult): string {
  // The condition's message came from a table entry; find which, for a stable code.
  const failures = [
    parent.failure,
    ...parent.attachments.map((a) => a.rejected),
    ...route.dropped,
    ...route.refFailures,
  ];
  for (const f of failures)
    if (f !== undefined && c.message.includes(f.error.message)) return f.error.code;
  return c.type === ConditionType.PartiallyInvalid
    ? TranslateProblems.codes.RULES_DROPPED
    : TranslateProblems.codes.ROUTE_NO_VALID_RULES;
}

function buildPorts(
  served: readonly ListenerState[],
  accepted: readonly Attachment[],
  ingressListeners: readonly IngressListener[],
  problems: Problem[],
): PortConfig[] {
  const byPort = new Map<
    number,
    { protocol: 'HTTP' | 'HTTPS'; listeners: ListenerRoutesSpec[]; configs: ListenerConfig[] }
  >();
  const portEntry = (port: number, protocol: 'HTTP' | 'HTTPS') => {
    let entry = byPort.get(port);
    if (entry === undefined) {
      entry = { protocol, listeners: [], configs: [] };
      byPort.set(port, entry);
    }
    return entry;
  };
  for (const state of served) {
    const entry = portEntry(state.listener.port, state.identity.protocol);
    const routes = accepted.filter((a) => a.listener === state).map(routeSpecFor);
    entry.listeners.push({
      listener: state.identity,
      ...(state.hostname === undefined ? {} : { hostname: state.hostname }),
      routes,
    });
    entry.configs.push({
      identity: state.identity,
      source: 'Gateway',
      ...(state.hostname === undefined ? {} : { hostname: state.hostname }),
      certificates: state.certificates,
      ...(state.clientValidation === undefined ? {} : { clientValidation: state.clientValidation }),
    });
  }
  for (const listener of ingressListeners) {
    const entry = portEntry(listener.port, listener.protocol);
    entry.listeners.push(listener.spec);
    entry.configs.push(listener.config);
  }
  const ports: PortConfig[] = [];
  for (const [port, entry] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const spec: RouteTableSpec = { port, protocol: entry.protocol, listeners: entry.listeners };
    try {
      ports.push({
        port,
        protocol: entry.protocol,
        listeners: entry.configs,
        table: createRouteTable(spec),
        spec,
      });
    } catch (error) {
      // The translator checks what the router compiles; this is a bug, reported rather than thrown.
      if (!isPierError(error)) throw error;
      problems.push({
        object: `port ${port}`,
        code: error.code,
        reason: Reason.Invalid,
        message: error.message,
      });
    }
  }
  return ports;
}
