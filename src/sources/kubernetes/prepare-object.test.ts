// From API objects to Store objects, and the resource table they are read by.

import { describe, expect, it } from 'vitest';
import { Kinds } from '../../model/object.ts';
import { kindInfoOf } from '../../model.ts';
import { fingerprint } from '../manifests/plan.ts';
import { prepareObject, rawRef, rawResourceVersion } from './prepare-object.ts';
import {
  API_RESOURCES,
  apiResourceOf,
  apiVersionOf,
  collectionPath,
  SOURCE_KINDS,
} from './resources.ts';

const services = apiResourceOf(Kinds.Service)!;
const routes = apiResourceOf(Kinds.HTTPRoute)!;
const nodes = apiResourceOf(Kinds.Node)!;

/** A Service list item as the API server sends it: no apiVersion, no kind, managedFields. */
const listItem = {
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: '9b1f',
    resourceVersion: '4711',
    creationTimestamp: '2025-01-01T00:00:00Z',
    managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: {} }],
  },
  spec: { ports: [{ port: 80 }] },
};

describe('prepareObject', () => {
  it('fills in apiVersion and kind, drops managedFields, applies defaults and marks the source', () => {
    const prepared = prepareObject(listItem, services, 'v1');
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.object).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        annotations: { 'pier.dev/source': 'kubernetes' },
      },
      spec: { ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] },
    });
    expect(prepared.object.metadata).not.toHaveProperty('managedFields');
    expect(prepared.ref).toEqual({ kind: 'Service', namespace: 'shop', name: 'web' });
    expect(prepared.fingerprint).toBe(fingerprint(prepared.object));
    expect(listItem.metadata).toHaveProperty('managedFields'); // the input is untouched
  });

  it('gives the same fingerprint when only server-set fields changed', () => {
    const a = prepareObject(listItem, services, 'v1');
    const b = prepareObject(
      {
        ...listItem,
        metadata: { ...listItem.metadata, resourceVersion: '4712', managedFields: [] },
      },
      services,
      'v1',
    );
    const c = prepareObject({ ...listItem, spec: { ports: [{ port: 81 }] } }, services, 'v1');
    expect(a.ok && b.ok && a.fingerprint === b.fingerprint).toBe(true);
    expect(a.ok && c.ok && a.fingerprint === c.fingerprint).toBe(false);
  });

  it('keeps the apiVersion a watch event carries', () => {
    const prepared = prepareObject(
      {
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'HTTPRoute',
        metadata: { name: 'r', namespace: 'shop' },
        spec: {},
      },
      routes,
      'gateway.networking.k8s.io/v1',
    );
    expect(prepared.ok && prepared.object.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
  });

  it.each([
    [
      'a bad port',
      { metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 0 }] } },
      'spec.ports[0].port',
    ],
    [
      'no name',
      { metadata: { namespace: 'shop' }, spec: { ports: [{ port: 80 }] } },
      'metadata.name',
    ],
  ])('reports %s with its path and the ref it names', (_what, raw, path) => {
    const prepared = prepareObject(raw, services, 'v1');
    expect(prepared.ok).toBe(false);
    if (prepared.ok) return;
    expect(prepared.error.issues.map((i) => i.path)).toContain(path);
    expect(prepared.ref).toEqual(rawRef(raw, services));
  });

  it('refuses an object of another kind than the resource asked for', () => {
    const prepared = prepareObject(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } },
      services,
      'v1',
    );
    expect(prepared.ok).toBe(false);
    if (!prepared.ok) expect(prepared.error.message).toContain('served as Service but is a Node');
  });

  it('keeps only the ConfigMap data Pier reads (ca.crt), in data and binaryData', () => {
    const configMaps = apiResourceOf(Kinds.ConfigMap)!;
    const prepared = prepareObject(
      {
        metadata: { name: 'mixed', namespace: 'shop' },
        data: { 'ca.crt': 'PEM', 'dashboard.json': '{"big": true}' },
        binaryData: { blob: 'AAEC' },
      },
      configMaps,
      'v1',
    );
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.object).toMatchObject({ data: { 'ca.crt': 'PEM' }, binaryData: {} });
    expect((prepared.object as unknown as { data: object }).data).not.toHaveProperty(
      'dashboard.json',
    );
    // Other kinds keep all of theirs.
    expect(services.dataKeys).toBeUndefined();
  });

  it('never throws on odd input', () => {
    for (const raw of [null, 7, 'x', [], { metadata: 5 }, { metadata: { name: 5 } }]) {
      expect(prepareObject(raw, services, 'v1').ok).toBe(false);
      expect(rawResourceVersion(raw)).toBe('');
    }
  });

  it('names cluster-scoped objects without a namespace', () => {
    expect(rawRef({ metadata: { name: 'n1', namespace: 'x' } }, nodes)).toEqual({
      kind: 'Node',
      name: 'n1',
    });
    expect(rawRef({ metadata: {} }, nodes)).toBeUndefined();
  });
});

describe('API_RESOURCES', () => {
  it('covers one row per kind, each at versions the model accepts, with its scope', () => {
    expect(new Set(SOURCE_KINDS).size).toBe(API_RESOURCES.length);
    for (const resource of API_RESOURCES) {
      const info = kindInfoOf(resource.kind);
      expect(info, resource.kind).toBeDefined();
      expect(resource.namespaced, resource.kind).toBe(info!.namespaced);
      expect(resource.kindName).toBe(info!.kind);
      for (const version of resource.versions) {
        expect(info!.versions, resource.kind).toContain(apiVersionOf(resource, version));
      }
    }
  });

  it.each([
    [Kinds.Service, undefined, '/api/v1/services'],
    [Kinds.Service, 'shop', '/api/v1/namespaces/shop/services'],
    [Kinds.Node, 'shop', '/api/v1/nodes'],
    [Kinds.EndpointSlice, 'shop', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices'],
    [Kinds.GatewayClass, undefined, '/apis/gateway.networking.k8s.io/v1/gatewayclasses'],
  ])('%s in %s is at %s', (kind, namespace, path) => {
    const resource = apiResourceOf(kind)!;
    expect(collectionPath(resource, resource.versions[0]!, namespace)).toBe(path);
  });

  it('reads only TLS Secrets', () => {
    expect(apiResourceOf(Kinds.Secret)?.fieldSelector).toBe('type=kubernetes.io/tls');
  });
});
