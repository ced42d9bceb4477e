// The gateway's status publisher: Gateway API status for the Kubernetes
// source's leader to write back (src/sources/kubernetes/status-publisher.ts
// is the interface and says why the seam is there).
//
//   Store objects (CONFIG_KINDS) --translate()--> StatusReport (the same the gateway serves by)
//   StatusReport + each object's current status --status-diff.ts--> merge patches, or none
//
// translate() is pure and the diff is pure, so any process can plan this:
// the leader need not be a gateway. Which objects get a patch:
// GatewayClasses with our controllerName, their Gateways, and every
// HTTPRoute/GRPCRoute that references one of them or still carries an
// entry of ours in status.parents (which is then removed), every
// BackendTLSPolicy likewise (status.ancestors), and, when an
// address to publish is configured, the Ingresses Pier serves.

import { describeRef, type KindKey, Kinds, type ObjectRef } from '../../src/model/object.ts';
import type { KubeObject } from '../../src/model.ts';
import type {
  StatusPatch,
  StatusPublisher,
  StatusView,
} from '../../src/sources/kubernetes/status-publisher.ts';
import { CONFIG_KINDS } from '../assembly/kinds.ts';
import type { RouteParentStatus, TranslateOptions } from '../translate/gateway-config.ts';
import { translate } from '../translate/translate.ts';
import {
  gatewayClassPatch,
  gatewayPatch,
  ingressPatch,
  policyPatch,
  routePatch,
} from './status-diff.ts';

export interface GatewayStatusPublisherOptions {
  /** As the gateway's: GatewayClasses with this spec.controllerName are ours. */
  controllerName: string;
  /** As the gateway's (Ingress listeners take ports, which shows in Gateway listener status). */
  ingress?: Partial<TranslateOptions['ingress']>;
  /** Written to the status.loadBalancer of the Ingresses Pier serves; empty or absent: left alone. */
  ingressStatusAddress?: string;
}

const ROUTE_KINDS: readonly KindKey[] = [Kinds.HTTPRoute, Kinds.GRPCRoute];

export function createGatewayStatusPublisher(
  options: GatewayStatusPublisherOptions,
): StatusPublisher {
  const { controllerName } = options;
  return {
    name: 'gateway-api',
    kinds: CONFIG_KINDS,

    plan(view: StatusView, now: Date): StatusPatch[] {
      const objects: KubeObject[] = [];
      for (const kind of CONFIG_KINDS) objects.push(...view.list(kind));
      const { status } = translate({
        objects,
        options: {
          controllerName,
          ...(options.ingress === undefined ? {} : { ingress: options.ingress }),
        },
      });
      const patches: StatusPatch[] = [];
      const add = (ref: ObjectRef, body: Record<string, unknown> | undefined) => {
        if (body !== undefined) patches.push({ ref, patch: { status: body } });
      };

      const classes = new Map(view.list(Kinds.GatewayClass).map((o) => [o.metadata.name, o]));
      for (const desired of status.gatewayClasses) {
        const object = classes.get(desired.name);
        if (object === undefined) continue;
        add(
          { kind: Kinds.GatewayClass, name: desired.name },
          gatewayClassPatch(object, desired, now),
        );
      }

      const gateways = new Map(
        view.list(Kinds.Gateway).map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]),
      );
      for (const desired of status.gateways) {
        const object = gateways.get(`${desired.namespace}/${desired.name}`);
        if (object === undefined) continue;
        add(
          { kind: Kinds.Gateway, namespace: desired.namespace, name: desired.name },
          gatewayPatch(object, desired, now),
        );
      }

      const desiredParents = new Map<string, RouteParentStatus[]>();
      for (const route of status.routes) {
        const kind = route.kind === 'HTTPRoute' ? Kinds.HTTPRoute : Kinds.GRPCRoute;
        desiredParents.set(
          describeRef({ kind, namespace: route.namespace, name: route.name }),
          route.parents,
        );
      }
      for (const kind of ROUTE_KINDS) {
        for (const object of view.list(kind)) {
          const ref: ObjectRef = {
            kind,
            namespace: object.metadata.namespace ?? 'default',
            name: object.metadata.name,
          };
          const desired = desiredParents.get(describeRef(ref)) ?? [];
          add(ref, routePatch(object, desired, controllerName, now));
        }
      }

      const desiredAncestors = new Map(
        status.backendTLSPolicies.map((p) => [`${p.namespace}/${p.name}`, p.ancestors]),
      );
      for (const object of view.list(Kinds.BackendTLSPolicy)) {
        const namespace = object.metadata.namespace ?? 'default';
        const desired = desiredAncestors.get(`${namespace}/${object.metadata.name}`) ?? [];
        add(
          { kind: Kinds.BackendTLSPolicy, namespace, name: object.metadata.name },
          policyPatch(object, desired, controllerName, now),
        );
      }

      const address = options.ingressStatusAddress ?? '';
      if (address !== '') {
        const ingresses = new Map(
          view.list(Kinds.Ingress).map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]),
        );
        for (const desired of status.ingresses) {
          const object = ingresses.get(`${desired.namespace}/${desired.name}`);
          if (!desired.served || object === undefined) continue;
          add(
            { kind: Kinds.Ingress, namespace: desired.namespace, name: desired.name },
            ingressPatch(object, address),
          );
        }
      }
      return patches;
    },
  };
}
