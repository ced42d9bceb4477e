// Which port on an endpoint a Service port reaches.
//
// The EndpointSlice controller has already resolved named targetPorts: a
// slice carries one port per Service port, with the Service port's name and
// protocol and the container's port number (which may differ between slices
// of one Service, when pods name the same port differently). So the answer
// is the slice port with the Service port's name and protocol.

import type { EndpointSlice } from './core/endpoint-slice.ts';
import type { ServicePort } from './core/service.ts';

/**
 * The endpoint port for `servicePort` in `slice`, or undefined when the slice
 * does not serve it. A slice that lists no ports at all (hand-written ones)
 * serves a numeric targetPort as is; a named targetPort needs the slice's port.
 */
export function resolveTargetPort(
  servicePort: ServicePort,
  slice: EndpointSlice,
): number | undefined {
  const name = servicePort.name ?? '';
  const ports = slice.ports ?? [];
  for (const p of ports) {
    if (p.name === name && p.protocol === servicePort.protocol) return p.port;
  }
  if (ports.length === 0 && typeof servicePort.targetPort === 'number')
    return servicePort.targetPort;
  return undefined;
}
