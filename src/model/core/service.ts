// core/v1 Service, with the API server's defaults and its cross-field checks.
//
// Defaults applied (as the API server does on create): type ClusterIP,
// sessionAffinity None, port protocol TCP, targetPort = port, clusterIPs from
// clusterIP (and back), sessionAffinityConfig.clientIP.timeoutSeconds 10800
// for ClientIP, externalTrafficPolicy Cluster for NodePort/LoadBalancer,
// internalTrafficPolicy Cluster (not for ExternalName),
// allocateLoadBalancerNodePorts true for LoadBalancer. Not defaulted:
// ipFamilies/ipFamilyPolicy, which the API server derives from the cluster's
// configuration; read them with `serviceIPFamilyPolicy`.

import { z } from 'zod';
import {
  cidr,
  dns1123Label,
  intOrStringPort,
  intRange,
  ipAddress,
  isDns1123Subdomain,
  isIP,
  labels,
  list,
  oneOf,
  portNumber,
  uniqueBy,
} from '../fields.ts';
import { kubeObject } from '../meta.ts';

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;
const MAX_CLIENT_IP_TIMEOUT_SECONDS = 86400;

export const protocol = () => oneOf(PROTOCOLS);

export const servicePortSchema = z
  .looseObject({
    name: dns1123Label().optional(),
    protocol: protocol().default('TCP'),
    appProtocol: z.string().optional(),
    port: portNumber(),
    targetPort: intOrStringPort().optional(),
    nodePort: portNumber().optional(),
  })
  .transform((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));

const sessionAffinityConfig = z.looseObject({
  clientIP: z
    .looseObject({
      timeoutSeconds: intRange(1, MAX_CLIENT_IP_TIMEOUT_SECONDS).optional(),
    })
    .optional(),
});

const clusterIPValue = z.string().refine((v) => v === '' || v === 'None' || isIP(v), {
  error: 'must be empty, "None" or a valid IP address',
});

const serviceSpecFields = z.looseObject({
  type: oneOf(SERVICE_TYPES).default('ClusterIP'),
  ports: z.array(servicePortSchema).optional(),
  selector: labels().optional(),
  clusterIP: clusterIPValue.optional(),
  clusterIPs: list(clusterIPValue, 0, 2).optional(),
  externalIPs: z.array(ipAddress()).optional(),
  sessionAffinity: oneOf(['None', 'ClientIP']).default('None'),
  sessionAffinityConfig: sessionAffinityConfig.optional(),
  loadBalancerIP: z
    .string()
    .refine((v) => v === '' || isIP(v), { error: 'must be a valid IP address' })
    .optional(),
  loadBalancerSourceRanges: z.array(cidr()).optional(),
  loadBalancerClass: z.string().optional(),
  externalName: z.string().optional(),
  externalTrafficPolicy: oneOf(['Cluster', 'Local']).optional(),
  internalTrafficPolicy: oneOf(['Cluster', 'Local']).optional(),
  healthCheckNodePort: portNumber().optional(),
  publishNotReadyAddresses: z.boolean().optional(),
  ipFamilies: list(oneOf(['IPv4', 'IPv6']), 0, 2).optional(),
  ipFamilyPolicy: oneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  trafficDistribution: z.string().optional(),
});

type SpecFields = z.output<typeof serviceSpecFields>;

function checkSpec(spec: SpecFields, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const ports = spec.ports ?? [];
  const headless = spec.clusterIP === 'None';

  if (spec.type === 'ExternalName') {
    if (spec.externalName === undefined || spec.externalName === '') {
      issue(['externalName'], 'Required value: an ExternalName Service needs externalName');
    } else if (!isDns1123Subdomain(spec.externalName.replace(/\.$/, ''))) {
      issue(['externalName'], 'must be a DNS name, e.g. db.example.com');
    }
    if (spec.clusterIP !== undefined && spec.clusterIP !== '') {
      issue(['clusterIP'], 'may not be set for ExternalName services');
    }
  } else if (ports.length === 0 && !headless) {
    issue(['ports'], 'Required value: a Service needs at least one port (or clusterIP: None)');
  }

  if (headless && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
    issue(['clusterIP'], `may not be set to "None" for ${spec.type} services`);
  }

  if (ports.length > 1) {
    ports.forEach((p, i) => {
      if (p.name === undefined || p.name === '')
        issue(['ports', i, 'name'], 'Required value: name every port when there is more than one');
    });
  }
  uniqueBy(
    ports,
    (p) => (p.name === undefined || p.name === '' ? undefined : p.name),
    ctx,
    ['ports'],
    (n) => `duplicate port name "${n}"`,
  );
  uniqueBy(
    ports,
    (p) => `${p.port}/${p.protocol}`,
    ctx,
    ['ports'],
    (k) => `duplicate port ${k}`,
  );

  if (spec.type === 'ClusterIP' || spec.type === 'ExternalName') {
    ports.forEach((p, i) => {
      if (p.nodePort !== undefined)
        issue(['ports', i, 'nodePort'], `may not be used when type is '${spec.type}'`);
    });
  }

  const ips = spec.clusterIPs ?? [];
  if (
    ips.length > 0 &&
    spec.clusterIP !== undefined &&
    spec.clusterIP !== '' &&
    ips[0] !== spec.clusterIP
  ) {
    issue(['clusterIPs', 0], 'must match clusterIP');
  }
  ips.forEach((ip, i) => {
    if (ip === '') issue(['clusterIPs', i], 'must not be empty');
    if (ip === 'None' && ips.length > 1) issue(['clusterIPs', i], '"None" must be the only entry');
  });

  if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined) {
    issue(['sessionAffinityConfig'], 'must not be set when sessionAffinity is None');
  }

  const families = spec.ipFamilies ?? [];
  if (families.length === 2 && families[0] === families[1])
    issue(['ipFamilies', 1], `duplicate family ${families[1]}`);
  if (families.length === 2 && spec.ipFamilyPolicy === 'SingleStack') {
    issue(['ipFamilies'], 'may have only one family when ipFamilyPolicy is SingleStack');
  }
}

function applyDefaults(spec: SpecFields) {
  const clusterIP = spec.clusterIP ?? spec.clusterIPs?.[0];
  const clusterIPs =
    spec.clusterIPs !== undefined && spec.clusterIPs.length > 0
      ? spec.clusterIPs
      : clusterIP !== undefined && clusterIP !== ''
        ? [clusterIP]
        : spec.clusterIPs;
  const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const out = { ...spec, ports: spec.ports ?? [] };
  if (clusterIP !== undefined) out.clusterIP = clusterIP;
  if (clusterIPs !== undefined) out.clusterIPs = clusterIPs;
  if (spec.sessionAffinity === 'ClientIP') {
    out.sessionAffinityConfig = {
      ...spec.sessionAffinityConfig,
      clientIP: {
        ...spec.sessionAffinityConfig?.clientIP,
        timeoutSeconds:
          spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
      },
    };
  }
  if (external && out.externalTrafficPolicy === undefined) out.externalTrafficPolicy = 'Cluster';
  if (spec.type !== 'ExternalName' && out.internalTrafficPolicy === undefined)
    out.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && out.allocateLoadBalancerNodePorts === undefined) {
    out.allocateLoadBalancerNodePorts = true;
  }
  return out;
}

export const serviceSpecSchema = serviceSpecFields.superRefine(checkSpec).transform(applyDefaults);

const loadBalancerStatus = z.looseObject({
  ingress: z
    .array(
      z.looseObject({
        ip: ipAddress().optional(),
        hostname: z.string().optional(),
        ipMode: oneOf(['VIP', 'Proxy']).optional(),
        ports: z
          .array(
            z.looseObject({
              port: portNumber(),
              protocol: protocol().default('TCP'),
              error: z.string().optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

export const serviceSchema = kubeObject('Service', 'dns1035-label', {
  spec: serviceSpecSchema.prefault({}),
  status: z.looseObject({ loadBalancer: loadBalancerStatus.optional() }).optional(),
});

export type Service = z.output<typeof serviceSchema>;
export type ServiceSpec = Service['spec'];
export type ServicePort = z.output<typeof servicePortSchema>;
export type Protocol = (typeof PROTOCOLS)[number];
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** A headless Service (clusterIP None): DNS answers with endpoint addresses, no virtual IP. */
export function isHeadless(service: Service): boolean {
  return service.spec.clusterIP === 'None';
}

/** The Service's virtual IPs, without "None" and empty entries. */
export function serviceClusterIPs(service: Service): string[] {
  return (service.spec.clusterIPs ?? []).filter((ip) => ip !== 'None' && ip !== '');
}

/** The IP family policy, SingleStack when unset (the API server's default). */
export function serviceIPFamilyPolicy(
  service: Service,
): 'SingleStack' | 'PreferDualStack' | 'RequireDualStack' {
  return service.spec.ipFamilyPolicy ?? 'SingleStack';
}
