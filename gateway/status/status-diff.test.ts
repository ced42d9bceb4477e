// The status diff as tables: desired (translate's conditions) + the status
// an object carries -> the merge patch of `status`, or nothing (undefined).
// Times: T0 is what the object carries, NOW is the sync's clock.

import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/model.ts';
import type { Condition, GatewayStatus, RouteParentStatus } from '../translate/gateway-config.ts';
import {
  gatewayClassPatch,
  gatewayPatch,
  ingressPatch,
  policyPatch,
  routePatch,
  type StatusBody,
  stampConditions,
} from './status-diff.ts';

const OURS = 'pier.dev/gateway';
const OTHER = 'example.com/other';
const T0 = '2026-01-01T00:00:00Z';
const NOW = new Date('2026-11-30T04:00:00.123Z');
const NOW_TEXT = '2026-11-30T04:00:00Z';

/** A desired condition: `Accepted=True/Accepted@1`. */
function c(text: string, message = 'm'): Condition {
  const m = /^(\w+)=(True|False|Unknown)\/(\w+)(?:@(\d+))?$/.exec(text);
  if (m === null) throw new Error(`bad condition ${text}`);
  const condition: Condition = {
    type: m[1]!,
    status: m[2] as Condition['status'],
    reason: m[3]!,
    message,
  };
  if (m[4] !== undefined) condition.observedGeneration = Number(m[4]);
  return condition;
}

/** A written condition: desired + lastTransitionTime. */
function w(text: string, time = T0, message = 'm') {
  return { ...c(text, message), lastTransitionTime: time };
}

function route(status: unknown, generation = 1): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { namespace: 'shop', name: 'web', generation },
    spec: { parentRefs: [{ name: 'edge' }] },
    ...(status === undefined ? {} : { status }),
  } as unknown as KubeObject;
}

const edge = { name: 'edge' };
const other = (name: string) => ({
  parentRef: { name },
  controllerName: OTHER,
  conditions: [w('Accepted=True/Accepted@1')],
});
const ours = (parentRef: Record<string, unknown>, ...conditions: unknown[]) => ({
  parentRef,
  controllerName: OURS,
  conditions,
});
const desired = (parentRef: Record<string, unknown>, ...conditions: Condition[]) =>
  ({ parentRef, controllerName: OURS, conditions }) as RouteParentStatus;

interface RouteCase {
  name: string;
  status: unknown;
  generation?: number;
  want: RouteParentStatus[];
  patch: StatusBody | undefined;
}

const ACCEPTED = 'Accepted=True/Accepted@1';
const RESOLVED = 'ResolvedRefs=True/ResolvedRefs@1';

const ROUTE_CASES: RouteCase[] = [
  {
    name: 'no status yet: our entry, stamped now',
    status: undefined,
    want: [desired(edge, c(ACCEPTED), c(RESOLVED))],
    patch: { parents: [ours(edge, w(ACCEPTED, NOW_TEXT), w(RESOLVED, NOW_TEXT))] },
  },
  {
    name: 'already as wanted: nothing (lastTransitionTime alone never writes)',
    status: { parents: [other('theirs'), ours(edge, w(ACCEPTED), w(RESOLVED))] },
    want: [desired(edge, c(ACCEPTED), c(RESOLVED))],
    patch: undefined,
  },
  {
    name: 'another controller entry is kept, in its place, when ours changes',
    status: {
      parents: [other('a'), ours(edge, w(ACCEPTED), w(RESOLVED)), other('b')],
    },
    want: [desired(edge, c(ACCEPTED), c('ResolvedRefs=False/BackendNotFound@1', 'no svc'))],
    patch: {
      parents: [
        other('a'),
        other('b'),
        ours(edge, w(ACCEPTED), w('ResolvedRefs=False/BackendNotFound@1', NOW_TEXT, 'no svc')),
      ],
    },
  },
  {
    name: 'same status, new reason and message: lastTransitionTime kept',
    status: { parents: [ours(edge, w('Accepted=False/NoMatchingParent@1', T0, 'old'))] },
    want: [desired(edge, c('Accepted=False/NotAllowedByListeners@1', 'new'))],
    patch: { parents: [ours(edge, w('Accepted=False/NotAllowedByListeners@1', T0, 'new'))] },
  },
  {
    name: 'new generation: observedGeneration moves, lastTransitionTime kept',
    status: { parents: [ours(edge, w(ACCEPTED), w(RESOLVED))] },
    generation: 2,
    want: [desired(edge, c('Accepted=True/Accepted@2'), c('ResolvedRefs=True/ResolvedRefs@2'))],
    patch: {
      parents: [ours(edge, w('Accepted=True/Accepted@2'), w('ResolvedRefs=True/ResolvedRefs@2'))],
    },
  },
  {
    name: 'a route that stopped referencing us loses our entry, others stay',
    status: { parents: [ours(edge, w(ACCEPTED)), other('theirs')] },
    want: [],
    patch: { parents: [other('theirs')] },
  },
  {
    name: 'a route that stopped referencing us, with only our entry: empty parents',
    status: { parents: [ours(edge, w(ACCEPTED))] },
    want: [],
    patch: { parents: [] },
  },
  {
    name: 'no entry of ours and none wanted: nothing',
    status: { parents: [other('theirs')] },
    want: [],
    patch: undefined,
  },
  {
    name: 'one of two parents dropped: only it goes',
    status: {
      parents: [ours(edge, w(ACCEPTED)), ours({ name: 'edge', sectionName: 'https' }, w(ACCEPTED))],
    },
    want: [desired(edge, c(ACCEPTED))],
    patch: { parents: [ours(edge, w(ACCEPTED))] },
  },
  {
    name: 'our entry written with defaults spelled out: matched, rewritten as the spec says, time kept',
    status: {
      parents: [
        ours(
          { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'edge' },
          w(ACCEPTED),
        ),
      ],
    },
    want: [desired(edge, c(ACCEPTED))],
    patch: { parents: [ours(edge, w(ACCEPTED))] },
  },
  {
    name: 'a condition without lastTransitionTime gets now',
    status: { parents: [ours(edge, c(ACCEPTED))] },
    want: [desired(edge, c(ACCEPTED))],
    patch: { parents: [ours(edge, w(ACCEPTED, NOW_TEXT))] },
  },
  {
    name: 'status.parents malformed (not a list): ours written',
    status: { parents: 'x' },
    want: [desired(edge, c(ACCEPTED))],
    patch: { parents: [ours(edge, w(ACCEPTED, NOW_TEXT))] },
  },
];

describe('routePatch: status.parents', () => {
  it.each(ROUTE_CASES)('$name', ({ status, generation, want, patch }) => {
    expect(routePatch(route(status, generation), want, OURS, NOW)).toEqual(patch);
  });

  it('is idempotent: the patched object plans nothing, whatever the clock says', () => {
    for (const { status, generation, want } of ROUTE_CASES) {
      const patch = routePatch(route(status, generation), want, OURS, NOW);
      if (patch === undefined) continue;
      const after = route({ ...(status as object), ...patch }, generation);
      expect(routePatch(after, want, OURS, new Date('2030-01-01T00:00:00Z'))).toBeUndefined();
    }
  });
});

function gateway(status: unknown, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { namespace: 'shop', name: 'edge', generation: 1 },
    spec: { gatewayClassName: 'pier', listeners: [{ name: 'http', port: 80 }], ...spec },
    ...(status === undefined ? {} : { status }),
  } as unknown as KubeObject;
}

const KINDS = [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }];

function wantGateway(
  attachedRoutes: number,
  listener = 'Programmed=True/Programmed@1',
): GatewayStatus {
  return {
    namespace: 'shop',
    name: 'edge',
    conditions: [c(ACCEPTED), c('Programmed=True/Programmed@1')],
    listeners: [{ name: 'http', supportedKinds: KINDS, attachedRoutes, conditions: [c(listener)] }],
  };
}

const writtenGateway = (attachedRoutes: number, listenerTime = T0) => ({
  conditions: [w(ACCEPTED), w('Programmed=True/Programmed@1')],
  listeners: [
    {
      name: 'http',
      supportedKinds: KINDS,
      attachedRoutes,
      conditions: [w('Programmed=True/Programmed@1', listenerTime)],
    },
  ],
});

describe('gatewayPatch: conditions, listeners, addresses', () => {
  const cases: {
    name: string;
    status: unknown;
    spec?: Record<string, unknown>;
    want: GatewayStatus;
    patch: StatusBody | undefined;
  }[] = [
    {
      name: 'no status yet: conditions and listeners, no addresses (none known)',
      status: undefined,
      want: wantGateway(1),
      patch: {
        conditions: [w(ACCEPTED, NOW_TEXT), w('Programmed=True/Programmed@1', NOW_TEXT)],
        listeners: [
          {
            name: 'http',
            supportedKinds: KINDS,
            attachedRoutes: 1,
            conditions: [w('Programmed=True/Programmed@1', NOW_TEXT)],
          },
        ],
      },
    },
    {
      name: 'already as wanted: nothing; addresses someone else wrote are left alone',
      status: { ...writtenGateway(1), addresses: [{ type: 'IPAddress', value: '192.0.2.9' }] },
      want: wantGateway(1),
      patch: undefined,
    },
    {
      name: 'attachedRoutes changed: patch, times kept',
      status: writtenGateway(1),
      want: wantGateway(2),
      patch: writtenGateway(2),
    },
    {
      name: 'a listener condition flips: its time is now, the others kept',
      status: writtenGateway(1),
      want: wantGateway(1, 'Programmed=False/Invalid@1'),
      patch: {
        ...writtenGateway(1),
        listeners: [
          {
            name: 'http',
            supportedKinds: KINDS,
            attachedRoutes: 1,
            conditions: [w('Programmed=False/Invalid@1', NOW_TEXT)],
          },
        ],
      },
    },
    {
      name: 'spec.addresses known: written (type defaults to IPAddress)',
      status: writtenGateway(1),
      spec: { addresses: [{ value: '192.0.2.1' }, { type: 'Hostname', value: 'edge.example' }] },
      want: wantGateway(1),
      patch: {
        ...writtenGateway(1),
        addresses: [
          { type: 'IPAddress', value: '192.0.2.1' },
          { type: 'Hostname', value: 'edge.example' },
        ],
      },
    },
    {
      name: 'spec.addresses already in status: nothing',
      status: { ...writtenGateway(1), addresses: [{ type: 'IPAddress', value: '192.0.2.1' }] },
      spec: { addresses: [{ value: '192.0.2.1' }] },
      want: wantGateway(1),
      patch: undefined,
    },
  ];
  it.each(cases)('$name', ({ status, spec, want, patch }) => {
    expect(gatewayPatch(gateway(status, spec), want, NOW)).toEqual(patch);
  });
});

describe('policyPatch: BackendTLSPolicy status.ancestors', () => {
  const policy = (status: unknown) =>
    ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'BackendTLSPolicy',
      metadata: { namespace: 'shop', name: 'web-tls', generation: 2 },
      spec: {},
      ...(status === undefined ? {} : { status }),
    }) as unknown as KubeObject;
  const gw = {
    group: 'gateway.networking.k8s.io',
    kind: 'Gateway',
    namespace: 'infra',
    name: 'edge',
  };
  const theirs = {
    ancestorRef: { name: 'mesh', kind: 'Gateway', group: 'gateway.networking.k8s.io' },
    controllerName: OTHER,
    conditions: [w('Accepted=True/Accepted@2')],
  };
  const want = [
    {
      ancestorRef: gw,
      controllerName: OURS,
      conditions: [c('Accepted=True/Accepted@2'), c('ResolvedRefs=True/ResolvedRefs@2')],
    },
  ];
  const written = (time = T0) => ({
    ancestorRef: gw,
    controllerName: OURS,
    conditions: [w('Accepted=True/Accepted@2', time), w('ResolvedRefs=True/ResolvedRefs@2', time)],
  });
  it.each([
    {
      name: 'no status yet: our ancestor, now',
      status: undefined,
      desired: want,
      patch: { ancestors: [written(NOW_TEXT)] },
    },
    {
      name: 'already written: nothing',
      status: { ancestors: [written()] },
      desired: want,
      patch: undefined,
    },
    {
      name: "another controller's ancestor stays, first, as it was",
      status: { ancestors: [theirs] },
      desired: want,
      patch: { ancestors: [theirs, written(NOW_TEXT)] },
    },
    {
      name: 'no Gateway of ours routes to its Services any more: our entry goes, theirs stays',
      status: { ancestors: [theirs, written()] },
      desired: [],
      patch: { ancestors: [theirs] },
    },
  ])('$name', ({ status, desired, patch }) => {
    expect(policyPatch(policy(status), desired, OURS, NOW)).toEqual(patch);
  });
});

describe('gatewayClassPatch', () => {
  const klass = (status: unknown) =>
    ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'pier', generation: 3 },
      spec: { controllerName: OURS },
      ...(status === undefined ? {} : { status }),
    }) as unknown as KubeObject;
  const want = { name: 'pier', conditions: [c('Accepted=True/Accepted@3')] };
  it.each([
    {
      name: 'the CRD default (Unknown, Pending): Accepted, now',
      status: { conditions: [w('Accepted=Unknown/Pending')] },
      patch: { conditions: [w('Accepted=True/Accepted@3', NOW_TEXT)] },
    },
    {
      name: 'already accepted: nothing',
      status: { conditions: [w('Accepted=True/Accepted@3')] },
      patch: undefined,
    },
    {
      name: 'accepted at an older generation: observedGeneration moves, time kept',
      status: { conditions: [w('Accepted=True/Accepted@2')] },
      patch: { conditions: [w('Accepted=True/Accepted@3')] },
    },
  ])('$name', ({ status, patch }) => {
    expect(gatewayClassPatch(klass(status), want, NOW)).toEqual(patch);
  });
});

describe('ingressPatch: status.loadBalancer', () => {
  const ingress = (status: unknown) =>
    ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'shop', namespace: 'shop' },
      spec: {},
      ...(status === undefined ? {} : { status }),
    }) as unknown as KubeObject;
  it.each([
    {
      name: 'none yet, an IPv4 address: ip',
      address: '192.0.2.10',
      status: undefined,
      patch: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    },
    {
      name: 'an IPv6 address: ip',
      address: '2001:db8::10',
      status: { loadBalancer: {} },
      patch: { loadBalancer: { ingress: [{ ip: '2001:db8::10' }] } },
    },
    {
      name: 'a DNS name: hostname',
      address: 'edge.example.com',
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
      patch: { loadBalancer: { ingress: [{ hostname: 'edge.example.com' }] } },
    },
    {
      name: 'already published: nothing',
      address: '192.0.2.10',
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
      patch: undefined,
    },
    {
      name: 'another address published before: replaced whole',
      address: '192.0.2.10',
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }, { hostname: 'old' }] } },
      patch: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    },
  ])('$name', ({ address, status, patch }) => {
    expect(ingressPatch(ingress(status), address)).toEqual(patch);
  });
});

describe('stampConditions', () => {
  it('cuts messages at the API limit (32768)', () => {
    const [stamped] = stampConditions([c(ACCEPTED, 'x'.repeat(40_000))], undefined, NOW);
    expect(stamped!.message.length).toBe(32_768);
  });
});
