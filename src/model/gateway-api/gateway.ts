// gateway.networking.k8s.io Gateway (v1, also v1beta1): listeners, what routes
// may attach to them, and the addresses the Gateway is reached on.
//
// Defaults applied (the CRD's): listener tls.mode Terminate; allowedRoutes
// {namespaces: {from: Same}}; allowedRoutes.kinds[].group
// gateway.networking.k8s.io; certificateRefs group "" and kind Secret; address
// type IPAddress. The CRD's listener rules are checked: unique names, unique
// port/protocol/hostname, no tls on HTTP/TCP/UDP, Terminate for HTTPS, an
// explicit mode for TLS, no hostname on TCP/UDP. spec.tls.backend's
// clientCertificateRef defaults as certificateRefs do.

import { z } from 'zod';
import { isIP, labelSelector, list, oneOf, portNumber, text } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import {
  GATEWAY_GROUP,
  group,
  hostname,
  kind,
  namespaceName,
  objectName,
  secretObjectReferenceSchema,
  sectionName,
} from './shared.ts';

const PROTOCOL =
  /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;

/** The core protocols; the CRD also admits domain-prefixed ones (`example.com/proto`). */
export const CORE_PROTOCOLS = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'] as const;
export type CoreProtocol = (typeof CORE_PROTOCOLS)[number];
/** A listener protocol: one of the core ones, or an implementation-specific `domain/name`. */
export type ProtocolType = CoreProtocol | (string & {});

const protocolType = () =>
  text(1, 255).refine((v) => PROTOCOL.test(v), {
    error: 'must be HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed protocol (example.com/proto)',
  }) as z.ZodType<ProtocolType, string>;

const tlsConfig = z
  .looseObject({
    // No schema default here: the listener checks whether the user wrote a mode, then defaults it.
    mode: oneOf(['Terminate', 'Passthrough']).optional(),
    certificateRefs: list(secretObjectReferenceSchema, 0, 64).optional(),
    options: z.record(z.string(), text(0, 4096)).optional(),
    frontendValidation: z.looseObject({}).optional(),
  })
  .superRefine((tls, ctx) => {
    if (Object.keys(tls.options ?? {}).length > 16) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'must have at most 16 entries' });
    }
  });

const allowedRoutes = z.looseObject({
  namespaces: z
    .looseObject({
      from: oneOf(['All', 'Selector', 'Same']).default('Same'),
      selector: labelSelector().optional(),
    })
    .superRefine((ns, ctx) => {
      if (ns.from === 'Selector' && ns.selector === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['selector'],
          message: 'Required value: selector must be specified when from is Selector',
        });
      }
    })
    .prefault({}),
  kinds: list(
    z.looseObject({ group: group().default(GATEWAY_GROUP), kind: kind() }),
    0,
    8,
  ).optional(),
});

const listenerFields = z.looseObject({
  name: sectionName(),
  hostname: hostname().optional(),
  port: portNumber(),
  protocol: protocolType(),
  tls: tlsConfig.optional(),
  allowedRoutes: allowedRoutes.prefault({}),
});

export const listenerSchema = listenerFields
  .superRefine((l, ctx) => {
    const issue = (path: string[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (
      (l.protocol === 'HTTP' || l.protocol === 'TCP' || l.protocol === 'UDP') &&
      l.tls !== undefined
    ) {
      issue(['tls'], `tls must not be specified for protocol ${l.protocol}`);
    }
    if (l.protocol === 'HTTPS' && l.tls?.mode === 'Passthrough') {
      issue(['tls', 'mode'], 'tls mode must be Terminate for protocol HTTPS');
    }
    if (l.protocol === 'TLS' && l.tls?.mode === undefined) {
      issue(['tls', 'mode'], 'Required value: tls mode must be set for protocol TLS');
    }
    if ((l.protocol === 'TCP' || l.protocol === 'UDP') && l.hostname !== undefined) {
      issue(['hostname'], `hostname must not be specified for protocol ${l.protocol}`);
    }
    const mode = l.tls?.mode ?? 'Terminate';
    if (
      l.tls !== undefined &&
      mode === 'Terminate' &&
      (l.tls.certificateRefs?.length ?? 0) === 0 &&
      Object.keys(l.tls.options ?? {}).length === 0
    ) {
      issue(
        ['tls', 'certificateRefs'],
        'Required value: certificateRefs or options must be specified when mode is Terminate',
      );
    }
  })
  .transform((l) =>
    l.tls === undefined
      ? l
      : { ...l, tls: { ...l.tls, mode: l.tls.mode ?? ('Terminate' as const) } },
  );

const ADDRESS_TYPE =
  /^IPAddress|Hostname|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

const gatewayAddress = z
  .looseObject({
    type: text(1, 253)
      .refine((v) => ADDRESS_TYPE.test(v), {
        error: 'must be IPAddress, Hostname, NamedAddress or a domain-prefixed type',
      })
      .default('IPAddress'),
    value: text(1, 253).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.type === 'IPAddress' && a.value !== undefined && !isIP(a.value)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'value must be an IP address' });
    }
    if (
      a.type === 'Hostname' &&
      a.value !== undefined &&
      !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(a.value)
    ) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'value must be a hostname' });
    }
  });

const infrastructure = z.looseObject({
  labels: z.record(z.string(), text(0, 63)).optional(),
  annotations: z.record(z.string(), text(0, 4096)).optional(),
  parametersRef: z.looseObject({ group: group(), kind: kind(), name: objectName() }).optional(),
});

/** A frontend validation's CA reference (core ObjectReference: a ConfigMap holding ca.crt). */
const caCertificateRef = z.looseObject({
  group: group(),
  kind: kind(),
  name: objectName(),
  namespace: namespaceName().optional(),
});

/** Client certificate validation at HTTPS listeners (mutual TLS from clients). */
const frontendTlsConfig = z.looseObject({
  validation: z
    .looseObject({
      caCertificateRefs: list(caCertificateRef, 1, 8),
      mode: oneOf(['AllowValidOnly', 'AllowInsecureFallback']).default('AllowValidOnly'),
    })
    .optional(),
});

/**
 * spec.tls: `backend.clientCertificateRef`, the certificate the Gateway
 * presents to backends that ask for one (mutual TLS, with BackendTLSPolicy);
 * `frontend`, the client certificates its HTTPS listeners ask for and
 * check (`default`, or `perPort` for the listeners on one port).
 */
const gatewayTls = z.looseObject({
  backend: z
    .looseObject({ clientCertificateRef: secretObjectReferenceSchema.optional() })
    .optional(),
  frontend: z
    .looseObject({
      default: frontendTlsConfig,
      perPort: list(z.looseObject({ port: portNumber(), tls: frontendTlsConfig }), 0, 64)
        .superRefine((entries, ctx) => {
          const seen = new Set<number>();
          entries.forEach((entry, i) => {
            if (seen.has(entry.port))
              ctx.addIssue({
                code: 'custom',
                path: [i],
                message: 'Port for TLS configuration must be unique within the Gateway',
              });
            seen.add(entry.port);
          });
        })
        .optional(),
    })
    .optional(),
});

export const gatewaySpecSchema = z
  .looseObject({
    gatewayClassName: objectName(),
    listeners: list(listenerSchema, 1, 64),
    addresses: list(gatewayAddress, 0, 16).optional(),
    infrastructure: infrastructure.optional(),
    tls: gatewayTls.optional(),
  })
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    const combos = new Set<string>();
    spec.listeners.forEach((l, i) => {
      if (names.has(l.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'name'],
          message: 'Listener name must be unique within the Gateway',
        });
      }
      names.add(l.name);
      const combo = `${l.port}/${l.protocol}/${l.hostname ?? ''}`;
      if (combos.has(combo)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i],
          message: 'Combination of port, protocol and hostname must be unique for each listener',
        });
      }
      combos.add(combo);
    });
    const addresses = new Set<string>();
    spec.addresses?.forEach((a, i) => {
      if (a.value === undefined) return;
      const key = `${a.type}/${a.value}`;
      if (addresses.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['addresses', i],
          message: 'IPAddress values must be unique',
        });
      addresses.add(key);
    });
  });

export const gatewaySchema = kubeObject('Gateway', 'dns1123-subdomain', {
  spec: gatewaySpecSchema,
  status: z.looseObject({}).optional(),
});

export type Gateway = z.output<typeof gatewaySchema>;
export type GatewaySpec = Gateway['spec'];
export type Listener = z.output<typeof listenerSchema>;
export type ListenerTLSConfig = NonNullable<Listener['tls']>;
export type AllowedRoutes = Listener['allowedRoutes'];
export type GatewayAddress = NonNullable<GatewaySpec['addresses']>[number];
