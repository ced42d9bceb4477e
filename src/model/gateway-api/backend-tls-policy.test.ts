import { describe, it } from 'vitest';
import { checkCase, type ModelCase } from '../test-table.ts';

const GW = 'gateway.networking.k8s.io';

const policy = (validation: string, targetRefs = '[{group: "", kind: Service, name: web}]') => `
apiVersion: ${GW}/v1
kind: BackendTLSPolicy
metadata: {name: web-tls, namespace: shop}
spec:
  targetRefs: ${targetRefs}
  validation: ${validation}
`;

const cases: ModelCase[] = [
  {
    name: 'BackendTLSPolicy: a ConfigMap CA and a hostname',
    yaml: policy(
      '{caCertificateRefs: [{group: "", kind: ConfigMap, name: web-ca}], hostname: web.shop.svc}',
    ),
    accepted: {
      spec: {
        targetRefs: [{ group: '', kind: 'Service', name: 'web' }],
        validation: {
          caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'web-ca' }],
          hostname: 'web.shop.svc',
        },
      },
    },
  },
  {
    name: 'BackendTLSPolicy: v1alpha3, the system CAs, one port by sectionName, SANs of both types',
    yaml: `
apiVersion: ${GW}/v1alpha3
kind: BackendTLSPolicy
metadata: {name: web-tls}
spec:
  targetRefs: [{group: "", kind: Service, name: web, sectionName: https}]
  validation:
    wellKnownCACertificates: System
    hostname: web.example.com
    subjectAltNames:
    - {type: Hostname, hostname: "*.example.com"}
    - {type: URI, uri: "spiffe://cluster.local/ns/shop/sa/web"}
`,
    accepted: {
      spec: {
        targetRefs: [{ sectionName: 'https' }],
        validation: { wellKnownCACertificates: 'System' },
      },
    },
  },
  {
    name: 'BackendTLSPolicy: neither CA refs nor well-known CAs',
    yaml: policy('{hostname: web.shop.svc}'),
    rejected: {
      path: 'spec.validation',
      message: 'must specify either CACertificateRefs or WellKnownCACertificates',
    },
  },
  {
    name: 'BackendTLSPolicy: both CA refs and well-known CAs',
    yaml: policy(
      '{caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], wellKnownCACertificates: System, hostname: web.shop.svc}',
    ),
    rejected: {
      path: 'spec.validation',
      message: 'must not contain both CACertificateRefs and WellKnownCACertificates',
    },
  },
  {
    name: 'BackendTLSPolicy: a well-known CA set the CRD does not list',
    yaml: policy('{wellKnownCACertificates: Mozilla, hostname: web.shop.svc}'),
    rejected: {
      path: 'spec.validation.wellKnownCACertificates',
      message: 'unsupported value "Mozilla": must be one of System',
    },
  },
  {
    name: 'BackendTLSPolicy: the hostname is a precise DNS name (no wildcard, no IP-like port)',
    yaml: policy('{wellKnownCACertificates: System, hostname: "*.shop.svc"}'),
    rejected: {
      path: 'spec.validation.hostname',
      message: 'must be a lowercase DNS name, e.g. www.example.com',
    },
  },
  {
    name: 'BackendTLSPolicy: a Hostname SAN without a hostname',
    yaml: policy(
      '{wellKnownCACertificates: System, hostname: web.shop.svc, subjectAltNames: [{type: Hostname}]}',
    ),
    rejected: {
      path: 'spec.validation.subjectAltNames[0].hostname',
      message: 'required when type is Hostname',
    },
  },
  {
    name: 'BackendTLSPolicy: a URI SAN that carries a hostname too',
    yaml: policy(
      '{wellKnownCACertificates: System, hostname: web.shop.svc, subjectAltNames: [{type: URI, uri: "spiffe://a/b", hostname: web}]}',
    ),
    rejected: {
      path: 'spec.validation.subjectAltNames[0].hostname',
      message: 'only allowed when type is Hostname',
    },
  },
  {
    name: 'BackendTLSPolicy: a URI SAN without a scheme',
    yaml: policy(
      '{wellKnownCACertificates: System, hostname: web.shop.svc, subjectAltNames: [{type: URI, uri: "cluster.local/ns/a"}]}',
    ),
    rejected: {
      path: 'spec.validation.subjectAltNames[0].uri',
      message: 'must be an absolute URI with a scheme, e.g. spiffe://cluster.local/ns/a/sa/b',
    },
  },
  {
    name: 'BackendTLSPolicy: the same target twice without distinct sectionNames',
    yaml: policy(
      '{wellKnownCACertificates: System, hostname: web.shop.svc}',
      '[{group: "", kind: Service, name: web}, {group: "", kind: Service, name: web}]',
    ),
    rejected: {
      path: 'spec.targetRefs[1]',
      message:
        'sectionName must be unique when targetRefs includes 2 or more references to the same target',
    },
  },
  {
    name: 'ConfigMap: data and binaryData',
    yaml: `
apiVersion: v1
kind: ConfigMap
metadata: {name: web-ca, namespace: shop}
data: {ca.crt: "-----BEGIN CERTIFICATE-----\\n"}
binaryData: {blob: AAEC}
`,
    accepted: { data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\n' }, binaryData: { blob: 'AAEC' } },
  },
  {
    name: 'ConfigMap: a key in both data and binaryData',
    yaml: '{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {k: v}, binaryData: {k: AAEC}}',
    rejected: { path: 'binaryData.k', message: 'duplicate of key present in data' },
  },
  {
    name: 'ConfigMap: a key with a slash',
    yaml: '{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {"a/b": v}}',
    rejected: {
      path: 'data[a/b]',
      message:
        "invalid key: must consist of alphanumerics, '-', '_' or '.', at most 253 characters",
    },
  },
  {
    name: 'ConfigMap: binaryData that is not base64',
    yaml: '{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, binaryData: {k: "not base64!"}}',
    rejected: { path: 'binaryData.k', message: 'must be base64-encoded' },
  },
];

describe('BackendTLSPolicy and ConfigMap', () => {
  for (const c of cases) it(c.name, () => checkCase(c));
});
