import { describe, expect, it } from 'vitest';
import { checkCase, type ModelCase } from '../test-table.ts';
import { validateObject } from '../validate.ts';
import { isHeadless, type Service, serviceClusterIPs, serviceIPFamilyPolicy } from './service.ts';

const cases: ModelCase[] = [
  {
    name: 'a minimal Service gets the API server defaults',
    yaml: `
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
`,
    accepted: {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        type: 'ClusterIP',
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      },
    },
    absent: [
      'spec.externalTrafficPolicy',
      'spec.sessionAffinityConfig',
      'spec.clusterIPs',
      'spec.ipFamilyPolicy',
    ],
  },
  {
    name: 'a named targetPort and UDP are kept',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: kube-system}
spec:
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: dns}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 5353, appProtocol: kubernetes.io/h2c}
`,
    accepted: {
      metadata: { namespace: 'kube-system' },
      spec: {
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
          {
            name: 'dns-tcp',
            port: 53,
            protocol: 'TCP',
            targetPort: 5353,
            appProtocol: 'kubernetes.io/h2c',
          },
        ],
      },
    },
  },
  {
    name: 'clusterIP fills clusterIPs',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.10
  ports: [{port: 80}]
`,
    accepted: { spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] } },
  },
  {
    name: 'clusterIPs fills clusterIP (dual stack)',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIPs: [10.96.0.10, "fd00::a"]
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 80}]
`,
    accepted: {
      spec: {
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10', 'fd00::a'],
        ipFamilies: ['IPv4', 'IPv6'],
        ipFamilyPolicy: 'RequireDualStack',
      },
    },
  },
  {
    name: 'a headless Service needs no ports',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  publishNotReadyAddresses: true
`,
    accepted: {
      spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [], publishNotReadyAddresses: true },
    },
  },
  {
    name: 'ClientIP affinity gets the 10800 s timeout',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  sessionAffinity: ClientIP
  ports: [{port: 80}]
`,
    accepted: {
      spec: {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      },
    },
  },
  {
    name: 'a ClientIP timeout that is set is kept',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{port: 80}]
`,
    accepted: { spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } },
  },
  {
    name: 'NodePort gets externalTrafficPolicy Cluster',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: 30080}]
`,
    accepted: {
      spec: { type: 'NodePort', externalTrafficPolicy: 'Cluster', ports: [{ nodePort: 30080 }] },
    },
    absent: ['spec.allocateLoadBalancerNodePorts'],
  },
  {
    name: 'LoadBalancer keeps Local and its status, allocates node ports',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  loadBalancerIP: 203.0.113.7
  loadBalancerSourceRanges: [198.51.100.0/24]
  externalIPs: [192.0.2.1]
  ports: [{port: 443}]
status:
  loadBalancer:
    ingress:
    - ip: 203.0.113.7
      ipMode: VIP
`,
    accepted: {
      spec: {
        externalTrafficPolicy: 'Local',
        allocateLoadBalancerNodePorts: true,
        loadBalancerIP: '203.0.113.7',
      },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.7', ipMode: 'VIP' }] } },
    },
  },
  {
    name: 'ExternalName needs no ports and gets no internalTrafficPolicy',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: ExternalName
  externalName: db.example.com
`,
    accepted: { spec: { type: 'ExternalName', externalName: 'db.example.com', ports: [] } },
    absent: ['spec.internalTrafficPolicy'],
  },
  {
    name: 'unknown fields pass through untouched',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app.kubernetes.io/name: web}}
spec:
  ports: [{port: 80, futureField: {a: 1}}]
  somethingNew: true
extra: [1, 2]
`,
    accepted: { extra: [1, 2], spec: { somethingNew: true, ports: [{ futureField: { a: 1 } }] } },
  },
  // rejected
  {
    name: 'port 0',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 0}]
`,
    rejected: { path: 'spec.ports[0].port', message: 'must be an integer from 1 to 65535' },
  },
  {
    name: 'a fractional port',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80.5}]
`,
    rejected: { path: 'spec.ports[0].port', message: 'must be an integer from 1 to 65535' },
  },
  {
    name: 'a port written as a string',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: "80"}]
`,
    rejected: { path: 'spec.ports[0].port', message: 'must be an integer from 1 to 65535' },
  },
  {
    name: 'a missing port',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: http}]
`,
    rejected: { path: 'spec.ports[0].port', message: 'Required value' },
  },
  {
    name: 'targetPort out of range',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80, targetPort: 70000}]
`,
    rejected: { path: 'spec.ports[0].targetPort', message: 'must be an integer from 1 to 65535' },
  },
  {
    name: 'targetPort name that is not an IANA service name',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80, targetPort: http_alt}]
`,
    rejected: {
      path: 'spec.ports[0].targetPort',
      message: 'must be a port number from 1 to 65535 or a port name',
    },
  },
  {
    name: 'protocol HTTP',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80, protocol: HTTP}]
`,
    rejected: {
      path: 'spec.ports[0].protocol',
      message: 'unsupported value "HTTP": must be one of TCP, UDP, SCTP',
    },
  },
  {
    name: 'unknown type',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: Internal
  ports: [{port: 80}]
`,
    rejected: {
      path: 'spec.type',
      message:
        'unsupported value "Internal": must be one of ClusterIP, NodePort, LoadBalancer, ExternalName',
    },
  },
  {
    name: 'no ports on a ClusterIP Service',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
`,
    rejected: {
      path: 'spec.ports',
      message: 'Required value: a Service needs at least one port (or clusterIP: None)',
    },
  },
  {
    name: 'two ports, one unnamed',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: http, port: 80}, {port: 443}]
`,
    rejected: {
      path: 'spec.ports[1].name',
      message: 'Required value: name every port when there is more than one',
    },
  },
  {
    name: 'duplicate port names',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: http, port: 80}, {name: http, port: 8080}]
`,
    rejected: { path: 'spec.ports[1]', message: 'duplicate port name "http"' },
  },
  {
    name: 'duplicate port and protocol',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: a, port: 80}, {name: b, port: 80}]
`,
    rejected: { path: 'spec.ports[1]', message: 'duplicate port 80/TCP' },
  },
  {
    name: 'nodePort on a ClusterIP Service',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80, nodePort: 30080}]
`,
    rejected: {
      path: 'spec.ports[0].nodePort',
      message: "may not be used when type is 'ClusterIP'",
    },
  },
  {
    name: 'ExternalName without externalName',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: ExternalName
`,
    rejected: {
      path: 'spec.externalName',
      message: 'Required value: an ExternalName Service needs externalName',
    },
  },
  {
    name: 'ExternalName with a clusterIP',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: ExternalName
  externalName: db.example.com
  clusterIP: 10.96.0.5
`,
    rejected: { path: 'spec.clusterIP', message: 'may not be set for ExternalName services' },
  },
  {
    name: 'a clusterIP that is no IP',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.300
  ports: [{port: 80}]
`,
    rejected: { path: 'spec.clusterIP', message: 'must be empty, "None" or a valid IP address' },
  },
  {
    name: 'clusterIPs that disagree with clusterIP',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.11]
  ports: [{port: 80}]
`,
    rejected: { path: 'spec.clusterIPs[0]', message: 'must match clusterIP' },
  },
  {
    name: 'headless NodePort',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  clusterIP: None
  ports: [{port: 80}]
`,
    rejected: { path: 'spec.clusterIP', message: 'may not be set to "None" for NodePort services' },
  },
  {
    name: 'affinity config with affinity None',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  ports: [{port: 80}]
`,
    rejected: {
      path: 'spec.sessionAffinityConfig',
      message: 'must not be set when sessionAffinity is None',
    },
  },
  {
    name: 'a ClientIP timeout over a day',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}
  ports: [{port: 80}]
`,
    rejected: {
      path: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
      message: 'must be an integer from 1 to 86400',
    },
  },
  {
    name: 'two families with SingleStack',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv4, IPv6]
  ports: [{port: 80}]
`,
    rejected: {
      path: 'spec.ipFamilies',
      message: 'may have only one family when ipFamilyPolicy is SingleStack',
    },
  },
  {
    name: 'a Service name that does not start with a letter',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: 1web}
spec:
  ports: [{port: 80}]
`,
    rejected: {
      path: 'metadata.name',
      message:
        "must be a DNS-1035 label: at most 63 lowercase alphanumerics or '-', starting with a letter and ending with an alphanumeric",
    },
  },
  {
    name: 'an invalid selector value',
    yaml: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: "-web"}
  ports: [{port: 80}]
`,
    rejected: {
      path: 'spec.selector.app',
      message:
        "invalid value \"-web\": must be empty or consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric",
    },
  },
];

describe('Service', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });

  it('names the object and the first problems in the message', () => {
    const result = validateObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 0 }] },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toBe(
      'Service default/web: spec.ports[0].port: must be an integer from 1 to 65535',
    );
    expect(result.error.kind).toBe('Service');
    expect(result.error.namespace).toBe('default');
    expect(result.error.objectName).toBe('web');
  });

  it('tells headless Services and their virtual IPs apart', () => {
    const parse = (spec: object) => {
      const r = validateObject({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 's' },
        spec,
      });
      if (!r.ok) throw r.error;
      return r.object as Service;
    };
    const headless = parse({ clusterIP: 'None' });
    const dual = parse({ clusterIPs: ['10.96.0.1', 'fd00::1'], ports: [{ port: 80 }] });
    expect(isHeadless(headless)).toBe(true);
    expect(serviceClusterIPs(headless)).toEqual([]);
    expect(isHeadless(dual)).toBe(false);
    expect(serviceClusterIPs(dual)).toEqual(['10.96.0.1', 'fd00::1']);
    expect(serviceIPFamilyPolicy(dual)).toBe('SingleStack');
  });
});
