// discovery.k8s.io/v1 EndpointSlice: the endpoints of a Service, linked to it by
// the `kubernetes.io/service-name` label.
//
// Defaults applied (as the API server does): port protocol TCP, port name "".
// Endpoint conditions are not defaulted: an unset `ready` means "unknown",
// which consumers treat as ready; read them with `isEndpointReady` and friends
// so every component interprets them the same way.

import { z } from 'zod';
import {
  dns1123Label,
  dns1123Subdomain,
  isDns1123Subdomain,
  isIPv4,
  isIPv6,
  list,
  objectReference,
  oneOf,
  portNumber,
  uniqueBy,
} from '../fields.ts';
import { kubeObject } from '../meta.ts';
import { protocol } from './service.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 100;

const endpointSchema = z.looseObject({
  addresses: list(z.string(), 1, MAX_ADDRESSES),
  conditions: z
    .looseObject({
      ready: z.boolean().optional(),
      serving: z.boolean().optional(),
      terminating: z.boolean().optional(),
    })
    .optional(),
  hostname: dns1123Label().optional(),
  targetRef: objectReference().optional(),
  nodeName: dns1123Subdomain().optional(),
  zone: z.string().optional(),
  hints: z
    .looseObject({
      forZones: z.array(z.looseObject({ name: z.string() })).optional(),
      forNodes: z.array(z.looseObject({ name: z.string() })).optional(),
    })
    .optional(),
  deprecatedTopology: z.record(z.string(), z.string()).optional(),
});

const endpointPortSchema = z.looseObject({
  name: z
    .string()
    .refine((n) => n === '' || (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) && n.length <= 63), {
      error: 'must be empty or a DNS label',
    })
    .default(''),
  protocol: protocol().default('TCP'),
  port: portNumber().optional(),
  appProtocol: z.string().optional(),
});

const ADDRESS_CHECKS = {
  IPv4: { check: isIPv4, message: 'must be a valid IPv4 address' },
  IPv6: { check: isIPv6, message: 'must be a valid IPv6 address' },
  FQDN: { check: isDns1123Subdomain, message: 'must be a valid FQDN (a DNS subdomain)' },
} as const;

export const endpointSliceSchema = kubeObject('EndpointSlice', 'dns1123-subdomain', {
  addressType: oneOf(['IPv4', 'IPv6', 'FQDN']),
  endpoints: list(endpointSchema, 0, MAX_ENDPOINTS),
  ports: list(endpointPortSchema, 0, MAX_PORTS).optional(),
}).superRefine((slice, ctx) => {
  const { check, message } = ADDRESS_CHECKS[slice.addressType];
  slice.endpoints.forEach((ep, i) => {
    ep.addresses.forEach((address, j) => {
      if (!check(address))
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'addresses', j], message });
    });
  });
  uniqueBy(
    slice.ports,
    (p) => p.name,
    ctx,
    ['ports'],
    (n) => `duplicate port name "${n}"`,
  );
});

export type EndpointSlice = z.output<typeof endpointSliceSchema>;
export type Endpoint = EndpointSlice['endpoints'][number];
export type EndpointPort = NonNullable<EndpointSlice['ports']>[number];
export type AddressType = EndpointSlice['addressType'];

/** The Service this slice belongs to (its `kubernetes.io/service-name` label), or undefined. */
export function serviceNameOfSlice(slice: EndpointSlice): string | undefined {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name === undefined || name === '' ? undefined : name;
}

/** Ready: unset means unknown, which consumers treat as ready (the Kubernetes contract). */
export function isEndpointReady(endpoint: Endpoint): boolean {
  return endpoint.conditions?.ready ?? true;
}

/** Serving: unset falls back to ready (older producers never set serving). */
export function isEndpointServing(endpoint: Endpoint): boolean {
  return endpoint.conditions?.serving ?? isEndpointReady(endpoint);
}

/** Terminating: unset means not terminating. */
export function isEndpointTerminating(endpoint: Endpoint): boolean {
  return endpoint.conditions?.terminating ?? false;
}
