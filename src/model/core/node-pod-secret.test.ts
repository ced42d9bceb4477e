import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { checkCase, type ModelCase, parseYaml } from '../test-table.ts';
import { validateObject } from '../validate.ts';
import { type Node, nodeAddress } from './node.ts';
import { type Pod, podIPs } from './pod.ts';
import { type Secret, secretValue, tlsKeyPair } from './secret.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const cases: ModelCase[] = [
  {
    name: 'Node: podCIDR fills podCIDRs; cluster-scoped, so its namespace is dropped',
    yaml: `
apiVersion: v1
kind: Node
metadata: {name: node-1.example.internal, namespace: default}
spec:
  podCIDR: 10.244.1.0/24
status:
  addresses:
  - {type: InternalIP, address: 192.168.0.11}
  - {type: Hostname, address: node-1}
`,
    accepted: { spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] } },
    absent: ['metadata.namespace'],
  },
  {
    name: 'Node: dual-stack podCIDRs fill podCIDR',
    yaml: `
apiVersion: v1
kind: Node
metadata: {name: node-2}
spec:
  podCIDRs: [10.244.2.0/24, "fd00:10:244:2::/64"]
`,
    accepted: {
      spec: { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24', 'fd00:10:244:2::/64'] },
    },
  },
  {
    name: 'Node: a podCIDR that is no CIDR',
    yaml: `
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec:
  podCIDR: 10.244.1.0/33
`,
    rejected: {
      path: 'spec.podCIDR',
      message: 'must be a valid CIDR, e.g. 10.244.0.0/24 or fd00::/64',
    },
  },
  {
    name: 'Node: an unknown address type',
    yaml: `
apiVersion: v1
kind: Node
metadata: {name: node-1}
status:
  addresses: [{type: PublicIP, address: 1.2.3.4}]
`,
    rejected: {
      path: 'status.addresses[0].type',
      message:
        'unsupported value "PublicIP": must be one of Hostname, InternalIP, ExternalIP, InternalDNS, ExternalDNS',
    },
  },
  {
    name: 'Pod: podIP fills podIPs; containers pass through',
    yaml: `
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop}
spec:
  hostname: web-0
  subdomain: web
  nodeName: node-1
  containers: [{name: app, image: nginx, ports: [{containerPort: 80, name: http}]}]
status:
  phase: Running
  podIP: 10.244.1.5
`,
    accepted: {
      metadata: { namespace: 'shop' },
      spec: { hostname: 'web-0', subdomain: 'web', containers: [{ name: 'app', image: 'nginx' }] },
      status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] },
    },
  },
  {
    name: 'Pod: a hostname that is no DNS label',
    yaml: `
apiVersion: v1
kind: Pod
metadata: {name: web-0}
spec: {hostname: Web_0}
`,
    rejected: {
      path: 'spec.hostname',
      message:
        "must be a DNS label: at most 63 lowercase alphanumerics or '-', starting and ending with an alphanumeric",
    },
  },
  {
    name: 'Pod: an unknown phase',
    yaml: `
apiVersion: v1
kind: Pod
metadata: {name: web-0}
status: {phase: Done}
`,
    rejected: {
      path: 'status.phase',
      message:
        'unsupported value "Done": must be one of Pending, Running, Succeeded, Failed, Unknown',
    },
  },
  {
    name: 'Namespace: cluster-scoped, a DNS label',
    yaml: `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`,
    accepted: { metadata: { name: 'shop' } },
    absent: ['metadata.namespace'],
  },
  {
    name: 'Namespace: a dotted name is not a label',
    yaml: `
apiVersion: v1
kind: Namespace
metadata: {name: shop.prod}
`,
    rejected: {
      path: 'metadata.name',
      message:
        "must be a DNS label: at most 63 lowercase alphanumerics or '-', starting and ending with an alphanumeric",
    },
  },
  {
    name: 'Secret: type defaults to Opaque',
    yaml: `
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: ${b64('hunter2')}}
`,
    accepted: { type: 'Opaque', data: { password: b64('hunter2') } },
  },
  {
    name: 'Secret: stringData is merged into data, encoded, and wins',
    yaml: `
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {user: ${b64('old')}, keep: ${b64('k')}}
stringData: {user: admin}
`,
    accepted: { data: { user: b64('admin'), keep: b64('k') } },
    absent: ['stringData'],
  },
  {
    name: 'Secret: a TLS Secret with both keys',
    yaml: `
apiVersion: v1
kind: Secret
metadata: {name: web-tls}
type: kubernetes.io/tls
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----"
  tls.key: "-----BEGIN PRIVATE KEY-----"
`,
    accepted: {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64('-----BEGIN CERTIFICATE-----') },
    },
  },
  {
    name: 'Secret: a TLS Secret without its key',
    yaml: `
apiVersion: v1
kind: Secret
metadata: {name: web-tls}
type: kubernetes.io/tls
data: {tls.crt: ${b64('cert')}}
`,
    rejected: {
      path: 'data[tls.key]',
      message: 'Required value: a kubernetes.io/tls Secret must carry tls.key',
    },
  },
  {
    name: 'Secret: data that is not base64',
    yaml: `
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: hunter2!}
`,
    rejected: {
      path: 'data.password',
      message: 'must be base64-encoded (use stringData for plain text)',
    },
  },
  {
    name: 'Secret: a key with a slash',
    yaml: `
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {a/b: x}
`,
    rejected: {
      path: 'stringData[a/b]',
      message:
        "invalid key: must consist of alphanumerics, '-', '_' or '.', at most 253 characters",
    },
  },
];

function valid<T>(yaml: string): T {
  const result = validateObject(parseYaml(yaml));
  if (!result.ok) throw result.error;
  return result.object as T;
}

describe('Node, Pod, Namespace, Secret', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });

  it('reads a node address by type', () => {
    const node = valid<Node>(`
apiVersion: v1
kind: Node
metadata: {name: n}
status:
  addresses: [{type: Hostname, address: n}, {type: InternalIP, address: 192.168.0.11}]
`);
    expect(nodeAddress(node)).toBe('192.168.0.11');
    expect(nodeAddress(node, 'Hostname')).toBe('n');
    expect(nodeAddress(node, 'ExternalIP')).toBeUndefined();
  });

  it("reads a pod's IPs, none before it has one", () => {
    const running = valid<Pod>(
      '{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}}',
    );
    const pending = valid<Pod>(
      '{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Pending}}',
    );
    expect(podIPs(running)).toEqual(['10.0.0.1', 'fd00::1']);
    expect(podIPs(pending)).toEqual([]);
  });

  it('decodes a TLS key pair', () => {
    const secret = valid<Secret>(`
apiVersion: v1
kind: Secret
metadata: {name: t}
type: kubernetes.io/tls
data: {tls.crt: ${b64('CERT')}, tls.key: ${b64('KEY')}}
`);
    const pair = tlsKeyPair(secret);
    expect(pair?.cert.toString()).toBe('CERT');
    expect(pair?.key.toString()).toBe('KEY');
    expect(secretValue(secret, 'missing')).toBeUndefined();
  });
});
