// Services and EndpointSlices for the proxy's tests and benchmark, written
// short and validated by the real model (defaults filled in as the API
// server fills them). Endpoints are written as they are read aloud:
//
//   '10.244.2.3 node-2'                 ready, on node-2
//   '10.244.2.4 node-3 terminating'     terminating but still serving
//   '10.244.2.5 node-3 notready'        not ready, not serving
//   '10.244.2.6 terminating-unserving'  terminating, no longer serving; node unknown

import {
  type EndpointSlice,
  parseObject,
  SERVICE_NAME_LABEL,
  type Service,
} from '../../../src/model.ts';

function split(ref: string): { namespace: string; name: string } {
  const [namespace, name] = ref.includes('/') ? ref.split('/') : ['default', ref];
  return { namespace: namespace as string, name: name as string };
}

/** A Service `namespace/name` with this spec (and status, for load-balancer IPs). */
export function service(
  ref: string,
  spec: Record<string, unknown>,
  status?: Record<string, unknown>,
): Service {
  const { namespace, name } = split(ref);
  return parseObject({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec,
    ...(status === undefined ? {} : { status }),
  }) as Service;
}

export interface SlicePort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** An EndpointSlice of Service `namespace/name`. */
export function slice(
  ref: string,
  endpoints: readonly string[],
  ports: readonly SlicePort[],
  sliceName?: string,
): EndpointSlice {
  const { namespace, name } = split(ref);
  return parseObject({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace,
      name: sliceName ?? `${name}-abcde`,
      labels: { [SERVICE_NAME_LABEL]: name },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map(endpoint),
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
  }) as EndpointSlice;
}

function endpoint(text: string): Record<string, unknown> {
  const [address, ...words] = text.trim().split(/\s+/);
  const out: Record<string, unknown> = { addresses: [address] };
  const conditions: Record<string, boolean> = {};
  for (const word of words) {
    if (word === 'notready') Object.assign(conditions, { ready: false, serving: false });
    else if (word === 'terminating')
      Object.assign(conditions, { ready: false, serving: true, terminating: true });
    else if (word === 'terminating-unserving')
      Object.assign(conditions, { ready: false, serving: false, terminating: true });
    else out.nodeName = word;
  }
  if (Object.keys(conditions).length > 0) out.conditions = conditions;
  return out;
}
