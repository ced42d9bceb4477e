// What the planned ruleset does to the first packet of a connection, as
// packet-flow tables: from, to, port -> the endpoints it may reach (with
// odds), masqueraded or not. Evaluated on the model (evaluate.ts); the real
// kernel is held to the same layout by test/service-proxy.test.ts.
//
// The node is node-1: underlay 192.168.77.1, pod bridge 10.244.1.1, pod
// network 10.244.0.0/16. Pods 10.244.1.x run on node-1, 10.244.2.x on
// node-2, 10.244.3.x on node-3.

import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../../src/model.ts';
import { servicePortsByService } from '../service-ports.ts';
import { type SlicePort, service, slice } from '../testing/objects.ts';
import { buildRuleset, emptyRuleset } from './build.ts';
import { evaluate, type FlowContext } from './evaluate.ts';
import { formatOutcomes, parseFlow } from './flow-notation.ts';
import { affinitySet } from './layout.ts';
import type { LayoutOptions, Ruleset } from './model.ts';

const options: LayoutOptions = {
  table: 'pier_services',
  clusterCidr: '10.244.0.0/16',
  masqueradeBit: 14,
  shards: 256,
};
const node: FlowContext = { nodeAddresses: ['192.168.77.1', '10.244.1.1'] };
const http: SlicePort[] = [{ port: 8080 }];

function rulesetOf(objects: { services: Service[]; slices: EndpointSlice[] }): Ruleset {
  const ports = servicePortsByService(objects.services, objects.slices, { nodeName: 'node-1' });
  return buildRuleset(emptyRuleset(options), ports);
}

type Table = [flow: string, expected: string][];

function check(ruleset: Ruleset, table: Table, ctx: FlowContext = node) {
  for (const [flow, expected] of table) {
    expect(formatOutcomes(evaluate(ruleset, parseFlow(flow), ctx)), flow).toBe(expected);
  }
}

const web = service('web', { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] });
const webSlice = slice('web', ['10.244.2.3 node-2', '10.244.3.3 node-3'], http);

describe('ClusterIP', () => {
  const ruleset = rulesetOf({
    services: [
      web,
      service('empty', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }),
      service('dns', {
        clusterIP: '10.96.0.12',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      }),
      service('three', { clusterIP: '10.96.0.13', ports: [{ port: 80, targetPort: 8080 }] }),
      service('lonely-udp', { clusterIP: '10.96.0.14', ports: [{ port: 514, protocol: 'UDP' }] }),
    ],
    slices: [
      webSlice,
      slice(
        'dns',
        ['10.244.1.7 node-1', '10.244.2.7 node-2'],
        [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      ),
      slice('three', ['10.244.2.4 node-2', '10.244.3.4 node-3', '10.244.3.5 node-3'], http),
    ],
  });

  it('spreads connections evenly over the ready endpoints, without NAT for pods', () => {
    check(ruleset, [
      ['pod 10.244.1.5 -> 10.96.0.10:80/tcp', '10.244.2.3:8080 (1/2), 10.244.3.3:8080 (1/2)'],
      [
        'pod 10.244.1.5 -> 10.96.0.13:80/tcp',
        '10.244.2.4:8080 (1/3), 10.244.3.4:8080 (1/3), 10.244.3.5:8080 (1/3)',
      ],
      ['pod 10.244.2.9 -> 10.96.0.12:53/udp', '10.244.1.7:53 (1/2), 10.244.2.7:53 (1/2)'],
      ['pod 10.244.2.9 -> 10.96.0.12:53/tcp', '10.244.1.7:53 (1/2), 10.244.2.7:53 (1/2)'],
    ]);
  });

  it('masquerades what does not come from the pod network, and a pod reaching itself', () => {
    check(ruleset, [
      [
        'node 192.168.77.1 -> 10.96.0.10:80/tcp',
        'masq 10.244.2.3:8080 (1/2), masq 10.244.3.3:8080 (1/2)',
      ],
      [
        'outside 192.168.77.254 -> 10.96.0.10:80/tcp',
        'masq 10.244.2.3:8080 (1/2), masq 10.244.3.3:8080 (1/2)',
      ],
      // Hairpin: only the branch that lands on the client itself.
      ['pod 10.244.1.7 -> 10.96.0.12:53/udp', '10.244.2.7:53 (1/2), masq 10.244.1.7:53 (1/2)'],
    ]);
  });

  it('rejects at once what it cannot serve', () => {
    check(ruleset, [
      ['pod 10.244.1.5 -> 10.96.0.11:80/tcp', 'reject tcp-reset'],
      ['node 192.168.77.1 -> 10.96.0.11:80/tcp', 'reject tcp-reset'],
      ['pod 10.244.1.5 -> 10.96.0.14:514/udp', 'reject icmp'],
      // A port or protocol the ClusterIP does not serve.
      ['pod 10.244.1.5 -> 10.96.0.10:81/tcp', 'reject icmp'],
      ['pod 10.244.1.5 -> 10.96.0.10:80/udp', 'reject icmp'],
      // Not a Service at all: none of the proxy's business.
      ['pod 10.244.1.5 -> 10.96.0.99:80/tcp', 'untouched'],
      ['pod 10.244.1.5 -> 10.244.2.3:8080/tcp', 'untouched'],
    ]);
  });
});

describe('endpoint conditions', () => {
  const ruleset = rulesetOf({
    services: ['mixed', 'draining', 'gone'].map((name, i) =>
      service(name, { clusterIP: `10.96.1.${i + 1}`, ports: [{ port: 80, targetPort: 8080 }] }),
    ),
    slices: [
      slice(
        'mixed',
        ['10.244.2.3 node-2 terminating', '10.244.3.3 node-3', '10.244.3.4 node-3 notready'],
        http,
      ),
      slice('draining', ['10.244.2.5 node-2 terminating', '10.244.3.5 node-3 terminating'], http),
      slice('gone', ['10.244.2.6 terminating-unserving'], http),
    ],
  });

  it('uses terminating endpoints only when no ready one exists', () => {
    check(ruleset, [
      ['pod 10.244.1.5 -> 10.96.1.1:80/tcp', '10.244.3.3:8080'],
      ['pod 10.244.1.5 -> 10.96.1.2:80/tcp', '10.244.2.5:8080 (1/2), 10.244.3.5:8080 (1/2)'],
      ['pod 10.244.1.5 -> 10.96.1.3:80/tcp', 'reject tcp-reset'],
    ]);
  });
});

describe('NodePort, externalIPs and load balancers', () => {
  const ruleset = rulesetOf({
    services: [
      service('np', {
        type: 'NodePort',
        clusterIP: '10.96.2.1',
        ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }],
      }),
      service('np-local', {
        type: 'NodePort',
        clusterIP: '10.96.2.2',
        externalTrafficPolicy: 'Local',
        ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }],
      }),
      service('np-local-elsewhere', {
        type: 'NodePort',
        clusterIP: '10.96.2.3',
        externalTrafficPolicy: 'Local',
        ports: [{ port: 80, targetPort: 8080, nodePort: 30082 }],
      }),
      service('np-empty', {
        type: 'NodePort',
        clusterIP: '10.96.2.4',
        ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }],
      }),
      service('ext', {
        clusterIP: '10.96.2.5',
        externalIPs: ['192.168.77.100'],
        ports: [{ port: 80, targetPort: 8080 }],
      }),
      service(
        'lb',
        {
          type: 'LoadBalancer',
          clusterIP: '10.96.2.6',
          externalTrafficPolicy: 'Local',
          ports: [{ port: 443, targetPort: 8443, nodePort: 30443 }],
        },
        { loadBalancer: { ingress: [{ ip: '192.168.77.200' }] } },
      ),
    ],
    slices: [
      slice('np', ['10.244.2.3 node-2', '10.244.3.3 node-3'], http),
      slice('np-local', ['10.244.1.8 node-1', '10.244.2.8 node-2'], http),
      slice('np-local-elsewhere', ['10.244.2.9 node-2'], http),
      slice('ext', ['10.244.2.10 node-2'], http),
      slice('lb', ['10.244.1.11 node-1', '10.244.3.11 node-3'], [{ port: 8443 }]),
    ],
  });

  it('answers on every node address, masquerading under the Cluster policy', () => {
    check(ruleset, [
      [
        'outside 192.168.77.254 -> 192.168.77.1:30080/tcp',
        'masq 10.244.2.3:8080 (1/2), masq 10.244.3.3:8080 (1/2)',
      ],
      [
        'outside 10.0.0.7 -> 10.244.1.1:30080/tcp',
        'masq 10.244.2.3:8080 (1/2), masq 10.244.3.3:8080 (1/2)',
      ],
      [
        'pod 10.244.1.5 -> 192.168.77.1:30080/tcp',
        'masq 10.244.2.3:8080 (1/2), masq 10.244.3.3:8080 (1/2)',
      ],
      [
        'node 192.168.77.1 -> 192.168.77.1:30080/tcp',
        'masq 10.244.2.3:8080 (1/2), masq 10.244.3.3:8080 (1/2)',
      ],
      // Only this node's addresses: someone else's 30080 is not ours.
      ['outside 192.168.77.254 -> 192.168.77.2:30080/tcp', 'untouched'],
    ]);
  });

  it('keeps the client address and local endpoints under the Local policy', () => {
    check(ruleset, [
      ['outside 192.168.77.254 -> 192.168.77.1:30081/tcp', '10.244.1.8:8080'],
      ['outside 192.168.77.254 -> 192.168.77.1:30082/tcp', 'drop'],
      // Pods and the node itself take the cluster-wide path (as kube-proxy does).
      ['pod 10.244.1.5 -> 192.168.77.1:30081/tcp', '10.244.1.8:8080 (1/2), 10.244.2.8:8080 (1/2)'],
      ['pod 10.244.1.5 -> 192.168.77.1:30082/tcp', '10.244.2.9:8080'],
      [
        'node 192.168.77.1 -> 192.168.77.1:30081/tcp',
        'masq 10.244.1.8:8080 (1/2), masq 10.244.2.8:8080 (1/2)',
      ],
      // The ClusterIP keeps the internal (Cluster) policy.
      ['pod 10.244.1.5 -> 10.96.2.3:80/tcp', '10.244.2.9:8080'],
    ]);
  });

  it('rejects a NodePort without endpoints', () => {
    check(ruleset, [
      ['outside 192.168.77.254 -> 192.168.77.1:30053/udp', 'reject icmp'],
      ['pod 10.244.1.5 -> 10.96.2.4:53/udp', 'reject icmp'],
    ]);
  });

  it('treats externalIPs and load-balancer IPs as external traffic', () => {
    check(ruleset, [
      ['outside 192.168.77.254 -> 192.168.77.100:80/tcp', 'masq 10.244.2.10:8080'],
      ['outside 192.168.77.254 -> 192.168.77.200:443/tcp', '10.244.1.11:8443'],
      ['outside 192.168.77.254 -> 192.168.77.1:30443/tcp', '10.244.1.11:8443'],
      [
        'pod 10.244.1.5 -> 192.168.77.200:443/tcp',
        '10.244.1.11:8443 (1/2), 10.244.3.11:8443 (1/2)',
      ],
    ]);
  });
});

describe('internalTrafficPolicy Local', () => {
  const ruleset = rulesetOf({
    services: [
      service('itp', {
        clusterIP: '10.96.3.1',
        internalTrafficPolicy: 'Local',
        ports: [{ port: 80, targetPort: 8080 }],
      }),
      service('itp-elsewhere', {
        clusterIP: '10.96.3.2',
        internalTrafficPolicy: 'Local',
        ports: [{ port: 80, targetPort: 8080 }],
      }),
      service('itp-np', {
        type: 'NodePort',
        clusterIP: '10.96.3.3',
        internalTrafficPolicy: 'Local',
        ports: [{ port: 80, targetPort: 8080, nodePort: 30090 }],
      }),
    ],
    slices: [
      slice('itp', ['10.244.1.10 node-1', '10.244.2.10 node-2'], http),
      slice('itp-elsewhere', ['10.244.2.12 node-2'], http),
      slice('itp-np', ['10.244.1.13 node-1', '10.244.2.13 node-2'], http),
    ],
  });

  it('sends ClusterIP traffic to this node’s endpoints only, and drops it when there are none', () => {
    check(ruleset, [
      ['pod 10.244.1.5 -> 10.96.3.1:80/tcp', '10.244.1.10:8080'],
      ['pod 10.244.1.5 -> 10.96.3.2:80/tcp', 'drop'],
      ['pod 10.244.1.5 -> 10.96.3.3:80/tcp', '10.244.1.13:8080'],
      // External traffic keeps the Cluster policy.
      [
        'outside 192.168.77.254 -> 192.168.77.1:30090/tcp',
        'masq 10.244.1.13:8080 (1/2), masq 10.244.2.13:8080 (1/2)',
      ],
    ]);
  });
});

describe('sessionAffinity ClientIP', () => {
  const ruleset = rulesetOf({
    services: [
      service('sticky', {
        clusterIP: '10.96.4.1',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        ports: [{ port: 80, targetPort: 8080 }],
      }),
    ],
    slices: [
      slice('sticky', ['10.244.2.3 node-2', '10.244.3.3 node-3', '10.244.3.4 node-3'], http),
    ],
  });
  const key = 'default/sticky/tcp/80';

  it('spreads new clients evenly and remembers where each went', () => {
    const outcomes = evaluate(ruleset, parseFlow('pod 10.244.1.5 -> 10.96.4.1:80/tcp'), node);
    expect(formatOutcomes(outcomes)).toBe(
      '10.244.2.3:8080 (1/3), 10.244.3.3:8080 (1/3), 10.244.3.4:8080 (1/3)',
    );
    for (const o of outcomes) {
      const [ip, port] = (o.to as string).split(':');
      expect(o.remembered).toEqual([affinitySet(key, ip as string, Number(port))]);
    }
  });

  it('sends a known client back to its endpoint', () => {
    const affinity = new Map([[affinitySet(key, '10.244.3.3', 8080), new Set(['10.244.1.5'])]]);
    check(ruleset, [['pod 10.244.1.5 -> 10.96.4.1:80/tcp', '10.244.3.3:8080']], {
      ...node,
      affinity,
    });
    // Another client is not held by it.
    check(
      ruleset,
      [
        [
          'pod 10.244.1.6 -> 10.96.4.1:80/tcp',
          '10.244.2.3:8080 (1/3), 10.244.3.3:8080 (1/3), 10.244.3.4:8080 (1/3)',
        ],
      ],
      { ...node, affinity },
    );
  });
});

describe('two Services claiming one address and port', () => {
  it('serves the first by name and reports the other', () => {
    const ruleset = rulesetOf({
      services: [
        service('b-second', { clusterIP: '10.96.5.1', ports: [{ port: 80, targetPort: 8080 }] }),
        service('a-first', { clusterIP: '10.96.5.1', ports: [{ port: 80, targetPort: 8080 }] }),
      ],
      slices: [
        slice('a-first', ['10.244.2.3 node-2'], http),
        slice('b-second', ['10.244.3.3 node-3'], http),
      ],
    });
    check(ruleset, [['pod 10.244.1.5 -> 10.96.5.1:80/tcp', '10.244.2.3:8080']]);
    expect(ruleset.fragments.get('default/b-second')?.conflicts).toEqual([
      '10.96.5.1 . tcp . 80 (held by default/a-first)',
    ]);
    expect(ruleset.fragments.get('default/a-first')?.conflicts).toEqual([]);
  });
});
